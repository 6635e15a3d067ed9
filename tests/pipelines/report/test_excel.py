"""payroll.xlsx: sheets, frozen header, text cells stay text, money as formatted numbers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import openpyxl
import pytest

from pipelines.report.bundle import MonthBundle
from pipelines.report.excel import write_payroll_xlsx


@pytest.fixture
def workbook(bundle: MonthBundle, tmp_path: Path) -> openpyxl.Workbook:
    path = write_payroll_xlsx(bundle, tmp_path / "out" / "payroll.xlsx")
    return openpyxl.load_workbook(path)


def _column(ws, header: str) -> list:
    headers = [c.value for c in ws[1]]
    j = headers.index(header) + 1
    return [ws.cell(row=i, column=j) for i in range(2, ws.max_row + 1)]


def test_sheets_and_frozen_headers(workbook: openpyxl.Workbook) -> None:
    assert workbook.sheetnames == ["工资表", "考核明细", "扣分加分明细", "证据"]
    for ws in workbook.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.auto_filter.ref is not None
    ws = workbook["工资表"]
    assert [c.value for c in ws[1]][:4] == ["月份", "客服账号", "姓名", "岗位"]
    assert ws.max_row == 1 + 3 + 2  # header, 3 agents, 合计 (final rows), 待补充 (incomplete apart)
    assert ws.column_dimensions["C"].width > 8


def test_money_written_as_formatted_numbers(workbook: openpyxl.Workbook) -> None:
    ws = workbook["工资表"]
    salary = _column(ws, "应发工资")
    # final rows first, then the incomplete a03; 合计 sums the final rows, 待补充 shows a03 apart
    assert [c.value for c in salary] == [2861.54, 2500, None, 5361.54, None]
    assert all(c.number_format == "#,##0.00" for c in salary[:4])
    assert salary[0].data_type == "n"
    assert [c.value for c in _column(ws, "KPI奖金")] == [861.54, 0, None, 861.54, None]
    assert [c.value for c in _column(ws, "底薪")] == [2000, 2500, 3000, 4500, 3000]
    labels = [c.value for c in _column(ws, "月份")]
    assert labels[3] == "合计（已定稿 2 人）" and labels[4] == "待补充 1 人（未计入合计）"
    # the 合计 row reconciles: 底薪 + KPI = 应发工资
    assert 4500 + 861.54 == pytest.approx(5361.54)
    rate = _column(ws, "退款率")[0]
    assert rate.value == pytest.approx(0.0425) and rate.number_format == "0.00%"
    assert [c.value for c in _column(ws, "总分")][:3] == [112, 80, 110]
    assert [c.value for c in _column(ws, "达标(≥91分)")][:3] == ["是", "否", None]  # pass line from the rules
    assert [c.value for c in _column(ws, "状态")][:3] == ["已定稿", "已定稿", "待补充"]


def test_text_cells_never_become_formulas(workbook: openpyxl.Workbook) -> None:
    ws = workbook["证据"]
    excerpts = {c.value: c for c in _column(ws, "消息摘录(脱敏)")}
    # neutralised like payroll.csv: a leading ' so the text neither is nor displays as a formula
    for text in ("'=1+1", """'=HYPERLINK("http://evil.example","点我")""", "'-1 还没发货? @客服"):
        cell = excerpts[text]
        assert cell.data_type == "s", text
        assert cell.number_format == "@"
    # masked in the workbook too
    assert "<script>window.__pwned=1</script>在吗 我的电话138****5678" in excerpts
    assert [c.value for c in _column(ws, "买家(脱敏)")].count("张**三") == 2
    at = _column(ws, "时间")[0]
    assert at.value == datetime(2026, 10, 5, 10, 0) and at.number_format == "yyyy-mm-dd hh:mm:ss"
    assert [c.value for c in _column(ws, "类型")][:2] == ["慢响应", "慢响应"]


def test_detail_sheets(workbook: openpyxl.Workbook) -> None:
    ws = workbook["考核明细"]
    assert ws.max_row == 1 + 18
    items = [c.value for c in _column(ws, "考核项目")][:6]
    assert items == ["售后客服素质", "退款率", "投诉/维权/举报/退款纠纷处理", "配合度", "执行力", "出勤率"]
    assert _column(ws, "证据编号")[0].value == "slow:1, slow:2"
    adj = workbook["扣分加分明细"]
    rows = [[c.value for c in r] for r in adj.iter_rows(min_row=2)]
    assert rows[0] == ["2026-10", "a01", "扣分", "低质评价", -5, "R001", "买家 t**1 差评, 电话138****5678"]
    assert rows[1][2:6] == ["加分", "客户表扬", 2, "P001"]
    assert rows[2][2:6] == ["扣分", "客户投诉(查实)", -10, "C001"]


def test_missing_frames_give_header_only_sheets(tmp_path: Path) -> None:
    empty = MonthBundle(month="2026-10", shop="店", payroll=None, kpi_items=None, kpi_adjustments=None,
                        evidence=None, agent_month_metrics=None)
    wb = openpyxl.load_workbook(write_payroll_xlsx(empty, tmp_path / "p.xlsx"))
    assert wb.sheetnames == ["工资表", "考核明细", "扣分加分明细", "证据"]
    assert all(ws.max_row == 1 for ws in wb.worksheets)
