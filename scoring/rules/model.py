"""Pydantic v2 model of a scoring rules file (``scoring/rules/*.yaml``).

Every model forbids unknown keys. Cross-field checks (bands without gaps or overlaps, grade
tables reaching the item maximum, item maxima adding up to ``total_points``) raise
``ValueError`` messages naming the offending sub-key; :func:`scoring.rules.load_rules`
prefixes them with the full key path.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from typing import Annotated

from analytics.sla.rules import CalendarSpec
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

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


class ComplaintBounds(Strict):
    """Thresholds over per-agent complaint figures computed by :mod:`scoring.complaints`."""

    complaints: Decimal | None = None
    within_deadline_rate: Decimal | None = None
    platform_interventions: Decimal | None = None
    against_shop: Decimal | None = None


class QualityCondition(Strict):
    min: QualityBounds = QualityBounds()
    max: QualityBounds = QualityBounds()


class ComplaintCondition(Strict):
    min: ComplaintBounds = ComplaintBounds()
    max: ComplaintBounds = ComplaintBounds()


def _check_suggest_ladder(ladder: dict) -> None:
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


class QualitySuggest(Strict):
    """Best grade whose every bound holds; 差 when none does."""

    优: QualityCondition
    良: QualityCondition
    中: QualityCondition

    @model_validator(mode="after")
    def _ladder(self) -> QualitySuggest:
        _check_suggest_ladder({"优": self.优, "良": self.良, "中": self.中})
        return self


class ComplaintSuggest(Strict):
    优: ComplaintCondition
    良: ComplaintCondition
    中: ComplaintCondition

    @model_validator(mode="after")
    def _ladder(self) -> ComplaintSuggest:
        _check_suggest_ladder({"优": self.优, "良": self.良, "中": self.中})
        return self


class GradedItem(Strict):
    label: str
    max_points: Points = Field(gt=0)
    grade_points: GradePoints

    @model_validator(mode="after")
    def _reaches_max(self):
        top = self.grade_points.优
        if top != self.max_points:
            raise ValueError(
                f"grade_points.优: the grade table tops out at {top}, not the item maximum {self.max_points}"
            )
        return self


class QualityItem(GradedItem):
    suggest: QualitySuggest
    evidence_kinds: tuple[str, ...] = ("slow_response", "unanswered", "forbidden_word", "knowledge_gap")


class ComplaintItem(GradedItem):
    deadline_hours: Decimal = Field(gt=0)
    # the clock the deadline runs on: omitted = 24×7; or the SLA engine's calendar spec
    # (kind: working_hours, windows, china_holidays, ...), see docs/sla.md
    deadline_calendar: CalendarSpec | None = None
    against_shop_outcomes: tuple[str, ...]
    no_complaints_grade: Literal["优", "良", "中", "差"] = "优"
    suggest: ComplaintSuggest


class Band(Strict):
    """Rate band ``(lower, upper]``; the first band also includes its lower bound."""

    lower: Decimal = Field(ge=0)
    upper: Decimal | None = None
    points: Points = Field(ge=0)
    assumption: bool = False


def _check_bands(bands: tuple[Band, ...]) -> tuple[Band, ...]:
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


class RefundItem(Strict):
    label: str
    max_points: Points = Field(gt=0)
    scope: Literal["shop", "agent"] = "shop"
    success_status: str = "退款成功"
    shop_bands: tuple[Band, ...]
    agent_bands: tuple[Band, ...]
    assumption_note: str = ""

    @field_validator("shop_bands", "agent_bands")
    @classmethod
    def _bands(cls, v: tuple[Band, ...]) -> tuple[Band, ...]:
        return _check_bands(v)

    @model_validator(mode="after")
    def _reaches_max(self) -> RefundItem:
        for name in ("shop_bands", "agent_bands"):
            bands = getattr(self, name)
            top = max(b.points for b in bands)
            if top != self.max_points:
                raise ValueError(f"{name}: best band gives {top} points, not the item maximum {self.max_points}")
            for i, b in enumerate(bands):
                if b.points > self.max_points:
                    raise ValueError(f"{name}[{i}].points: {b.points} is above the item maximum {self.max_points}")
        return self

    def band_for(self, rate: Decimal, scope: str | None = None) -> tuple[int, Band]:
        """Index and band containing ``rate`` for ``scope`` (default: the configured scope)."""
        bands = self.shop_bands if (scope or self.scope) == "shop" else self.agent_bands
        for i, b in enumerate(bands):
            if b.upper is None or rate <= b.upper:
                return i, b
        raise AssertionError("bands are validated to be open-ended")


AttendanceCategory = Literal["ok", "rest", "late", "leave", "absent", "early", "missing_punch", "other_leave"]


class AttendanceItem(Strict):
    label: str
    max_points: Points = Field(gt=0)
    floor: Points = Decimal(0)
    # DingTalk status text -> category. A cell is split on , ， ; ； 、 / and whitespace;
    # each part takes the category of the LONGEST key it contains (旷工迟到 beats 旷工).
    status_map: dict[str, AttendanceCategory]
    # points deducted per counted event of a category; categories not listed deduct nothing
    penalties: dict[AttendanceCategory, Points]
    # categories whose runs of consecutive working days count as ONE event (rest days bridge)
    merge_consecutive: tuple[AttendanceCategory, ...] = ("leave",)
    unknown_status: Literal["incomplete", "ignore"] = "incomplete"

    @field_validator("status_map")
    @classmethod
    def _non_empty_keys(cls, v: dict) -> dict:
        for k in v:
            if not k.strip():
                raise ValueError("status_map: empty status text")
        return v

    @field_validator("penalties")
    @classmethod
    def _non_negative(cls, v: dict) -> dict:
        for k, p in v.items():
            if p < 0:
                raise ValueError(f"{k}: a penalty is points deducted and must not be negative (got {p})")
        return v


class Items(Strict):
    quality: QualityItem
    refund_rate: RefundItem
    complaints: ComplaintItem
    cooperation: GradedItem
    execution: GradedItem
    attendance: AttendanceItem


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
    items: Items
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
    def _total(self) -> RulesModel:
        s = sum((getattr(self.items, k).max_points for k in Items.model_fields), Decimal(0))
        if s != self.total_points:
            raise ValueError(f"total_points: {self.total_points} but the items' max_points add up to {s}")
        return self
