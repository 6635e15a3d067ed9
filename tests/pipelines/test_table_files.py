"""The big tables are stored as the build's Parquet files beside the warehouse, read through a
view of the table's name (pipelines/table_files.py): same rows, same order, months replaced
not added, older warehouses' base tables moved to files, a moved warehouse still reads."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import publish, table_files, warehouse
from pipelines.publish import MonthBuild

SHOPLESS = ""


def _messages(month: str, n: int, seed: int) -> pl.DataFrame:
    """Staged-message-shaped rows in no sorted order (``seq`` says the order they came in)."""
    seq = pl.Series("seq", range(n)).shuffle(seed=seed)
    return pl.DataFrame({"month": [month] * n, "seq": seq, "text": seq.cast(pl.String) + "条"})


def _build(tmp_path: Path, wh: Path, month: str, frames: dict[str, list[pl.DataFrame]], shop: str = SHOPLESS) -> MonthBuild:
    """A build whose tables are the given parts (written like MonthBuild.write_part, without
    the contract check: these frames are not real tables)."""
    b = MonthBuild(month, wh, tmp_path / "out", shop=shop)
    for table, parts in frames.items():
        folder = b.tables_dir / table
        folder.mkdir()
        for i, part in enumerate(parts):
            part.with_columns(pl.lit(shop).alias("shop_key")).write_parquet(folder / f"part-{i:05d}.parquet")
        b.replaced[table] = folder
    return b


def _seq(wh: Path, table: str, month: str, shop: str = SHOPLESS) -> list[int]:
    return warehouse.read(table, month=month, path=wh, shop=shop)["seq"].to_list()


def _base_tables(wh: Path) -> set[str]:
    with duckdb.connect(str(wh), read_only=True) as con:
        return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()}


def test_a_big_table_is_its_files_in_order_and_a_month_is_replaced(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    sep, octo = _messages("2026-09", 1000, 1), _messages("2026-10", 3000, 2)
    _build(tmp_path, wh, "2026-09", {"messages": [sep]}).publish()
    _build(tmp_path, wh, "2026-10", {"messages": [octo.slice(0, 1000), octo.slice(1000, 2000)],
                                     "ratings": [octo.head(10)]}).publish()
    assert "messages" in table_files.FILE_TABLES and "ratings" not in table_files.FILE_TABLES
    assert _seq(wh, "messages", "2026-10") == octo["seq"].to_list()  # the stored order, not sorted
    assert _seq(wh, "messages", "2026-09") == sep["seq"].to_list()
    assert "messages" not in _base_tables(wh) and "ratings" in _base_tables(wh)
    stored = sorted(table_files.files_dir(wh).rglob("*.parquet"))
    assert len(stored) == 3

    again = _messages("2026-10", 500, 3)  # a re-run of October: replaced, not added
    _build(tmp_path, wh, "2026-10", {"messages": [again]}).publish()
    assert _seq(wh, "messages", "2026-10") == again["seq"].to_list()
    assert _seq(wh, "messages", "2026-09") == sep["seq"].to_list()
    # the superseded October files are gone; September's and the new one stay
    assert len(list(table_files.files_dir(wh).rglob("*.parquet"))) == 2
    assert warehouse.read("messages", path=wh).height == 1500
    with duckdb.connect(str(wh), read_only=True) as con:  # a plain DuckDB client reads the view too
        assert con.execute("SELECT count(*) FROM messages WHERE month = '2026-10'").fetchone() == (500,)


def test_shops_of_one_warehouse_keep_their_own_files(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    a, b = _messages("2026-10", 300, 1), _messages("2026-10", 200, 2)
    _build(tmp_path, wh, "2026-10", {"questions": [a]}, shop="店A").publish()
    _build(tmp_path, wh, "2026-10", {"questions": [b]}, shop="店B").publish()
    _build(tmp_path, wh, "2026-10", {"questions": [a.head(5)]}, shop="店A").publish()
    assert _seq(wh, "questions", "2026-10", shop="店A") == a.head(5)["seq"].to_list()
    assert _seq(wh, "questions", "2026-10", shop="店B") == b["seq"].to_list()


def test_a_failed_publish_leaves_the_previous_month_and_its_files_are_swept_later(tmp_path: Path, monkeypatch) -> None:
    wh = tmp_path / "w.duckdb"
    old = _messages("2026-10", 100, 1)
    _build(tmp_path, wh, "2026-10", {"messages": [old]}).publish()

    def boom(name: str) -> None:
        if name == "before-commit":
            raise RuntimeError("killed")

    monkeypatch.setattr(publish, "pause_point", boom)
    with pytest.raises(RuntimeError):
        _build(tmp_path, wh, "2026-10", {"messages": [_messages("2026-10", 7, 2)], "ratings": [old.head(3)]}).publish()
    monkeypatch.undo()
    assert _seq(wh, "messages", "2026-10") == old["seq"].to_list()
    assert "ratings" not in warehouse.tables(wh)
    assert len(list(table_files.files_dir(wh).rglob("*.parquet"))) == 2  # the dead run's file, unreferenced

    new = _messages("2026-11", 10, 3)
    _build(tmp_path, wh, "2026-11", {"messages": [new]}).publish()
    assert _seq(wh, "messages", "2026-10") == old["seq"].to_list()
    assert len(list(table_files.files_dir(wh).rglob("*.parquet"))) == 2  # October's and November's


def test_an_older_warehouses_table_moves_to_files_in_the_first_publish(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    sep, octo = _messages("2026-09", 400, 1), _messages("2026-10", 50, 2)
    with warehouse.connect(wh) as con:  # as an earlier version stored it: a base table, no shop key
        con.register("sep", sep.vstack(octo))
        con.execute("CREATE TABLE text_hits AS SELECT * FROM sep")
    new = _messages("2026-10", 20, 3)
    _build(tmp_path, wh, "2026-10", {"text_hits": [new]}).publish()
    assert "text_hits" not in _base_tables(wh)
    assert _seq(wh, "text_hits", "2026-09") == sep["seq"].to_list()
    assert _seq(wh, "text_hits", "2026-10") == new["seq"].to_list()
    assert warehouse.read("text_hits", path=wh).height == 420


def test_a_moved_warehouse_reads_its_own_files(tmp_path: Path) -> None:
    wh = tmp_path / "a" / "w.duckdb"
    wh.parent.mkdir()
    msgs = _messages("2026-10", 100, 1)
    _build(tmp_path, wh, "2026-10", {"messages": [msgs]}).publish()
    moved = tmp_path / "b" / "w.duckdb"
    shutil.copytree(wh.parent, moved.parent)
    shutil.rmtree(wh.parent)
    assert _seq(moved, "messages", "2026-10") == msgs["seq"].to_list()  # read-only: temporary views
    assert warehouse.tables(moved).count("messages") == 1
    with warehouse.connect(moved):  # a write connection re-points the stored views
        pass
    with duckdb.connect(str(moved), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM messages").fetchone() == (100,)


def test_a_copy_of_the_duckdb_file_alone_reads_the_originals_files_and_writes_its_own(tmp_path: Path) -> None:
    wh = tmp_path / "a" / "w.duckdb"
    wh.parent.mkdir()
    msgs = _messages("2026-10", 100, 1)
    _build(tmp_path, wh, "2026-10", {"messages": [msgs], "questions": [msgs.head(3)]}).publish()
    copy = tmp_path / "b" / "w.duckdb"
    copy.parent.mkdir()
    shutil.copy(wh, copy)
    assert _seq(copy, "messages", "2026-10") == msgs["seq"].to_list()
    _build(tmp_path, copy, "2026-10", {"questions": [msgs.head(5)]}).publish()
    assert _seq(copy, "questions", "2026-10") == msgs.head(5)["seq"].to_list()
    assert _seq(wh, "questions", "2026-10") == msgs.head(3)["seq"].to_list()  # the original is untouched
    assert _seq(copy, "messages", "2026-10") == msgs["seq"].to_list()


def test_missing_files_are_one_clear_error(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    _build(tmp_path, wh, "2026-10", {"messages": [_messages("2026-10", 10, 1)]}).publish()
    shutil.rmtree(table_files.files_dir(wh))
    with pytest.raises(warehouse.MissingTableFiles, match="大表文件缺失"):
        warehouse.read("messages", month="2026-10", path=wh)
    assert isinstance(warehouse.MissingTableFiles("x"), OSError)  # the CLI's user_errors says it in one line


def test_a_run_reads_a_committed_big_table_from_its_stored_files(tmp_path: Path) -> None:
    wh = tmp_path / "w.duckdb"
    sep, octo = _messages("2026-09", 50, 1), _messages("2026-10", 80, 2)
    _build(tmp_path, wh, "2026-10", {"messages": [octo.slice(0, 30), octo.slice(30, 50)]}).publish()
    b = MonthBuild("2026-10", wh, tmp_path / "out")
    files = b.parts("messages")
    assert [f.parent.parent.parent.parent for f in files] == [table_files.files_dir(wh) / "messages"] * 2  # no export
    assert b.scan("messages").collect()["seq"].to_list() == octo["seq"].to_list()
    b.discard()
    # a later month with a column more: October's files no longer read as the view does -> exported
    _build(tmp_path, wh, "2026-11", {"messages": [sep.with_columns(pl.lit(1).alias("extra"))]}).publish()
    b = MonthBuild("2026-10", wh, tmp_path / "out")
    files = b.parts("messages")
    assert len(files) == 1 and files[0].is_relative_to(b.dir)
    got = b.scan("messages").collect()
    assert got["seq"].to_list() == octo["seq"].to_list() and got["extra"].null_count() == 80
    b.discard()
