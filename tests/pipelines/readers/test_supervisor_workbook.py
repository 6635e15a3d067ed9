"""主管填报表 reader (sheets recognised by headers) and the shipped template."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from pipelines.io.source import SourceFile
from pipelines.readers import get
from pipelines.staging.schemas import GRADES, ROLES
from pipelines.templates import write_supervisor_template

ROOT = Path(__file__).resolve().parents[3]
FIX = Path(__file__).parent / "fixtures" / "tables"
FULL = FIX / "supervisor_workbook__full.xlsx"
COMPLAINTS_CSV = FIX / "supervisor_workbook__complaints.csv"


def _batches(path: Path) -> dict:
    return {b.kind: b.frame for b in get("supervisor_workbook").read(SourceFile(path))}


def test_full_workbook_by_headers_not_sheet_names():
    b = _batches(FULL)
    assert set(b) == {"roster", "ratings", "complaints", "reviews"}  # 说明 ignored
    roster = b["roster"]
    assert roster.select("agent_account", "name", "role", "dingtalk_name", "joined_on").rows() == [
        ("优品家居旗舰店:小美", "王美", "高级售后客服", "王美美", "2025-03-01"),
        ("优品家居旗舰店:小王", "王强", "普通售后客服", "王强", "2026-09-15"),  # blank 钉钉姓名 = 姓名; Excel date cell
    ]
    assert roster["source_sheet"].to_list() == ["名单", "名单"]
    ratings = b["ratings"]
    assert ratings["source_row"].to_list() == [3, 4, 5]  # title row above the header
    assert ratings["rating_month"].to_list() == ["2026-10", "2026-10", "十月"]
    assert ratings["_reason"].to_list() == [None, None, "月份格式无法识别（应为 YYYY-MM，如 2026-10）"]
    assert ratings.row(0, named=True) | {} == {
        "rating_month": "2026-10", "agent_account": "优品家居旗舰店:小美", "cooperation": "优", "execution": "良",
        "quality_override": None, "complaint_override": None, "outstanding_bonus": "3", "note": "主动带新人",
        "source_row": 3, "source_sheet": "Sheet2", "_reason": None,
    }
    c = b["complaints"].row(0, named=True)
    assert (c["complaint_id"], c["kind"], c["order_id"], c["platform_intervened"], c["verified"], c["deduction"]) == (
        "TS-101", "维权", "'3012345678901234567", "是", "是", "10")
    r = b["reviews"]
    assert r.select("review_id", "kind", "after_sales", "confirmed").rows() == [("PJ-1", "低质评价", "是", None), ("PJ-2", "表扬", None, "是")]


def test_single_sheet_csv():
    b = _batches(COMPLAINTS_CSV)
    assert set(b) == {"complaints"}
    f = b["complaints"]
    assert f["complaint_id"].to_list() == ["TS-001", "TS-002", "TS-003"]
    assert f["order_id"][0] == '="3012345678901234567"'
    assert f["deduction"].to_list() == [None, "10", None]  # '10分' -> '10'
    assert f["received_at"][2] == "昨天下午"  # raw: staging rejects it


def test_staging_of_workbook_rows():
    stage = pytest.importorskip("pipelines.staging.stage")
    b = _batches(COMPLAINTS_CSV)
    loaded, quarantine, counts = stage.stage_batch("complaints", b["complaints"], "2026-10", COMPLAINTS_CSV.name)
    assert (counts.loaded, counts.quarantined) == (2, 1)
    assert loaded["order_id"].to_list() == ["3012345678901234567", "3012345678901234599"]
    assert loaded["verified"].to_list() == [False, True] and loaded["deduction"].to_list() == [None, 10]
    assert quarantine["source_row"].to_list() == [4] and "发生时间" in quarantine["reason"][0]
    b = _batches(FULL)
    loaded, quarantine, counts = stage.stage_batch("ratings", b["ratings"], "2026-10", FULL.name)
    assert loaded["agent_account"].to_list() == ["优品家居旗舰店:小美", "优品家居旗舰店:小王"]
    assert quarantine["reason"].to_list() == ["月份格式无法识别（应为 YYYY-MM，如 2026-10）"]


def test_template_is_read_back_and_has_dropdowns(tmp_path):
    p = write_supervisor_template(tmp_path / "tpl.xlsx")
    wb = openpyxl.load_workbook(p)
    assert wb.sheetnames == ["客服名单", "主管评分", "投诉维权", "评价", "说明"]
    assert [c.value for c in wb["投诉维权"][1]] == ["编号", "类型", "客服账号", "买家", "订单编号", "发生时间", "处理完成时间",
                                               "平台介入", "处理结果", "查实", "扣分", "备注"]
    lists = {}
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            if dv.type == "list":
                col = str(dv.sqref).split(":")[0].rstrip("0123456789")
                lists[(ws.title, ws[f"{col}1"].value)] = dv.formula1.strip('"').split(",")
    assert lists[("客服名单", "岗位")] == list(ROLES)
    assert lists[("主管评分", "配合度")] == list(GRADES)
    assert lists[("投诉维权", "查实")] == ["是", "否"]
    assert lists[("投诉维权", "类型")] == ["投诉", "维权", "举报", "退款纠纷"]
    assert lists[("评价", "类型")] == ["低质评价", "表扬"]
    # filled in like a supervisor would, the template reads back with every kind
    wb["客服名单"].append(["店:小美", "王美", "售后组长", "", None, None])
    wb["评价"].append(["PJ-9", "表扬", "店:小美", "", "", "2026-10-03 12:00", "", "是", "好"])
    wb.save(p)
    b = _batches(p)
    assert b["roster"].select("agent_account", "role", "dingtalk_name").rows() == [("店:小美", "售后组长", "王美")]
    assert b["reviews"]["confirmed"].to_list() == ["是"]
    assert b["ratings"].height == 0 and b["complaints"].height == 0


def test_shipped_template_matches_generator(tmp_path):
    shipped = ROOT / "data" / "templates" / "主管填报表模板.xlsx"
    fresh = write_supervisor_template(tmp_path / "t.xlsx")
    assert shipped.read_bytes() == fresh.read_bytes()
