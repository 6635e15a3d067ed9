"""Item 执行力: the supervisor's grade in the 主管评分 sheet (column ``execution``)."""

from __future__ import annotations

from scoring.items._supervisor_grade import rating_grade_scores
from scoring.items.base import ItemContext, ItemResult, KpiItem
from scoring.rules.model import GradedItem


def execution_scores(ctx: ItemContext, item: GradedItem) -> ItemResult:
    """One :class:`~scoring.model.ItemScore` per agent for item ``execution``."""
    return rating_grade_scores(ctx, "execution", "execution", item)


ITEM = KpiItem(key="execution", label="执行力", rules_model=GradedItem, score=execution_scores)
