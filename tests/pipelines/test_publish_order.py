"""The publish inserts what it keeps in DuckDB (the small tables) in the order of the build's
parts, every row once, and replaces a month instead of adding to it. The big tables
(messages: analytics numbers them in their stored order) are the build's files, in order:
tests/pipelines/test_table_files.py."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from pipelines import publish


def _parts(tmp_path: Path, n: int = 400_000, parts: int = 4) -> list[Path]:
    order = pl.Series("seq", range(n)).shuffle(seed=7)  # not sorted by anything
    df = pl.DataFrame({"month": ["2026-10"] * n, "shop_key": [""] * n, "seq": order,
                       "text": pl.Series(range(n)).cast(pl.String)})
    files = []
    for i in range(parts):
        f = tmp_path / f"part-{i:05d}.parquet"
        df.slice(i * n // parts, n // parts).write_parquet(f, row_group_size=20_000)
        files.append(f)
    return files


def _published(tmp_path: Path, table: str, files: list[Path]) -> list[int]:
    wh = tmp_path / f"{table}.duckdb"
    with publish._write_connection(wh, spill_to=tmp_path / "spill") as con:
        con.execute("BEGIN")
        publish._replace_month_from_parquet(con, table, "2026-10", "", files)
        con.execute("COMMIT")
    with duckdb.connect(str(wh), read_only=True) as con:
        return [r[0] for r in con.execute(f'SELECT seq FROM "{table}"').fetchall()]


def test_rows_keep_their_order(tmp_path: Path) -> None:
    files = _parts(tmp_path)
    want = pl.read_parquet(files)["seq"].to_list()
    assert _published(tmp_path, "ratings", files) == want  # a staged table
    assert _published(tmp_path, "agent_day_metrics", files) == want  # a mart


def test_a_month_is_replaced_not_added(tmp_path: Path) -> None:
    files = _parts(tmp_path, n=1000, parts=2)
    wh = tmp_path / "w.duckdb"
    for _ in range(2):
        with publish._write_connection(wh) as con:
            con.execute("BEGIN")
            publish._replace_month_from_parquet(con, "kpi_items", "2026-10", "", files)
            con.execute("COMMIT")
    with duckdb.connect(str(wh), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT seq) FROM kpi_items").fetchone() == (1000, 1000)
