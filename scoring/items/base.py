"""What a KPI item module declares (:class:`KpiItem`) and what its scoring function gets.

An item module in ``scoring/items/`` (or one named in ``KEFU_ITEM_MODULES``) defines
``ITEM = KpiItem(key=..., label=..., rules_model=..., score=...)``. ``score(ctx, block)`` is
pure: it reads the month's frames in ``ctx`` and the item's validated rules block and returns
one :class:`~scoring.model.ItemScore` per agent of ``ctx.agents`` (points, value, grade,
evidence ids, incomplete reasons) plus warnings. See docs/architecture.md "Adding a KPI item".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from scoring.inputs import ScoringFrames
from scoring.model import ItemScore
from scoring.rules.model import ItemRules

Block = TypeVar("Block", bound=ItemRules)


@dataclass(frozen=True)
class PayrollColumn:
    """A payroll.csv column an item fills: its ``points``, its ``grade`` or its ``value``
    (a fraction, written with 6 decimals)."""

    name: str
    field: Literal["points", "grade", "value"]


@dataclass(frozen=True)
class ItemContext:
    """The month as every item sees it: frames normalised (every column present), roster and
    ratings limited to the month, the agents to score in payroll order."""

    month: str
    agents: list[str]
    inputs: ScoringFrames
    ratings: dict[str, dict[str, Any]]  # the month's 主管评分 row by agent_account
    as_of: datetime  # end of the month (exclusive): deadlines not yet due by then are pending


@dataclass
class ItemResult:
    """What an item's ``score`` returns: one score per agent and warnings for the run."""

    scores: dict[str, ItemScore]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class KpiItem(Generic[Block]):
    """One KPI item: its rules key, label, rules-block model and scoring function.

    ``label`` is the item's Chinese name; a rules block may rename it with its own ``label``.

    ``payroll_columns`` are the item's columns in payroll.csv (default: ``<key>_pts``); the
    six shipped items keep the historical names (quality_grade, quality_pts, ...)."""

    key: str
    label: str
    rules_model: type[Block]
    score: Callable[[ItemContext, Block], ItemResult]
    payroll_columns: tuple[PayrollColumn, ...] = ()

    def columns(self) -> tuple[PayrollColumn, ...]:
        return self.payroll_columns or (PayrollColumn(f"{self.key}_pts", "points"),)
