"""Pay totals that reconcile: final rows summed apart from incomplete (not yet payable) rows.

An incomplete row has a base salary but no KPI bonus and no salary, so adding its base to the
team's 底薪合计 would make 底薪合计 + KPI 合计 ≠ 工资总额. Every output (report cards, the
payroll.xlsx 合计 rows, the terminal) shows :func:`pay_totals`: the final rows' sums, which
reconcile to the cent, and the incomplete rows' count and base salaries on a separate line.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from .fmt import to_decimal

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class PayTotals:
    """Exact sums of the final rows and, apart, of the incomplete rows."""

    final_rows: int
    base: Decimal
    kpi: Decimal
    salary: Decimal
    incomplete_rows: int
    incomplete_base: Decimal

    @property
    def reconciles(self) -> bool:
        """底薪合计 + KPI 合计 == 工资总额 over the final rows, to the cent."""
        return self.base + self.kpi == self.salary


def _sum(df: pl.DataFrame, col: str) -> Decimal:
    if col not in df.columns:
        return ZERO
    return sum((d for d in (to_decimal(v) for v in df[col].to_list()) if d is not None), ZERO)


def is_final(payroll: pl.DataFrame) -> pl.Expr:
    """Rows that are payable: status final (or, without a status column, a salary present)."""
    if "status" in payroll.columns:
        return pl.col("status").cast(pl.String) == "final"
    return pl.col("salary").is_not_null() if "salary" in payroll.columns else pl.lit(True)


def pay_totals(payroll: pl.DataFrame | None) -> PayTotals:
    """Totals of ``payroll`` (any frame with base_salary/kpi_bonus/salary[/status])."""
    if payroll is None or payroll.height == 0:
        return PayTotals(0, ZERO, ZERO, ZERO, 0, ZERO)
    final = payroll.filter(is_final(payroll))
    rest = payroll.filter(~is_final(payroll))
    return PayTotals(final.height, _sum(final, "base_salary"), _sum(final, "kpi_bonus"), _sum(final, "salary"),
                     rest.height, _sum(rest, "base_salary"))


def totals_line(t: PayTotals) -> str:
    """The reconciled totals as one line for the terminal (same numbers as the report cards)."""
    from .fmt import money

    line = f"工资总额 {money(t.salary)} = 底薪 {money(t.base)} + KPI奖金 {money(t.kpi)} (已定稿 {t.final_rows} 人)"
    if t.incomplete_rows:
        line += f"; 待补充 {t.incomplete_rows} 人, 底薪 {money(t.incomplete_base)} 未计入"
    return line
