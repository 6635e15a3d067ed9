"""The warehouse's big tables kept as Parquet files beside the DuckDB file, read through a view.

Copying a month's big tables into DuckDB was most of the publish (1M messages: 3 of 4.5 CPU s;
10M: ~30 of 40): DuckDB re-encodes every value it stores. The tables of :data:`FILE_TABLES`
grow with the messages; their month is stored as the build's Parquet parts themselves, under
``<warehouse>.files/<table>/<month>/<shop>/<run_id>/part-NNNNN.parquet`` (hard links of the
build's files, a copy across file systems), and the warehouse holds

* ``table_files``: one row per (table, month, shop_key): the run whose files it is and the
  files in order (relative to the files folder);
* a VIEW named like the table, with the table's columns, over the files of every month and
  shop: ``SELECT * FROM "messages" WHERE month = ...`` reads as before (row order within a
  month is the files' order), for the read API, notebooks and plain DuckDB alike.

The publish transaction replaces the month's row of ``table_files`` and the view: a run killed
before the commit leaves the previous files referenced and the new ones unreferenced; files
nobody references are removed after each commit (:func:`remove_unreferenced`). A warehouse
written before this layout has such a table as a base table: its rows are moved to files in
the first publish that writes the table (same transaction).

The view names absolute paths (any DuckDB client opens it from anywhere); a warehouse moved
or copied with its ``.files`` folder is re-pointed to it by :func:`pipelines.warehouse.connect`
(:func:`refresh_views`). A copy of the DuckDB file alone reads the original's files (a
shallow copy: it breaks for the months the original replaces later; its own publishes write
its own folder).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import polars as pl

# Big tables stored as files (the ones the build writes in parts, rows growing with the
# month's messages and orders, and kpi_evidence); the rest stay in DuckDB.
FILE_TABLES = frozenset({
    "messages", "orders", "refunds", "questions", "text_hits", "conversations", "conversation_reasons",
    "evidence", "product_questions", "kpi_evidence",
})
CATALOG = "table_files"
CATALOG_DDL = f"""
CREATE TABLE IF NOT EXISTS {CATALOG} (
    table_name VARCHAR,
    month VARCHAR,
    shop_key VARCHAR,
    run_id VARCHAR,
    base VARCHAR,  -- the .files folder the files were placed in
    files VARCHAR[],  -- relative to it, in order
    one_schema BOOLEAN  -- every file has the same columns (the view binds on the first file)
)
"""


def files_dir(warehouse_path: Path) -> Path:
    """The folder beside the DuckDB file that holds its file-stored tables."""
    wh = Path(warehouse_path).resolve()
    return wh.with_name(wh.name + ".files")


def _shop_dir(shop: str) -> str:
    return "_" if not shop else "s-" + hashlib.sha256(shop.encode("utf-8")).hexdigest()[:12]


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def place(warehouse_path: Path, table: str, month: str, shop: str, run_id: str, files: list[Path]) -> list[str]:
    """Put ``files`` (in order) where the warehouse keeps this run's month of ``table``; return
    their paths relative to :func:`files_dir`. Nothing references them until the commit."""
    base = files_dir(warehouse_path)
    rel_dir = Path(table) / month / _shop_dir(shop) / run_id
    dest = base / rel_dir
    if dest.exists():  # an earlier attempt of this run's publish that did not commit
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    out = []
    for i, f in enumerate(files):
        name = f"part-{i:05d}.parquet"
        try:
            os.link(f, dest / name)  # the build's file itself: no bytes written
        except OSError:
            shutil.copyfile(f, dest / name)
        out.append(str(rel_dir / name))
    return out


def is_base_table(con, table: str) -> bool:
    rows = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ? AND table_catalog = current_database()", [table]
    ).fetchall()
    return bool(rows) and rows[0][0] == "BASE TABLE"


def register(con, warehouse_path: Path, table: str, month: str, shop: str, run_id: str, rel_files: list[str]) -> None:
    """Inside the publish transaction: ``rel_files`` are now the month's rows of ``table``
    for ``shop`` (replacing any earlier files or rows), and the view shows them."""
    con.execute(CATALOG_DDL)
    if is_base_table(con, table):
        _move_rows_to_files(con, warehouse_path, table, run_id)
    con.execute(f"DELETE FROM {CATALOG} WHERE table_name = ? AND month = ? AND shop_key = ?", [table, month, shop])
    base = files_dir(warehouse_path)
    one_schema = len({tuple(pl.read_parquet_schema(base / f).items()) for f in rel_files}) <= 1
    con.execute(f"INSERT INTO {CATALOG} VALUES (?, ?, ?, ?, ?, ?, ?)", [table, month, shop, run_id, str(base), rel_files, one_schema])
    _create_view(con, warehouse_path, table)


def _move_rows_to_files(con, warehouse_path: Path, table: str, run_id: str) -> None:
    """A base table of an older warehouse: write each (month, shop) of its rows to a file,
    register them, drop the table (the caller's transaction makes it all or nothing)."""
    base = files_dir(warehouse_path)
    has_shop = con.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = 'shop_key'", [table]
    ).fetchall()[0][0]
    shop_expr = "coalesce(shop_key, '')" if has_shop else "''"
    groups = con.execute(f'SELECT DISTINCT month, {shop_expr} FROM "{table}" ORDER BY 1, 2').fetchall()
    for month, shop in groups:
        rel = Path(table) / str(month) / _shop_dir(shop) / f"{run_id}-moved" / "part-00000.parquet"
        (base / rel).parent.mkdir(parents=True, exist_ok=True)
        month_cond = "month IS NULL" if month is None else "month = ?"
        params = [] if month is None else [month]
        con.execute(
            f'COPY (SELECT * FROM "{table}" WHERE {month_cond} AND {shop_expr} = ?) TO {_sql_str(str(base / rel))} (FORMAT parquet)',
            [*params, shop],
        )
        con.execute(f"INSERT INTO {CATALOG} VALUES (?, ?, ?, ?, ?, ?, ?)", [table, month, shop, f"{run_id}-moved", str(base), [str(rel)], True])
    con.execute(f'DROP TABLE "{table}"')


def _view_parts(con, warehouse_path: Path, table: str) -> tuple[list[str], list[str]]:
    """The SELECT of each (month, shop) of ``table`` and the first file each reads. A group's
    files are read from this warehouse's own ``.files`` folder when they are there (the
    warehouse was moved or copied with it), else from where they were placed (a copy of the
    DuckDB file alone reads the original's files)."""
    own = files_dir(warehouse_path)
    groups = con.execute(
        f"SELECT base, files, one_schema FROM {CATALOG} WHERE table_name = ? ORDER BY month, shop_key", [table]
    ).fetchall()
    selects, firsts = [], []
    for placed, files, one_schema in groups:
        base = own if (own / files[0]).exists() else Path(placed)
        paths = [_sql_str(str(base / f)) for f in files]
        selects.append(f"SELECT * FROM read_parquet([{', '.join(paths)}]{'' if one_schema else ', union_by_name = true'})")
        firsts.append(paths[0])
    return selects, firsts


def _create_view(con, warehouse_path: Path, table: str, temp: bool = False) -> None:
    """(Re)create the view of ``table`` over every registered file (none: no view)."""
    selects, _ = _view_parts(con, warehouse_path, table)
    if not selects:
        con.execute(f'DROP VIEW IF EXISTS "{table}"')
        return
    kind = "TEMP VIEW" if temp else "VIEW"
    con.execute(f'CREATE OR REPLACE {kind} "{table}" AS ' + " UNION ALL BY NAME ".join(selects))


def refresh_views(con, warehouse_path: Path, temp: bool = False) -> None:
    """Re-point the views whose files are elsewhere now (see :func:`_view_parts`): a
    warehouse moved or copied with its ``.files`` folder reads its own files. A read-only
    connection gets TEMP views of the same names (they shadow the stored ones for that
    connection); a write connection rewrites the stored ones. One stat per month and table."""
    if not _has_catalog(con):
        return
    for (table,) in con.execute(f"SELECT DISTINCT table_name FROM {CATALOG} ORDER BY 1").fetchall():
        sql = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = ? AND NOT temporary", [table]).fetchall()
        _, firsts = _view_parts(con, warehouse_path, table)
        if not sql or any(f not in sql[0][0] for f in firsts):
            _create_view(con, warehouse_path, table, temp=temp)


def month_files(con, warehouse_path: Path, table: str, month: str, shop: str, columns: dict[str, str]) -> list[Path] | None:
    """The stored files of one month and shop of ``table`` when they read as the view does
    (one schema, the view's ``columns`` and types in order): a run reading a committed month
    then needs no export. None otherwise (or when the month has no files)."""
    if table not in FILE_TABLES or not _has_catalog(con):
        return None
    rows = con.execute(
        f"SELECT base, files, one_schema FROM {CATALOG} WHERE table_name = ? AND month = ? AND shop_key = ?", [table, month, shop]
    ).fetchall()
    if not rows or not rows[0][2]:
        return None
    placed, files, _ = rows[0]
    own = files_dir(warehouse_path)
    base = own if (own / files[0]).exists() else Path(placed)
    paths = [base / f for f in files]
    if not all(p.exists() for p in paths):
        return None
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_sql_str(str(paths[0]))})").fetchall()
    return paths if [(r[0], r[1]) for r in described] == list(columns.items()) else None


def _has_catalog(con) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [CATALOG]).fetchall()[0][0] > 0


def remove_unreferenced(con, warehouse_path: Path) -> None:
    """Delete the files no committed row of ``table_files`` names (superseded months, runs
    killed before their commit). Call after a commit, holding the warehouse lock."""
    base = files_dir(warehouse_path)
    if not base.is_dir() or not _has_catalog(con):
        return
    keep = {str(base / f) for (files,) in con.execute(f"SELECT files FROM {CATALOG}").fetchall() for f in files}
    for p in sorted(base.rglob("*"), reverse=True):  # deepest first: files, then emptied folders
        try:
            if p.is_file() and str(p) not in keep:
                p.unlink()
            elif p.is_dir() and not any(p.iterdir()):
                p.rmdir()
        except OSError:  # the month is committed either way: a file left here goes next time
            pass
