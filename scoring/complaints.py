"""Complaint handling shared by the item ``complaints`` (:mod:`scoring.items.complaints`) and
the 客户投诉(查实) deductions: the one "handled in time" rule and the 商家责任 outcome match.

Complaints belong to the month of ``received_at`` (a complaint received 09-30 and handled
10-02 is scored once, in September).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import polars as pl

from scoring.inputs import in_month
from scoring.model import Adjustment, AgentIssues, fmt
from scoring.rules import Rules

_SEP = r"[,，;；、/\s]+"


def handled_within_deadline(frame: pl.DataFrame, hours, as_of: datetime | None = None, calendar=None) -> pl.DataFrame:
    """Add ``deadline_at`` and ``within_deadline`` (Boolean) to a complaints frame.

    Uses the project's one deadline mechanism (:func:`analytics.sla.deadlines.deadline_status`;
    ``calendar`` None = 24×7, or an SLA working-hours calendar). ``within_deadline`` is True
    when handled at or before the deadline; False when handled later, or still open and the
    deadline has passed by ``as_of`` (or ``as_of`` is None); null when still open and not yet
    due at ``as_of`` (pending: left out of the rate). A recorded ``handled_at`` is used even
    when it falls after ``as_of`` (scoring runs after month end on the full record)."""
    from analytics.sla.deadlines import deadline_status

    far = datetime(9999, 1, 1)
    t = float(Decimal(str(hours)))
    decided = deadline_status(pl.col("received_at"), pl.col("handled_at"), t, calendar, far)
    open_at = deadline_status(pl.col("received_at"), None, t, calendar, as_of or far)
    return frame.with_columns(
        deadline_at=decided.struct.field("deadline"),
        within_deadline=pl.when(pl.col("handled_at").is_not_null())
        .then(decided.struct.field("status") == "met")
        .when(open_at.struct.field("status") == "breached")
        .then(pl.lit(False))
        .otherwise(pl.lit(None, dtype=pl.Boolean)),
    )


def against_shop(outcomes: tuple[str, ...]) -> pl.Expr:
    # exact match of any part of the free-text outcome, so 非商家责任 never reads as 商家责任
    parts = pl.col("outcome").fill_null("").str.replace_all(_SEP, "|").str.split("|")
    return parts.list.eval(pl.element().str.strip_chars().is_in(list(outcomes))).list.any()


def verified_complaint_deductions(
    agents: list[str], complaints: pl.DataFrame, rules: Rules, month: str, issues: AgentIssues
) -> tuple[list[Adjustment], list[str], list[str]]:
    """(adjustments, problems, warnings) for 查实 complaints received in the month.

    A deduction outside the rules' range is a problem (the run fails naming the complaint);
    a verified complaint without a deduction marks its agent incomplete."""
    rng = rules.deductions.verified_complaint
    known = set(agents)
    adjustments: list[Adjustment] = []
    problems: list[str] = []
    warnings: list[str] = []
    rows = complaints.filter(in_month("received_at", month) & pl.col("verified").fill_null(False)).sort("complaint_id")
    for r in rows.iter_rows(named=True):
        cid, agent, d = r["complaint_id"], r["agent_account"], r["deduction"]
        if agent is None or agent not in known:
            warnings.append(f"查实投诉 {cid}: 客服账号 {agent or '空'} 不在本月客服中, 未扣分")
            continue
        if d is None:
            issues.add(agent, f"查实投诉 {cid} 未填扣分 ({fmt(rng.min)}-{fmt(rng.max)})")
            continue
        if not (rng.min <= Decimal(d) <= rng.max):
            problems.append(f"投诉 {cid} ({agent}): 扣分 {d} 超出范围 {fmt(rng.min)}-{fmt(rng.max)}")
            continue
        adjustments.append(
            Adjustment(agent, "deduction", "verified_complaint", -Decimal(d), f"complaint:{cid}",
                       f"{rng.label} {r['kind']} {r['received_at']:%Y-%m-%d %H:%M} 扣{d}分" + (f" ({r['note']})" if r["note"] else ""),
                       f"{rng.label} 每条由主管定 {fmt(rng.min)}-{fmt(rng.max)} 分")
        )
    return adjustments, problems, warnings

