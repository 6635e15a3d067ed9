"""Warehouse: month replacement is atomic and idempotent; read API."""

from datetime import datetime

import polars as pl
import pytest

from pipelines import warehouse


def run(month="2026-10"):
    return warehouse.RunRecord(month, "ingest", datetime(2026, 11, 1, 2, 0))


def frame(vals, month="2026-10"):
    return pl.DataFrame({"k": vals, "month": [month] * len(vals)})


def test_replace_month_is_idempotent_and_keeps_other_months(tmp_path):
    wh = tmp_path / "w.duckdb"
    warehouse.replace_month(wh, "2026-09", {"t": frame([1], "2026-09")}, run("2026-09"))
    for _ in range(2):
        warehouse.replace_month(wh, "2026-10", {"t": frame([1, 2])}, run())
    assert warehouse.read("t", path=wh).sort("month", "k").rows() == [(1, "2026-09"), (1, "2026-10"), (2, "2026-10")]
    assert warehouse.read("t", month="2026-10", path=wh)["k"].to_list() == [1, 2]
    assert warehouse.read("runs", path=wh).height == 3
    assert warehouse.read("t", month="2026-10", path=wh, as_="pandas").shape == (2, 2)


def test_failure_part_way_leaves_previous_state(tmp_path):
    wh = tmp_path / "w.duckdb"
    warehouse.replace_month(wh, "2026-10", {"a": frame([1]), "b": frame([1])}, run())
    bad = pl.DataFrame({"k": ["not an int"], "month": ["2026-10"]})  # b.k is BIGINT: insert fails
    with pytest.raises(Exception):
        warehouse.replace_month(wh, "2026-10", {"a": frame([7, 8, 9]), "b": bad}, run())
    assert warehouse.read("a", path=wh)["k"].to_list() == [1]
    assert warehouse.read("b", path=wh)["k"].to_list() == [1]
    assert warehouse.read("runs", path=wh).height == 1


def test_new_columns_are_added(tmp_path):
    wh = tmp_path / "w.duckdb"
    warehouse.replace_month(wh, "2026-09", {"t": frame([1], "2026-09")}, run("2026-09"))
    warehouse.replace_month(wh, "2026-10", {"t": frame([2]).with_columns(pl.lit("x").alias("extra"))}, run())
    assert warehouse.read("t", month="2026-10", path=wh)["extra"].to_list() == ["x"]


def test_read_missing_table_or_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        warehouse.read("t", path=tmp_path / "none.duckdb")
    wh = tmp_path / "w.duckdb"
    warehouse.replace_month(wh, "2026-10", {"t": frame([1])}, run())
    with pytest.raises(KeyError, match="no table 'nope'"):
        warehouse.read("nope", path=wh)
