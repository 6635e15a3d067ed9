"""Payroll rows (Decimal), the payroll.csv text and the to-the-cent reconciliation.

Pay is computed from an agent's item scores as a long list (one :class:`ItemScore` per item,
whatever items the rules enable) and widened only for the payroll row: each KPI item names
its payroll columns (:class:`scoring.items.PayrollColumn`), in the rules file's item order.
The default scheme's columns are exactly :data:`PAYROLL_COLUMNS`."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import polars as pl

from scoring.inputs import month_days
from scoring.items import PayrollColumn
from scoring.model import Adjustment, ItemScore
from scoring.money import round_money
from scoring.rules import Rules

PAYROLL_COLUMNS = [
    "month", "agent", "name", "role", "quality_grade", "quality_pts", "refund_rate", "refund_pts",
    "complaint_grade", "complaint_pts", "cooperation_pts", "execution_pts", "attendance_pts",
    "deductions", "bonuses", "total_score", "passed", "kpi_bonus", "base_salary", "salary",
    "status", "status_reason",
]  # fmt: skip
PTS = pl.Decimal(10, 2)
MONEY = pl.Decimal(14, 2)
PAYROLL_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.String(), "agent": pl.String(), "name": pl.String(), "role": pl.String(),
    "quality_grade": pl.String(), "quality_pts": PTS, "refund_rate": pl.Decimal(12, 6), "refund_pts": PTS,
    "complaint_grade": pl.String(), "complaint_pts": PTS, "cooperation_pts": PTS, "execution_pts": PTS,
    "attendance_pts": PTS, "deductions": PTS, "bonuses": PTS, "total_score": PTS, "passed": pl.Boolean(),
    "kpi_bonus": MONEY, "base_salary": MONEY, "salary": MONEY, "status": pl.String(), "status_reason": pl.String(),
}  # fmt: skip
# the default scheme's items (scoring/rules/default.yaml); a run scores ``rules.kpi_items``
ITEM_KEYS = ("quality", "refund_rate", "complaints", "cooperation", "execution", "attendance")
_HEAD = ("month", "agent", "name", "role")
_FIELD_TYPES: dict[str, pl.DataType] = {"points": PTS, "grade": pl.String(), "value": pl.Decimal(12, 6)}


def payroll_schema(rules: Rules | None = None) -> dict[str, pl.DataType]:
    """Payroll columns and types for ``rules``' items (None: the default scheme's)."""
    if rules is None:
        return PAYROLL_SCHEMA
    items = {c.name: _FIELD_TYPES[c.field] for item in rules.kpi_items.values() for c in item.columns()}
    head = {c: PAYROLL_SCHEMA[c] for c in _HEAD}
    tail = {c: t for c, t in PAYROLL_SCHEMA.items() if c not in head and c not in _DEFAULT_ITEM_COLUMNS}
    return {**head, **items, **tail}


_DEFAULT_ITEM_COLUMNS = PAYROLL_COLUMNS[len(_HEAD) : PAYROLL_COLUMNS.index("deductions")]


def _cell_of(score: ItemScore | None, col: PayrollColumn) -> object:
    if score is None:
        return None
    if col.field == "grade":
        return score.grade
    if col.field == "value":
        return score.value.quantize(Decimal("0.000001")) if score.value is not None else None
    return score.points


def widen(items: dict[str, ItemScore], rules: Rules) -> dict[str, object]:
    """One agent's item scores as the payroll's item columns (rules order)."""
    return {c.name: _cell_of(items.get(key), c) for key, item in rules.kpi_items.items() for c in item.columns()}


def employed_fraction(joined: date | None, left: date | None, month: str) -> tuple[Decimal, int, int]:
    """(employed days / days in month, employed days, days in month) from roster dates."""
    first, last, n = month_days(month)
    start = max(first, joined) if joined else first
    end = min(last, left) if left else last
    days = max(0, (end - start).days + 1)
    return Decimal(days) / Decimal(n), days, n


@dataclass
class PayrollLine:
    """Everything one payroll row needs; ``row()`` gives the payroll dict.

    ``items`` is the agent's long list of item scores keyed by item (rules order)."""

    month: str
    agent: str
    roster: dict | None
    items: dict[str, ItemScore]
    adjustments: list[Adjustment]
    missing: list[str]

    def row(self, rules: Rules) -> dict:
        role = self.roster["role"] if self.roster else None
        reasons = list(self.missing)
        flags: list[str] = []
        for score in self.items.values():
            reasons += score.missing
            if score.points is None and not score.missing:  # an item must say why; never 0
                reasons.append(f"{score.label}: 未能计分")
            flags += score.flags
        base = rules.base_salary.get(role) if role else None
        if self.roster is None:
            reasons.append("不在客服名单 (无姓名/岗位/底薪)")
        elif base is None:
            reasons.append(f"岗位 {role} 在规则 base_salary 中没有底薪")
        deductions = -sum((a.points for a in self.adjustments if a.kind == "deduction"), Decimal(0))
        bonuses = sum((a.points for a in self.adjustments if a.kind == "bonus"), Decimal(0))
        pts = [score.points for score in self.items.values()]

        factor = Decimal(1)
        if self.roster and rules.options.flag_mid_month_changes:
            frac, days, n = employed_fraction(self.roster.get("joined_on"), self.roster.get("left_on"), self.month)
            if days < n:
                what = []
                if self.roster.get("joined_on") and self.roster["joined_on"] > month_days(self.month)[0]:
                    what.append(f"{self.roster['joined_on']} 入职")
                if self.roster.get("left_on") and self.roster["left_on"] < month_days(self.month)[1]:
                    what.append(f"{self.roster['left_on']} 离职")
                if rules.options.pro_rating == "calendar_days":
                    factor = frac
                    flags.append(f"月中变动({', '.join(what)}): 底薪与KPI奖金按在职 {days}/{n} 天折算")
                else:
                    flags.append(f"月中变动({', '.join(what)}): 在职 {days}/{n} 天, 未折算 (pro_rating: none)")

        total = passed = kpi = salary = None
        base_out = round_money(base * factor) if base is not None else None
        if not reasons:
            total = sum((p for p in pts if p is not None), Decimal(0)) - deductions + bonuses  # exact, unrounded
            passed = total >= rules.gate.pass_ratio * rules.total_points
            pool = rules.kpi_pool.amount
            raw = pool * total / rules.total_points if passed else Decimal(0)
            if rules.options.cap_kpi_bonus and raw > pool:
                flags.append(f"总分 {total} 超过 {rules.total_points}: KPI奖金封顶 {pool}")
                raw = pool
            kpi = round_money(raw * factor)
            assert base_out is not None  # a missing base is a reason above
            salary = base_out + kpi  # both already rounded: the row reconciles to the cent
        return {
            "month": self.month,
            "agent": self.agent,
            "name": self.roster["name"] if self.roster else None,
            "role": role,
            **widen(self.items, rules),
            "deductions": deductions,
            "bonuses": bonuses,
            "total_score": total,
            "passed": passed,
            "kpi_bonus": kpi,
            "base_salary": base_out,
            "salary": salary,
            "status": "incomplete" if reasons else "final",
            "status_reason": "; ".join(reasons + (["提示: " + "; ".join(flags)] if flags else [])) or None,
        }


def payroll_frame(rows: list[dict], rules: Rules | None = None) -> pl.DataFrame:
    """Payroll frame with the columns of :func:`payroll_schema` (money Decimal, 2 places);
    for the default scheme exactly :data:`PAYROLL_COLUMNS`."""
    schema = payroll_schema(rules)
    return pl.DataFrame([{k: r[k] for k in schema} for r in rows], schema=schema, orient="row")


@dataclass(frozen=True)
class Reconciliation:
    """Totals over rows that have a salary (final rows)."""

    rows: int
    base_total: Decimal
    kpi_total: Decimal
    salary_total: Decimal

    @property
    def ok(self) -> bool:
        return self.salary_total == self.base_total + self.kpi_total


def reconcile(payroll: pl.DataFrame) -> Reconciliation:
    """Sum of salaries vs sum of bases + sum of KPI bonuses, to the cent (Decimal)."""
    final = payroll.filter(pl.col("salary").is_not_null())
    total = lambda c: sum(final[c].to_list(), Decimal("0.00"))  # noqa: E731
    return Reconciliation(final.height, total("base_salary"), total("kpi_bonus"), total("salary"))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Decimal):
        return format(v, "f")
    s = str(v)
    return "'" + s if s.startswith(_FORMULA_START) else s


def payroll_csv_text(payroll: pl.DataFrame) -> str:
    """payroll.csv as text (the caller writes it with a UTF-8 BOM for Excel).

    Numbers are written plainly (Decimals with their 2 places, refund_rate a fraction,
    passed true/false); text cells starting with = + - @ (or tab/CR) get a leading ' so a
    spreadsheet never evaluates them as formulas."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(payroll.columns)
    for row in payroll.iter_rows():
        w.writerow([_cell(v) for v in row])
    return buf.getvalue()
