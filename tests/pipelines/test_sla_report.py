"""SLA report: escaped self-contained HTML, xlsx without formulas."""

from datetime import datetime as D
from pathlib import Path

import openpyxl

from pipelines.sla.report import render_sla_report, write_sla_xlsx
from pipelines.sla.run import run_sla

RULES_TEXT = (Path(__file__).parents[2] / "data" / "sla_rules.yaml").read_text(encoding="utf-8")


def hostile_inbox(tmp_path: Path) -> Path:
    (tmp_path / "工单.csv").write_text(
        "工单编号,报修时间,故障类别,服务半径(km),服务人员,服务组,到达现场时间\n"
        'W1,2026-10-05 09:00,车身,10,<script>alert(1)</script>,=HYPERLINK("http://x"),2026-10-07 09:00\n'
        "W2,2026-10-05 09:00,车身,10,李明,二组,2026-10-05 10:00\n",
        encoding="utf-8",
    )
    return tmp_path


def test_html_is_escaped_and_self_contained(tmp_path):
    r = run_sla("2026-10", hostile_inbox(tmp_path), None, RULES_TEXT)
    page = render_sla_report(r, "2026-10")
    assert page.count("<script") == 1 and "<script>alert(1)" not in page  # only the page's own script
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "src=" not in page and "<link" not in page and "http://x" in page  # text only, no fetched resources
    assert "50.0%（1/2）" in page  # timeliness card: W2 met, W1 breached
    assert "未达标" in page


def test_xlsx_text_is_never_a_formula(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    r = run_sla("2026-10", hostile_inbox(inbox), D(2026, 10, 31, 18), RULES_TEXT)
    out = write_sla_xlsx(r, tmp_path / "sla.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["月度目标", "时限明细", "预警", "合规检查", "备件对账", "检查项", "服务用语", "服务站台账", "二次索赔按供应商", "数据隔离"]
    ws = wb["月度目标"]
    teams = [c.value for c in ws["C"]]
    assert """'=HYPERLINK("http://x")""" in teams  # neutralised like payroll.csv
    cell = next(c for c in ws["C"] if c.value == """'=HYPERLINK("http://x")""")
    assert cell.data_type == "s"
    detail = wb["时限明细"]
    header = [c.value for c in detail[1]]
    row = {h: c.value for h, c in zip(header, detail[2])}
    assert row["编号"] == "W1" and row["状态"] == "超时" and row["期限"] == D(2026, 10, 6, 9)
    assert detail.freeze_panes == "A2" and detail.auto_filter.ref is not None
    assert all(h and h.isascii() is False for h in header)  # Chinese headers everywhere


def test_issue12_sheets_have_chinese_headers(tmp_path):
    from pipelines.sla.sample import generate_sla

    generate_sla("2026-10", tmp_path / "in", seed=7)
    r = run_sla("2026-10", tmp_path / "in", None, RULES_TEXT)
    wb = openpyxl.load_workbook(write_sla_xlsx(r, tmp_path / "sla.xlsx"))
    for name in ("时限明细", "检查项", "服务用语", "服务站台账", "二次索赔按供应商"):
        header = [c.value for c in wb[name][1]]
        assert all(h and not h.isascii() for h in header), (name, header)
    page = render_sla_report(r, "2026-10")
    assert "检查项" in page and "服务站台账" in page and "B-RUDE" in page
