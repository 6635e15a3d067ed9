"""钉钉考勤 monthly summary → attendance (unpivoted days) + attendance_summary."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter

from pipelines.io.source import SourceFile
from pipelines.readers import get
from pipelines.readers.dingtalk_attendance import NO_PERIOD, parse_day_header, parse_period

FIX = Path(__file__).parent / "fixtures" / "tables"
TWO_ROW = FIX / "dingtalk_attendance__two_row.csv"
ONE_ROW = FIX / "dingtalk_attendance__one_row.xlsx"


def _read(path: Path):
    batches = get("dingtalk_attendance").read(SourceFile(path))
    assert [b.kind for b in batches] == ["attendance", "attendance_summary"]
    return batches


def test_two_row_header_under_title_rows():
    att, summ = _read(TWO_ROW)
    assert att.notes == ["跳过合计/平均行 1 行"]
    got = [(r["dingtalk_name"], r["day"], r["status"], r["source_row"]) for r in att.frame.to_dicts()]
    assert got == [
        ("小美", "2026-10-01", "正常", 6),
        ("小美", "2026-10-02", "迟到,下班缺卡", 6),  # several statuses kept as written
        ("小美", "2026-10-03", "休息", 6),  # day 31 empty: no row
        ("小王", "2026-10-01", "事假", 7),
        ("小王", "2026-10-02", "正常", 7),
        ("小王", "2026-10-03", "休息", 7),
        ("小王", "2026-10-31", "正常", 7),
    ]
    assert att.frame["_reason"].null_count() == att.frame.height
    s1, s2 = summ.frame.to_dicts()
    assert s1 == {
        "dingtalk_name": "小美", "department": "客服部", "required_days": "22", "attended_days": "21", "rest_days": "9",
        "late_count": "2", "late_minutes": "15", "severe_late_count": "0", "absent_late_count": "0", "early_count": "1",
        "missing_in_count": "0", "missing_out_count": "1", "absent_days": "0",
        "leave_days": "1.5",  # 事假 1 天 + 病假 4 小时 / 8
        "source_row": 6, "source_sheet": None,
    }
    assert (s2["dingtalk_name"], s2["leave_days"], s2["source_row"]) == ("小王", None, 7)


def test_period_from_date_column_and_reasons():
    att, summ = _read(ONE_ROW)
    rows = [(r["dingtalk_name"], r["day"], r["status"], r["_reason"]) for r in att.frame.to_dicts()]
    assert rows == [
        ("小美", "2026-11-01", "正常", None),
        ("小美", "2026-11-02", "迟到", None),
        ("小美", "2026-11-30", "正常", None),
        ("小美", None, "休息", "日期无效：统计期间 2026-11-01至2026-11-30 内没有31日"),
        ("小王", None, "上班缺卡", NO_PERIOD),  # no 日期 value and no period in the title
        ("小王", None, "正常", NO_PERIOD),
        ("小王", None, "正常", NO_PERIOD),
    ]
    assert att.frame["source_sheet"].unique().to_list() == ["月度汇总"]
    assert summ.frame["leave_days"].to_list() == ["1", "0"]  # 请假天数 column used as is


def _write_csv(path: Path, rows):
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def test_range_crossing_months(tmp_path):
    p = _write_csv(tmp_path / "a.csv", [
        ["考勤月报", "统计日期：2026-09-26 至 2026-10-25"],
        ["姓名", "出勤天数", "迟到次数", "旷工天数", "26", "30", "1", "25"],
        ["小美", "22", "0", "0", "正常", "旷工", "正常", "早退"],
    ])
    att, _ = _read(p)
    assert att.frame["day"].to_list() == ["2026-09-26", "2026-09-30", "2026-10-01", "2026-10-25"]


def test_xlsx_merged_group_and_weekday_headers(tmp_path):
    p = tmp_path / "dt.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("考勤")
    ws.merge_range(0, 0, 0, 5, "月度汇总 统计日期:2026年10月01日 至 2026年10月31日")
    ws.write_row(1, 0, ["姓名", "出勤天数", "迟到次数", "早退次数"])
    ws.merge_range(1, 4, 1, 5, "考勤结果")
    ws.write_row(2, 4, ["1\n四", "2\n五"])
    ws.write_row(3, 0, ["小美", 20, 1, 0, "正常", "严重迟到"])
    wb.close()
    att, summ = _read(p)
    assert [(r["day"], r["status"], r["source_row"]) for r in att.frame.to_dicts()] == [
        ("2026-10-01", "正常", 4), ("2026-10-02", "严重迟到", 4)]
    assert summ.frame.select("attended_days", "late_count", "early_count").row(0) == ("20", "1", "0")


@pytest.mark.parametrize(
    "header,expected",
    [("1", (None, None, 1)), ("31", (None, None, 31)), ("1号", (None, None, 1)), ("01 一", (None, None, 1)),
     ("7\n星期三", (None, None, 7)), ("10-01", (None, 10, 1)), ("10月2日", (None, 10, 2)),
     ("2026-10-03", (2026, 10, 3)), ("32", None), ("迟到次数", None), ("0", None)],
)
def test_parse_day_header(header, expected):
    assert parse_day_header(header) == expected


def test_parse_period():
    assert parse_period("统计日期：2026-10-01 至 2026-10-31") == (date(2026, 10, 1), date(2026, 10, 31))
    assert parse_period("2026年2月") == (date(2026, 2, 1), date(2026, 2, 28))
    assert parse_period("2026-12-26 ~ 01-25") == (date(2026, 12, 26), date(2027, 1, 25))
    assert parse_period("没有日期") is None


def test_staged_days_and_quarantine():
    stage = pytest.importorskip("pipelines.staging.stage")
    att, summ = _read(TWO_ROW)
    loaded, quarantine, counts = stage.stage_batch("attendance", att.frame, "2026-10", TWO_ROW.name)
    assert counts.balanced and counts.loaded == 7 and quarantine.height == 0
    assert loaded["day"][3] == date(2026, 10, 1)
    loaded, _, _ = stage.stage_batch("attendance_summary", summ.frame, "2026-10", TWO_ROW.name)
    assert loaded["leave_days"].to_list() == [1.5, None]
    assert loaded["late_count"].to_list() == [2, 0]
    att, _ = _read(ONE_ROW)
    loaded, quarantine, counts = stage.stage_batch("attendance", att.frame, "2026-11", ONE_ROW.name)
    assert (counts.loaded, counts.quarantined) == (3, 4)
    assert quarantine["reason"].str.contains("无法确定考勤年月").sum() == 3
