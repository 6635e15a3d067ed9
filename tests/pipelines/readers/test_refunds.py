"""退款管理 reader: same rows as UTF-8-BOM CSV, GBK CSV and XLSX give one frame."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines.io.source import SourceFile
from pipelines.readers import get

FIX = Path(__file__).parent / "fixtures" / "tables"
BASIC = FIX / "refunds__basic.csv"


def _grid_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _write_xlsx(path: Path, rows: list[list[str]], sheet: str = "退款管理", title: str | None = None) -> Path:
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(sheet)
    r0 = 0
    if title:
        ws.write_string(0, 0, title)
        r0 = 1
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v != "":
                ws.write_string(r0 + i, j, v)  # strings, so '="..."' is not taken as a formula
    wb.close()
    return path


@pytest.fixture(scope="module")
def variants(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("refunds")
    text = BASIC.read_text(encoding="utf-8-sig")
    gbk = d / "refunds_gbk.csv"
    gbk.write_bytes(text.encode("gbk"))
    return {"bom": BASIC, "gbk": gbk, "xlsx": _write_xlsx(d / "refunds.xlsx", _grid_of(BASIC))}


def _read(path: Path) -> pl.DataFrame:
    (batch,) = get("refunds").read(SourceFile(path))
    assert batch.kind == "refunds"
    return batch.frame


def test_encodings_detected(variants):
    assert SourceFile(variants["bom"]).encoding == "utf-8-sig"
    assert SourceFile(variants["gbk"]).encoding == "gb18030"
    assert SourceFile(variants["xlsx"]).format == "xlsx"


def test_bom_gbk_xlsx_give_identical_frames(variants):
    frames = {k: _read(p) for k, p in variants.items()}
    assert frames["bom"]["source_sheet"].to_list() == [None] * 3
    assert frames["xlsx"]["source_sheet"].to_list() == ["退款管理"] * 3
    base = frames["bom"].drop("source_sheet")
    for k in ("gbk", "xlsx"):
        assert frames[k].drop("source_sheet").equals(base), k


def test_mapping_and_light_normalisation(variants):
    f = _read(variants["bom"])
    assert f["source_row"].to_list() == [2, 3, 4]
    r1, r2, r3 = f.to_dicts()
    # ids passed through with their Excel wrappers for the stager to un-wrap
    assert r1["order_id"] == '="3012345678901234567"'
    assert r1["refund_id"] == "'112233445566778899"
    assert r2["order_id"] == "\t3012345678901234568"
    # headers with trailing spaces are matched
    assert (r1["status"], r1["refund_amount"], r1["operator"]) == ("退款成功", "1299.00", "优品家居旗舰店:小美")
    # 需要/不需要 -> 是/否
    assert [r["needs_return"] for r in (r1, r2, r3)] == ["是", "否", "否"]
    # completed_at = 退款完结时间, else 完结时间
    assert r1["completed_at"] == "2026-10-06 11:00:00"
    assert r2["completed_at"] == "2026-10-08 10:00:00"
    assert r3["completed_at"] is None
    # the bad date stays raw so staging rejects it
    assert r3["applied_at"] == "2026-10-32 25:00:00"
    # private seller columns are never staged
    assert not {"卖家真实姓名", "卖家电话", "卖家退货地址"} & set(f.columns)
    assert set(f.columns) - {"source_row", "source_sheet"} <= {
        "refund_id", "order_id", "alipay_trade_no", "buyer", "order_paid_at", "paid_amount", "refund_amount", "title",
        "refund_kind", "needs_return", "applied_at", "timeout_at", "status", "goods_status", "cs_intervention", "reason",
        "description", "responsibility", "phase", "completed_at", "full_or_partial", "reviewer", "operator"}


def test_title_row_above_header(tmp_path):
    rows = _grid_of(BASIC)
    f = _read(_write_xlsx(tmp_path / "t.xlsx", rows, "Sheet1", title="退款管理 导出时间 2026-11-01"))
    assert f.height == 3
    assert f["source_row"].to_list() == [3, 4, 5]
    assert f["refund_id"][1] == "112233445566778900"


def test_staged_identically_and_bad_row_quarantined(variants):
    stage = pytest.importorskip("pipelines.staging.stage")
    staged = {}
    for k, p in variants.items():
        loaded, quarantine, counts = stage.stage_batch("refunds", _read(p), "2026-10", p.name)
        assert counts.balanced and (counts.loaded, counts.quarantined) == (2, 1)
        assert quarantine["source_row"].to_list() == [4]
        assert "退款的申请时间" in quarantine["reason"][0]
        staged[k] = loaded.drop("source_file", "source_sheet")
    assert staged["gbk"].equals(staged["bom"]) and staged["xlsx"].equals(staged["bom"])
    r1, r2 = staged["bom"].to_dicts()
    assert (r1["order_id"], r1["refund_id"], r1["alipay_trade_no"]) == ("3012345678901234567", "112233445566778899", "2026100322001400001234567890")
    assert r2["order_id"] == "3012345678901234568"
    assert (r1["needs_return"], r2["needs_return"]) == (True, False)
    assert r2["refund_amount"] == Decimal("10.00")
    assert r2["applied_at"] == datetime(2026, 10, 7, 14, 20)
    assert r2["completed_at"] == datetime(2026, 10, 8, 10, 0)


def test_order_sheet_in_same_workbook_is_not_read_as_refunds(tmp_path):
    p = tmp_path / "mixed.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("订单")
    ws.write_row(0, 0, ["订单编号", "买家会员名", "买家实际支付金额", "订单付款时间", "宝贝标题", "订单创建时间"])
    ws.write_row(1, 0, ["3012345678901234567", "tb_buyer1", "10.00", "2026-10-01 10:00:00", "杯子", "2026-10-01 09:59:00"])
    ws = wb.add_worksheet("退款")
    for i, row in enumerate(_grid_of(BASIC)[:2]):
        for j, v in enumerate(row):
            if v:
                ws.write_string(i, j, v)
    wb.close()
    f = _read(p)
    assert f["source_sheet"].to_list() == ["退款"]
    assert f["refund_id"].to_list() == ["'112233445566778899"]
