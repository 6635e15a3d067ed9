"""Clause checks of issue 12 at their edges: just inside / just outside each threshold,
off in the rules file → 已关闭, missing columns (old workbook) → 未检查, never passed."""

from datetime import date, timedelta
from datetime import datetime as D
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from analytics.lexicon import load_lexicons
from analytics.sla import load_rules
from analytics.sla.clauses import (
    call_log_order,
    contact_archive_feedback,
    fee_approval_remittance,
    major_issue_reported,
    old_part_brought_back,
    reply_archive_time,
    report_approval_archive,
)
from analytics.sla.courtesy import courtesy_check
from analytics.sla.parts_clauses import (
    claims_summary,
    issue_before_approval,
    old_parts_processed_monthly,
    shipping_writeoff_signatures,
    station_ledger,
    station_ledger_check,
    supplier_parts_unclaimed,
    writeoff_consent,
)
from analytics.sla.policy import clause_results
from analytics.sla.rules import RulesError
from pipelines.staging.schemas import POLARS_TYPES
from pipelines.staging.sla_schemas import SLA_TABLES

ROOT = Path(__file__).parents[2]
RULES_TEXT = (ROOT / "data" / "sla_rules.yaml").read_text(encoding="utf-8")
RULES = load_rules(RULES_TEXT)
CK = RULES.checks
AS_OF = D(2026, 11, 1)
T0 = D(2026, 10, 5, 9)
S = timedelta(seconds=1)
LEX = load_lexicons({n: (ROOT / "data" / "lexicons" / f"{n}.txt").read_text("utf-8") for n in ("forbidden", "negative", "escalation")})


def frame(kind: str, rows: list[dict]) -> pl.DataFrame:
    schema = {c.name: POLARS_TYPES[c.type] for c in SLA_TABLES[kind].cols}
    schema.update(source_file=pl.String, source_sheet=pl.String, source_row=pl.Int64)
    return pl.DataFrame([{**{k: None for k in schema}, **r} for r in rows], schema=schema)


def tickets(*rows: dict) -> pl.DataFrame:
    base = dict(received_at=T0, fault_category="车身", distance_km=10.0, staff="王强", team="一组")
    return frame("sla_tickets", [{**base, "ticket_id": f"T{i}", **r} for i, r in enumerate(rows)])


def ids(found: pl.DataFrame) -> list[str]:
    return sorted(found["record_id"].to_list())


# --- 3.2.3


def test_contact_archive_and_feedback_exactly_on_the_limit_is_in_time():
    w = T0 + timedelta(hours=2)
    t = tickets(
        dict(fault_category="发动机", written_contact_at=w, contact_archived_at=w + timedelta(hours=24), feedback_at=w + timedelta(hours=24)),
        dict(fault_category="底盘", written_contact_at=w, contact_archived_at=w + timedelta(hours=1), feedback_at=w + timedelta(hours=24) + S),
        dict(fault_category="底盘", written_contact_at=w, contact_archived_at=None, feedback_at=w),
        dict(fault_category="车身", written_contact_at=w),  # not a chassis/engine ticket
    )
    found, run = contact_archive_feedback(t, CK.contact_archive_feedback, AS_OF)
    assert ids(found) == ["T1", "T2"] and (run.status, run.checked, run.findings) == ("已检查", 3, 2)
    assert "反馈用户时间 2026-10-06 11:00:01 晚于 2026-10-06 11:00:00" in found.filter(pl.col("record_id") == "T1")["detail"][0]
    # a missing time is not yet a finding while the limit has not passed
    found, _ = contact_archive_feedback(t, CK.contact_archive_feedback, w + timedelta(hours=24))
    assert ids(found) == ["T1"]


def test_old_workbook_without_the_columns_is_not_run_and_off_is_off():
    t = tickets(dict(fault_category="发动机", written_contact_at=T0))
    found, run = contact_archive_feedback(t, CK.contact_archive_feedback, AS_OF)
    assert found.height == 0 and run.status == "未检查" and "联系结果存档时间" in run.reason
    off = CK.contact_archive_feedback.model_copy(update={"enabled": False})
    assert contact_archive_feedback(t, off, AS_OF)[1].status == "已关闭"


# --- 3.3.4


def test_fee_needs_approver_and_the_exact_amount_remitted():
    t = tickets(
        dict(fee_amount=Decimal("200.00"), fee_approver="林峰", fee_remitted=Decimal("200.00")),
        dict(fee_amount=Decimal("200.00"), fee_approver="林峰", fee_remitted=Decimal("199.99")),
        dict(fee_amount=Decimal("50.00"), fee_approver=None, fee_remitted=Decimal("50.00")),
        dict(fee_amount=Decimal("0.00")),
    )
    found, run = fee_approval_remittance(t, CK.fee_approval_remittance, AS_OF)
    assert ids(found) == ["T1", "T2"] and run.checked == 3
    assert dict(found.select("record_id", "detail").iter_rows()) == {
        "T1": "向用户收费 200.00 元: 上缴 199.99 元与收费不符",
        "T2": "向用户收费 50.00 元: 无收费批准人(领导同意)",
    }


# --- 3.4.3 / 3.4.2


def test_report_approved_and_archived_within_three_days_of_return():
    back = T0 + timedelta(days=1)
    d3 = back + timedelta(days=3)
    t = tickets(
        dict(returned_at=back, report_approved_at=d3, report_archived_at=d3),
        dict(returned_at=back, report_approved_at=d3, report_archived_at=d3 + S),
        dict(returned_at=back),
        dict(returned_at=None),
    )
    found, run = report_approval_archive(t, CK.report_approval_archive, AS_OF)
    assert ids(found) == ["T1", "T2"] and run.checked == 3


def test_major_issue_reported_within_24h_of_arrival():
    a = T0 + timedelta(hours=5)
    t = tickets(
        dict(arrived_at=a, major_issue=True, leader_reported_at=a + timedelta(hours=24)),
        dict(arrived_at=a, major_issue=True, leader_reported_at=a + timedelta(hours=24) + S),
        dict(arrived_at=a, major_issue=False),
    )
    found, run = major_issue_reported(t, CK.major_issue_reported, AS_OF)
    assert ids(found) == ["T1"] and run.checked == 2


def test_old_part_brought_back():
    done = dict(parts_replaced=True, completed_at=T0 + timedelta(hours=6))
    t = tickets(dict(**done, old_part_back=True), dict(**done, old_part_back=False), dict(**done), dict(parts_replaced=False, old_part_back=False))
    found, run = old_part_brought_back(t, CK.old_part_brought_back, AS_OF)
    assert ids(found) == ["T1", "T2"] and run.checked == 3
    assert found.filter(pl.col("record_id") == "T2")["detail"][0] == "更换了备件, 服务报告未填写旧件是否带回"


# --- 3.5.1 / 3.5.4


def calls(*rows: dict) -> pl.DataFrame:
    base = dict(kind="来电", staff="王强", source_file="c.xlsx", source_sheet="来电来函记录")
    return frame("sla_calls", [{**base, "call_id": f"C{i}", "source_row": i + 2, **r} for i, r in enumerate(rows)])


def test_call_log_in_time_order_equal_times_are_in_order():
    c = calls(dict(received_at=T0), dict(received_at=T0), dict(received_at=T0 + timedelta(hours=2)), dict(received_at=T0 + timedelta(hours=2) - S))
    found, run = call_log_order(c, CK.call_log_order, AS_OF)
    assert ids(found) == ["C3"] and run.checked == 4
    # another sheet starts its own order
    c2 = pl.concat([c.head(3), calls(dict(received_at=T0)).with_columns(pl.lit("d.xlsx").alias("source_file"), pl.lit("C9").alias("call_id"))])
    assert call_log_order(c2, CK.call_log_order, AS_OF)[0].height == 0


def test_reply_archived_within_24h():
    r = T0 + timedelta(hours=1)
    c = calls(dict(received_at=T0, replied_at=r, archived_at=r + timedelta(hours=24)), dict(received_at=T0, replied_at=r, archived_at=r + timedelta(hours=24) + S))
    found, run = reply_archive_time(c, CK.reply_archive_time, AS_OF)
    assert ids(found) == ["C1"] and run.status == "已检查"
    assert reply_archive_time(c.with_columns(pl.lit(None, pl.Datetime("us")).alias("archived_at")), CK.reply_archive_time, AS_OF)[1].status == "未检查"


# --- 3.3.5 / 3.3.1 courtesy


def test_courtesy_same_lexicons_as_chat_with_evidence_and_threshold():
    t = tickets(
        dict(report_text="我不知道怎么修, 你找别人吧", customer_comment="態度差, 我要投訴, 电话13912345678"),  # traditional still matches
        dict(report_text="已更换制动分泵, 试车正常", customer_comment="服务很好"),
        dict(staff="李明", report_text="已处理"),
    )
    c = calls(dict(received_at=T0, staff="李明", team="一组", reply_text="这个我也没办法", subject="咨询保养"))
    found, run, summary = courtesy_check(t, c, LEX, CK.courtesy, AS_OF)
    assert run.status == "已检查" and run.checked == 7
    assert ids(found) == ["C0/答复内容", "T0/处理情况", "T0/用户意见"]
    ev = dict(found.select("record_id", "detail").iter_rows())
    assert ev["T0/处理情况"] == "服务人员用语 处理情况 命中 forbidden:不知道、forbidden:找别人: 「我不知道怎么修, 你找别人吧」"
    assert "13912345678" not in ev["T0/用户意见"] and "escalation:投诉" in ev["T0/用户意见"] and "negative:态度差" in ev["T0/用户意见"]
    got = {r["staff"]: (r["staff_hits"], r["customer_hits"], r["met"]) for r in summary.iter_rows(named=True)}
    assert got == {"王强": (2, 2, False), "李明": (2, 0, False)}  # 我也没办法 + 没办法
    # threshold edge: 2 hits with max 2 meets, with max 1 misses
    _, _, s2 = courtesy_check(t, c, LEX, CK.courtesy.model_copy(update={"max_forbidden_per_staff": 2}), AS_OF)
    assert s2["met"].to_list() == [True, True]
    _, run, _ = courtesy_check(t, c, {}, CK.courtesy, AS_OF)
    assert run.status == "未检查" and "forbidden" in run.reason


# --- 3.6.1 / 3.6.2 / 3.6.3


def reqs(*rows: dict) -> pl.DataFrame:
    base = dict(requested_on=date(2026, 10, 5), part_id="P-1", quantity=1, staff="王强", approval="已批准", approver="林峰", warranty=True)
    return frame("sla_part_requisitions", [{**base, "requisition_id": f"L{i}", **r} for i, r in enumerate(rows)])


def test_issue_same_day_as_approval_is_fine_a_day_before_is_a_finding():
    d = date(2026, 10, 5)
    r = reqs(dict(issued_on=d, approved_on=d), dict(issued_on=d, approved_on=d + timedelta(days=1)),
             dict(requested_on=d + timedelta(days=1), issued_on=d), dict(issued_on=None))
    found, run = issue_before_approval(r, CK.issue_before_approval, AS_OF)
    assert ids(found) == ["L1/P-1", "L2/P-1"] and run.checked == 3


def test_writeoff_needs_leader_consent_and_user_signature():
    d = date(2026, 10, 9)
    t = tickets(dict(signed_at=T0), dict(signed_at=None))
    r = reqs(dict(ticket_id="T0", written_off_on=d, writeoff_approver="林峰"), dict(ticket_id="T0", written_off_on=d),
             dict(ticket_id="T1", written_off_on=d, writeoff_approver="林峰"), dict(ticket_id="T-OTHER-MONTH", written_off_on=d, writeoff_approver="林峰"))
    found, run = writeoff_consent(r, CK.writeoff_consent, AS_OF, tickets=t)
    assert dict(found.select("record_id", "detail").iter_rows()) == {
        "L1/P-1": "2026-10-09 销账: 无领导同意(销账批准人)",
        "L2/P-1": "2026-10-09 销账: 工单 T1 没有用户签字",
    }
    assert run.checked == 4


def test_mailed_part_freight_needs_both_signatures():
    r = reqs(dict(mailed=True, shipping_fee=Decimal("35.00"), handler_signed="周敏", leader_signed="林峰"),
             dict(mailed=True, shipping_fee=Decimal("35.00"), handler_signed="周敏"),
             dict(mailed=True, shipping_fee=Decimal("0.00")), dict(mailed=False))
    found, run = shipping_writeoff_signatures(r, CK.shipping_writeoff_signatures, AS_OF)
    assert ids(found) == ["L1/P-1"] and found["detail"][0] == "邮寄三包件邮运费 35.00 元: 缺领导签字" and run.checked == 2


# --- 3.7.5 / 3.7.6


def test_old_parts_processed_by_month_end_plus_grace_days():
    base = dict(part_id="P-1", staff="张伟", returned_on=date(2026, 9, 20))
    rets = frame("sla_part_returns", [
        dict(base, return_id="R0", processed_on=date(2026, 10, 10)),   # due day: in time
        dict(base, return_id="R1", processed_on=date(2026, 10, 11)),   # one day late
        dict(base, return_id="R2"),                                     # never processed, due passed
        dict(base, return_id="R3", returned_on=date(2026, 10, 20)),     # due 11-10: not yet
    ])
    found, run = old_parts_processed_monthly(rets, CK.old_parts_processed_monthly, AS_OF)
    assert ids(found) == ["R1/P-1", "R2/P-1"] and run.checked == 4
    # an unprocessed part is late once its due day (10-10) has passed: as of 10-11 00:00
    late = lambda at: "R2/P-1" in ids(old_parts_processed_monthly(rets, CK.old_parts_processed_monthly, at)[0])
    assert (late(D(2026, 10, 10, 23, 59)), late(D(2026, 10, 11))) == (False, True)


def test_station_ledger_reconciled_per_station_and_sent_parts_need_a_ledger():
    day = date(2026, 10, 28)
    stock = frame("sla_station_stock", [
        dict(station="泉州站", counted_on=day, part_id="P-1", opening_qty=3, sent_qty=2, used_qty=1, returned_qty=0, book_qty=4, counted_qty=4),
        dict(station="泉州站", counted_on=day, part_id="P-2", opening_qty=3, sent_qty=2, used_qty=1, returned_qty=0, book_qty=5, counted_qty=5),
        dict(station="厦门站", counted_on=day, part_id="P-1", opening_qty=3, sent_qty=0, used_qty=0, returned_qty=0, book_qty=3, counted_qty=2),
    ])
    led = station_ledger(stock, None, date(2026, 10, 1), date(2026, 11, 1))
    assert led.select("station", "part_id", "computed_book", "status").rows() == [
        ("厦门站", "P-1", 3, "帐物不符"), ("泉州站", "P-1", 4, "一致"), ("泉州站", "P-2", 4, "帐帐不符")]
    r = reqs(dict(issued_on=date(2026, 10, 3), station="泉州站"), dict(issued_on=date(2026, 10, 3), station="龙岩站"))
    found, run = station_ledger_check(stock, CK.station_ledger, AS_OF, req=r, ledger=led)
    assert ids(found) == ["L1/P-1", "厦门站/P-1@2026-10-28", "泉州站/P-2@2026-10-28"] and run.checked == 5
    assert station_ledger_check(None, CK.station_ledger, AS_OF, req=reqs(dict(issued_on=date(2026, 10, 3))))[1].status == "未检查"


# --- 3.8


def test_supplier_fault_parts_need_a_claim_within_30_days_and_summary():
    r = reqs(
        dict(ticket_id="T1", part_id="P-1", issued_on=date(2026, 10, 1), fault_supplier="玉柴"),    # due 10-31 < 11-01: finding
        dict(ticket_id="T2", part_id="P-1", issued_on=date(2026, 10, 2), fault_supplier="玉柴"),    # due 11-01: not yet
        dict(ticket_id="T3", part_id="P-2", issued_on=date(2026, 9, 1), fault_supplier="福耀"),     # claimed
        dict(ticket_id="T4", part_id="P-2", issued_on=date(2026, 9, 1)),                            # not a supplier fault
    )
    cl = frame("sla_claims", [
        dict(claim_id="S1", supplier="福耀", ticket_id="T3", part_id="P-2", amount=Decimal("100.00"), filed_on=date(2026, 9, 5), status="已结案",
             closed_on=date(2026, 10, 1), recovered_amount=Decimal("80.00")),
        dict(claim_id="S2", supplier="福耀", amount=Decimal("50.50"), filed_on=date(2026, 8, 3), status="处理中"),    # 90 days: age_le_90
        dict(claim_id="S3", supplier="福耀", amount=Decimal("9.50"), filed_on=date(2026, 8, 2), status="处理中"),     # 91 days: over 90
    ])
    found, run = supplier_parts_unclaimed(r, CK.supplier_parts_unclaimed, AS_OF, claims=cl)
    assert ids(found) == ["L0/P-1"] and run.checked == 3
    s = {x["supplier"]: x for x in claims_summary(r, cl, AS_OF, [30, 60, 90]).iter_rows(named=True)}
    assert (s["玉柴"]["fault_parts"], s["玉柴"]["unclaimed_parts"], s["玉柴"]["claims"]) == (2, 2, 0)
    f = s["福耀"]
    assert (f["fault_parts"], f["claimed_parts"], f["claims"], f["open_claims"]) == (1, 1, 3, 2)
    assert (f["claimed_amount"], f["recovered_amount"], f["recovery_rate"]) == (Decimal("160.00"), Decimal("80.00"), 0.5)
    assert (f["age_le_30"], f["age_le_60"], f["age_le_90"], f["age_over_90"]) == (0, 0, 1, 1)


# --- rules file and the whole set


def test_checks_are_validated_in_the_rules_file():
    bad = RULES_TEXT.replace("    claim_within_days: 30", "    claim_within_day: 30")
    with pytest.raises(RulesError, match="claim_within_day"):
        load_rules(bad)
    with pytest.raises(RulesError, match="ageing_days"):
        load_rules(RULES_TEXT.replace("ageing_days: [30, 60, 90]", "ageing_days: [60, 30]"))
    off = load_rules(RULES_TEXT.replace("  courtesy:                      # 3.3.5/3.3.1 文明用语: same lexicons as the chat analytics\n    enabled: true",
                                        "  courtesy:\n    enabled: false"))
    assert off.checks.courtesy.enabled is False


def test_old_workbooks_report_every_new_check_not_run_never_passed():
    old_cols = ["ticket_id", "received_at", "fault_category", "distance_km", "staff", "team", "written_contact_at", "completed_at", "parts_replaced"]
    t = tickets(dict(fault_category="发动机", written_contact_at=T0, completed_at=T0 + timedelta(hours=5), parts_replaced=True))
    t = t.select(old_cols)  # an old workbook: the new columns are absent
    t = frame("sla_tickets", t.to_dicts())  # staged: absent columns become blank
    res = clause_results(RULES, AS_OF, date(2026, 10, 1), date(2026, 11, 1), tickets=t, lexicons=LEX)
    st = dict(res.checks.select("check", "status").iter_rows())
    for c in ("contact_archive_feedback", "fee_approval_remittance", "report_approval_archive", "major_issue_reported", "old_part_brought_back",
              "call_log_order", "reply_archive_time", "courtesy", "issue_before_approval", "writeoff_consent", "shipping_writeoff_signatures",
              "old_parts_processed_monthly", "station_ledger", "supplier_parts_unclaimed"):
        assert st[c] == "未检查", c
    assert res.findings.height == 0
