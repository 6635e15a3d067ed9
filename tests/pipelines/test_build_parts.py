"""Tables written in parts (MonthBuild.write_part): read, scanned and published in order."""

from datetime import datetime

import polars as pl

from pipelines import warehouse
from pipelines.publish import MonthBuild, new_build

MONTH = "2026-10"


def _messages(n: int, start: int) -> pl.DataFrame:
    return pl.DataFrame({
        "shop": ["店"] * n, "agent_account": ["客服a"] * n, "buyer": [f"b{start + i}" for i in range(n)],
        "sender": ["客服a"] * n, "sender_role": ["agent"] * n,
        "sent_at": [datetime(2026, 10, 1, 9, 0, start + i) for i in range(n)],
        "text": [f"第{start + i}条" for i in range(n)], "is_auto_reply": [False] * n, "event": ["message"] * n,
        "transfer_from": [None] * n, "transfer_to": [None] * n, "transfer_reason": [None] * n,
        "read_status": [None] * n, "seq": list(range(start, start + n)),
        "source_file": ["chat.csv"] * n, "source_sheet": [None] * n, "source_row": list(range(start + 2, start + n + 2)),
    }).with_columns(pl.col("transfer_from", "transfer_to", "transfer_reason", "read_status", "source_sheet").cast(pl.String))


def test_parts_read_scan_and_publish_in_written_order(tmp_path):
    build = MonthBuild(MONTH, tmp_path / "w.duckdb", tmp_path / "out")
    build.write_part("messages", _messages(3, 0))
    build.write_part("messages", _messages(2, 3))
    assert len(build.parts("messages")) == 2
    assert build.read("messages")["seq"].to_list() == [0, 1, 2, 3, 4]
    assert build.scan("messages", ["buyer"]).collect()["buyer"].to_list() == ["b0", "b1", "b2", "b3", "b4"]
    build.publish()
    got = warehouse.read("messages", month=MONTH, path=tmp_path / "w.duckdb")
    assert got["seq"].to_list() == [0, 1, 2, 3, 4]


def test_started_table_without_parts_replaces_the_month_with_no_rows(tmp_path):
    wh, out = tmp_path / "w.duckdb", tmp_path / "out"
    first = MonthBuild(MONTH, wh, out)
    first.write("messages", _messages(4, 0))
    first.publish()
    second = new_build(MONTH, wh, out)
    second.start_parts("messages")
    assert second.read("messages").height == 0
    second.publish()
    assert warehouse.read("messages", month=MONTH, path=wh).height == 0


def test_committed_month_is_exported_to_parquet_once_for_parts(tmp_path):
    wh, out = tmp_path / "w.duckdb", tmp_path / "out"
    first = MonthBuild(MONTH, wh, out)
    first.write("messages", _messages(5, 0))
    first.publish()
    other = MonthBuild("2026-09", wh, out)
    other.write("messages", _messages(2, 10).with_columns(pl.col("sent_at").dt.offset_by("-1mo")))
    other.publish()
    build = new_build(MONTH, wh, out)
    files = build.parts("messages")
    assert len(files) == 1 and files == build.parts("messages")
    assert build.scan("messages", ["seq"]).collect()["seq"].to_list() == [0, 1, 2, 3, 4]
    assert "shop_key" not in build.scan("messages").collect_schema().names()
    assert build.parts("no_such_table") is None


def test_write_after_parts_replaces_them(tmp_path):
    build = MonthBuild(MONTH, tmp_path / "w.duckdb", tmp_path / "out")
    build.write_part("messages", _messages(3, 0))
    build.write("messages", _messages(1, 7))
    assert build.read("messages")["seq"].to_list() == [7]
    assert not (build.tables_dir / "messages").exists()
