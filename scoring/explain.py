"""``explain``: the rows ``kefu explain`` and the report show for one agent."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from scoring.score import ScoringResult


@dataclass(frozen=True)
class ExplainRow:
    """One line of an agent's explanation: an item, an adjustment, or the pay summary."""

    section: str  # item | deduction | bonus | total
    item: str  # rules key (or 'total' / 'kpi_bonus' / 'salary' / 'status')
    label: str
    points: Decimal | None
    inputs: str  # what was measured / entered (raw value, grades)
    rule: str  # the rule that turned the inputs into points
    evidence: list[str] = field(default_factory=list)  # "id | text" lines
    more_evidence: int = 0  # evidence lines left out (see ``max_evidence``)


def _grades(r: dict) -> str:
    bits = []
    if r["suggested_grade"]:
        bits.append(f"建议 {r['suggested_grade']}")
    if r["override_grade"]:
        bits.append(f"主管覆盖 {r['override_grade']}")
    if r["grade"]:
        bits.append(f"采用 {r['grade']}")
    return ", ".join(bits)


def explain(result: ScoringResult, agent: str, max_evidence: int | None = 20) -> list[ExplainRow]:
    """Each item's points with inputs, rule and evidence, then deductions, bonuses and pay.

    Raises KeyError when ``agent`` was not scored in ``result``."""
    pay = result.payroll.filter(pl.col("agent") == agent)
    if pay.height == 0:
        raise KeyError(f"{agent} 不在 {result.month} 的评分结果中")
    texts = dict(zip(result.evidence["evidence_id"].to_list(), result.evidence["text"].to_list(), strict=True))

    def refs(ids: list[str]) -> tuple[list[str], int]:
        shown = ids if max_evidence is None else ids[:max_evidence]
        return [f"{i} | {texts.get(i, '(无原文)')}" for i in shown], len(ids) - len(shown)

    rows: list[ExplainRow] = []
    for r in result.kpi_items.filter(pl.col("agent_account") == agent).iter_rows(named=True):
        ev, more = refs(r["evidence_ids"] or [])
        inputs = "; ".join(x for x in (r["raw_value"], _grades(r), f"来源 {r['source']}") if x)
        rows.append(ExplainRow("item", r["item"], r["label"], r["points"], inputs, r["rule"], ev, more))
    for r in result.kpi_adjustments.filter(pl.col("agent_account") == agent).iter_rows(named=True):
        ev, more = refs([r["record_id"]])
        rows.append(ExplainRow(r["kind"], r["item"], r["detail"], r["points"], r["detail"], r["rule"], ev, more))
    p = pay.row(0, named=True)
    rule_gate = (
        f"合格线: 总分 ≥ {result.pass_mark} (未四舍五入比较), 否则无KPI奖金; "
        f"KPI奖金 = {result.kpi_pool} × 总分 / {result.total_points}"
        + (f", 封顶 {result.kpi_pool}" if result.cap_kpi_bonus else ", 不封顶")
        + "; 四舍五入到分"
    )
    rows.append(ExplainRow("total", "total_score", "总分", p["total_score"],
                           f"扣分 {p['deductions']}, 加分 {p['bonuses']}, 合格 {p['passed']}", "各项之和 - 扣分 + 加分"))
    rows.append(ExplainRow("total", "kpi_bonus", "KPI奖金", p["kpi_bonus"], f"合格 {p['passed']}", rule_gate))
    rows.append(ExplainRow("total", "salary", "工资", p["salary"], f"底薪 {p['base_salary']} ({p['role']})", "工资 = 底薪 + KPI奖金"))
    rows.append(ExplainRow("total", "status", "状态", None, f"{p['status']}" + (f": {p['status_reason']}" if p["status_reason"] else ""), ""))
    return rows
