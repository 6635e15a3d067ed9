"""Plain result records shared by the item modules (one per agent × item / adjustment)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scoring.rules.model import GradePoints


@dataclass
class ItemScore:
    """One KPI item of one agent. ``points`` is None when it cannot be scored (see ``missing``)."""

    agent_account: str
    item: str  # rules key: quality, refund_rate, complaints, cooperation, execution, attendance
    label: str
    points: Decimal | None
    raw_value: str | None = None  # the measured input, human-readable
    value: Decimal | None = None  # the measured input as a number where there is one (refund rate)
    grade: str | None = None
    suggested_grade: str | None = None
    override_grade: str | None = None
    source: str = ""  # where the grade/points came from: override / suggested / ratings / data
    rule: str = ""  # the rule text that turned the input into points
    evidence_ids: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # reasons the agent is incomplete
    flags: list[str] = field(default_factory=list)  # notes that do not block the payroll row


@dataclass
class Adjustment:
    """One deduction (negative points) or bonus (positive points) with its record."""

    agent_account: str
    kind: str  # deduction | bonus
    item: str  # rules key: low_quality_review, verified_complaint, praise, praise_candidate, outstanding
    points: Decimal
    record_id: str
    detail: str
    rule: str = ""


@dataclass
class AgentIssues:
    """Reasons an agent is incomplete, gathered by the adjustment modules."""

    missing: dict[str, list[str]] = field(default_factory=dict)

    def add(self, agent: str, reason: str) -> None:
        self.missing.setdefault(agent, []).append(reason)


def grade_table_text(gp: GradePoints) -> str:
    """'优20/良15/中10/差0' for a GradePoints model."""
    return "/".join(f"{g}{fmt(gp.points(g))}" for g in ("优", "良", "中", "差"))


def fmt(d: Decimal) -> str:
    """Decimal without trailing zeros for rule texts (20, 0.05, 14.99); measured values
    with long fractions (0.9629629...) are shown to 4 decimals (comparisons use full precision)."""
    if d == d.quantize(Decimal("0.0001")):
        return format(d.normalize(), "f")
    return format(d.quantize(Decimal("0.0001")).normalize(), "f")
