"""Clause checks on the 三包件 / 备用件 registers and secondary claims (policy 3.6–3.8).

Dates are whole days: the same day is in order / in time, one day later is a finding.
Also builds the per-station ledger (3.7.6) and the per-supplier claims summary (3.8).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import polars as pl

from contracts import SLA_RESULTS

from .checks import has_data, missing_reason
from .clauses import _empty, _joined, _not_run, _off, _ran
from .compliance import _finding

_D = "%Y-%m-%d"
_rid = pl.concat_str(["requisition_id", pl.lit("/"), "part_id"])


def _day(c: str) -> pl.Expr:
    return pl.col(c).cast(pl.Datetime("us"))


def issue_before_approval(req: pl.DataFrame | None, cfg, as_of: datetime, **_):
    """3.6.1: a part issued before its requisition was written or approved."""
    cid, ref, name = "issue_before_approval", "3.6.1", "先开领料单、领导批准后领取"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(req, "issued_on"):
        return _not_run(cid, ref, name, "领料单没有发放记录")
    r = req.filter(pl.col("issued_on").is_not_null())
    problems = _joined([
        pl.when(pl.col("issued_on") < pl.col("requested_on")).then(pl.format("发放日期 {} 早于申请日期 {}", pl.col("issued_on").dt.strftime(_D), pl.col("requested_on").dt.strftime(_D))),
        pl.when(pl.col("issued_on") < pl.col("approved_on")).then(pl.format("发放日期 {} 早于批准日期 {}", pl.col("issued_on").dt.strftime(_D), pl.col("approved_on").dt.strftime(_D))),
    ])
    bad = r.with_columns(problems.alias("_p")).filter(pl.col("_p") != "")
    return _ran(cid, ref, name, r.height, _finding(bad, cid, ref, "requisition", _rid, pl.col("staff"), _day("issued_on"), pl.col("_p")))


def writeoff_consent(req: pl.DataFrame | None, cfg, as_of: datetime, tickets: pl.DataFrame | None = None, **_):
    """3.6.2: a write-off (销账日期) needs the leader's consent (销账批准人) and the user's
    signature on the ticket's service report (用户签字时间; checked when the ticket is known)."""
    cid, ref, name = "writeoff_consent", "3.6.2", "销账经用户签字及领导同意"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(req, "written_off_on"):
        return _not_run(cid, ref, name, missing_reason({"a": "销账日期", "b": "销账批准人"}))
    r = req.filter(pl.col("written_off_on").is_not_null())
    if tickets is not None and tickets.height:
        sig = tickets.select(pl.col("ticket_id").cast(pl.String), pl.col("signed_at").alias("_signed"), pl.lit(True).alias("_known")).unique("ticket_id")
        r = r.join(sig, on="ticket_id", how="left")
    else:
        r = r.with_columns(pl.lit(None, pl.Datetime("us")).alias("_signed"), pl.lit(None, pl.Boolean).alias("_known"))
    problems = _joined([
        pl.when(pl.col("writeoff_approver").is_null()).then(pl.lit("无领导同意(销账批准人)")),
        pl.when(pl.col("_known").fill_null(False) & pl.col("_signed").is_null()).then(pl.format("工单 {} 没有用户签字", pl.col("ticket_id"))),
    ])
    bad = r.with_columns(problems.alias("_p")).filter(pl.col("_p") != "")
    return _ran(cid, ref, name, r.height, _finding(bad, cid, ref, "requisition", _rid, pl.col("staff"), _day("written_off_on"),
                                                   pl.format("{} 销账: {}", pl.col("written_off_on").dt.strftime(_D), pl.col("_p"))))


def shipping_writeoff_signatures(req: pl.DataFrame | None, cfg, as_of: datetime, **_):
    """3.6.3: postage/freight of a mailed 三包 part needs the handler's and a leader's signature."""
    cid, ref, name = "shipping_writeoff_signatures", "3.6.3", "邮运费经手人和领导签字后销账"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(req, "mailed", "shipping_fee"):
        return _not_run(cid, ref, name, missing_reason({"a": "邮寄发运", "b": "邮运费", "c": "经手人签字", "d": "领导签字"}))
    r = req.filter(pl.col("warranty").fill_null(True) & (pl.col("mailed").fill_null(False) | (pl.col("shipping_fee") > 0).fill_null(False)))
    r = r.filter((pl.col("shipping_fee") > 0).fill_null(False))
    problems = _joined([
        pl.when(pl.col("handler_signed").is_null()).then(pl.lit("缺经手人签字")),
        pl.when(pl.col("leader_signed").is_null()).then(pl.lit("缺领导签字")),
    ])
    bad = r.with_columns(problems.alias("_p")).filter(pl.col("_p") != "")
    return _ran(cid, ref, name, r.height, _finding(bad, cid, ref, "requisition", _rid, pl.col("staff"), _day("issued_on").fill_null(_day("requested_on")),
                                                   pl.format("邮寄三包件邮运费 {} 元: {}", pl.col("shipping_fee").cast(pl.String), pl.col("_p"))))


def old_parts_processed_monthly(returns: pl.DataFrame | None, cfg, as_of: datetime, **_):
    """3.7.5: an old part returned in month M is processed (旧件处理日期) by M's last day +
    ``grace_days``; flagged once that day has passed."""
    cid, ref, name = "old_parts_processed_monthly", "3.7.5", "每月及时处理更换后的旧件"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(returns, "processed_on"):
        return _not_run(cid, ref, name, missing_reason({"a": "旧件处理日期", "b": "处理方式"}))
    r = returns.with_columns((pl.col("returned_on").dt.month_end() + pl.duration(days=cfg.grace_days)).alias("_due"))
    bad = r.filter((pl.col("processed_on") > pl.col("_due")).fill_null(False) | (pl.col("processed_on").is_null() & (pl.col("_due") < as_of.date())))
    detail = (pl.when(pl.col("processed_on").is_null()).then(pl.format("{} 返还的旧件未处理, 应于 {} 前处理", pl.col("returned_on").dt.strftime(_D), pl.col("_due").dt.strftime(_D)))
              .otherwise(pl.format("{} 返还的旧件 {} 才处理, 应于 {} 前", pl.col("returned_on").dt.strftime(_D), pl.col("processed_on").dt.strftime(_D), pl.col("_due").dt.strftime(_D))))
    rid = pl.concat_str(["return_id", pl.lit("/"), "part_id"])
    return _ran(cid, ref, name, r.height, _finding(bad, cid, ref, "return", rid, pl.col("staff"), _day("_due"), detail))


STATION_SCHEMA = SLA_RESULTS["sla_station_ledger"].schema(exclude=("month",))


def station_ledger(stock: pl.DataFrame | None, req: pl.DataFrame | None, start: date, end: date) -> pl.DataFrame:
    """3.7.6: each station's count of the month reconciled: 应有 = 期初 + 发出 − 使用 − 退回
    (null if 期初 blank); 帐帐不符 when 账面 ≠ 应有, 帐物不符 when 实盘 ≠ coalesce(账面, 应有)."""
    if stock is None or stock.height == 0:
        return pl.DataFrame(schema=STATION_SCHEMA)
    s = stock.filter(pl.col("counted_on").is_between(start, end, closed="left"))
    def q(c: str) -> pl.Expr:
        return pl.col(c).fill_null(0)

    s = s.with_columns((pl.col("opening_qty") + q("sent_qty") - q("used_qty") - q("returned_qty")).alias("computed_book"))
    book_bad = (pl.col("book_qty") != pl.col("computed_book")).fill_null(False)
    count_bad = (pl.col("counted_qty") != pl.coalesce("book_qty", "computed_book")).fill_null(False)
    status = (pl.when(book_bad & count_bad).then(pl.lit("帐帐不符;帐物不符")).when(book_bad).then(pl.lit("帐帐不符"))
              .when(count_bad).then(pl.lit("帐物不符")).otherwise(pl.lit("一致")))
    return s.with_columns(status.alias("status")).select([pl.col(c).cast(t) for c, t in STATION_SCHEMA.items()]).sort("station", "part_id", "counted_on")


def station_ledger_check(stock: pl.DataFrame | None, cfg, as_of: datetime, req: pl.DataFrame | None = None, ledger: pl.DataFrame | None = None, **_):
    """3.7.6 findings: a station count that does not reconcile, and parts sent to a station
    (领料单 服务站) for which no station ledger exists."""
    cid, ref, name = "station_ledger", "3.7.6", "服务站备件单独建帐且帐物一致"
    if not cfg.enabled:
        return _off(cid, ref, name)
    sent = req.filter(pl.col("station").is_not_null() & pl.col("issued_on").is_not_null()) if has_data(req, "station") else None
    if (stock is None or stock.height == 0) and sent is None:
        return _not_run(cid, ref, name, "没有服务站台账, 领料单也没有服务站列(或全部为空)")
    parts = []
    led = ledger if ledger is not None else pl.DataFrame(schema=STATION_SCHEMA)
    bad = led.filter(pl.col("status") != "一致")
    rid = pl.concat_str(["station", pl.lit("/"), "part_id", pl.lit("@"), pl.col("counted_on").dt.strftime(_D)])
    parts.append(_finding(bad, cid, ref, "station", rid, pl.lit(None, pl.String), _day("counted_on"),
                          pl.format("{} {}: 期初 {} + 发出 {} − 使用 {} − 退回 {} = 应有 {}; 账面 {}; 实盘 {}", pl.col("status"), pl.col("part_name").fill_null(pl.col("part_id")),
                                    pl.col("opening_qty").cast(pl.String).fill_null("未填"), pl.col("sent_qty").fill_null(0), pl.col("used_qty").fill_null(0),
                                    pl.col("returned_qty").fill_null(0), pl.col("computed_book").cast(pl.String).fill_null("—"),
                                    pl.col("book_qty").cast(pl.String).fill_null("未填"), pl.col("counted_qty"))))
    checked = led.height
    if sent is not None:
        known = stock.select(pl.col("station").cast(pl.String)).unique() if stock is not None and stock.height else pl.DataFrame(schema={"station": pl.String})
        orphan = sent.join(known, on="station", how="anti")
        checked += sent.height
        parts.append(_finding(orphan, cid, ref, "requisition", _rid, pl.col("staff"), _day("issued_on"),
                              pl.format("备件发往服务站 {}, 但没有该服务站的单独台账", pl.col("station"))))
    found = pl.concat([p for p in parts if p.height]) if any(p.height for p in parts) else _empty()
    return _ran(cid, ref, name, checked, found)


def _claim_key(claims: pl.DataFrame) -> pl.DataFrame:
    return claims.filter(pl.col("ticket_id").is_not_null() & pl.col("part_id").is_not_null()).select(
        pl.col("ticket_id").cast(pl.String), pl.col("part_id").cast(pl.String), pl.lit(True).alias("_claimed")).unique(["ticket_id", "part_id"])


def supplier_parts_unclaimed(req: pl.DataFrame | None, cfg, as_of: datetime, claims: pl.DataFrame | None = None, **_):
    """3.8: a part replaced for a supplier's fault (责任供应商) needs a claim (same 工单编号 +
    备件编号) within ``claim_within_days`` of issue."""
    cid, ref, name = "supplier_parts_unclaimed", "3.8", "供应商责任件二次索赔"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(req, "fault_supplier"):
        return _not_run(cid, ref, name, missing_reason({"a": "责任供应商"}, "领料单"))
    r = req.filter(pl.col("fault_supplier").is_not_null() & pl.col("issued_on").is_not_null())
    if claims is not None and claims.height:
        r = r.join(_claim_key(claims), on=["ticket_id", "part_id"], how="left")
    else:
        r = r.with_columns(pl.lit(None, pl.Boolean).alias("_claimed"))
    r = r.with_columns((pl.col("issued_on") + pl.duration(days=cfg.claim_within_days)).alias("_due"))
    bad = r.filter(~pl.col("_claimed").fill_null(False) & (pl.col("_due") < as_of.date()))
    return _ran(cid, ref, name, r.height, _finding(bad, cid, ref, "requisition", _rid, pl.col("staff"), _day("_due"),
                                                   pl.format("{} 责任件 {} ({} 发放) 超过 {} 天未向供应商索赔", pl.col("fault_supplier"),
                                                             pl.col("part_name").fill_null(pl.col("part_id")), pl.col("issued_on").dt.strftime(_D), pl.lit(cfg.claim_within_days))))


CLAIMS_SUMMARY_SCHEMA = SLA_RESULTS["sla_claims_summary"].schema(exclude=("month",))


def claims_summary(req: pl.DataFrame | None, claims: pl.DataFrame | None, as_of: datetime, ageing_days: list[int]) -> pl.DataFrame:
    """Per supplier: supplier-fault parts (claimed / not), claims, open claims, amounts
    claimed and recovered (exact Decimal; blank 追回金额 = 0), recovery rate = recovered /
    claimed (null when nothing claimed) and open claims by age in days since 提交日期
    (``age_le_30``, ``age_le_60``, ``age_le_90``, ``age_over_90`` for the default buckets)."""
    labels = [f"age_le_{d}" for d in ageing_days] + [f"age_over_{ageing_days[-1]}"]
    schema = pl.Schema({**CLAIMS_SUMMARY_SCHEMA, **{lab: pl.Int64() for lab in labels}})
    frames = []
    if has_data(req, "fault_supplier"):
        r = req.filter(pl.col("fault_supplier").is_not_null() & pl.col("issued_on").is_not_null())
        r = r.join(_claim_key(claims), on=["ticket_id", "part_id"], how="left") if claims is not None and claims.height else r.with_columns(pl.lit(None, pl.Boolean).alias("_claimed"))
        frames.append(r.group_by(pl.col("fault_supplier").alias("supplier")).agg(
            pl.len().cast(pl.Int64).alias("fault_parts"), pl.col("_claimed").fill_null(False).sum().cast(pl.Int64).alias("claimed_parts")))
    if claims is not None and claims.height:
        c = claims.with_columns((pl.lit(as_of.date()) - pl.col("filed_on")).dt.total_days().alias("_age"),
                                (pl.col("status") == "处理中").fill_null(False).alias("_open"))
        aged, lo = [], None
        for hi in ageing_days:
            aged.append(pl.col("_open") & (pl.col("_age") <= hi) & (pl.lit(True) if lo is None else pl.col("_age") > lo))
            lo = hi
        aged.append(pl.col("_open") & (pl.col("_age") > ageing_days[-1]))
        rec = pl.coalesce("recovered_amount", pl.lit(Decimal(0)).cast(pl.Decimal(14, 2)))
        frames.append(c.group_by("supplier").agg(
            pl.len().cast(pl.Int64).alias("claims"), pl.col("_open").sum().cast(pl.Int64).alias("open_claims"),
            pl.col("amount").sum().cast(pl.Decimal(14, 2)).alias("claimed_amount"),
            rec.sum().cast(pl.Decimal(14, 2)).alias("recovered_amount"),
            *[a.sum().cast(pl.Int64).alias(lab) for a, lab in zip(aged, labels, strict=True)]))
    if not frames:
        return pl.DataFrame(schema=schema)
    out = frames[0] if len(frames) == 1 else frames[0].join(frames[1], on="supplier", how="full", coalesce=True)
    for col, t in schema.items():
        if col not in out.columns:
            out = out.with_columns(pl.lit(None, t).alias(col))
    counts = ["fault_parts", "claimed_parts", "claims", "open_claims", *labels]
    out = out.with_columns(pl.col(counts).fill_null(0))
    out = out.with_columns(
        (pl.col("fault_parts") - pl.col("claimed_parts")).alias("unclaimed_parts"),
        pl.when(pl.col("claimed_amount") > 0).then(pl.col("recovered_amount").cast(pl.Float64) / pl.col("claimed_amount").cast(pl.Float64)).round(4).alias("recovery_rate"),
    )
    return out.select([pl.col(c).cast(t) for c, t in schema.items()]).sort("supplier")


PART_CHECKS = (issue_before_approval, writeoff_consent, shipping_writeoff_signatures)
