"""The DuckDB warehouse: month partitions replaced atomically, a runs log, a read API.

Every data table has a ``month`` column ('YYYY-MM'). Writing a month replaces all rows
of that month in every table written, inside ONE transaction: a re-run gives identical
tables and a failure part-way leaves the previous state intact. The big tables are views
over Parquet files beside the DuckDB file (:mod:`pipelines.table_files`); they read the same.

Read API for notebooks and reports::

    from pipelines import warehouse
    warehouse.read("agent_month_metrics", month="2026-10")            # polars
    warehouse.read("payroll", month="2026-10", as_="pandas")
    warehouse.tables()
"""

from __future__ import annotations

import json
import os
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator, Literal

import duckdb
import polars as pl

from pipelines import table_files

DEFAULT_PATH = Path(os.environ.get("KEFU_WAREHOUSE", "data/warehouse.duckdb"))
SHOP_KEY = "shop_key"  # partition column of every published table: the shop of a many-shop warehouse ('' for one shop)

RUNS_DDL = """
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    month VARCHAR,
    step VARCHAR,            -- ingest / analytics / score / sla
    started_at TIMESTAMP,
    ended_at TIMESTAMP,
    status VARCHAR,          -- ok / failed / incomplete
    rules_version VARCHAR,
    rules_hash VARCHAR,
    message VARCHAR,
    details JSON
);
CREATE TABLE IF NOT EXISTS run_files (
    run_id VARCHAR,
    file_name VARCHAR,
    sha256 VARCHAR,
    layout VARCHAR,
    kind VARCHAR,
    encoding VARCHAR,
    rows_read BIGINT,
    loaded BIGINT,
    quarantined BIGINT,
    out_of_month BIGINT,
    duplicates BIGINT,
    status VARCHAR,
    notes VARCHAR
);
"""


@dataclass
class RunRecord:
    month: str
    step: str
    started_at: datetime
    ended_at: datetime | None = None
    status: str = "ok"
    rules_version: str | None = None
    rules_hash: str | None = None
    message: str | None = None
    details: dict | None = None
    files: list[dict] | None = None
    run_id: str = ""

    def __post_init__(self):
        self.run_id = self.run_id or uuid.uuid4().hex[:12]


def resolve(path: str | Path | None) -> Path:
    """``path``, else $KEFU_WAREHOUSE (read at call time), else data/warehouse.duckdb."""
    return Path(path) if path else Path(os.environ.get("KEFU_WAREHOUSE", "data/warehouse.duckdb"))


@contextmanager
def connect(path: str | Path | None = None, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    p = resolve(path)
    if read_only and not p.exists():
        raise FileNotFoundError(f"warehouse {p} does not exist yet: run `kefu ingest` first")
    p.parent.mkdir(parents=True, exist_ok=True)
    con = _connect_waiting(p, read_only)
    try:
        if not read_only:
            con.execute(RUNS_DDL)
        table_files.refresh_views(con, p, temp=read_only)
        yield con
    finally:
        con.close()


class MissingTableFiles(OSError):
    """A big table's Parquet files are not where the warehouse expects them."""


@contextmanager
def files_checked(path: str | Path | None) -> Iterator[None]:
    """Turn DuckDB's error for a big table's missing file into :class:`MissingTableFiles`
    (an OSError: the CLI says it in one line)."""
    try:
        yield
    except duckdb.IOException as e:
        if "No files found" not in str(e):
            raise
        folder = table_files.files_dir(resolve(path))
        raise MissingTableFiles(
            f"数据仓库 {resolve(path)} 的大表文件缺失 (应在 {folder}): 移动或复制数据仓库时请连同该文件夹一起。{e}"
        ) from None


def _connect_waiting(p: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """DuckDB allows one writing process per file and no readers beside it: wait (up to the
    lock timeout) while another run publishes, instead of failing on its file lock."""
    import time

    from pipelines.lock import timeout_from_env

    deadline = time.monotonic() + timeout_from_env()
    while True:
        try:
            return duckdb.connect(str(p), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def _existing_columns(con, table: str) -> dict[str, str] | None:
    """Columns and DuckDB types of a table or view (duckdb_columns: ~10x cheaper than
    information_schema.columns, which the publish asked once per table)."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return {r[0]: r[1] for r in rows} or None


def _write_table(con, table: str, month: str, frame: pl.DataFrame) -> None:
    if "month" not in frame.columns:
        frame = frame.with_columns(pl.lit(month).alias("month"))
    con.register("_incoming", frame.to_arrow())
    try:
        cols = _existing_columns(con, table)
        if cols is None:
            con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _incoming LIMIT 0')
        else:
            for c in frame.columns:
                if c not in cols:
                    dtype = con.execute(f'SELECT typeof("{c}") FROM _incoming LIMIT 1').fetchone()
                    dtype = dtype[0] if dtype else "VARCHAR"
                    con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{c}" {dtype}')
        con.execute(f'DELETE FROM "{table}" WHERE month = ?', [month])
        con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming')
    finally:
        con.unregister("_incoming")


def _record_run(con, run: RunRecord) -> None:
    con.execute(
        "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run.run_id,
            run.month,
            run.step,
            run.started_at,
            run.ended_at or datetime.now(),
            run.status,
            run.rules_version,
            run.rules_hash,
            run.message,
            json.dumps(run.details or {}, ensure_ascii=False, default=str),
        ],
    )
    for f in run.files or []:
        con.execute(
            "INSERT INTO run_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run.run_id,
                f.get("file_name"),
                f.get("sha256"),
                f.get("layout"),
                f.get("kind"),
                f.get("encoding"),
                f.get("rows_read"),
                f.get("loaded"),
                f.get("quarantined"),
                f.get("out_of_month"),
                f.get("duplicates"),
                f.get("status"),
                f.get("notes"),
            ],
        )


def replace_month(path: str | Path | None, month: str, frames: dict[str, pl.DataFrame], run: RunRecord) -> None:
    """Replace ``month`` in every table of ``frames`` and log ``run``, all-or-nothing."""
    with connect(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            for table, frame in frames.items():
                _write_table(con, table, month, frame)
            _record_run(con, run)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def append(path: str | Path | None, table: str, frame: pl.DataFrame) -> None:
    """Append rows to a history table (every run kept, e.g. payroll_history keyed by run_id)."""
    with connect(path) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            con.register("_incoming", frame.to_arrow())
            if _existing_columns(con, table) is None:
                con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM _incoming')
            else:
                con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM _incoming')
            con.unregister("_incoming")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise


def record_run(path: str | Path | None, run: RunRecord) -> None:
    """Log a run that wrote no data (e.g. a failed ingest)."""
    with connect(path) as con:
        _record_run(con, run)


def tables(path: str | Path | None = None) -> list[str]:
    """Names of all tables in the warehouse."""
    with connect(path, read_only=True) as con:
        return [r[0] for r in con.execute("SELECT DISTINCT table_name FROM information_schema.tables ORDER BY 1").fetchall()]


def months(table: str, path: str | Path | None = None) -> list[str]:
    """The months ('YYYY-MM') a table holds, ascending."""
    with connect(path, read_only=True) as con:
        return [r[0] for r in con.execute(f'SELECT DISTINCT month FROM "{table}" ORDER BY 1').fetchall()]


def read(
    table: str,
    month: str | None = None,
    path: str | Path | None = None,
    as_: Literal["polars", "pandas"] = "polars",
    where: str | None = None,
    shop: str | None = None,
):
    """Read a warehouse table (optionally one month) as a polars (default) or pandas frame.

    ``shop``: only that shop's rows of a many-shop warehouse (``''`` is the one-shop
    default), without the ``shop_key`` column; None: every shop, with the column.
    ``where`` is an extra SQL condition written by the caller (not user input)."""
    with connect(path, read_only=True) as con:
        if _existing_columns(con, table) is None:
            raise KeyError(f"no table {table!r} in warehouse {resolve(path)}")
        sql = f'SELECT * FROM "{table}"'
        conds, params = [], []
        if month is not None:
            if "month" not in _existing_columns(con, table):
                raise ValueError(f"table {table!r} has no month column; read it without month= (run_files: join runs on run_id)")
            conds.append("month = ?")
            params.append(month)
        has_shop = SHOP_KEY in _existing_columns(con, table)
        if shop is not None and has_shop:
            conds.append(f"coalesce({SHOP_KEY}, '') = ?")
            params.append(shop)
        if where:
            conds.append(where)
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        with files_checked(path):
            df = con.sql(sql, params=params or None).pl()
    if shop is not None and has_shop:
        df = df.drop(SHOP_KEY)
    return df.to_pandas() if as_ == "pandas" else df


def query(sql: str, path: str | Path | None = None, params: list | None = None) -> pl.DataFrame:
    """Run a read-only SQL query and return polars."""
    with connect(path, read_only=True) as con, files_checked(path):
        return con.sql(sql, params=params or None).pl()
