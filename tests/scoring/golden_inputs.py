"""Golden month 2026-10 input frames for the scoring tests. Every expected number is worked out by hand
in tests/scoring/golden_month.md (section names are quoted in the comments below)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl

from contracts.staged import POLARS_TYPES, TABLES
from scoring.inputs import EVIDENCE_COLUMNS, METRIC_COLUMNS, ScoringInputs

M = "2026-10"
A1, A2, A3, A4, A5 = "店:小安", "店:小博", "店:小陈", "店:小丁", "店:小鄂"


def staged(name: str, rows: list[dict]) -> pl.DataFrame:
    """A staged-table frame with every canonical column (missing keys → null) and ``month``."""
    schema = {c.name: POLARS_TYPES[c.type] for c in TABLES[name].cols}
    schema["month"] = pl.String()
    return pl.DataFrame([{k: r.get(k, M if k == "month" else None) for k in schema} for r in rows], schema=schema, orient="row")


def dt(s: str) -> datetime:
    return datetime.fromisoformat(s)


def roster() -> pl.DataFrame:
    return staged("roster", [
        {"agent_account": A1, "name": "小安", "role": "普通售后客服"},
        {"agent_account": A2, "name": "小博", "role": "高级售后客服", "dingtalk_name": "博文"},
        {"agent_account": A3, "name": "小陈", "role": "售后组长"},
        {"agent_account": A4, "name": "小丁", "role": "普通售后客服"},
        {"agent_account": A5, "name": "小鄂", "role": "高级售后客服"},
    ])  # fmt: skip


def ratings() -> pl.DataFrame:
    # §配合度/执行力; A5 has NO row (→ incomplete). A2's 客服素质(覆盖)=中 beats suggested 优.
    return staged("ratings", [
        {"rating_month": M, "agent_account": A1, "cooperation": "良", "execution": "中"},
        {"rating_month": M, "agent_account": A2, "cooperation": "良", "execution": "良", "quality_override": "中"},
        {"rating_month": M, "agent_account": A3, "cooperation": "优", "execution": "优", "outstanding_bonus": 5, "note": "带新人"},
        {"rating_month": M, "agent_account": A4, "cooperation": "差", "execution": "中"},
        {"rating_month": "2026-09", "agent_account": A5, "cooperation": "优", "execution": "优"},  # other month: ignored
    ])  # fmt: skip


def metrics() -> pl.DataFrame:
    # §售后客服素质: (reply_rate, response_3min_rate, polite_opening_rate, avg_response_s, forbidden_hits, knowledge_gap_replies)
    vals = {
        A1: (0.97, 0.85, 0.70, 45.0, 1, 3),  # 优 fails reply_rate 0.97<0.98 → 良
        A2: (0.99, 0.95, 0.90, 20.0, 0, 0),  # 优
        A3: (0.99, 0.92, 0.85, 25.0, 0, 2),  # 优 (knowledge_gap 2 ≤ 2)
        A4: (0.85, 0.90, 0.90, 20.0, 0, 0),  # reply_rate 0.85 < 0.90 → 差
        A5: (0.92, 0.70, 0.50, 90.0, 2, 6),  # 良 fails reply_rate 0.92<0.95 → 中
        "店:售前1": (0.99, 0.99, 0.99, 5.0, 0, 0),  # not in roster/ratings: warning only
    }
    rows = [
        {"month": M, "agent_account": a, "reply_rate": v[0], "response_3min_rate": v[1], "polite_opening_rate": v[2],
         "avg_response_s": v[3], "forbidden_hits": v[4], "knowledge_gap_replies": v[5]}
        for a, v in vals.items()
    ]  # fmt: skip
    return pl.DataFrame(rows, schema={k: METRIC_COLUMNS[k] for k in rows[0]}, orient="row")


def evidence() -> pl.DataFrame:
    rows = [
        {"evidence_id": "slow:a1", "month": M, "agent_account": A1, "kind": "slow_response", "buyer": "tb_alice99",
         "at": dt("2026-10-03 14:22:00"), "excerpt": "请问什么时候发货", "detail": "等待 412 秒"},
        {"evidence_id": "praise:a1", "month": M, "agent_account": A1, "kind": "praise_candidate", "buyer": "tb_bob",
         "at": dt("2026-10-09 10:00:00"), "excerpt": "小安服务太好了", "detail": "表扬候选"},
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=EVIDENCE_COLUMNS, orient="row")


def orders() -> pl.DataFrame:
    # §退款率: 40 orders paid in October (denominator), 1 paid in September, 1 unpaid
    rows = [{"order_id": f"O{i:03d}", "created_at": dt("2026-10-02 09:00"), "paid_at": dt("2026-10-02 09:05") + timedelta(hours=i)} for i in range(40)]
    rows += [
        {"order_id": "O900", "created_at": dt("2026-09-30 22:00"), "paid_at": dt("2026-09-30 23:59:59")},
        {"order_id": "O901", "created_at": dt("2026-10-05 10:00"), "paid_at": None},
    ]
    return staged("orders", rows)


def refunds() -> pl.DataFrame:
    # §退款率: shop numerator = R1, R2 (退款成功 and completed in October) → 2/40 = 5%
    return staged("refunds", [
        {"refund_id": "R1", "order_id": "O001", "buyer": "b1", "status": "退款成功", "applied_at": dt("2026-10-03 10:00"),
         "completed_at": dt("2026-10-05 10:00"), "operator": "小安"},
        {"refund_id": "R2", "order_id": "O002", "buyer": "b2", "status": "退款成功", "applied_at": dt("2026-10-10 10:00"),
         "completed_at": dt("2026-10-12 10:00"), "reviewer": "店:小陈"},
        {"refund_id": "R3", "order_id": "O003", "buyer": "b3", "status": "退款关闭", "applied_at": dt("2026-10-15 10:00"),
         "completed_at": dt("2026-10-16 10:00")},
        {"refund_id": "R4", "order_id": "O900", "buyer": "b4", "status": "退款成功", "applied_at": dt("2026-09-25 10:00"),
         "completed_at": dt("2026-09-28 10:00"), "operator": "小安"},
        {"refund_id": "R5", "order_id": "O004", "buyer": "b5", "status": "退款成功", "applied_at": dt("2026-10-30 10:00"),
         "completed_at": dt("2026-11-01 00:00"), "operator": "小博"},
        {"refund_id": "R6", "order_id": "O005", "buyer": "b6", "status": "退款中", "applied_at": dt("2026-10-20 10:00")},
    ])  # fmt: skip


def conversations() -> pl.DataFrame:
    # scope=agent: R3 (buyer b3, applied 10-15 10:00) → last conversation before it is A1's (10-14)
    rows = [
        {"month": M, "agent_account": A2, "buyer": "b3", "start_at": dt("2026-10-01 09:00"), "conversation_id": "c1"},
        {"month": M, "agent_account": A1, "buyer": "b3", "start_at": dt("2026-10-14 09:00"), "conversation_id": "c2"},
        {"month": M, "agent_account": A3, "buyer": "b3", "start_at": dt("2026-10-20 09:00"), "conversation_id": "c3"},
    ]
    return pl.DataFrame(rows).with_columns(pl.col("start_at").cast(pl.Datetime("us")))


def complaints() -> pl.DataFrame:
    # §投诉处理 and §扣分
    return staged("complaints", [
        # A1: handled exactly at the 24 h deadline (in time), platform intervened → 良; verified, −6
        {"complaint_id": "C1", "kind": "投诉", "agent_account": A1, "received_at": dt("2026-10-05 09:00"),
         "handled_at": dt("2026-10-06 09:00"), "platform_intervened": True, "outcome": "买家撤销", "verified": True, "deduction": 6},
        # A2: September complaint (received 09-30) → not October's, even though handled 10-01
        {"complaint_id": "C2", "kind": "维权", "agent_account": A2, "received_at": dt("2026-09-30 20:00"),
         "handled_at": dt("2026-10-01 08:00"), "platform_intervened": False, "verified": True, "deduction": 5},
        # A3: in time, 非商家责任 must NOT count as 商家责任 → 优
        {"complaint_id": "C3", "kind": "举报", "agent_account": A3, "received_at": dt("2026-10-08 10:00"),
         "handled_at": dt("2026-10-08 12:00"), "platform_intervened": False, "outcome": "非商家责任", "verified": False},
        # A4: late (30 h) + 商家责任, verified −10; and one still open since 10-10 (overdue) → 0/2 in time → 差
        {"complaint_id": "C4", "kind": "投诉", "agent_account": A4, "received_at": dt("2026-10-12 09:00"),
         "handled_at": dt("2026-10-13 15:00"), "platform_intervened": False, "outcome": "商家责任", "verified": True, "deduction": 10},
        {"complaint_id": "C5", "kind": "退款纠纷", "agent_account": A4, "received_at": dt("2026-10-10 09:00"),
         "handled_at": None, "platform_intervened": False},
        # A5: received 10-31 20:00, open, due 11-01 20:00 → pending, left out → no late handling → 优
        {"complaint_id": "C6", "kind": "投诉", "agent_account": A5, "received_at": dt("2026-10-31 20:00"), "handled_at": None},
    ])  # fmt: skip


def reviews() -> pl.DataFrame:
    # §扣分 / §加分
    return staged("reviews", [
        {"review_id": "V1", "kind": "低质评价", "agent_account": A1, "reviewed_at": dt("2026-10-07 10:00"), "after_sales": True},
        {"review_id": "V2", "kind": "低质评价", "agent_account": A1, "reviewed_at": dt("2026-10-08 10:00"), "after_sales": False},
        {"review_id": "V3", "kind": "表扬", "agent_account": A1, "reviewed_at": dt("2026-10-09 10:00"), "confirmed": True},
        {"review_id": "V4", "kind": "低质评价", "agent_account": A2, "reviewed_at": dt("2026-10-11 10:00"), "after_sales": True},
        {"review_id": "V5", "kind": "低质评价", "agent_account": A2, "reviewed_at": dt("2026-10-12 10:00"), "after_sales": True},
        {"review_id": "V6", "kind": "低质评价", "agent_account": A2, "reviewed_at": dt("2026-10-13 10:00"), "after_sales": True},
        {"review_id": "V7", "kind": "表扬", "agent_account": A3, "reviewed_at": dt("2026-10-14 10:00"), "confirmed": True},
        {"review_id": "V8", "kind": "表扬", "agent_account": A3, "reviewed_at": dt("2026-10-15 10:00"), "confirmed": True},
        {"review_id": "V9", "kind": "表扬", "agent_account": A3, "reviewed_at": dt("2026-10-16 10:00"), "confirmed": True},
        {"review_id": "V10", "kind": "表扬", "agent_account": A3, "reviewed_at": dt("2026-10-17 10:00"), "confirmed": False},
        {"review_id": "V11", "kind": "表扬", "agent_account": A4, "reviewed_at": dt("2026-10-18 10:00"), "confirmed": True},
        {"review_id": "V12", "kind": "低质评价", "agent_account": A4, "reviewed_at": dt("2026-09-18 10:00"), "after_sales": True},  # September
    ])  # fmt: skip


def attendance() -> pl.DataFrame:
    # §出勤率. Every October day is 正常 unless listed; Saturdays/Sundays 休息.
    special = {
        "小安": {5: "迟到10分钟", 6: "早退", 7: "上班缺卡,下班正常", 9: "年假"},
        "博文": {8: "事假(8小时)", 9: "事假(8小时)"},
        "小陈": {},
        "小丁": {6: "迟到", 7: "严重迟到", 8: "旷工迟到", 16: "事假", 19: "病假", 22: "请假", 26: "旷工"},
    }
    rows = []
    for name, marks in special.items():
        for d in range(1, 32):
            day = date(2026, 10, d)
            status = marks.get(d) or ("休息" if day.weekday() >= 5 else "正常")
            rows.append({"dingtalk_name": name, "day": day, "status": status})
    rows.append({"dingtalk_name": "小丁", "day": date(2026, 9, 30), "status": "旷工"})  # September: ignored
    return staged("attendance", rows)


def attendance_summary() -> pl.DataFrame:
    # 小鄂 has only the monthly summary: 1 迟到, nothing else → 15
    return staged("attendance_summary", [{"dingtalk_name": "小鄂", "late_count": 1, "leave_days": 0.0, "absent_days": 0.0}])


def golden_inputs() -> ScoringInputs:
    """All golden frames together."""
    return ScoringInputs(
        roster=roster(), ratings=ratings(), agent_month_metrics=metrics(), evidence=evidence(), refunds=refunds(),
        orders=orders(), complaints=complaints(), reviews=reviews(), attendance=attendance(),
        attendance_summary=attendance_summary(), conversations=conversations(),
    )  # fmt: skip
