"""Chat marts of a big month with one partition of its buyers in memory at a time (issue 13).

The pure work is :mod:`analytics.partition`; this module moves it through files so that no
whole-month frame is ever held:

1. **Split** (:func:`split_messages`): one pass over the build's ``messages`` parquet files
   (``MonthBuild.parts``, in the month's row order), in record batches, needed columns only,
   adding ``msg_idx`` (the row number in the month) and writing each batch's rows into its
   partition's scratch folder (``hash(buyer) % k``).
2. **First pass** (:func:`run_partition`, one task per partition): read the partition's
   files, run :func:`analytics.partition.partition_marts`, write its row marts and what the
   second pass needs into the partition's scratch folder, return the small frames the merge
   needs (metric columns of questions and conversations, counts, labelled and topic documents).
3. **Merge** in this process: day/month metrics, indicators, the reason classifier (fitted
   on the labelled documents only), topics (a seeded sample of documents).
4. **Second pass** (:func:`finish_partition`): tag each partition's after-sales conversations
   with the fitted model and write its conversations and conversation_reasons.
5. **Publishable parts** (:func:`write_sorted_parts`): each row mart's partition files are
   merged in its total order (:data:`analytics.partition.ROW_MARTS`) by DuckDB (which spills
   to disk beyond its memory limit) and streamed into the build as ordered parts, so the
   published tables have the same rows in the same order as the one-piece build.

Tasks are top-level functions of picklable arguments (paths as strings, frames, settings,
the data folder the text resources are read from), run through an injectable ``map`` (a plain
loop by default; :mod:`pipelines.dask_map` for a Dask cluster, whose workers must see the
build folder). The marts are the same for any map and any number of partitions
(tests/pipelines/test_chat_parts.py).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq

from analytics.partition import (FIRST_PASS_MARTS, MESSAGE_COLUMNS, ROW_MARTS, SECOND_PASS_MARTS, SMALL, concat_parts,
                                 merge_small, partition_marts, partition_of)
from analytics.partition import finish_partition as _finish
from analytics.settings import AnalyticsSettings
from pipelines.dask_map import Map, local_map

SPLIT_BATCH_ROWS = 200_000  # messages read per record batch while splitting
PART_ROWS = 250_000  # rows per published part of a row mart
DUCKDB_MEMORY = "1GB"  # the merge-sort of a row mart spills to the scratch folder beyond this
_CARRY = ("conversations_pre", "escal", "reasons_base")  # first pass -> second pass, per partition

_RESOURCES: dict[str, Any] = {}


def text_resources(settings: AnalyticsSettings, data_dir: str):
    """The lexicons, stop words, user dictionary and catalogue of ``settings`` read from
    ``data_dir`` once per process (a Dask worker reads them for its first task)."""
    from pipelines.resources import load_text_resources

    key = settings.model_dump_json() + "\x00" + data_dir
    if key not in _RESOURCES:
        _RESOURCES.clear()
        _RESOURCES[key] = load_text_resources(settings, Path(data_dir))
    return _RESOURCES[key]


@dataclass(frozen=True)
class PartitionTask:
    """One partition's first pass: its message files, where its outputs go, and the
    month-wide inputs every partition needs (all picklable)."""

    files: tuple[str, ...]
    out_dir: str
    accounts: pl.DataFrame
    refunds: pl.DataFrame | None
    roster: pl.DataFrame | None
    settings: AnalyticsSettings
    data_dir: str


@dataclass(frozen=True)
class FinishTask:
    """One partition's second pass: its folder, the fitted reason model, settings."""

    out_dir: str
    model: Any  # analytics.reasons.ReasonModel
    settings: AnalyticsSettings
    data_dir: str


def split_messages(files: list[Path], k: int, scratch: Path) -> tuple[list[list[str]], pl.DataFrame, int]:
    """(each partition's message files, the month's distinct (shop, agent_account), rows)."""
    dirs = [scratch / f"p{i:03d}" for i in range(k)]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    out: list[list[str]] = [[] for _ in range(k)]
    accounts, offset, batch_no = [], 0, 0
    for f in files:
        reader = pq.ParquetFile(f)
        cols = [c for c in MESSAGE_COLUMNS if c in reader.schema_arrow.names]
        for batch in reader.iter_batches(batch_size=SPLIT_BATCH_ROWS, columns=cols):
            df = pl.from_arrow(batch)
            df = df.with_row_index("msg_idx", offset=offset).with_columns(pl.col("msg_idx").cast(pl.Int64), partition_of(k).alias("_p"))
            offset += df.height
            accounts.append(df.select("shop", "agent_account").unique())
            for (p,), g in df.partition_by("_p", as_dict=True, include_key=False).items():
                path = dirs[p] / f"b{batch_no:06d}.parquet"
                g.write_parquet(path)
                out[p].append(str(path))
            batch_no += 1
    acc = pl.concat(accounts).unique() if accounts else pl.DataFrame(schema={"shop": pl.String, "agent_account": pl.String})
    return out, acc, offset


def run_partition(task: PartitionTask) -> dict[str, pl.DataFrame]:
    """First pass of one partition (see module doc); returns its small frames."""
    msgs = pl.read_parquet(list(task.files))
    global_idx = msgs["msg_idx"]
    res = text_resources(task.settings, task.data_dir)
    out = partition_marts(msgs.drop("msg_idx"), global_idx, task.accounts, task.refunds, task.roster, task.settings, res)
    del msgs
    folder = Path(task.out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    out["conversations_pre"] = out.pop("conversations")
    for name in (*FIRST_PASS_MARTS, *_CARRY):
        out.pop(name).write_parquet(folder / f"{name}.parquet")
    return {name: out[name] for name in SMALL}


def finish_partition(task: FinishTask) -> None:
    """Second pass of one partition: its conversations and conversation_reasons files."""
    folder = Path(task.out_dir)
    part = {name: pl.read_parquet(folder / f"{name}.parquet") for name in _CARRY}
    part["conversations"] = part.pop("conversations_pre")
    for name, frame in _finish(part, task.model, text_resources(task.settings, task.data_dir)).items():
        frame.write_parquet(folder / f"{name}.parquet")


def write_sorted_parts(build, table: str, files: list[Path], key: list[str], temp_dir: Path) -> int:
    """Write ``table`` into the build as ordered parts: the rows of ``files`` sorted by ``key``
    (a total order, nulls first as polars sorts), merged by DuckDB. Returns the row count."""
    build.start_parts(table)
    order = ", ".join(f'"{c}" ASC NULLS FIRST' for c in key)
    paths = "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"
    rows = 0
    with duckdb.connect() as con:
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        con.execute("SET temp_directory = '" + str(temp_dir).replace("'", "''") + "'")
        con.execute("SET preserve_insertion_order = true")
        reader = con.sql(f"SELECT * FROM read_parquet({paths}) ORDER BY {order}").to_arrow_reader(PART_ROWS)
        pending: list[pl.DataFrame] = []
        pending_rows = 0
        for batch in reader:  # DuckDB hands out vectors of 2,048 rows: gather them into parts
            frame = pl.from_arrow(batch)
            pending.append(frame)
            pending_rows += frame.height
            if pending_rows >= PART_ROWS:
                build.write_part(table, pl.concat(pending))
                rows += pending_rows
                pending, pending_rows = [], 0
        if pending:
            build.write_part(table, pl.concat(pending))
            rows += pending_rows
    return rows


@dataclass
class PartsOutcome:
    """What the streamed analytics wrote and report: the small marts (not yet written), the
    row count of each row mart written as parts, the classifier report, the topics message."""

    small_marts: dict[str, pl.DataFrame]
    rows: dict[str, int]
    reasons: Any  # analytics.reasons.ReasonReport
    topics_message: str


def chat_marts_in_parts(build, k: int, refunds: pl.DataFrame | None, roster: pl.DataFrame | None,
                        settings: AnalyticsSettings, data_dir: Path, map_: Map = local_map) -> PartsOutcome:
    """The chat marts of the build's month in ``k`` partitions of its buyers (module doc):
    row marts are written into the build as parts; the small marts are returned."""
    scratch = build.scratch("chat-parts")
    try:
        files, accounts, _ = split_messages(build.parts("messages"), k, scratch / "messages")
        tasks = [PartitionTask(tuple(f), str(scratch / "marts" / f"p{i:03d}"), accounts, refunds, roster, settings,
                               str(data_dir)) for i, f in enumerate(files) if f]
        small_parts = map_(run_partition, tasks)
        shutil.rmtree(scratch / "messages", ignore_errors=True)
        small = {name: concat_parts([p[name] for p in small_parts]) for name in SMALL}
        del small_parts
        res = text_resources(settings, str(data_dir))
        small_marts, model, report, topics_message, _ = merge_small(small, roster, settings, res)
        del small
        map_(finish_partition, [FinishTask(t.out_dir, model, settings, str(data_dir)) for t in tasks])
        rows = {}
        for name in (*FIRST_PASS_MARTS, *SECOND_PASS_MARTS):
            rows[name] = write_sorted_parts(build, name, [Path(t.out_dir) / f"{name}.parquet" for t in tasks],
                                            ROW_MARTS[name], scratch)
        return PartsOutcome(small_marts, rows, report, topics_message)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
