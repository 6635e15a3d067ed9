"""Item 配合度: the supervisor's grade in the 主管评分 sheet (column ``cooperation``)."""

from __future__ import annotations

from scoring.items._supervisor_grade import rating_grade_scores
from scoring.items.base import ItemContext, ItemResult, KpiItem
from scoring.rules.model import GradedItem


def cooperation_scores(ctx: ItemContext, item: GradedItem) -> ItemResult:
    """One :class:`~scoring.model.ItemScore` per agent for item ``cooperation``."""
    return rating_grade_scores(ctx, "cooperation", "cooperation", item)


ITEM = KpiItem(key="cooperation", label="配合度", rules_model=GradedItem, score=cooperation_scores)
