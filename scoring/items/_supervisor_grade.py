"""Items the supervisor grades 优/良/中/差 in the 主管评分 sheet (配合度, 执行力)."""

from __future__ import annotations

from scoring.items.base import ItemContext, ItemResult
from scoring.model import ItemScore, grade_table_text
from scoring.rules.model import GradedItem


def rating_grade_scores(ctx: ItemContext, key: str, column: str, item: GradedItem) -> ItemResult:
    """Points from the grade in ratings column ``column``; no rating row or a blank grade
    makes the agent incomplete (a missing grade never becomes 0)."""
    out: dict[str, ItemScore] = {}
    for agent in ctx.agents:
        r = ctx.ratings.get(agent)
        grade = r.get(column) if r else None
        s = ItemScore(
            agent, key, item.label, item.grade_points.points(grade) if grade else None,
            raw_value=grade, grade=grade, override_grade=None, source="主管评分",
            rule=f"等级分 {grade_table_text(item.grade_points)}",
            evidence_ids=[f"rating:{r['rating_month']}:{agent}"] if r else [],
        )  # fmt: skip
        if r is None:
            s.missing.append(f"{item.label}: 主管评分表中没有该客服")
        elif grade is None:
            s.missing.append(f"{item.label}: 主管未评 (空白)")
        out[agent] = s
    return ItemResult(out)
