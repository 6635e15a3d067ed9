"""订单报表 readers (classic / new) and the sniff matrix of all table readers."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter

from pipelines.io.source import SourceFile
from pipelines.readers import get

FIX = Path(__file__).parent / "fixtures" / "tables"
CLASSIC = FIX / "orders_classic__title_wrapped.csv"
NEW = FIX / "orders_new__basic.csv"

TABLE_LAYOUTS = (
    "orders_classic", "orders_new", "refunds", "dingtalk_attendance", "supervisor_workbook", "stats_sycm", "stats_chitu",
)
PRIVATE = {"收货人姓名", "收货地址", "联系电话", "联系手机", "receiver", "address", "phone"}


def _read(layout: str, path: Path):
    (batch,) = get(layout).read(SourceFile(path))
    assert batch.kind == "orders"
    return batch.frame


def test_classic_below_title_row_with_wrapped_ids():
    f = _read("orders_classic", CLASSIC)
    assert f["source_row"].to_list() == [3, 4, 5]  # row 1 title, row 2 header
    assert f["layout"].to_list() == ["classic"] * 3
    # ids keep their Excel wrappers: the stager un-wraps them
    assert f["order_id"].to_list() == ['="3012345678901234567"', "'3012345678901234568", "\t3012345678901234569"]
    r1 = f.row(0, named=True)
    assert (r1["buyer"], r1["shop"], r1["status"], r1["title"], r1["quantity"]) == ("tb_buyer1", "优品家居旗舰店", "交易成功", "北欧实木餐桌", "1")
    assert (r1["total_amount"], r1["paid_amount"]) == ("1299.00", "1299.00")  # '¥1,299.00' cleaned
    assert (r1["created_at"], r1["paid_at"]) == ("2026-10-03 10:15:00", "2026-10-03 10:16:02")  # '订单付款时间 ' trimmed
    assert f["created_at"][2] == "2026-10-40 12:00:00"  # bad date passed raw: staging rejects it
    assert f["paid_at"][2] is None
    assert not PRIVATE & set(f.columns)


def test_new_layout_gbk():
    assert SourceFile(NEW).encoding == "gb18030"
    f = _read("orders_new", NEW)
    assert f["layout"].to_list() == ["new", "new"]
    r1, r2 = f.to_dicts()
    assert r1["payment_id"] == '="2026100322001400001234567890"'
    assert (r1["paid_amount"], r1["title"], r1["shipped_at"]) == ("199.00", "记忆棉枕头", "2026-10-09 14:00:00")
    assert (r2["order_id"], r2["quantity"], r2["shipped_at"]) == ("3098765432109876544", "3", None)
    assert not PRIVATE & set(f.columns)


def test_new_layout_xlsx_with_title(tmp_path):
    rows = list(csv.reader(io.StringIO(NEW.read_text(encoding="gbk"))))
    p = tmp_path / "orders.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    ws = wb.add_worksheet("订单报表")
    ws.write_string(0, 0, "订单报表(新版) 2026-10")
    for i, row in enumerate(rows):
        for j, v in enumerate(row):
            if v:
                ws.write_string(i + 2, j, v)  # a blank row between title and header too
    wb.close()
    src = SourceFile(p)
    assert get("orders_new").sniff(src) >= 0.5 > get("orders_classic").sniff(src)
    f = _read("orders_new", p)
    assert f["source_row"].to_list() == [4, 5]
    assert f["source_sheet"].to_list() == ["订单报表", "订单报表"]
    assert f["order_id"][1] == "3098765432109876544"


def test_staged_orders_unwrap_ids_and_quarantine_bad_date():
    stage = pytest.importorskip("pipelines.staging.stage")
    loaded, quarantine, counts = stage.stage_batch("orders", _read("orders_classic", CLASSIC), "2026-10", CLASSIC.name)
    assert counts.balanced and (counts.loaded, counts.quarantined) == (2, 1)
    assert loaded["order_id"].to_list() == ["3012345678901234567", "3012345678901234568"]
    assert loaded["total_amount"].to_list() == [Decimal("1299.00"), Decimal("99.90")]
    assert loaded["created_at"][1] == datetime(2026, 10, 5, 9, 3)
    assert quarantine["source_row"].to_list() == [5]
    assert "订单创建时间" in quarantine["reason"][0]


# ---------------------------------------------------------------- sniff matrix
def _fixtures():
    return sorted(p for p in FIX.iterdir() if p.suffix in (".csv", ".xlsx"))


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: p.name)
def test_sniff_matrix(path: Path):
    """Each fixture is recognised (>= 0.5) by exactly the reader its name says."""
    expected = path.name.split("__")[0]
    src = SourceFile(path)
    scores = {layout: get(layout).sniff(src) for layout in TABLE_LAYOUTS}
    winners = {k for k, v in scores.items() if v >= 0.5}
    assert winners == {expected}, scores


def test_sniff_matrix_covers_every_table_reader():
    assert {p.name.split("__")[0] for p in _fixtures()} == set(TABLE_LAYOUTS)


def test_template_and_chat_files_not_taken(tmp_path):
    from pipelines.templates import write_supervisor_template

    tpl = SourceFile(write_supervisor_template(tmp_path / "tpl.xlsx"))
    assert {k for k in TABLE_LAYOUTS if get(k).sniff(tpl) >= 0.5} == {"supervisor_workbook"}
    chat = tmp_path / "chat.txt"
    chat.write_text("优品家居旗舰店:小美 2026-10-01 10:00:00\n您好，在的\n已读\n", encoding="utf-8")
    js = tmp_path / "chat.json"
    js.write_text('{"user": "a", "chats": []}', encoding="utf-8")
    for p in (chat, js):
        src = SourceFile(p)
        assert all(get(k).sniff(src) < 0.5 for k in TABLE_LAYOUTS), p
