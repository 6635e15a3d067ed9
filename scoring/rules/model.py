"""Pydantic v2 model of a scoring rules file (``scoring/rules/*.yaml``).

Every model forbids unknown keys. The blocks under ``items:`` are validated by the model each
KPI item module declares (``scoring/items/``); this module holds what they share. Cross-field checks (bands without gaps or overlaps, grade
tables reaching the item maximum, item maxima adding up to ``total_points``) raise
``ValueError`` messages naming the offending sub-key; :func:`scoring.rules.load_rules`
prefixes them with the full key path.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SerializeAsAny, ValidationInfo, field_validator, model_validator

GRADE_ORDER = ("优", "良", "中", "差")
ROLES = ("普通售后客服", "高级售后客服", "售后组长")


def _two_places(v: Decimal) -> Decimal:
    if v != v.quantize(Decimal("0.01")):
        raise ValueError(f"points are kept to 0.01; {v} has more decimal places")
    return v


# A number of points: exact, at most two decimal places (so a total is exact to 0.01)
Points = Annotated[Decimal, AfterValidator(_two_places)]


def _cents(v: Decimal) -> Decimal:
    if v != v.quantize(Decimal("0.01")):
        raise ValueError(f"money is kept to the cent (0.01); {v} has more decimal places")
    return v


# An amount of money (yuan): exact, at most two decimal places — never silently rounded
Money = Annotated[Decimal, AfterValidator(_cents)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GradePoints(Strict):
    """Points for each grade 优/良/中/差."""

    优: Points
    良: Points
    中: Points
    差: Points

    def points(self, grade: str) -> Decimal:
        return getattr(self, grade)

    @model_validator(mode="after")
    def _ordered(self) -> GradePoints:
        values = [self.points(g) for g in GRADE_ORDER]
        for g, v in zip(GRADE_ORDER, values):
            if v < 0:
                raise ValueError(f"{g}: points must not be negative (got {v})")
        for (g1, v1), (g2, v2) in zip(zip(GRADE_ORDER, values), zip(GRADE_ORDER[1:], values[1:])):
            if v2 > v1:
                raise ValueError(f"{g2}: {v2} points is more than {g1} ({v1}); grades must not increase downwards")
        return self


class ItemRules(Strict):
    """What every KPI item's rules block has; each item module subclasses it (``scoring/items/``)."""

    label: str  # defaults to the item module's KpiItem.label when the block omits it
    max_points: Points = Field(gt=0)


class GradedItem(ItemRules):
    """An item scored by a grade 优/良/中/差 and a points table."""

    grade_points: GradePoints

    @model_validator(mode="after")
    def _reaches_max(self):
        top = self.grade_points.优
        if top != self.max_points:
            raise ValueError(
                f"grade_points.优: the grade table tops out at {top}, not the item maximum {self.max_points}"
            )
        return self


class SuggestLadder(Protocol):
    """A 优/良/中 threshold ladder (each grade a condition with ``min`` / ``max`` bounds)."""

    @property
    def 优(self) -> Any: ...
    @property
    def 良(self) -> Any: ...
    @property
    def 中(self) -> Any: ...


def check_suggest_ladder(ladder: dict) -> None:
    """优 must be at least as strict as 良, 良 as 中 (per metric and bound side)."""
    for hi, lo in (("优", "良"), ("良", "中")):
        for side in ("min", "max"):
            a = getattr(ladder[hi], side).model_dump(exclude_none=True)
            b = getattr(ladder[lo], side).model_dump(exclude_none=True)
            for metric, va in a.items():
                vb = b.get(metric)
                if vb is None:
                    continue
                if (side == "min" and va < vb) or (side == "max" and va > vb):
                    raise ValueError(
                        f"{hi}.{side}.{metric}: {va} is looser than {lo}.{side}.{metric} ({vb})"
                    )


class Band(Strict):
    """Rate band ``(lower, upper]``; the first band also includes its lower bound."""

    lower: Decimal = Field(ge=0)
    upper: Decimal | None = None
    points: Points = Field(ge=0)
    assumption: bool = False


def check_bands(bands: tuple[Band, ...]) -> tuple[Band, ...]:
    """Bands start at 0, have no gaps or overlaps and end open-ended (``upper: null``)."""
    if not bands:
        raise ValueError("at least one band is required")
    if bands[0].lower != 0:
        raise ValueError(f"[0].lower: the first band must start at 0 (got {bands[0].lower})")
    for i, b in enumerate(bands):
        if b.upper is not None and b.upper <= b.lower:
            raise ValueError(f"[{i}].upper: {b.upper} is not above lower {b.lower}")
        if i > 0:
            prev = bands[i - 1]
            if prev.upper is None:
                raise ValueError(f"[{i - 1}].upper: an open-ended band must be the last one")
            if b.lower > prev.upper:
                raise ValueError(f"[{i}].lower: gap between {prev.upper} and {b.lower} (band [{i - 1}] ends at {prev.upper})")
            if b.lower < prev.upper:
                raise ValueError(f"[{i}].lower: {b.lower} overlaps band [{i - 1}] which ends at {prev.upper}")
    if bands[-1].upper is not None:
        raise ValueError(f"[{len(bands) - 1}].upper: the last band must be open-ended (upper: null), rates above {bands[-1].upper} would have no band")
    return bands


class FixedDeduction(Strict):
    label: str
    points: Points = Field(gt=0)
    only_after_sales: bool = True


class RangeAdjustment(Strict):
    label: str
    min: Points = Field(gt=0)
    max: Points = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.max < self.min:
            raise ValueError(f"max: {self.max} is below min {self.min}")
        return self


class Deductions(Strict):
    low_quality_review: FixedDeduction
    verified_complaint: RangeAdjustment


class PraiseBonus(Strict):
    label: str
    points: Points = Field(gt=0)


class Bonuses(Strict):
    praise: PraiseBonus
    outstanding: RangeAdjustment


class Gate(Strict):
    pass_ratio: Decimal = Field(gt=0, le=1)


class KpiPool(Strict):
    amount: Money = Field(gt=0)


class Options(Strict):
    cap_kpi_bonus: bool = True
    count_praise_candidates: bool = False
    pro_rating: Literal["none", "calendar_days"] = "none"
    flag_mid_month_changes: bool = True


class RulesModel(Strict):
    version: int = Field(ge=1)
    name: str
    total_points: Points = Field(gt=0)
    # KPI item key -> its validated block (an ItemRules subclass from the item's module), in
    # rules-file order. Built by scoring.rules.load_rules through the item registry.
    items: dict[str, SerializeAsAny[ItemRules]]
    deductions: Deductions
    bonuses: Bonuses
    gate: Gate
    kpi_pool: KpiPool
    base_salary: dict[Literal["普通售后客服", "高级售后客服", "售后组长"], Money]
    options: Options = Options()

    @field_validator("base_salary")
    @classmethod
    def _all_roles(cls, v: dict) -> dict:
        missing = [r for r in ROLES if r not in v]
        if missing:
            raise ValueError(f"missing role(s): {', '.join(missing)}")
        for r, amount in v.items():
            if amount < 0:
                raise ValueError(f"{r}: negative base salary {amount}")
        return v

    @model_validator(mode="after")
    def _total(self, info: ValidationInfo) -> RulesModel:
        if info.context and info.context.get("items_invalid"):
            return self  # the bad item blocks are reported; their maxima are unknown
        s = sum((it.max_points for it in self.items.values()), Decimal(0))
        if s != self.total_points:
            raise ValueError(f"total_points: {self.total_points} but the items' max_points add up to {s}")
        return self
