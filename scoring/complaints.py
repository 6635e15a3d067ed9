"""Item 投诉/维权/举报/退款纠纷处理 and the 客户投诉(查实) deductions.

Complaints belong to the month of ``received_at`` (a complaint received 09-30 and handled
10-02 is scored once, in September).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import polars as pl

from scoring.grades import ladder_text, suggest_grade
from scoring.inputs import in_month
from scoring.model import Adjustment, AgentIssues, ItemScore, fmt, grade_table_text

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


def _against_shop(outcomes: tuple[str, ...]) -> pl.Expr:
    # exact match of any part of the free-text outcome, so 非商家责任 never reads as 商家责任
    parts = pl.col("outcome").fill_null("").str.replace_all(_SEP, "|").str.split("|")
    return parts.list.eval(pl.element().str.strip_chars().is_in(list(outcomes))).list.any()


def complaint_scores(agents, complaints: pl.DataFrame, ratings: dict[str, dict], rules, month: str, as_of: datetime):
    """One :class:`ItemScore` per agent for item ``complaints``, and warnings."""
    item = rules.items.complaints
    warnings: list[str] = []
    calendar = item.deadline_calendar.build("complaints") if item.deadline_calendar else None
    cm = handled_within_deadline(complaints.filter(in_month("received_at", month)), item.deadline_hours, as_of, calendar)
    cm = cm.with_columns(against_shop=_against_shop(item.against_shop_outcomes))
    orphans = cm.filter(pl.col("agent_account").is_null())["complaint_id"].to_list()
    if orphans:
        warnings.append(f"{item.label}: 记录 {', '.join(orphans)} 未填客服账号, 不计入任何客服")
    stats = {
        r["agent_account"]: r
        for r in cm.drop_nulls("agent_account")
        .sort("received_at", "complaint_id")
        .group_by("agent_account")
        .agg(
            complaints=pl.len(),
            decided=pl.col("within_deadline").is_not_null().sum(),
            within=pl.col("within_deadline").fill_null(False).sum(),
            platform_interventions=pl.col("platform_intervened").fill_null(False).sum(),
            against_shop=pl.col("against_shop").sum(),
            ids=pl.col("complaint_id"),
        )
        .to_dicts()
    }
    rule = (
        f"等级分 {grade_table_text(item.grade_points)}; 主管覆盖优先; 处理时限 {fmt(item.deadline_hours)} 小时"
        f"{'(工作时间 ' + ','.join(item.deadline_calendar.windows) + ')' if item.deadline_calendar and item.deadline_calendar.kind == 'working_hours' else '(24×7)'}; "
        f"无投诉→{item.no_complaints_grade}; 建议阈值 {ladder_text(item.suggest)}"
    )
    out: dict[str, ItemScore] = {}
    for agent in agents:
        s = stats.get(agent)
        override = (ratings.get(agent) or {}).get("complaint_override")
        if s is None:
            suggested, why, raw, ids = item.no_complaints_grade, "本月无投诉/维权/举报/纠纷记录", "0 条", []
        else:
            # all still pending → no late handling observed yet: rate 1
            rate = Decimal(s["within"]) / Decimal(s["decided"]) if s["decided"] else Decimal(1)
            values = {
                "complaints": Decimal(s["complaints"]),
                "within_deadline_rate": rate,
                "platform_interventions": Decimal(s["platform_interventions"]),
                "against_shop": Decimal(s["against_shop"]),
            }
            suggested, why = suggest_grade(values, item.suggest)
            pending = s["complaints"] - s["decided"]
            raw = (
                f"{s['complaints']} 条, 按时处理 {s['within']}/{s['decided']}"
                + (f" (另 {pending} 条未到期)" if pending else "")
                + f", 平台介入 {s['platform_interventions']}, 判商家责任 {s['against_shop']}"
            )
            ids = [f"complaint:{i}" for i in s["ids"]]
        grade = override or suggested
        out[agent] = ItemScore(
            agent_account=agent,
            item="complaints",
            label=item.label,
            points=item.grade_points.points(grade),
            raw_value=f"{raw} ({why})",
            grade=grade,
            suggested_grade=suggested,
            override_grade=override,
            source="override" if override else "suggested",
            rule=rule,
            evidence_ids=ids,
        )
    return out, warnings


def verified_complaint_deductions(agents, complaints: pl.DataFrame, rules, month: str, issues: AgentIssues):
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

