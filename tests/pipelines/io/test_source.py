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


def _csv_module_grid(text: str, delim: str = ","):
    import csv
    import io

    import polars as pl

    from pipelines.io.source import _grid

    g = _grid(list(csv.reader(io.StringIO(text), delimiter=delim)))
    return g.with_columns(pl.all().exclude("_row").replace("", None))  # empty cells are null in both paths


CSV_VARIANTS = [
    "退款报表 2026-10\n导出时间: 2026-11-01\n\n退款编号,订单编号 ,买家退款金额\n=\"5012\",=\"3012345678901234567\",12.50\n"
    "\"R2\",\"a,b\nc\",\n短行\n,,\n合计,,30\n",  # title rows, blank line, Excel-wrapped ids, quoted newline, short row, summary
    "a,b\r\nc,\"d\"\"e\"\r\n",  # CRLF, doubled quotes
    "x\ty\tz\n1\t\t3\n",  # tab
    "a, \"b\",c\nd,b\"\"c,e\n=\"1\"\"2\",x,y",  # space before quote, quotes inside unquoted fields, no final newline
]
FALLBACK_VARIANTS = [
    "a,b\n1,2,3\n",  # a row wider than the sampled rows
    "a,\"b\"c,d\n",  # text after a closing quote
    "\"unterminated,a\nb,c\n",
    "a\"b,c,d\n",
]


@pytest.mark.parametrize("text", CSV_VARIANTS + FALLBACK_VARIANTS)
def test_csv_grid_equals_the_csv_module_grid(tmp_path, text):
    """polars parses the CSV (fast path) or declines; either way the grid is the csv module's."""
    from polars.testing import assert_frame_equal

    p = tmp_path / "t.csv"
    p.write_bytes(text.encode("gbk"))
    src = SourceFile(p)
    delim = sniff_delimiter(text)
    assert_frame_equal(src.csv_grid, _csv_module_grid(text, delim))


@pytest.mark.parametrize("text", CSV_VARIANTS)
def test_fast_path_taken_for_ordinary_exports(text):
    from pipelines.io.source import _polars_grid

    assert _polars_grid(text.encode("utf-8"), text, sniff_delimiter(text)) is not None


@pytest.mark.parametrize("text", FALLBACK_VARIANTS + ["a,b\rc,d\r"])  # + lone CR line breaks
def test_fast_path_declines_where_polars_would_differ(text):
    from pipelines.io.source import _polars_grid

    sample = text.split("\n")[0]  # the sample sees only the first row (a wider row comes later)
    assert _polars_grid(text.encode("utf-8"), sample, sniff_delimiter(text)) is None
