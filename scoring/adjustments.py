"""Deductions 低质评价 and bonuses 客户表扬 / 表现突出 (verified complaints: scoring.complaints)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from scoring.inputs import in_month
from scoring.model import Adjustment, AgentIssues, fmt
from scoring.rules import Rules


def review_adjustments(agents: list[str], reviews: pl.DataFrame, rules: Rules, month: str, issues: AgentIssues) -> list[Adjustment]:
    """Adjustments from the 评价 sheet: after-sales 低质评价 deduct, confirmed 表扬 add."""
    low, praise = rules.deductions.low_quality_review, rules.bonuses.praise
    known = set(agents)
    out: list[Adjustment] = []
    rows = reviews.filter(in_month("reviewed_at", month) & pl.col("agent_account").is_in(list(known))).sort("review_id")
    for r in rows.iter_rows(named=True):
        agent, rid = r["agent_account"], r["review_id"]
        when = f"{r['reviewed_at']:%Y-%m-%d %H:%M}"
        if r["kind"] == "低质评价":
            if low.only_after_sales and r["after_sales"] is None:
                issues.add(agent, f"低质评价 {rid} 未填 售后原因(是/否)")
            elif r["after_sales"] or not low.only_after_sales:
                out.append(Adjustment(agent, "deduction", "low_quality_review", -low.points, f"review:{rid}", f"{low.label} {when} 扣{fmt(low.points)}分",
                                      f"{low.label}" + ("(售后原因)" if low.only_after_sales else "") + f" 每次 -{fmt(low.points)}"))
        elif r["kind"] == "表扬" and r["confirmed"]:
            out.append(Adjustment(agent, "bonus", "praise", praise.points, f"review:{rid}", f"{praise.label}(主管确认) {when} 加{fmt(praise.points)}分",
                              f"{praise.label}(主管确认) 每次 +{fmt(praise.points)}"))
    return out


def praise_candidate_adjustments(agents: list[str], evidence: pl.DataFrame, rules: Rules, month: str) -> list[Adjustment]:
    """+praise points per chat praise candidate, only when ``options.count_praise_candidates``."""
    if not rules.options.count_praise_candidates:
        return []
    pts = rules.bonuses.praise.points
    rows = evidence.filter(
        (pl.col("month") == month) & (pl.col("kind") == "praise_candidate") & pl.col("agent_account").is_in(list(agents))
    ).sort("evidence_id")
    return [
        Adjustment(r["agent_account"], "bonus", "praise_candidate", pts, r["evidence_id"], f"聊天中的表扬(未经主管确认) 加{fmt(pts)}分",
                   f"options.count_praise_candidates=true: 表扬候选每条 +{fmt(pts)}")
        for r in rows.iter_rows(named=True)
    ]


def outstanding_adjustments(ratings: dict[str, dict], rules: Rules, month: str) -> tuple[list[Adjustment], list[str]]:
    """(adjustments, problems): 表现突出 from the ratings sheet; outside min..max is a problem."""
    rng = rules.bonuses.outstanding
    out: list[Adjustment] = []
    problems: list[str] = []
    for agent, r in sorted(ratings.items()):
        v = r.get("outstanding_bonus")
        if v is None:
            continue
        if not (rng.min <= Decimal(v) <= rng.max):
            problems.append(f"主管评分 {month} {agent}: 表现突出加分 {v} 超出范围 {fmt(rng.min)}-{fmt(rng.max)}")
            continue
        out.append(Adjustment(agent, "bonus", "outstanding", Decimal(v), f"rating:{month}:{agent}", f"{rng.label} 加{v}分" + (f" ({r['note']})" if r.get("note") else ""),
                              f"{rng.label} 主管填 {fmt(rng.min)}-{fmt(rng.max)} 分"))
    return out, problems
