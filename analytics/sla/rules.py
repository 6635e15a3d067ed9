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
    pausable: bool = True  # a pause (when ``pauses.enabled``) moves this rule's deadline


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


class Check(_Strict):
    """A policy clause checked over the records: on/off plus its thresholds."""

    enabled: bool = True


class ContactFeedback(Check):  # 3.2.3 联系结果应存档并及时向用户反馈
    categories: list[str] = Field(default_factory=lambda: ["底盘", "发动机"])
    hours: float = Field(default=24, gt=0)  # written contact → archived and fed back within N h


class Fees(Check):  # 3.3.4 有偿服务需经领导同意, 回公司后如数上缴
    pass


class Courtesy(Check):  # 3.3.5 文明用语 / 3.3.1 服务态度
    staff_lexicons: list[str] = Field(default_factory=lambda: ["forbidden"])  # words staff must not write/say
    customer_lexicons: list[str] = Field(default_factory=lambda: ["negative", "escalation"])  # the customer's reaction
    max_forbidden_per_staff: int = Field(default=0, ge=0)  # a person with more staff-lexicon hits misses


class ReportArchive(Check):  # 3.4.3 C 服务报告交领导审批后存档
    days: int = Field(default=3, ge=0)  # approved and archived within N days of 返回单位时间


class MajorIssue(Check):  # 3.4.2 E.c 较大问题必须及时向单位领导汇报
    hours: float = Field(default=24, gt=0)  # from 到达现场时间 (else 报修时间)


class OldPartBack(Check):  # 3.4.2 E.d 换下的旧件须妥善包装及时带回
    pass


class CallLogOrder(Check):  # 3.5.1 按来电来函的时间顺序填写记录
    pass


class ReplyArchive(Check):  # 3.5.4 复电、复函应及时存档
    hours: float = Field(default=24, gt=0)  # 答复时间 → 存档时间


class IssueBeforeApproval(Check):  # 3.6.1 领导批准后领取备用件
    pass


class WriteOff(Check):  # 3.6.2 经用户签字及领导同意后销帐
    pass


class ShippingWriteOff(Check):  # 3.6.3 邮费、运费由经手人和领导签字后销帐
    pass


class OldPartsMonthly(Check):  # 3.7.5 每月及时处理更换后的旧件
    grace_days: int = Field(default=10, ge=0)  # processed by the end of the return month + N days


class StationLedger(Check):  # 3.7.6 发往服务站的备用件单独建帐管理
    pass


class SupplierClaims(Check):  # 3.8 二次索赔
    claim_within_days: int = Field(default=30, ge=0)  # a supplier-fault part issued N days ago needs a claim
    ageing_days: list[int] = Field(default_factory=lambda: [30, 60, 90])  # open-claim age buckets (upper bounds)

    @field_validator("ageing_days")
    @classmethod
    def _ascending(cls, v: list[int]) -> list[int]:
        if not v or v != sorted(set(v)) or v[0] <= 0:
            raise ValueError("ageing_days 应为递增的正整数列表")
        return v


class Checks(_Strict):
    """Clause checks beyond the deadlines (docs/sla.md, clause table)."""

    contact_archive_feedback: ContactFeedback = ContactFeedback()
    fee_approval_remittance: Fees = Fees()
    courtesy: Courtesy = Courtesy()
    report_approval_archive: ReportArchive = ReportArchive()
    major_issue_reported: MajorIssue = MajorIssue()
    old_part_brought_back: OldPartBack = OldPartBack()
    call_log_order: CallLogOrder = CallLogOrder()
    reply_archive_time: ReplyArchive = ReplyArchive()
    issue_before_approval: IssueBeforeApproval = IssueBeforeApproval()
    writeoff_consent: WriteOff = WriteOff()
    shipping_writeoff_signatures: ShippingWriteOff = ShippingWriteOff()
    old_parts_processed_monthly: OldPartsMonthly = OldPartsMonthly()
    station_ledger: StationLedger = StationLedger()
    supplier_parts_unclaimed: SupplierClaims = SupplierClaims()


class Pauses(_Strict):
    """Pause states that stop a ticket clock (analytics.sla.pauses); off by default."""

    enabled: bool = False
    reasons: list[str] = Field(default_factory=lambda: ["等待用户确认", "等待配件"])


class RuleSet(_Strict):
    version: str
    calendars: dict[str, CalendarSpec] = Field(default_factory=lambda: {"24x7": CalendarSpec(kind="24x7")})
    rules: list[Rule] = Field(min_length=1)
    targets: Targets = Targets()
    warnings: Warnings = Warnings()
    compliance: Compliance = Compliance()
    checks: Checks = Checks()
    pauses: Pauses = Pauses()
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
