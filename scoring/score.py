"""``score_month``: one month's KPI items, adjustments and payroll from frames and rules."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal

import polars as pl

from scoring.adjustments import outstanding_adjustments, praise_candidate_adjustments, review_adjustments
from scoring.complaints import verified_complaint_deductions
from scoring.evidence import evidence_index
from scoring.inputs import ScoringFrames, ScoringInputError, ScoringInputs, in_month, month_bounds, scoring_frames, supervisor_quarantine
from scoring.items import ItemContext
from scoring.model import Adjustment, AgentIssues, ItemScore
from scoring.payroll import PTS, PayrollLine, payroll_frame
from scoring.rules import Rules

KPI_ITEMS_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.String(), "agent_account": pl.String(), "item": pl.String(), "label": pl.String(),
    "raw_value": pl.String(), "grade": pl.String(), "suggested_grade": pl.String(), "override_grade": pl.String(),
    "points": PTS, "source": pl.String(), "rule": pl.String(), "evidence_ids": pl.List(pl.String()),
}  # fmt: skip
KPI_ADJUSTMENTS_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.String(), "agent_account": pl.String(), "kind": pl.String(), "item": pl.String(),
    "points": PTS, "record_id": pl.String(), "detail": pl.String(), "rule": pl.String(),
}  # fmt: skip


@dataclass(frozen=True)
class ScoringResult:
    """Outputs of :func:`score_month`. ``evidence`` resolves every cited id to a text."""

    month: str
    rules_version: int
    rules_hash: str
    kpi_items: pl.DataFrame
    kpi_adjustments: pl.DataFrame
    payroll: pl.DataFrame
    evidence: pl.DataFrame
    pass_mark: Decimal  # pass_ratio × total_points (the gate)
    total_points: Decimal
    kpi_pool: Decimal
    cap_kpi_bonus: bool
    warnings: list[str] = field(default_factory=list)

    @property
    def incomplete(self) -> pl.DataFrame:
        """Payroll rows with status 'incomplete' (agent, status_reason)."""
        return self.payroll.filter(pl.col("status") == "incomplete").select("agent", "name", "status_reason")

    @property
    def is_complete(self) -> bool:
        return self.incomplete.height == 0


def _raw_with_missing(s: ItemScore) -> str | None:
    if not s.missing:
        return s.raw_value
    return (s.raw_value + "; " if s.raw_value else "") + "缺: " + "; ".join(s.missing)


def _agents(inp: ScoringFrames, month: str, blocked: pl.DataFrame) -> tuple[list[str], list[str]]:
    """Agents to score (roster ∪ ratings ∪ month's reviews/complaints ∪ agents named by
    quarantined supervisor rows ``blocked``) and warnings."""
    names = set(inp.roster["agent_account"].drop_nulls().to_list())
    names |= set(blocked["agent_account"].drop_nulls().to_list())
    names |= set(inp.ratings["agent_account"].drop_nulls().to_list())
    names |= set(inp.reviews.filter(in_month("reviewed_at", month))["agent_account"].drop_nulls().to_list())
    names |= set(inp.complaints.filter(in_month("received_at", month))["agent_account"].drop_nulls().to_list())
    chat_only = sorted(set(inp.agent_month_metrics.filter(pl.col("month") == month)["agent_account"].drop_nulls().to_list()) - names)
    warnings = [f"有聊天指标但不在名单/评分表中, 未计分: {', '.join(chat_only)}"] if chat_only else []
    in_roster = [a for a in inp.roster["agent_account"].drop_nulls().unique(maintain_order=True).to_list()]
    return in_roster + sorted(names - set(in_roster)), warnings


def _block_quarantined(agents: list[str], blocked: pl.DataFrame, issues: AgentIssues) -> None:
    """A quarantined supervisor row never silently changes pay: the agent it names is
    incomplete with the row's reason; a row naming no agent blocks every agent (its
    deduction or grade cannot be attributed)."""
    for agent, reason in blocked.iter_rows():
        for a in [agent] if agent else agents:
            issues.add(a, reason if agent else reason + " (未写客服账号, 所有客服暂不能定)")


def score_month(inputs: ScoringInputs, rules: Rules, month: str) -> ScoringResult:
    """Score one month: every KPI item, deduction and bonus, and the payroll rows.

    Pure: frames in, frames out. Raises :class:`ScoringInputError` (naming each record) when a
    supervisor value is outside the rules' range; missing supervisor input, or a quarantined
    supervisor row (``inputs.quarantine``), does not raise but makes the agent's payroll row
    ``incomplete`` with the reason."""
    inp = scoring_frames(inputs)
    if "month" in inp.roster.columns and inp.roster["month"].is_not_null().any():
        inp = replace(inp, roster=inp.roster.filter(pl.col("month") == month))
    inp = replace(inp, ratings=inp.ratings.filter(pl.col("rating_month") == month))
    blocked = supervisor_quarantine(inp.quarantine, month)
    agents, warnings = _agents(inp, month, blocked)
    ratings = {r["agent_account"]: r for r in inp.ratings.to_dicts()}
    roster = {r["agent_account"]: r for r in inp.roster.to_dicts()}
    _, month_end = month_bounds(month)

    # every enabled KPI item, in rules order: long scores (item -> agent -> ItemScore)
    ctx = ItemContext(month=month, agents=agents, inputs=inp, ratings=ratings, as_of=month_end)
    items: dict[str, dict[str, ItemScore]] = {}
    for key, item in rules.kpi_items.items():
        block = rules.items[key]
        scored = item.score(ctx, block)
        # an agent the item left out is incomplete for it, never 0 (see PayrollLine.row)
        items[key] = {a: scored.scores.get(a) or ItemScore(a, key, block.label, None, missing=[f"{block.label}: 未计分"]) for a in agents}
        warnings += scored.warnings

    issues = AgentIssues()
    _block_quarantined(agents, blocked, issues)
    adjustments: list[Adjustment] = review_adjustments(agents, inp.reviews, rules, month, issues)
    adj, problems, w = verified_complaint_deductions(agents, inp.complaints, rules, month, issues)
    adjustments += adj
    warnings += w
    adjustments += praise_candidate_adjustments(agents, inp.evidence, rules, month)
    adj, p2 = outstanding_adjustments(ratings, rules, month)
    adjustments += adj
    problems += p2
    if problems:
        raise ScoringInputError(problems)

    rows = []
    for agent in agents:
        line = PayrollLine(
            month, agent, roster.get(agent), {k: by_agent[agent] for k, by_agent in items.items()},
            [a for a in adjustments if a.agent_account == agent], issues.missing.get(agent, []),
        )
        rows.append(line.row(rules))

    kpi_items = pl.DataFrame(
        [
            {
                "month": month, "agent_account": s.agent_account, "item": s.item, "label": s.label,
                "raw_value": _raw_with_missing(s), "grade": s.grade, "suggested_grade": s.suggested_grade,
                "override_grade": s.override_grade, "points": s.points, "source": s.source, "rule": s.rule,
                "evidence_ids": s.evidence_ids,
            }
            for agent in agents
            for s in (by_agent[agent] for by_agent in items.values())
        ],
        schema=KPI_ITEMS_SCHEMA,
        orient="row",
    )
    kpi_adjustments = pl.DataFrame(
        [
            {"month": month, "agent_account": a.agent_account, "kind": a.kind, "item": a.item,
             "points": a.points, "record_id": a.record_id, "detail": a.detail, "rule": a.rule}
            for a in sorted(adjustments, key=lambda a: (a.agent_account, a.kind, a.item, a.record_id))
        ],
        schema=KPI_ADJUSTMENTS_SCHEMA,
        orient="row",
    )  # fmt: skip
    return ScoringResult(
        month=month,
        rules_version=rules.version,
        rules_hash=rules.hash,
        kpi_items=kpi_items,
        kpi_adjustments=kpi_adjustments,
        payroll=payroll_frame(rows, rules),
        evidence=evidence_index(inp, month),
        pass_mark=rules.pass_mark,
        total_points=rules.total_points,
        kpi_pool=rules.kpi_pool.amount,
        cap_kpi_bonus=rules.options.cap_kpi_bonus,
        warnings=warnings,
    )
