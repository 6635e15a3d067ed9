"""Item 售后客服素质: grade suggested from chat metrics, supervisor override wins."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from pydantic import model_validator

from scoring.grades import ladder_metrics, ladder_text, suggest_grade
from scoring.items.base import ItemContext, ItemResult, KpiItem, PayrollColumn
from scoring.model import ItemScore, fmt, grade_table_text
from scoring.money import metric_decimal
from scoring.rules.model import GradedItem, Strict, check_suggest_ladder


class QualityBounds(Strict):
    """Metric thresholds over ``agent_month_metrics`` columns (see docs/marts.md)."""

    reply_rate: Decimal | None = None
    response_3min_rate: Decimal | None = None
    polite_opening_rate: Decimal | None = None
    first_response_mean_s: Decimal | None = None
    avg_response_s: Decimal | None = None
    p90_response_s: Decimal | None = None
    unreplied_buyers: Decimal | None = None
    slow_responses: Decimal | None = None
    forbidden_hits: Decimal | None = None
    knowledge_gap_replies: Decimal | None = None
    escalation_conversations: Decimal | None = None


class QualityCondition(Strict):
    min: QualityBounds = QualityBounds()
    max: QualityBounds = QualityBounds()


class QualitySuggest(Strict):
    """Best grade whose every bound holds; 差 when none does."""

    优: QualityCondition
    良: QualityCondition
    中: QualityCondition

    @model_validator(mode="after")
    def _ladder(self) -> QualitySuggest:
        check_suggest_ladder({"优": self.优, "良": self.良, "中": self.中})
        return self


class QualityRules(GradedItem):
    """Rules block ``items.quality``."""

    suggest: QualitySuggest
    evidence_kinds: tuple[str, ...] = ("slow_response", "unanswered", "forbidden_word", "knowledge_gap")


def quality_scores(ctx: ItemContext, item: QualityRules) -> ItemResult:
    """One :class:`ItemScore` per agent for item ``quality``."""
    agents, ratings, month = ctx.agents, ctx.ratings, ctx.month
    metrics, evidence = ctx.inputs.agent_month_metrics, ctx.inputs.evidence
    used = ladder_metrics(item.suggest)
    rows = {r["agent_account"]: r for r in metrics.filter(pl.col("month") == month).to_dicts()}
    ev = (  # lazy: only the three columns used are filtered and sorted (the excerpts are big)
        evidence.lazy()
        .filter((pl.col("month") == month) & pl.col("kind").is_in(list(item.evidence_kinds)))
        .select("agent_account", "at", "evidence_id")
        .sort("at", "evidence_id")
        .group_by("agent_account", maintain_order=True)
        .agg(pl.col("evidence_id"))
        .collect()
    )
    ev_ids = dict(zip(ev["agent_account"].to_list(), ev["evidence_id"].to_list(), strict=True))
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
    return ItemResult(out)


ITEM = KpiItem(
    key="quality",
    label="售后客服素质",
    rules_model=QualityRules,
    score=quality_scores,
    payroll_columns=(PayrollColumn("quality_grade", "grade"), PayrollColumn("quality_pts", "points")),
)
