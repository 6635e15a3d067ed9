"""Clause checks on service reports (tickets) and the call/letter log (policy 3.2.3–3.5.4).

Each check returns (findings, CheckRun). Findings use the compliance schema
(``check:record`` ids); ``at`` is when the obligation fell due. Time limits are inclusive:
exactly on the limit is in time, one second (or one day, for dates) later is a finding.
A missing time is a finding only once the limit has passed at ``as_of``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from .checks import NOT_RUN, OFF, RAN, CheckRun, has_data, missing_reason
from .compliance import FINDING_SCHEMA, _finding
from .rules import Checks

_TS = "%Y-%m-%d %H:%M:%S"


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=FINDING_SCHEMA)


def _off(cid: str, ref: str, name: str) -> tuple[pl.DataFrame, CheckRun]:
    return _empty(), CheckRun(cid, ref, name, OFF, "规则文件中已关闭")


def _not_run(cid: str, ref: str, name: str, reason: str) -> tuple[pl.DataFrame, CheckRun]:
    return _empty(), CheckRun(cid, ref, name, NOT_RUN, reason)


def _ran(cid: str, ref: str, name: str, checked: int, found: pl.DataFrame) -> tuple[pl.DataFrame, CheckRun]:
    return found, CheckRun(cid, ref, name, RAN, None, checked, found.height)


def _late(stop: str, due: pl.Expr, as_of: datetime) -> pl.Expr:
    """The stop time is after ``due``, or missing while ``due`` has passed."""
    return (pl.col(stop) > due).fill_null(False) | (pl.col(stop).is_null() & (due < as_of))


def _late_text(label: str, stop: str, due: str) -> pl.Expr:
    return (
        pl.when(pl.col(stop).is_null()).then(pl.format(f"未填{label}(应于 {{}} 前)", pl.col(due).dt.strftime(_TS)))
        .when(pl.col(stop) > pl.col(due)).then(pl.format(f"{label} {{}} 晚于 {{}}", pl.col(stop).dt.strftime(_TS), pl.col(due).dt.strftime(_TS)))
    )


def _joined(parts: list[pl.Expr]) -> pl.Expr:
    return pl.concat_str(parts, separator="; ", ignore_nulls=True)


def contact_archive_feedback(tickets: pl.DataFrame | None, cfg, as_of: datetime):
    """3.2.3: the written contact's result archived and fed back within ``hours``."""
    cid, ref, name = "contact_archive_feedback", "3.2.3", "联系结果存档并反馈用户"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(tickets, "contact_archived_at", "feedback_at"):
        return _not_run(cid, ref, name, missing_reason({"a": "联系结果存档时间", "b": "反馈用户时间"}))
    t = tickets.filter(pl.col("fault_category").is_in(cfg.categories) & pl.col("written_contact_at").is_not_null())
    t = t.with_columns((pl.col("written_contact_at") + timedelta(hours=cfg.hours)).alias("_due"))
    bad = t.filter(_late("contact_archived_at", pl.col("_due"), as_of) | _late("feedback_at", pl.col("_due"), as_of))
    detail = _joined([_late_text("联系结果存档时间", "contact_archived_at", "_due"), _late_text("反馈用户时间", "feedback_at", "_due")])
    return _ran(cid, ref, name, t.height, _finding(bad, cid, ref, "ticket", pl.col("ticket_id"), pl.col("staff"), pl.col("_due"),
                                                   pl.format(f"书面联系后 {cfg.hours:g} 小时内应存档并反馈: {{}}", detail)))


def fee_approval_remittance(tickets: pl.DataFrame | None, cfg, as_of: datetime):
    """3.3.4: a fee collected needs an approver and the same amount remitted (exact Decimal)."""
    cid, ref, name = "fee_approval_remittance", "3.3.4", "收费经领导批准并如数上缴"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(tickets, "fee_amount"):
        return _not_run(cid, ref, name, missing_reason({"a": "收费金额", "b": "收费批准人", "c": "上缴金额"}))
    t = tickets.filter(pl.col("fee_amount") > 0)
    amt = pl.col("fee_amount").cast(pl.String)
    problems = _joined([
        pl.when(pl.col("fee_approver").is_null()).then(pl.lit("无收费批准人(领导同意)")),
        pl.when(pl.col("fee_remitted").is_null()).then(pl.lit("未上缴"))
        .when(pl.col("fee_remitted") != pl.col("fee_amount")).then(pl.format("上缴 {} 元与收费不符", pl.col("fee_remitted").cast(pl.String))),
    ])
    bad = t.with_columns(problems.alias("_p")).filter(pl.col("_p") != "")
    return _ran(cid, ref, name, t.height, _finding(bad, cid, ref, "ticket", pl.col("ticket_id"), pl.col("staff"),
                                                   pl.coalesce("completed_at", "received_at"), pl.format("向用户收费 {} 元: {}", amt, pl.col("_p"))))


def report_approval_archive(tickets: pl.DataFrame | None, cfg, as_of: datetime):
    """3.4.3 C: the service report approved and archived within ``days`` of 返回单位时间."""
    cid, ref, name = "report_approval_archive", "3.4.3", "服务报告按时审批存档"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(tickets, "returned_at"):
        return _not_run(cid, ref, name, missing_reason({"a": "返回单位时间", "b": "报告审批时间", "c": "报告存档时间"}))
    t = tickets.filter(pl.col("returned_at").is_not_null()).with_columns((pl.col("returned_at") + timedelta(days=cfg.days)).alias("_due"))
    bad = t.filter(_late("report_approved_at", pl.col("_due"), as_of) | _late("report_archived_at", pl.col("_due"), as_of))
    detail = _joined([_late_text("报告审批时间", "report_approved_at", "_due"), _late_text("报告存档时间", "report_archived_at", "_due")])
    return _ran(cid, ref, name, t.height, _finding(bad, cid, ref, "ticket", pl.col("ticket_id"), pl.col("staff"), pl.col("_due"),
                                                   pl.format(f"返回单位后 {cfg.days} 天内服务报告应审批并存档: {{}}", detail)))


def major_issue_reported(tickets: pl.DataFrame | None, cfg, as_of: datetime):
    """3.4.2 E.c: a 较大问题 reported to a leader within ``hours`` of arriving on site."""
    cid, ref, name = "major_issue_reported", "3.4.2", "较大问题及时向领导汇报"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(tickets, "major_issue"):
        return _not_run(cid, ref, name, missing_reason({"a": "较大问题", "b": "向领导汇报时间"}))
    t = tickets.filter(pl.col("major_issue").fill_null(False)).with_columns(
        (pl.coalesce("arrived_at", "received_at") + timedelta(hours=cfg.hours)).alias("_due"))
    bad = t.filter(_late("leader_reported_at", pl.col("_due"), as_of))
    return _ran(cid, ref, name, t.height, _finding(bad, cid, ref, "ticket", pl.col("ticket_id"), pl.col("staff"), pl.col("_due"),
                                                   pl.format("较大问题: {}", _late_text("向领导汇报时间", "leader_reported_at", "_due"))))


def old_part_brought_back(tickets: pl.DataFrame | None, cfg, as_of: datetime):
    """3.4.2 E.d: a completed ticket that replaced parts says 旧件带回 = 是."""
    cid, ref, name = "old_part_brought_back", "3.4.2", "换下的旧件带回"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(tickets, "old_part_back"):
        return _not_run(cid, ref, name, missing_reason({"a": "旧件带回"}))
    t = tickets.filter(pl.col("parts_replaced").fill_null(False) & pl.col("completed_at").is_not_null())
    bad = t.filter(~pl.col("old_part_back").fill_null(False))
    detail = pl.when(pl.col("old_part_back").is_null()).then(pl.lit("更换了备件, 服务报告未填写旧件是否带回")).otherwise(pl.lit("更换了备件, 旧件未带回"))
    return _ran(cid, ref, name, t.height, _finding(bad, cid, ref, "ticket", pl.col("ticket_id"), pl.col("staff"), pl.col("completed_at"), detail))


def call_log_order(calls: pl.DataFrame | None, cfg, as_of: datetime):
    """3.5.1: the log is written in time order: a row earlier than a row above it is a finding
    (per file and sheet, in source row order; equal times are in order)."""
    cid, ref, name = "call_log_order", "3.5.1", "来电来函按时间顺序登记"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if calls is None or calls.height == 0 or not has_data(calls, "source_row"):
        return _not_run(cid, ref, name, "没有来电来函记录(或缺少行号)")
    grp = ["source_file", "source_sheet"]
    c = calls.with_columns(pl.col(grp).fill_null("")).sort([*grp, "source_row"])
    c = c.with_columns(pl.col("received_at").cum_max().shift(1).over(grp).alias("_before"))
    bad = c.filter(pl.col("received_at") < pl.col("_before"))
    return _ran(cid, ref, name, c.height, _finding(bad, cid, ref, "call", pl.col("call_id"), pl.col("staff"), pl.col("received_at"),
                                                   pl.format("第 {} 行 {} 早于上方已登记的 {}, 记录未按时间顺序填写", pl.col("source_row"),
                                                             pl.col("received_at").dt.strftime(_TS), pl.col("_before").dt.strftime(_TS))))


def reply_archive_time(calls: pl.DataFrame | None, cfg, as_of: datetime):
    """3.5.4: a reply archived within ``hours`` of the reply (存档时间)."""
    cid, ref, name = "reply_archive_time", "3.5.4", "复电复函及时存档"
    if not cfg.enabled:
        return _off(cid, ref, name)
    if not has_data(calls, "archived_at"):
        return _not_run(cid, ref, name, missing_reason({"a": "存档时间"}) + " (是否存档仍由 call_not_archived 检查)")
    c = calls.filter(pl.col("replied_at").is_not_null()).with_columns((pl.col("replied_at") + timedelta(hours=cfg.hours)).alias("_due"))
    bad = c.filter((pl.col("archived_at") > pl.col("_due")).fill_null(False))
    return _ran(cid, ref, name, c.height, _finding(bad, cid, ref, "call", pl.col("call_id"), pl.col("staff"), pl.col("_due"),
                                                   pl.format(f"答复后 {cfg.hours:g} 小时内应存档: {{}}", _late_text("存档时间", "archived_at", "_due"))))


TICKET_CHECKS = (contact_archive_feedback, fee_approval_remittance, report_approval_archive, major_issue_reported, old_part_brought_back)
CALL_CHECKS = (call_log_order, reply_archive_time)


def ticket_call_checks(checks: Checks, as_of: datetime, tickets: pl.DataFrame | None, calls: pl.DataFrame | None) -> tuple[list[pl.DataFrame], list[CheckRun]]:
    out, runs = [], []
    for fn in TICKET_CHECKS:
        f, r = fn(tickets, getattr(checks, fn.__name__), as_of)
        out.append(f)
        runs.append(r)
    for call_check in CALL_CHECKS:
        f, r = call_check(calls, getattr(checks, call_check.__name__), as_of)
        out.append(f)
        runs.append(r)
    return out, runs
