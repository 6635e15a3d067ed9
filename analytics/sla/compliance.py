"""Compliance checks the policy states, as findings for a supervisor to review.

Finding columns: finding_id (stable: ``check:record``), check, policy_ref, record_kind,
record_id, staff, at (when it happened / became due), detail (Chinese).

Checks (code → policy):
  signature_before_completion 3.3.2  用户签字时间早于服务完成时间
  missing_completion          3.3.2  已完成/已关闭/已签字, 但缺少服务完成时间 (签字无法核对)
  missing_signature           3.3.2  服务已完成、工单已关闭, 但没有用户签字
  body_distance_missing       3.2.2  车身故障未填服务半径且不需配套厂家: 无法判定适用时限
  satisfaction_out_of_range   3.2.1  满意度评分不在 1..score_max
  call_not_archived           3.5.4  来电来函已答复但未存档
  part_issued_unapproved      3.6.1  备用件已发放, 但领料单未经批准(或无批准人)
  warranty_part_no_requisition 3.6.1 三包工单更换了备件, 但没有已批准的领料单
  old_part_not_returned       3.6.2/3.7.5 发放的备件, 旧件未在 N 天内返还
  stock_mismatch              3.7.1  帐物不一致 / 帐帐不一致 (from the ledger reconciliation)
  claim_open_too_long         3.8    二次索赔提交超过 N 天仍未结案
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from contracts import SLA_RESULTS

from .rules import RuleSet

FINDING_SCHEMA = SLA_RESULTS["sla_compliance"].schema(exclude=("month",))

DONE_STATUSES = ("已完成", "已关闭")


def _fmt(c: str) -> pl.Expr:
    return pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S")


def _finding(frame: pl.DataFrame, check: str, ref: str, kind: str, id_expr: pl.Expr, staff: pl.Expr, at: pl.Expr, detail: pl.Expr) -> pl.DataFrame:
    if frame.height == 0:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    return frame.select(
        pl.concat_str([pl.lit(check + ":"), id_expr.cast(pl.String)]).alias("finding_id"),
        pl.lit(check).alias("check"),
        pl.lit(ref).alias("policy_ref"),
        pl.lit(kind).alias("record_kind"),
        id_expr.cast(pl.String).alias("record_id"),
        staff.cast(pl.String).alias("staff"),
        at.cast(pl.Datetime("us")).alias("at"),
        detail.alias("detail"),
    )


def ticket_findings(tickets: pl.DataFrame, rules: RuleSet) -> list[pl.DataFrame]:
    t = tickets
    out = []
    tid, staff = pl.col("ticket_id"), pl.col("staff")
    bad = t.filter(pl.col("signed_at") < pl.col("completed_at"))
    out.append(
        _finding(bad, "signature_before_completion", "3.3.2", "ticket", tid, staff, pl.col("signed_at"),
                 pl.format("用户签字时间 {} 早于服务完成时间 {}, 不允许服务前签字, 请复核", _fmt("signed_at"), _fmt("completed_at")))
    )
    done = pl.col("status").is_in(DONE_STATUSES).fill_null(False) | pl.col("closed_at").is_not_null()
    miss = t.filter(pl.col("completed_at").is_null() & (done | pl.col("signed_at").is_not_null()))
    out.append(
        _finding(miss, "missing_completion", "3.3.2", "ticket", tid, staff, pl.coalesce("closed_at", "signed_at", "received_at"),
                 pl.when(pl.col("signed_at").is_not_null())
                 .then(pl.format("缺少服务完成时间, 无法核对用户签字({})是否在服务之后", _fmt("signed_at")))
                 .otherwise(pl.lit("工单已完成/关闭但缺少服务完成时间")))
    )
    nosig = t.filter(pl.col("completed_at").is_not_null() & pl.col("signed_at").is_null() & done)
    out.append(
        _finding(nosig, "missing_signature", "3.3.2", "ticket", tid, staff, pl.col("completed_at"),
                 pl.format("服务已于 {} 完成, 但没有用户签字(盖章)时间", _fmt("completed_at")))
    )
    nodist = t.filter((pl.col("fault_category") == "车身") & pl.col("distance_km").is_null() & ~pl.col("needs_supplier").fill_null(False))
    out.append(
        _finding(nodist, "body_distance_missing", "3.2.2", "ticket", tid, staff, pl.col("received_at"),
                 pl.lit("车身故障未填服务半径(km), 无法判定适用 24 小时到场还是 12 小时答复时限"))
    )
    mx = rules.targets.score_max
    oor = t.filter(pl.col("satisfaction").is_not_null() & ~pl.col("satisfaction").is_between(1, mx))
    out.append(
        _finding(oor, "satisfaction_out_of_range", "3.2.1", "ticket", tid, staff, pl.coalesce("completed_at", "received_at"),
                 pl.format(f"满意度评分 {{}} 不在 1..{mx} 之间, 未计入满意度", pl.col("satisfaction")))
    )
    return out


def call_findings(calls: pl.DataFrame) -> list[pl.DataFrame]:
    c = calls.filter(pl.col("replied_at").is_not_null() & ~pl.col("archived").fill_null(False))
    return [
        _finding(c, "call_not_archived", "3.5.4", "call", pl.col("call_id"), pl.col("staff"), pl.col("replied_at"),
                 pl.format("{}已于 {} 答复, 但复电/复函未存档", pl.col("kind"), _fmt("replied_at")))
    ]


def part_findings(
    tickets: pl.DataFrame | None,
    requisitions: pl.DataFrame | None,
    returns: pl.DataFrame | None,
    rules: RuleSet,
    as_of: datetime,
) -> list[pl.DataFrame]:
    out = []
    req = requisitions if requisitions is not None else None
    if req is not None and req.height:
        approved = (pl.col("approval") == "已批准").fill_null(False) & pl.col("approver").is_not_null()
        bad = req.filter(pl.col("issued_on").is_not_null() & ~approved)
        rid = pl.concat_str(["requisition_id", pl.lit("/"), "part_id"])
        out.append(
            _finding(bad, "part_issued_unapproved", "3.6.1", "requisition", rid, pl.col("staff"), pl.col("issued_on").cast(pl.Datetime("us")),
                     pl.format("备件 {} x{} 已于 {} 发放, 但领料单审批状态为 {}、批准人 {}", pl.col("part_name").fill_null(pl.col("part_id")), pl.col("quantity"),
                               pl.col("issued_on").dt.strftime("%Y-%m-%d"), pl.col("approval").fill_null("空"), pl.col("approver").fill_null("空")))
        )
        out.append(_unreturned(req, returns, rules.compliance.old_part_return_days, as_of))
    if tickets is not None and tickets.height:
        need = tickets.filter(pl.col("warranty").fill_null(False) & pl.col("parts_replaced").fill_null(False))
        if req is not None and req.height:
            ok = req.filter((pl.col("approval") == "已批准") & pl.col("approver").is_not_null()).select(pl.col("ticket_id").cast(pl.String)).unique()
            need = need.join(ok, on="ticket_id", how="anti")
        out.append(
            _finding(need, "warranty_part_no_requisition", "3.6.1", "ticket", pl.col("ticket_id"), pl.col("staff"), pl.coalesce("completed_at", "received_at"),
                     pl.lit("三包工单更换了备件, 但没有经批准的备用件领料单"))
        )
    return out


def _unreturned(req: pl.DataFrame, returns: pl.DataFrame | None, days: int, as_of: datetime) -> pl.DataFrame:
    issued = req.filter(pl.col("issued_on").is_not_null() & pl.col("ticket_id").is_not_null()).with_columns(
        (pl.col("issued_on") + pl.duration(days=days)).alias("due")
    )
    if issued.height == 0:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    key = ["requisition_id", "part_id"]
    if returns is not None and returns.height:
        ret = returns.select("requisition_id", "ticket_id", "part_id", "returned_on", "quantity")
        by_req = issued.select(*key, "due", pl.col("quantity").alias("_iq")).join(
            ret.filter(pl.col("requisition_id").is_not_null()).drop("ticket_id"), on=key, how="inner"
        )
        by_ticket = issued.select(*key, "ticket_id", "due", pl.col("quantity").alias("_iq")).join(
            ret.filter(pl.col("requisition_id").is_null()).drop("requisition_id"), on=["ticket_id", "part_id"], how="inner"
        ).drop("ticket_id")
        matched = pl.concat([by_req, by_ticket], how="diagonal_relaxed").with_columns(
            pl.col("quantity").fill_null(pl.col("_iq")).alias("rq")  # blank 数量 = the whole requisition
        )
        agg = matched.group_by(key).agg(
            pl.col("rq").filter(pl.col("returned_on") <= pl.col("due")).sum().alias("in_time"),
            pl.col("rq").sum().alias("returned"),
            pl.col("returned_on").max().alias("last_return"),
        )
        issued = issued.join(agg, on=key, how="left")
    else:
        issued = issued.with_columns(pl.lit(0).alias("in_time"), pl.lit(0).alias("returned"), pl.lit(None, pl.Date).alias("last_return"))
    issued = issued.with_columns(pl.col("in_time", "returned").fill_null(0))
    late = issued.filter((pl.col("due") < as_of.date()) & (pl.col("in_time") < pl.col("quantity")))
    detail = (
        pl.when(pl.col("returned") >= pl.col("quantity"))
        .then(pl.format("旧件逾期返还: 应于 {} 前返还, 实际 {}", pl.col("due").dt.strftime("%Y-%m-%d"), pl.col("last_return").dt.strftime("%Y-%m-%d")))
        .otherwise(pl.format("旧件未返还: 工单 {} 发放 {} 件, 已返还 {} 件, 应于 {} 前返还", pl.col("ticket_id"), pl.col("quantity"), pl.col("returned"), pl.col("due").dt.strftime("%Y-%m-%d")))
    )
    return _finding(late, "old_part_not_returned", "3.6.2/3.7.5", "requisition", pl.concat_str(["requisition_id", pl.lit("/"), "part_id"]),
                    pl.col("staff"), pl.col("due").cast(pl.Datetime("us")), detail)


def claim_findings(claims: pl.DataFrame, rules: RuleSet, as_of: datetime) -> list[pl.DataFrame]:
    n = rules.compliance.claim_open_days
    open_ = claims.filter((pl.col("status") == "处理中") & pl.col("closed_on").is_null())
    open_ = open_.with_columns((pl.lit(as_of.date()) - pl.col("filed_on")).dt.total_days().alias("_age"))
    late = open_.filter(pl.col("_age") > n)
    return [
        _finding(late, "claim_open_too_long", "3.8", "claim", pl.col("claim_id"), pl.lit(None, pl.String),
                 (pl.col("filed_on") + pl.duration(days=n)).cast(pl.Datetime("us")),
                 pl.format(f"向 {{}} 的二次索赔(金额 {{}} 元)已提交 {{}} 天仍未结案(上限 {n} 天)", pl.col("supplier"),
                           pl.col("amount").cast(pl.String).fill_null("未填"), pl.col("_age")))
    ]


def ledger_findings(ledger: pl.DataFrame) -> list[pl.DataFrame]:
    bad = ledger.filter(pl.col("status").str.contains("不符"))
    return [
        _finding(bad, "stock_mismatch", "3.7.1", "part", pl.concat_str(["part_id", pl.lit("@"), pl.col("counted_on").dt.strftime("%Y-%m-%d")]),
                 pl.lit(None, pl.String), pl.col("counted_on").cast(pl.Datetime("us")),
                 pl.format("{} {}: 期初 {} + 接收 {} − 发放 {} = 应有 {}; 账面 {}; 实盘 {}", pl.col("status"), pl.col("part_name").fill_null(pl.col("part_id")),
                           pl.col("opening_qty").cast(pl.String).fill_null("未填"), pl.col("received"), pl.col("issued"),
                           pl.col("computed_book").cast(pl.String).fill_null("—"), pl.col("book_qty").cast(pl.String).fill_null("未填"), pl.col("counted_qty")))
    ]


def compliance_findings(
    rules: RuleSet,
    as_of: datetime,
    tickets: pl.DataFrame | None = None,
    calls: pl.DataFrame | None = None,
    requisitions: pl.DataFrame | None = None,
    returns: pl.DataFrame | None = None,
    claims: pl.DataFrame | None = None,
    ledger: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """All findings, sorted by check then time. Inputs are staged frames (None = not supplied)."""
    parts: list[pl.DataFrame] = []
    if tickets is not None and tickets.height:
        parts += ticket_findings(tickets, rules)
    if calls is not None and calls.height:
        parts += call_findings(calls)
    parts += part_findings(tickets, requisitions, returns, rules, as_of)
    if claims is not None and claims.height:
        parts += claim_findings(claims, rules, as_of)
    if ledger is not None and ledger.height:
        parts += ledger_findings(ledger)
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame(schema=FINDING_SCHEMA)
    return pl.concat(parts).sort("check", "at", "record_id", nulls_last=True)
