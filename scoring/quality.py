"""Item 售后客服素质: grade suggested from chat metrics, supervisor override wins."""

from __future__ import annotations

import polars as pl

from scoring.grades import ladder_metrics, ladder_text, suggest_grade
from scoring.model import ItemScore, fmt, grade_table_text
from scoring.money import metric_decimal


def quality_scores(
    agents: list[str],
    metrics: pl.DataFrame,
    evidence: pl.DataFrame,
    ratings: dict[str, dict],
    rules,
    month: str,
) -> dict[str, ItemScore]:
    """One :class:`ItemScore` per agent for item ``quality``."""
    item = rules.items.quality
    used = ladder_metrics(item.suggest)
    rows = {r["agent_account"]: r for r in metrics.filter(pl.col("month") == month).to_dicts()}
    ev = (
        evidence.filter((pl.col("month") == month) & pl.col("kind").is_in(list(item.evidence_kinds)))
        .sort("at", "evidence_id")
        .group_by("agent_account", maintain_order=True)
        .agg(pl.col("evidence_id"))
    )
    ev_ids = dict(zip(ev["agent_account"].to_list(), ev["evidence_id"].to_list()))
    rule = f"等级分 {grade_table_text(item.grade_points)}; 主管覆盖优先; 建议阈值 {ladder_text(item.suggest)}"

    out: dict[str, ItemScore] = {}
    for agent in agents:
        row = rows.get(agent)
        override = (ratings.get(agent) or {}).get("quality_override")
        if row is None:
            suggested, why, raw = None, "无聊天指标", None
        else:
            values = {m: metric_decimal(row.get(m)) for m in used}
            suggested, why = suggest_grade(values, item.suggest)
            raw = ", ".join(f"{m}={fmt(v) if v is not None else '空'}" for m, v in values.items())
        grade = override or suggested
        score = ItemScore(
            agent_account=agent,
            item="quality",
            label=item.label,
            points=item.grade_points.points(grade) if grade else None,
            raw_value=(raw + f" ({why})") if raw else why,
            grade=grade,
            suggested_grade=suggested,
            override_grade=override,
            source="override" if override else ("suggested" if suggested else "none"),
            rule=rule,
            evidence_ids=list(ev_ids.get(agent) or []),
        )
        if grade is None:
            score.missing.append(f"{item.label}: {why}, 且主管未填 客服素质(覆盖)")
        out[agent] = score
    return out
