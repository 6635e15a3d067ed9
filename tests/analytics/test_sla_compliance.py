"""Compliance checks (3.3.2, 3.5.4, 3.6, 3.7.1, 3.8), ledger reconciliation and warnings."""

from datetime import date, datetime as D
from decimal import Decimal
from pathlib import Path

import polars as pl

from analytics.sla import breach_warnings, compliance_findings, load_rules, reconcile
from contracts.staged import POLARS_TYPES
from contracts.sla import SLA_CLAIMS, SLA_PART_RECEIPTS, SLA_PART_REQUISITIONS, SLA_PART_RETURNS, SLA_STOCKTAKES, SLA_TICKETS

RULES = load_rules((Path(__file__).parents[2] / "data" / "sla_rules.yaml").read_text(encoding="utf-8"))
AS_OF = D(2026, 11, 1)


def frame(table, rows):
    schema = {c.name: POLARS_TYPES[c.type] for c in table.cols}
    return pl.DataFrame([{**{k: None for k in schema}, **r} for r in rows], schema=schema)


def checks(f: pl.DataFrame) -> set[tuple[str, str]]:
    return set(f.select("check", "record_id").iter_rows())


def tk(tid, **kw):
    return dict(ticket_id=tid, received_at=D(2026, 10, 5, 9), fault_category="底盘", staff="张伟", **kw)


def test_signature_checks():
    t = frame(SLA_TICKETS, [
        tk("BEFORE", completed_at=D(2026, 10, 6, 12), signed_at=D(2026, 10, 6, 11, 59, 59), status="已完成"),
        tk("EQUAL", completed_at=D(2026, 10, 6, 12), signed_at=D(2026, 10, 6, 12), status="已完成"),
        tk("AFTER", completed_at=D(2026, 10, 6, 12), signed_at=D(2026, 10, 6, 12, 5), status="已关闭", closed_at=D(2026, 10, 6, 13)),
        tk("NOCOMP", signed_at=D(2026, 10, 6, 12), status="已关闭", closed_at=D(2026, 10, 6, 13)),
        tk("NOSIG", completed_at=D(2026, 10, 6, 12), status="已完成"),
        tk("OPEN", status="处理中"),
    ])
    f = compliance_findings(RULES, AS_OF, tickets=t)
    assert checks(f) == {
        ("signature_before_completion", "BEFORE"),
        ("missing_completion", "NOCOMP"),
        ("missing_signature", "NOSIG"),
    }
    detail = f.filter(pl.col("record_id") == "BEFORE")["detail"][0]
    assert "2026-10-06 11:59:59" in detail and "2026-10-06 12:00:00" in detail


def test_parts_requisition_and_old_part_return():
    t = frame(SLA_TICKETS, [
        tk("T1", warranty=True, parts_replaced=True),
        tk("T2", warranty=True, parts_replaced=True),  # only an unapproved requisition
        tk("T3", warranty=True, parts_replaced=True),  # no requisition at all
        tk("T4", warranty=False, parts_replaced=True),  # not 三包: no requisition needed by 3.6.1
    ])
    req = frame(SLA_PART_REQUISITIONS, [
        # issued 10-01, due 10-31 (30 days): returned 10-31 -> in time
        dict(requisition_id="R1", requested_on=date(2026, 10, 1), part_id="P1", quantity=1, ticket_id="T1", approver="林峰", approval="已批准", issued_on=date(2026, 10, 1)),
        # issued 10-02, due 11-01 == as_of date: not overdue yet
        dict(requisition_id="R2", requested_on=date(2026, 10, 2), part_id="P2", quantity=1, ticket_id="T2", approver=None, approval="待审批", issued_on=date(2026, 10, 2)),
        # issued 09-30, due 10-30; returned 10-31 -> late
        dict(requisition_id="R3", requested_on=date(2026, 9, 30), part_id="P3", quantity=2, ticket_id="T9", approver="林峰", approval="已批准", issued_on=date(2026, 9, 30)),
        # issued 09-01, due 10-01, 1 of 2 returned in time (matched by ticket + part, no 领料单号)
        dict(requisition_id="R4", requested_on=date(2026, 9, 1), part_id="P4", quantity=2, ticket_id="T8", approver="林峰", approval="已批准", issued_on=date(2026, 9, 1)),
    ])
    ret = frame(SLA_PART_RETURNS, [
        dict(return_id="F1", returned_on=date(2026, 10, 31), part_id="P1", quantity=1, requisition_id="R1"),
        dict(return_id="F3", returned_on=date(2026, 10, 31), part_id="P3", quantity=2, requisition_id="R3"),
        dict(return_id="F4", returned_on=date(2026, 9, 20), part_id="P4", quantity=1, ticket_id="T8"),
    ])
    f = compliance_findings(RULES, AS_OF, tickets=t, requisitions=req, returns=ret)
    assert checks(f) == {
        ("part_issued_unapproved", "R2/P2"),
        ("warranty_part_no_requisition", "T2"),
        ("warranty_part_no_requisition", "T3"),
        ("old_part_not_returned", "R3/P3"),
        ("old_part_not_returned", "R4/P4"),
    }
    d = dict(f.filter(pl.col("check") == "old_part_not_returned").select("record_id", "detail").iter_rows())
    assert d["R3/P3"] == "旧件逾期返还: 应于 2026-10-30 前返还, 实际 2026-10-31"
    assert d["R4/P4"] == "旧件未返还: 工单 T8 发放 2 件, 已返还 1 件, 应于 2026-10-01 前返还"


def test_claims_open_past_n_days():
    c = frame(SLA_CLAIMS, [
        dict(claim_id="C60", supplier="玉柴", amount=Decimal("100.00"), filed_on=date(2026, 9, 2), status="处理中"),  # 60 days at 11-01
        dict(claim_id="C61", supplier="玉柴", amount=Decimal("3860.50"), filed_on=date(2026, 9, 1), status="处理中"),  # 61 days
        dict(claim_id="DONE", supplier="潍柴", filed_on=date(2026, 1, 1), status="已结案", closed_on=date(2026, 2, 1)),
    ])
    f = compliance_findings(RULES, AS_OF, claims=c)
    assert checks(f) == {("claim_open_too_long", "C61")}
    assert f["detail"][0] == "向 玉柴 的二次索赔(金额 3860.50 元)已提交 61 天仍未结案(上限 60 天)"


def test_ledger_reconciliation_and_mismatch_finding():
    rec = frame(SLA_PART_RECEIPTS, [
        dict(receipt_id="J1", received_on=date(2026, 10, 3), part_id="P1", quantity=5),
        dict(receipt_id="J2", received_on=date(2026, 9, 28), part_id="P1", quantity=50),  # last month: not a movement of October
        dict(receipt_id="J3", received_on=date(2026, 10, 10), part_id="P2", quantity=4),
    ])
    req = frame(SLA_PART_REQUISITIONS, [
        dict(requisition_id="R1", requested_on=date(2026, 10, 4), part_id="P1", quantity=3, issued_on=date(2026, 10, 4)),
        dict(requisition_id="R2", requested_on=date(2026, 10, 4), part_id="P1", quantity=9, issued_on=None),  # not issued
        dict(requisition_id="R3", requested_on=date(2026, 10, 30), part_id="P3", quantity=1, issued_on=date(2026, 10, 30)),
    ])
    st = frame(SLA_STOCKTAKES, [
        dict(counted_on=date(2026, 10, 31), part_id="P1", part_name="气泵", opening_qty=10, book_qty=12, counted_qty=11),
        dict(counted_on=date(2026, 10, 31), part_id="P2", part_name="玻璃", opening_qty=1, book_qty=6, counted_qty=6),
    ])
    led = reconcile(rec, req, st, date(2026, 10, 1), date(2026, 11, 1), "2026-10")
    got = {r["part_id"]: (r["received"], r["issued"], r["computed_book"], r["book_qty"], r["counted_qty"], r["status"]) for r in led.iter_rows(named=True)}
    assert got == {
        "P1": (5, 3, 12, 12, 11, "帐物不符"),  # 10 + 5 - 3 = 12 on the book, 11 on the shelf
        "P2": (4, 0, 5, 6, 6, "帐帐不符"),  # 1 + 4 = 5, but the book says 6
        "P3": (0, 1, None, None, None, "未盘点"),
    }
    f = compliance_findings(RULES, AS_OF, ledger=led)
    assert checks(f) == {("stock_mismatch", "P1@2026-10-31"), ("stock_mismatch", "P2@2026-10-31")}


def test_breach_warnings_window_and_order():
    now = D(2026, 10, 31, 18)
    t = frame(SLA_TICKETS, [
        # 24 h clocks: 25% = 6 h
        dict(ticket_id="LEFT6H", received_at=D(2026, 10, 31), fault_category="车身", distance_km=5.0),  # deadline 11-01 00:00: 6 h left
        dict(ticket_id="LEFT6H1S", received_at=D(2026, 10, 31, 0, 0, 1), fault_category="车身", distance_km=5.0),  # 6 h 1 s left: no
        dict(ticket_id="OVERDUE", received_at=D(2026, 10, 30, 12), fault_category="车身", distance_km=5.0),  # 6 h overdue
        dict(ticket_id="CLOSED", received_at=D(2026, 10, 30, 12), fault_category="车身", distance_km=5.0, status="已关闭", closed_at=D(2026, 10, 31)),
        dict(ticket_id="DONE", received_at=D(2026, 10, 31), fault_category="车身", distance_km=5.0, arrived_at=D(2026, 10, 31, 10)),
        # 12 h clock, 3 h window: 2 h left
        dict(ticket_id="CHASSIS", received_at=D(2026, 10, 31, 8), fault_category="底盘"),
    ])
    w = breach_warnings(t, None, RULES, now)
    assert w.select("record_id", "level", "remaining_h").rows() == [
        ("OVERDUE", "已超时", -6.0),
        ("CHASSIS", "即将超时", 2.0),
        ("LEFT6H", "即将超时", 6.0),
    ]
