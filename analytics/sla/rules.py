"""The SLA rules file: model, loader and condition → polars expression.

The default rule set (policy 篇2) is ``data/sla_rules.yaml``; the caller reads the file
and passes its text to :func:`load_rules` (no paths here). Unknown keys are errors
(``extra="forbid"``) so a typo never silently disables a rule.

Conditions (``applies_to``) are trees of ``{all: [...]}``, ``{any: [...]}``,
``{not: {...}}`` and leaves ``{field, op, value}`` with ops eq, ne, in, not_in, lt, le,
gt, ge, is_null, not_null. Null semantics: a comparison with a null field is *false*,
except ``ne`` / ``not_in`` which are *true* (a blank 需配套厂家 is "not 是").
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, Union

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .calendars import Calendar, CalendarError, TwentyFourSeven, WorkingHours, parse_windows

Op = Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge", "is_null", "not_null"]


class RulesError(ValueError):
    """The rules file is invalid; the message says where (Chinese + field path)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Leaf(_Strict):
    field: str
    op: Op
    value: Any = None

    @model_validator(mode="after")
    def _value_fits_op(self) -> "Leaf":
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"{self.op} 需要列表值")
        if self.op not in ("is_null", "not_null") and self.value is None:
            raise ValueError(f"{self.op} 需要 value")
        return self


class AllOf(_Strict):
    all: list["Condition"] = Field(min_length=1)


class AnyOf(_Strict):
    any: list["Condition"] = Field(min_length=1)


class NotOf(_Strict):
    not_: "Condition" = Field(alias="not")


Condition = Union[Leaf, AllOf, AnyOf, NotOf]
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


def condition_expr(c: Condition | None) -> pl.Expr:
    """Boolean expression (never null) for a condition; None = applies to every row."""
    if c is None:
        return pl.lit(True)
    if isinstance(c, AllOf):
        return pl.all_horizontal([condition_expr(x) for x in c.all])
    if isinstance(c, AnyOf):
        return pl.any_horizontal([condition_expr(x) for x in c.any])
    if isinstance(c, NotOf):
        return ~condition_expr(c.not_)
    col = pl.col(c.field)
    match c.op:
        case "is_null":
            return col.is_null()
        case "not_null":
            return col.is_not_null()
        case "ne":
            return (col != c.value).fill_null(True)
        case "not_in":
            return (~col.is_in(c.value)).fill_null(True)
        case "in":
            return col.is_in(c.value).fill_null(False)
    e = {"eq": col == c.value, "lt": col < c.value, "le": col <= c.value, "gt": col > c.value, "ge": col >= c.value}[c.op]
    return e.fill_null(False)


def condition_fields(c: Condition | None) -> set[str]:
    if c is None:
        return set()
    if isinstance(c, Leaf):
        return {c.field}
    if isinstance(c, NotOf):
        return condition_fields(c.not_)
    return set().union(*(condition_fields(x) for x in (c.all if isinstance(c, AllOf) else c.any)))


class CalendarSpec(_Strict):
    kind: Literal["24x7", "working_hours"]
    windows: list[str] = Field(default_factory=list)
    china_holidays: bool = True
    unknown_years: Literal["weekdays", "error"] = "weekdays"
    extra_holidays: list[str] = Field(default_factory=list)
    extra_workdays: list[str] = Field(default_factory=list)

    def build(self, name: str) -> Calendar:
        if self.kind == "24x7":
            return TwentyFourSeven(name=name)
        from datetime import date

        return WorkingHours(
            windows=parse_windows(self.windows),
            name=name,
            china_holidays=self.china_holidays,
            unknown_years=self.unknown_years,
            extra_holidays=frozenset(date.fromisoformat(d) for d in self.extra_holidays),
            extra_workdays=frozenset(date.fromisoformat(d) for d in self.extra_workdays),
        )


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    policy_ref: str = ""
    source: Literal["tickets", "calls"] = "tickets"
    applies_to: Condition | None = None
    start: str
    stop: str
    target_hours: float = Field(gt=0)
    calendar: str = "24x7"
    counts_for_timeliness: bool = True


class Targets(_Strict):
    """Monthly targets (3.2.1). Rates compared exactly (fractions), see docs/sla.md."""

    timeliness_min: Decimal = Decimal("0.90")  # 服务及时率 >= this
    satisfaction_min: Decimal = Decimal("0.85")  # 用户满意度 >= this
    complaint_below: Decimal = Decimal("0.03")  # 用户抱怨率 < this (exactly 3% misses)
    satisfied_min_score: int = Field(default=4, ge=1)  # a survey at or above this is 满意
    score_max: int = Field(default=5, ge=1)

    @field_validator("timeliness_min", "satisfaction_min", "complaint_below")
    @classmethod
    def _share(cls, v: Decimal) -> Decimal:
        if not (Decimal(0) <= v <= Decimal(1)):
            raise ValueError("比率目标必须在 0 到 1 之间")
        return v


class Warnings(_Strict):
    window_share: float = Field(default=0.25, gt=0, le=1)  # warn when <= this share of the target is left


class Compliance(_Strict):
    old_part_return_days: int = Field(default=30, ge=0)  # 3.6 / 3.7.5 每月及时处理旧件
    claim_open_days: int = Field(default=60, ge=0)  # 3.8 二次索赔


class RuleSet(_Strict):
    version: str
    calendars: dict[str, CalendarSpec] = Field(default_factory=lambda: {"24x7": CalendarSpec(kind="24x7")})
    rules: list[Rule] = Field(min_length=1)
    targets: Targets = Targets()
    warnings: Warnings = Warnings()
    compliance: Compliance = Compliance()
    # months of earlier loaded tickets searched for clocks still open at a month's start
    carry_over_months: int = Field(default=3, ge=0)

    @model_validator(mode="after")
    def _check_refs(self) -> "RuleSet":
        ids = [r.id for r in self.rules]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"规则编号重复: {sorted(dup)}")
        for r in self.rules:
            if r.calendar not in self.calendars and r.calendar != "24x7":
                raise ValueError(f"规则 {r.id} 引用了未定义的日历 {r.calendar!r}")
        for name, spec in self.calendars.items():
            if spec.kind == "working_hours" and not spec.windows:
                raise ValueError(f"日历 {name} 是工作时间日历, 需要 windows")
        return self

    def build_calendars(self) -> dict[str, Calendar]:
        """Fresh calendar objects (working-hours calendars record uncovered years per run)."""
        cals: dict[str, Calendar] = {"24x7": TwentyFourSeven()}
        for name, spec in self.calendars.items():
            try:
                cals[name] = spec.build(name)
            except CalendarError as e:
                raise RulesError(f"日历 {name}: {e}") from e
        return cals


def load_rules(text: str) -> RuleSet:
    """Parse and validate the YAML text of an SLA rules file."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise RulesError(f"SLA规则文件不是有效的YAML: {e}") from e
    if not isinstance(data, dict):
        raise RulesError("SLA规则文件应为一个映射(顶层 version / rules ...)")
    try:
        rs = RuleSet.model_validate(data)
    except ValidationError as e:
        lines = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()]
        raise RulesError("SLA规则文件有误:\n" + "\n".join(lines)) from e
    for spec in rs.calendars.values():  # surface bad windows / dates at load time
        try:
            spec.build("check")
        except (CalendarError, ValueError) as e:
            raise RulesError(f"日历定义有误: {e}") from e
    return rs


def rules_hash(text: str) -> str:
    """Short content hash of a rules file, for run records."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def meets_min(num: int, den: int, target: Decimal) -> bool | None:
    """num/den >= target, exactly (no float rounding). None when den == 0."""
    if den == 0:
        return None
    return Fraction(num, den) >= Fraction(target)


def below(num: int, den: int, target: Decimal) -> bool | None:
    """num/den < target, exactly. None when den == 0."""
    if den == 0:
        return None
    return Fraction(num, den) < Fraction(target)
