"""Publish, don't patch: a run builds its month aside and makes it visible in one step.

A :class:`MonthBuild` is one run's work area under ``<out>/.kefu-build/<month>-<run_id>/``:

* ``tables/<table>.parquet``: every table the run computed for the month (staged tables,
  marts, scores, payroll) and the history rows it appends. Later steps read them from here
  (``build.read``), falling back to the warehouse's committed month for tables this run
  did not compute, so nothing is read back from DuckDB that was just computed in memory.
  A table too big to hold at once is written in parts (``tables/<table>/part-NNNNN.parquet``,
  :meth:`MonthBuild.write_part`) and read part by part (:meth:`MonthBuild.parts`,
  :meth:`MonthBuild.scan`); the publish inserts the parts in order, streamed by DuckDB.
* ``outputs/``: the files of the month (payroll.csv, report.html, payroll.xlsx, ...).

:meth:`MonthBuild.publish` then

1. moves ``outputs/`` to ``<out>/.runs/<month>/<run_id>/`` (invisible: nothing points there
   yet), adding hard links to the files of the currently published run this run did not
   produce (so a KPI run keeps the month's SLA report and vice versa);
2. replaces the month in every table, appends history rows, logs the runs and the
   publication, in ONE DuckDB transaction: **the commit is the run's commit point**. The big
   tables (:data:`pipelines.table_files.FILE_TABLES`) are not inserted: the build's parts are
   hard-linked beside the warehouse before the transaction and the transaction switches the
   table's view to them (:mod:`pipelines.table_files`); files nobody refers to any more are
   deleted after the commit;
3. switches the symlink ``<out>/<month>`` to the new run folder with one atomic rename.

A failure or a kill before the commit leaves the warehouse and ``<out>/<month>`` exactly as
they were (the build folder is garbage, removed by the next run). A kill between the commit
and the switch leaves the warehouse new and the folder old; :func:`recover_outputs`, run at
the start of every run and by ``kefu report``/``kefu status``, rolls the folder forward to
the published run, so the two never disagree for longer than that.

``KEFU_PAUSE_AT=<point>`` makes a run stop at a named point (:data:`PAUSE_POINTS`) and wait
to be killed: the reliability tests kill real runs there (docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl

import contracts
from pipelines import table_files, warehouse
from pipelines.lock import warehouse_lock

BUILD_DIR = ".kefu-build"
RUNS_DIR = ".runs"
# build files live minutes and are read back once or twice: lz4 writes ~25% cheaper than zstd
BUILD_COMPRESSION = "lz4"
KEEP_RUNS = 3  # published run folders kept per month besides the current one
SHOP_KEY = warehouse.SHOP_KEY

PAUSE_POINTS = (
    "locked",           # lock taken, nothing read yet
    "inbox-read",       # every file of the inbox read and staged in memory
    "ingest-built",     # staged tables written to the build folder
    "analytics-built",  # chat marts written to the build folder
    "score-built",      # scores, payroll, payroll.csv in the build folder
    "report-built",     # report.html, payroll.xlsx in the build folder
    "outputs-moved",    # outputs moved to .runs/<month>/<run_id>, not yet published
    "mid-transaction",  # inside the publish transaction, some tables already replaced
    "before-commit",    # every table replaced, runs logged, not committed
    "after-commit",     # committed; <out>/<month> not yet switched (recover_outputs rolls forward)
)


def pause_point(name: str) -> None:
    """Stop here if ``KEFU_PAUSE_AT`` names this point (fault-injection for the kill tests).

    Writes the point's name to ``KEFU_PAUSE_FILE`` (if set) and sleeps until killed."""
    if os.environ.get("KEFU_PAUSE_AT") != name:
        return
    marker = os.environ.get("KEFU_PAUSE_FILE")
    if marker:  # written whole, then renamed: a watcher never reads it half-written
        tmp = Path(marker).with_name(Path(marker).name + ".tmp")
        tmp.write_text(name, "utf-8")
        tmp.replace(marker)
    deadline = time.monotonic() + float(os.environ.get("KEFU_PAUSE_MAX_S", "300"))
    while time.monotonic() < deadline:  # pragma: no cover - ended by the test's SIGKILL
        time.sleep(0.2)
    os._exit(99)  # never left running if the test that paused it died


PUBLICATIONS_DDL = """
CREATE TABLE IF NOT EXISTS publications (
    month VARCHAR,
    shop_key VARCHAR,
    domain VARCHAR,
    run_id VARCHAR,
    out_dir VARCHAR,
    run_dir VARCHAR,
    tables VARCHAR[],
    published_at TIMESTAMP
)
"""


@dataclass
class MonthBuild:
    """One run's tables and output files for ``month``, published all at once."""

    month: str
    warehouse_path: Path
    out: Path
    domain: str = "kpi"
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    shop: str = ""  # the shop key of a many-shop warehouse ("" for a one-shop warehouse)
    replaced: dict[str, Path] = field(default_factory=dict)
    appended: list[tuple[str, Path]] = field(default_factory=list)
    runs: list[warehouse.RunRecord] = field(default_factory=list)
    published_dir: Path | None = None
    step: str = ""  # the step now using the build (set by each step; see monthly.STEPS)
    trace: list[tuple[str, str, str]] = field(default_factory=list)  # (step, read/write/append, table)

    def __post_init__(self):
        self.warehouse_path = warehouse.resolve(self.warehouse_path)
        self.out = Path(self.out)
        self.dir = self.out / BUILD_DIR / f"{self.month}-{self.run_id}"
        self.tables_dir = self.dir / "tables"
        self.outputs = self.dir / "outputs"
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        self.outputs.mkdir(parents=True, exist_ok=True)
        (self.dir / "build.json").write_text(
            json.dumps({"warehouse": str(self.warehouse_path.resolve()), "month": self.month, "domain": self.domain}), "utf-8"
        )

    # --- tables

    def write(self, table: str, frame: pl.DataFrame) -> None:
        """This run's rows of ``table`` for the month (replace the month's rows on publish)."""
        self.trace.append((self.step, "write", table))
        self._drop_parts(table)
        path = self.tables_dir / f"{table}.parquet"
        self._conformed(table, frame).write_parquet(path, compression=BUILD_COMPRESSION)
        self.replaced[table] = path

    def write_all(self, frames: dict[str, pl.DataFrame]) -> None:
        for table, frame in frames.items():
            self.write(table, frame)

    def _conformed(self, table: str, frame: pl.DataFrame) -> pl.DataFrame:
        if "month" not in frame.columns:
            frame = frame.with_columns(pl.lit(self.month).alias("month"))
        return contracts.check(table, frame).with_columns(pl.lit(self.shop, pl.String).alias(SHOP_KEY))

    # --- tables written in parts (months too big to hold at once)

    def start_parts(self, table: str) -> None:
        """Begin (or restart) writing ``table`` in parts: it is this run's table from now on,
        with no rows until :meth:`write_part` adds some."""
        self.trace.append((self.step, "write", table))
        self._drop_parts(table)
        self.replaced.pop(table, None)
        (self.tables_dir / table).mkdir()
        self.replaced[table] = self.tables_dir / table

    def write_part(self, table: str, frame: pl.DataFrame) -> Path:
        """Add ``frame`` as the next part of ``table`` (contract-checked like :meth:`write`).
        Parts keep the order they were written in: reads and the publish concatenate them so."""
        if not self._parted(table):
            self.start_parts(table)
        folder = self.replaced[table]
        path = folder / f"part-{len(list(folder.glob('part-*.parquet'))):05d}.parquet"
        self._conformed(table, frame).write_parquet(path, compression=BUILD_COMPRESSION)
        return path

    def parts(self, table: str) -> list[Path] | None:
        """This run's parquet files of ``table`` in order (one for a table written whole);
        for a table this run did not compute, the committed month: a big table's stored files
        (:func:`pipelines.table_files.month_files`), else exported once to parquet by DuckDB
        (streamed, so a big month is never held in memory); None if neither exists. Files
        hold the ``shop_key`` column; nobody may write to them."""
        self.trace.append((self.step, "read", table))
        if table in self.replaced:
            return self._files(table)
        cached = self.dir / "committed" / f"{table}.parquet"
        if not cached.exists():
            cached.parent.mkdir(exist_ok=True)
            tmp = cached.with_suffix(".tmp")
            try:
                with warehouse.connect(self.warehouse_path, read_only=True) as con:
                    cols = warehouse._existing_columns(con, table)
                    if cols is None or "month" not in cols:
                        return None
                    # a big table's stored files as they are (this run holds the month's lock:
                    # no other run replaces them while it reads)
                    stored = table_files.month_files(con, self.warehouse_path, table, self.month, self.shop, cols)
                    if stored is not None:
                        return stored
                    cond = "month = ?"
                    params: list = [self.month]
                    if SHOP_KEY in cols:
                        cond += f" AND coalesce({SHOP_KEY}, '') = ?"
                        params.append(self.shop)
                    with warehouse.files_checked(self.warehouse_path):
                        con.execute(f"COPY (SELECT * FROM \"{table}\" WHERE {cond}) TO {_sql_path(tmp)} (FORMAT parquet)", params)
            except FileNotFoundError:
                return None
            tmp.rename(cached)
        return [cached]

    def scan(self, table: str, columns: list[str] | None = None) -> pl.LazyFrame | None:
        """The month's ``table`` as a lazy frame over its parquet files (see :meth:`parts`),
        without the shop key; only ``columns`` if given."""
        files = self.parts(table)
        if files is None:
            return None
        lf = pl.scan_parquet(files).drop(SHOP_KEY, strict=False)
        return lf.select(columns) if columns else lf

    def scratch(self, name: str) -> Path:
        """A folder for a step's temporary files; removed with the build."""
        path = self.dir / "scratch" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _parted(self, table: str) -> bool:
        return table in self.replaced and self.replaced[table].is_dir()

    def _files(self, table: str) -> list[Path]:
        path = self.replaced[table]
        if not path.is_dir():
            return [path]
        files = sorted(path.glob("part-*.parquet"))
        if not files:  # no rows: one empty part keeps the schema
            files = [path / "part-00000.parquet"]
            self._conformed(table, contracts.contract(table).empty()).write_parquet(files[0], compression=BUILD_COMPRESSION)
        return files

    def _drop_parts(self, table: str) -> None:
        if self._parted(table):
            shutil.rmtree(self.replaced.pop(table))

    def append(self, table: str, frame: pl.DataFrame) -> None:
        """Rows appended to a history table (every run kept) on publish."""
        self.trace.append((self.step, "append", table))
        frame = contracts.check(table, frame).with_columns(pl.lit(self.shop, pl.String).alias(SHOP_KEY))
        path = self.tables_dir / f"{table}.append{len(self.appended)}.parquet"
        frame.write_parquet(path, compression=BUILD_COMPRESSION)
        self.appended.append((table, path))

    def read(self, table: str, columns: list[str] | None = None) -> pl.DataFrame | None:
        """The month's ``table`` as this run sees it: computed by this run, else the
        warehouse's committed month; None when neither has the table."""
        self.trace.append((self.step, "read", table))
        if table in self.replaced:
            return pl.read_parquet(self._files(table), columns=columns).drop(SHOP_KEY, strict=False)
        try:
            df = warehouse.read(table, month=self.month, path=self.warehouse_path, shop=self.shop)
        except (KeyError, FileNotFoundError):
            return None
        return df.select(columns) if columns else df

    def read_other_month(self, table: str, month: str) -> pl.DataFrame | None:
        """Committed rows of another month (e.g. the previous month for trends)."""
        if month == self.month:
            return self.read(table)
        self.trace.append((self.step, "read", table))
        try:
            return warehouse.read(table, month=month, path=self.warehouse_path, shop=self.shop)
        except (KeyError, FileNotFoundError, ValueError):
            return None

    def log(self, run: warehouse.RunRecord) -> None:
        self.runs.append(run)

    # --- files

    def output(self, name: str) -> Path:
        """Where this run writes output file ``name`` before publishing."""
        return self.outputs / name

    # --- publish

    def publish(self) -> Path:
        """Commit every table and switch ``<out>/<month>`` to this run's files (see module doc)."""
        pause_point("report-built")
        month_link = self.out / self.month
        run_dir: Path | None = None
        if any(self.outputs.iterdir()):  # a load-only run (kefu ingest) leaves the files alone
            run_dir = self.out / RUNS_DIR / self.month / self.run_id
            run_dir.parent.mkdir(parents=True, exist_ok=True)
            _carry_over(month_link, self.outputs)
            self.outputs.rename(run_dir)
        pause_point("outputs-moved")
        with warehouse_lock(self.warehouse_path, f"publish {self.month} {self.shop}".strip()), \
                _write_connection(self.warehouse_path, spill_to=self.scratch("duckdb-spill")) as con:
            con.execute(PUBLICATIONS_DDL)
            con.execute("ALTER TABLE publications ADD COLUMN IF NOT EXISTS shop_key VARCHAR")
            placed = {t: table_files.place(self.warehouse_path, t, self.month, self.shop, self.run_id, self._files(t))
                      for t in sorted(self.replaced) if t in table_files.FILE_TABLES}
            con.execute("BEGIN TRANSACTION")
            try:
                for i, table in enumerate(sorted(self.replaced)):
                    if table in placed:
                        table_files.register(con, self.warehouse_path, table, self.month, self.shop, self.run_id, placed[table])
                    else:
                        _replace_month_from_parquet(con, table, self.month, self.shop, self._files(table))
                    if i == 0:
                        pause_point("mid-transaction")
                for table, path in self.appended:
                    _append_from_parquet(con, table, path)
                for run in self.runs:
                    warehouse._record_run(con, run)
                con.execute(
                    "INSERT INTO publications BY NAME SELECT ? AS month, ? AS shop_key, ? AS domain, ? AS run_id, ? AS out_dir, "
                    "? AS run_dir, ?::VARCHAR[] AS tables, ? AS published_at",
                    [self.month, self.shop, self.domain, self.run_id, str(self.out.resolve()), str(run_dir.resolve()) if run_dir else None, sorted(self.replaced), datetime.now()],
                )
                pause_point("before-commit")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
            table_files.remove_unreferenced(con, self.warehouse_path)
        pause_point("after-commit")
        if run_dir is not None:
            _switch_link(month_link, run_dir)
            self.published_dir = month_link
        self.discard()
        if run_dir is not None:
            _prune_runs(self.out, self.month, keep=run_dir)
        return month_link

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        try:
            self.dir.parent.rmdir()  # the last build of this out folder: leave no empty folder
        except OSError:
            pass


# --- helpers


# The publish's DuckDB memory: beyond it an insert spills to the build's scratch folder
# instead of growing the process (a 10M-message month is published in this much).
PUBLISH_MEMORY_LIMIT = os.environ.get("KEFU_PUBLISH_MEMORY", "1GB")
# What is still inserted into DuckDB (the small tables: the big ones are files, see
# pipelines.table_files) is inserted by ONE thread keeping the row order: readers may rely on
# a staged table's order, and DuckDB's parallel ordered insert costs a second pass at
# checkpoint. (The big marts were inserted in parallel without order, helper pubreport; as
# files that question is gone.)
INSERT_SETTINGS = ("SET preserve_insertion_order = true", "SET threads = 1")


@contextmanager
def _write_connection(path: Path, spill_to: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection; :func:`warehouse.connect` waits (up to the lock timeout)
    while an analyst's or another shop's connection holds DuckDB's file lock. With
    ``spill_to``, DuckDB's memory is capped (:data:`PUBLISH_MEMORY_LIMIT`) and spills there."""
    try:
        cm = warehouse.connect(path)
        con = cm.__enter__()
    except duckdb.IOException as e:
        raise OSError(f"数据仓库 {path} 被其他程序打开 (例如 notebook), 无法写入: {e}") from e
    try:
        for setting in INSERT_SETTINGS:
            con.execute(setting)
        if spill_to is not None:
            con.execute(f"SET memory_limit = '{PUBLISH_MEMORY_LIMIT}'")
            con.execute(f"SET temp_directory = {_sql_path(spill_to)}")
        yield con
    finally:
        cm.__exit__(None, None, None)


def _sql_path(path: Path | list[Path]) -> str:
    """A SQL literal naming one file, or a list of files read in that order."""
    if isinstance(path, list):
        return "[" + ", ".join(_sql_path(p) for p in path) + "]"
    return "'" + str(path).replace("'", "''") + "'"


def _parquet_columns(con, path: Path | list[Path]) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_sql_path(path)})").fetchall()
    return {r[0]: r[1] for r in rows}


def _ensure_table(con, table: str, path: Path | list[Path]) -> bool:
    """Create ``table`` (no rows) or add the incoming columns it lacks; True if it existed."""
    existing = warehouse._existing_columns(con, table)
    if existing is None:
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM read_parquet({_sql_path(path)}) LIMIT 0')
        return False
    for col, dtype in _parquet_columns(con, path).items():
        if col not in existing:
            dtype = "VARCHAR" if dtype == '"NULL"' or dtype.upper() == "NULL" else dtype
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{col}" {dtype}')
    return True


def _replace_month_from_parquet(con, table: str, month: str, shop: str, path: Path | list[Path]) -> None:
    if _ensure_table(con, table, path):  # a table just created has no rows to delete
        # rows written before shops existed have no shop key: they are the one-shop warehouse's ('')
        con.execute(f'DELETE FROM "{table}" WHERE month = ? AND coalesce("{SHOP_KEY}", \'\') = ?', [month, shop])
    con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM read_parquet({_sql_path(path)})')


def _append_from_parquet(con, table: str, path: Path) -> None:
    _ensure_table(con, table, path)
    con.execute(f'INSERT INTO "{table}" BY NAME SELECT * FROM read_parquet({_sql_path(path)})')


def _carry_over(month_link: Path, outputs: Path) -> None:
    """Hard-link the published files this run did not produce into its outputs."""
    if not month_link.exists():
        return
    for f in month_link.iterdir():
        target = outputs / f.name
        if f.is_file() and not target.exists():
            try:
                os.link(f, target)
            except OSError:
                shutil.copy2(f, target)


def _switch_link(month_link: Path, run_dir: Path) -> None:
    """Point ``<out>/<month>`` at ``run_dir`` with one atomic rename of a fresh symlink."""
    rel = os.path.relpath(run_dir, month_link.parent)
    if month_link.exists() and not month_link.is_symlink():
        # a folder from before runs were published as a whole: keep it as a past run
        legacy = month_link.parent / RUNS_DIR / month_link.name / f"legacy-{int(month_link.stat().st_mtime)}"
        legacy.parent.mkdir(parents=True, exist_ok=True)
        month_link.rename(legacy)
    tmp = month_link.with_name(f".{month_link.name}.switch-{uuid.uuid4().hex[:8]}")
    os.symlink(rel, tmp)
    os.replace(tmp, month_link)


def _prune_runs(out: Path, month: str, keep: Path) -> None:
    runs = out / RUNS_DIR / month
    if not runs.is_dir():
        return
    old = sorted((p for p in runs.iterdir() if p.is_dir() and p.resolve() != keep.resolve()), key=lambda p: p.stat().st_mtime)
    for p in old[:-KEEP_RUNS] if KEEP_RUNS else old:
        shutil.rmtree(p, ignore_errors=True)


def cleanup_builds(out: Path, warehouse_path: Path) -> None:
    """Remove build folders that runs on this warehouse left when they died (call only while
    holding its lock: no live run of this warehouse has a build then)."""
    builds = Path(out) / BUILD_DIR
    if not builds.is_dir():
        return
    mine = str(Path(warehouse_path).resolve())
    for p in builds.iterdir():
        try:
            owner = json.loads((p / "build.json").read_text("utf-8")).get("warehouse")
        except (OSError, ValueError):  # killed before writing its marker (or still starting)
            owner = mine if time.time() - p.stat().st_mtime > 60 else None
        if owner == mine:
            shutil.rmtree(p, ignore_errors=True)


def recover_outputs(warehouse_path: Path | str | None, out: Path, month: str) -> bool:
    """Roll ``<out>/<month>`` forward to the month's last committed publication, if a run
    died between its commit and its folder switch. Returns True if it switched."""
    try:
        pubs = warehouse.query(
            "SELECT run_dir FROM publications WHERE month = ? AND out_dir = ? AND run_dir IS NOT NULL ORDER BY published_at DESC LIMIT 1",
            warehouse_path,
            [month, str(Path(out).resolve())],
        )
    except (duckdb.CatalogException, FileNotFoundError):
        return False
    if pubs.height == 0:
        return False
    run_dir = Path(pubs["run_dir"][0])
    link = Path(out) / month
    if not run_dir.is_dir() or (link.exists() and link.resolve() == run_dir.resolve()):
        return False
    _switch_link(link, run_dir)
    return True


@contextmanager
def month_build(
    month: str, warehouse_path, out, domain: str = "kpi", what: str = "", lock_timeout: float | None = None, shop: str = ""
) -> Iterator[MonthBuild]:
    """Take the warehouse lock, recover a half-published earlier run, and hand out a fresh
    build; the build is discarded (nothing published) if the block raises.

    A shop of a many-shop warehouse (``shop``) holds only its own run lock while it computes,
    so shops run in parallel; its publish takes the warehouse lock (:meth:`MonthBuild.publish`)."""
    wh = warehouse.resolve(warehouse_path)
    with warehouse_lock(run_lock_path(wh, shop), what or f"kefu {domain} {month} {shop}".strip(), lock_timeout):
        build = new_build(month, wh, out, domain, shop)
        try:
            yield build
        except BaseException:
            build.discard()
            raise


def run_lock_path(wh: Path, shop: str) -> Path:
    """What a run locks: the warehouse itself, or for a shop ``<warehouse>.shop-<hash>``."""
    if not shop:
        return wh
    return wh.with_name(f"{wh.name}.shop-{hashlib.sha256(shop.encode('utf-8')).hexdigest()[:10]}")


def new_build(month: str, warehouse_path, out, domain: str = "kpi", shop: str = "") -> MonthBuild:
    """A fresh build, after recovering a half-published earlier run and removing dead
    builds. Call only while holding the warehouse lock."""
    pause_point("locked")
    wh = warehouse.resolve(warehouse_path)
    recover_outputs(wh, Path(out), month)
    cleanup_builds(Path(out), wh)
    return MonthBuild(month, wh, Path(out), domain, shop=shop)


def failure_log(warehouse_path, record: dict) -> None:
    """Failed runs change nothing in the warehouse; they are logged beside it instead
    (``<warehouse>.failures.jsonl``, one JSON object a line)."""
    wh = warehouse.resolve(warehouse_path)
    wh.parent.mkdir(parents=True, exist_ok=True)
    with open(wh.with_name(wh.name + ".failures.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
