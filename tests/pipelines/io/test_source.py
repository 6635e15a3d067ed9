"""Encoding detection, CSV delimiter sniffing, raw grids and header finding."""

import codecs

import pytest

from pipelines.io.encoding import UndecodableFile, decode, detect_encoding
from pipelines.io.headers import find_header_row, headed_frame, norm_header
from pipelines.io.source import SourceFile, sniff_delimiter

TEXT = "订单编号,退款编号 ,买家退款金额\n=\"3012345678901234567\",\t5012,12.50\n"


@pytest.mark.parametrize(
    "data,enc",
    [
        (TEXT.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "utf-8-sig"),
        (TEXT.encode("gbk"), "gb18030"),
        (TEXT.encode("gb18030"), "gb18030"),
    ],
)
def test_encodings_detected_and_decoded(data, enc):
    assert detect_encoding(data) == enc
    assert decode(data)[0] == TEXT


def test_chunked_decode_across_chunk_boundaries(monkeypatch):
    import pipelines.io.encoding as e

    monkeypatch.setattr(e, "CHUNK", 7)  # split multi-byte characters between chunks
    data = ("退款成功，买家已退货。" * 50).encode("gbk")
    assert decode(data, "gb18030")[0] == "退款成功，买家已退货。" * 50


def test_binary_is_undecodable():
    with pytest.raises(UndecodableFile):
        decode(bytes(range(128, 256)) * 8)


def test_delimiter_not_fooled_by_tab_prefixed_ids():
    assert sniff_delimiter('a,b\n\t301,x\n\t302,y\n\t303,z\n') == ","
    assert sniff_delimiter("a\tb\tc\n1\t2\t3\n") == "\t"
    assert sniff_delimiter("报表标题\n\na;b\n1;2\n3;4\n") == ";"


def test_grid_keeps_source_rows_and_finds_header_below_titles(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes("钉钉考勤 月度汇总\n导出时间: 2026-11-01\n 姓名 ,部门,迟到次数（次）\n张三,售后,1\n\n李四,售后,0\n".encode("gbk"))
    src = SourceFile(p)
    assert src.format == "text" and src.encoding == "gb18030"
    grid = src.sheets()[""]
    assert grid["_row"].to_list() == [1, 2, 3, 4, 5, 6]
    assert find_header_row(grid, {"姓名", "部门"}) == 2
    df = headed_frame(grid, {"姓名", "部门", "迟到次数(次)"})
    assert df.columns[:3] == ["姓名", "部门", "迟到次数(次)"]
    assert df["姓名"].to_list() == ["张三", "李四"]
    assert df["_row"].to_list() == [4, 6]  # the blank line is layout, not a record


def test_norm_header_folds_full_width_and_spaces():
    assert norm_header(" 平均响应时长（秒） ") == "平均响应时长(秒)"
    assert norm_header("\ufeff订单编号") == "订单编号"


def test_xlsx_rows_are_absolute_even_with_blank_top_rows(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["B3"] = "标题"
    ws["A5"], ws["B5"] = "姓名", "部门"
    ws["A6"], ws["B6"] = "张三", "售后"
    wb.save(tmp_path / "t.xlsx")
    grid = SourceFile(tmp_path / "t.xlsx").sheets()["Sheet"]
    assert grid.filter(grid["c0"] == "张三")["_row"].to_list() == [6]
    assert SourceFile(tmp_path / "t.xlsx").format == "xlsx"
