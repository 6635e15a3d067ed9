"""Error paths, incomplete rules, attendance mapping, deadlines, CSV and explain."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal as D

import polars as pl
import pytest

from scoring import ScoringInputError, explain, handled_within_deadline, payroll_csv_text, score_month
from scoring.attendance import classify_days, count_events
from scoring.money import round_money
from tests.scoring.golden_inputs import A1, A3, A4, A5, M, staged


def pay(result, agent) -> dict:
    return result.payroll.filter(pl.col("agent") == agent).row(0, named=True)


def _set(df: pl.DataFrame, key: str, key_value, **values) -> pl.DataFrame:
    return df.with_columns(
        **{c: pl.when(pl.col(key) == key_value).then(pl.lit(v, dtype=df.schema[c])).otherwise(pl.col(c)) for c, v in values.items()}
    )


@pytest.mark.parametrize("deduction", [4, 25])
def test_complaint_deduction_out_of_range_names_the_complaint(golden, rules, deduction):
    bad = replace(golden, complaints=_set(golden.complaints, "complaint_id", "C4", deduction=deduction))
    with pytest.raises(ScoringInputError) as exc:
        score_month(bad, rules, M)
    assert exc.value.problems == [f"投诉 C4 ({A4}): 扣分 {deduction} 超出范围 5-20"]


@pytest.mark.parametrize("bonus", [1, 6])
def test_outstanding_bonus_out_of_range_names_the_agent(golden, rules, bonus):
    bad = replace(golden, ratings=_set(golden.ratings, "agent_account", A3, outstanding_bonus=bonus))
    with pytest.raises(ScoringInputError) as exc:
        score_month(bad, rules, M)
    assert exc.value.problems == [f"主管评分 {M} {A3}: 表现突出加分 {bonus} 超出范围 2-5"]


def test_verified_complaint_without_deduction_is_incomplete(golden, rules):
    inputs = replace(golden, complaints=_set(golden.complaints, "complaint_id", "C4", deduction=None))
    row = pay(score_month(inputs, rules, M), A4)
    assert (row["status"], row["status_reason"], row["salary"]) == ("incomplete", "查实投诉 C4 未填扣分 (5-20)", None)


def test_low_quality_review_without_after_sales_flag_is_incomplete(golden, rules):
    inputs = replace(golden, reviews=_set(golden.reviews, "review_id", "V1", after_sales=None))
    row = pay(score_month(inputs, rules, M), A1)
    assert (row["status"], row["status_reason"]) == ("incomplete", "低质评价 V1 未填 售后原因(是/否)")


def test_no_paid_orders_makes_refund_rate_incomplete(golden, rules):
    result = score_month(replace(golden, orders=None), rules, M)
    assert set(result.payroll["status"]) == {"incomplete"}
    assert "本月无付款订单" in pay(result, A1)["status_reason"]


def test_attendance_incomplete_cases(golden, rules):
    att = golden.attendance.with_columns(
        status=pl.when((pl.col("dingtalk_name") == "小安") & (pl.col("day") == date(2026, 10, 20))).then(pl.lit("外星假")).otherwise(pl.col("status"))
    ).filter(pl.col("dingtalk_name") != "小陈")
    summary = golden.attendance_summary.with_columns(leave_days=pl.lit(1.0))
    result = score_month(replace(golden, attendance=att, attendance_summary=summary), rules, M)
    assert pay(result, A1)["status_reason"] == "出勤率: 无法识别的考勤状态 10-20 外星假 (请在规则 status_map 中补充)"
    assert pay(result, A3)["status_reason"] == "出勤率: 钉钉考勤中没有 小陈"
    assert "无逐日状态无法合并连续请假" in pay(result, A5)["status_reason"]


def test_attendance_classification_and_leave_runs(rules):
    smap = rules.items["attendance"].status_map
    days = staged("attendance", [
        {"dingtalk_name": "x", "day": date(2026, 10, 1), "status": "旷工迟到"},
        {"dingtalk_name": "x", "day": date(2026, 10, 2), "status": "上班严重迟到30分钟，下班缺卡"},
        {"dingtalk_name": "x", "day": date(2026, 10, 5), "status": "病假(8小时)"},
        {"dingtalk_name": "x", "day": date(2026, 10, 6), "status": "事假"},
        {"dingtalk_name": "x", "day": date(2026, 10, 7), "status": "正常"},
        {"dingtalk_name": "x", "day": date(2026, 10, 8), "status": "事假"},
        {"dingtalk_name": "x", "day": date(2026, 10, 9), "status": None},
    ])  # fmt: skip
    classified = classify_days(days, smap)
    cats = {(r["day"].day, r["category"]) for r in classified.iter_rows(named=True)}
    assert cats == {(1, "late"), (2, "late"), (2, "missing_punch"), (5, "leave"), (6, "leave"), (7, "ok"), (8, "leave")}
    events = {r["category"]: r["events"] for r in count_events(classified, ("leave",)).iter_rows(named=True)}
    assert events == {"late": 2, "missing_punch": 1, "ok": 1, "leave": 2}  # 10-05..06 one run, 10-08 another


def test_handled_within_deadline():
    frame = staged("complaints", [
        {"complaint_id": "on_time", "kind": "投诉", "received_at": datetime(2026, 10, 1, 9), "handled_at": datetime(2026, 10, 2, 9)},
        {"complaint_id": "late", "kind": "投诉", "received_at": datetime(2026, 10, 1, 9), "handled_at": datetime(2026, 10, 2, 9, 0, 1)},
        {"complaint_id": "overdue", "kind": "投诉", "received_at": datetime(2026, 10, 1, 9), "handled_at": None},
        {"complaint_id": "pending", "kind": "投诉", "received_at": datetime(2026, 10, 31, 20), "handled_at": None},
    ])  # fmt: skip
    got = handled_within_deadline(frame, 24, as_of=datetime(2026, 11, 1))["within_deadline"].to_list()
    assert got == [True, False, False, None]
    assert handled_within_deadline(frame, D("24.5"), as_of=None)["within_deadline"].to_list() == [True, True, False, False]


def test_round_money_half_up():
    assert [round_money(D(x)) for x in ("2.345", "2.344", "0.005", "846.153846")] == [D("2.35"), D("2.34"), D("0.01"), D("846.15")]


def test_payroll_csv(golden, rules):
    roster = golden.roster.with_columns(name=pl.when(pl.col("agent_account") == A4).then(pl.lit("=HYPERLINK(1)")).otherwise(pl.col("name")))
    text = payroll_csv_text(score_month(replace(golden, roster=roster), rules, M).payroll)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == [
        "month", "agent", "name", "role", "quality_grade", "quality_pts", "refund_rate", "refund_pts", "complaint_grade",
        "complaint_pts", "cooperation_pts", "execution_pts", "attendance_pts", "deductions", "bonuses", "total_score",
        "passed", "kpi_bonus", "base_salary", "salary", "status", "status_reason",
    ]  # fmt: skip
    assert rows[1] == [M, A1, "小安", "普通售后客服", "良", "15.00", "0.050000", "30.00", "良", "15.00", "15.00", "10.00",
                       "15.00", "11.00", "2.00", "91.00", "true", "700.00", "2000.00", "2700.00", "final", ""]  # fmt: skip
    assert rows[4][2] == "'=HYPERLINK(1)"
    # incomplete row: total, passed, kpi_bonus, salary blank (never 0), base shown
    assert rows[5][15:] == ["", "", "", "2500.00", "", "incomplete", "配合度: 主管评分表中没有该客服; 执行力: 主管评分表中没有该客服"]
    assert text.endswith("\r\n") and not text.startswith("\ufeff")  # the caller adds the BOM


def test_explain_rows(golden, rules):
    result = score_month(golden, rules, M)
    rows = explain(result, A4)
    items = {r.item: r for r in rows if r.section == "item"}
    assert [r.item for r in rows if r.section == "item"] == ["quality", "refund_rate", "complaints", "cooperation", "execution", "attendance"]
    att = items["attendance"]
    assert att.points == D(0) and att.inputs.startswith("迟到3次, 请假2次, 旷工1次; 扣35")
    assert [e.split(" | ")[0] for e in att.evidence] == [f"attendance:小丁:2026-10-{d:02d}" for d in (6, 7, 8, 16, 19, 22, 26)]
    assert att.evidence[1] == "attendance:小丁:2026-10-07 | 2026-10-07 小丁: 严重迟到"
    assert "建议 差" in items["quality"].inputs
    ded = [r for r in rows if r.section == "deduction"]
    assert [(r.item, r.points) for r in ded] == [("verified_complaint", D(-10))]
    assert ded[0].evidence[0].startswith("complaint:C4 | 投诉 C4 发生 2026-10-12 09:00 处理完成 2026-10-13 15:00")
    total = {r.item: r.points for r in rows if r.section == "total"}
    assert (total["total_score"], total["kpi_bonus"], total["salary"]) == (D(32), D(0), D(2000))
    a1_quality = next(r for r in explain(result, A1) if r.item == "quality")
    assert a1_quality.evidence == ["slow:a1 | 2026-10-03 14:22 买家 t***9: 请问什么时候发货 (等待 412 秒)"]
    assert "未达优: reply_rate 0.97 < 0.98" in a1_quality.inputs
    with pytest.raises(KeyError):
        explain(result, "店:无此人")


def test_complaint_deadline_on_a_working_hours_calendar_with_a_tiaoxiu_saturday():
    """Received Fri 2026-10-09 17:00, 9 working hours allowed, office 09:00-18:00.
    Fri gives 1 h; Sat 10-10 is a 调休 workday (chinese-calendar), 09:00-17:00 gives 8 h:
    deadline Sat 17:00. Handled Sat 16:30 is in time on that calendar, late on 24×7 (23.5 h)."""
    from analytics.sla.rules import CalendarSpec

    frame = staged("complaints", [
        {"complaint_id": "c1", "kind": "投诉", "received_at": datetime(2026, 10, 9, 17), "handled_at": datetime(2026, 10, 10, 16, 30)},
    ])  # fmt: skip
    cal = CalendarSpec(kind="working_hours", windows=["09:00-18:00"]).build("complaints")
    on_cal = handled_within_deadline(frame, 9, as_of=datetime(2026, 11, 1), calendar=cal)
    assert on_cal["deadline_at"].to_list() == [datetime(2026, 10, 10, 17)]
    assert on_cal["within_deadline"].to_list() == [True]
    assert handled_within_deadline(frame, 9, as_of=datetime(2026, 11, 1))["within_deadline"].to_list() == [False]


def test_rules_file_accepts_a_deadline_calendar_and_rejects_a_bad_one():
    from scoring import DEFAULT_RULES_PATH, RulesError, load_rules

    text = open(DEFAULT_RULES_PATH, encoding="utf-8").read()
    key = "    deadline_hours: 24"
    good = text.replace(key, key + '\n    deadline_calendar: {kind: working_hours, windows: ["09:00-18:00"]}', 1)
    rules = load_rules(good)
    assert rules.items["complaints"].deadline_calendar.windows == ["09:00-18:00"]
    assert rules.hash != load_rules(text).hash
    bad = text.replace(key, key + "\n    deadline_calendar: {kind: moon_phases}", 1)
    with pytest.raises(RulesError, match="deadline_calendar"):
        load_rules(bad)
