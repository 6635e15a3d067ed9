"""Chat marts of a big month with one partition of its buyers in memory at a time (issue 13).

The pure work is :mod:`analytics.partition`; this module moves it through files so that no
whole-month frame is ever held:

1. **Split** (:func:`split_messages`): the build's ``messages`` parquet files
   (``MonthBuild.parts``, in the month's row order) cut into tasks of up to
   :data:`SPLIT_TASK_ROWS` rows, which may span files (:func:`split_range`): a batch of rows
   at a time, needed columns only, adding ``msg_idx`` (the row number in the month) and
   writing each batch's rows into its partition's scratch folder (``hash(buyer) % k``).
2. **First pass** (:func:`run_partition`, one task per partition): read the partition's
   files, run :func:`analytics.partition.partition_marts`, write its row marts (sorted) and
   what the second pass needs into the partition's scratch folder, return the small frames
   the merge needs (metric columns of questions and conversations by thread code, the
   threads, counts, labelled documents, the keys of its topic-sample candidates) and a
   sample of its row marts' keys.
3. **Merge** in this process: day/month metrics, indicators, the reason classifier (fitted
   on a capped sample of the labelled documents only), the month's topic sample (which
   documents).
4. **Second pass** (:func:`finish_partition`): tag each partition's after-sales conversations
   with the fitted model, write its conversations and conversation_reasons, return its
   documents of the topic sample; topics are then found on those. The merges of the four
   first-pass row marts run in the same round (:func:`run_task`).
5. **Publishable parts** (:func:`merge_table`, one task per row mart): each partition wrote
   its row marts sorted by their total orders (:data:`analytics.partition.ROW_MARTS`); they
   are merged into the build as ordered parts, one part in memory at a time, so the
   published tables have the same rows in the same order as the one-piece build.

Tasks are top-level functions of picklable arguments (paths as strings, frames, settings,
the data folder the text resources are read from), run through an injectable ``map`` (a plain
loop by default; :mod:`pipelines.dask_map` for a Dask cluster, whose workers must see the
build folder). The marts are the same for any map and any number of partitions
(tests/pipelines/test_chat_parts.py).
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from analytics.partition import (FIRST_PASS_MARTS, MESSAGE_COLUMNS, ROW_MARTS, SECOND_PASS_MARTS, SMALL, concat_parts,
                                 merge_small, month_topics_of, partition_marts, partition_of)
from analytics.partition import finish_partition as _finish
from analytics.reasons import MonthRefunds, prepare_refunds
from analytics.settings import AnalyticsSettings
from pipelines.dask_map import Map, local_map
from pipelines.memory import release_freed_memory

SPLIT_BATCH_ROWS = 250_000  # messages read at a time while splitting, at least (a batch writes a file per partition) ...
SPLIT_PIECE_ROWS = 6_250  # ... and more (up to SPLIT_TASK_ROWS // 2) for many partitions: ~this many rows a file
SPLIT_TASK_ROWS = 1_000_000  # messages one split task reads (the split runs on the partition workers)
PART_ROWS = 100_000  # rows per published part of a row mart (about; the unit of the merge)
SCRATCH_COMPRESSION = "lz4"  # scratch files are read once or twice: fast over small, and no statistics (nothing filters them)
ROW_GROUP_ROWS = 8_192  # row groups of a partition's row marts: the merge reads slices of them
MERGE_SCAN_ROWS = ROW_GROUP_ROWS  # rows the merge reads from a file at a time, at least (a scan costs more than a few rows)
MERGE_WINDOW_BYTES = 96 << 20  # ... unless that holds more than this (in memory) over all its files
KEY_SAMPLE_EVERY = max(1, PART_ROWS // 64)  # keys of a partition's row marts kept for the merge's boundaries
_CARRY = ("conversations_pre", "escal", "reasons_base", "topic_docs")  # first pass -> second pass, per partition

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
    refunds: str | None  # the month's refunds as one parquet file (read once per process, not pickled per task)
    roster: pl.DataFrame | None
    settings: AnalyticsSettings
    data_dir: str


@dataclass(frozen=True)
class FinishTask:
    """One partition's second pass: its folder, the fitted reason model, the topic sample
    (first_b of its documents), settings."""

    out_dir: str
    model: Any  # analytics.reasons.ReasonModel
    topic_choice: pl.Series
    settings: AnalyticsSettings
    data_dir: str


@dataclass(frozen=True)
class SplitTask:
    """Consecutive rows of the month's messages files, ``ranges`` ((file, lo, hi): rows
    [lo, hi) of a file, in month order), to split into the partitions' scratch folders;
    ``offset`` is the month row number (msg_idx) of the first; ``name`` prefixes the files it
    writes (names sort in month order)."""

    ranges: tuple[tuple[str, int, int], ...]
    offset: int
    k: int
    scratch: str
    name: str


_NO_ACCOUNTS = pl.Schema({"shop": pl.String(), "agent_account": pl.String()})


def cut_ranges(ranges: list[tuple[str, int, int]], size: int) -> list[list[tuple[str, int, int]]]:
    """``ranges`` (file, lo, hi) cut into consecutive groups of ``size`` rows (the last one
    shorter): a group may span files, a file may span groups."""
    groups: list[list[tuple[str, int, int]]] = [[]]
    room = size
    for f, lo, hi in ranges:
        while lo < hi:
            if room == 0:
                groups.append([])
                room = size
            n = min(room, hi - lo)
            groups[-1].append((f, lo, lo + n))
            lo, room = lo + n, room - n
    return [g for g in groups if g]


def split_range(task: SplitTask) -> tuple[list[tuple[int, str]], pl.DataFrame]:
    """Split the task's rows, :func:`split_batch_rows` at a time (a batch may span files),
    needed columns only: ((partition, file written) in order, the distinct (shop,
    agent_account) seen)."""
    written, accounts, offset = [], [], task.offset
    for b, batch in enumerate(cut_ranges(list(task.ranges), split_batch_rows(task.k))):
        df = pl.concat([pl.scan_parquet(f).select(c for c in MESSAGE_COLUMNS if c in pl.read_parquet_schema(f))
                        .slice(lo, hi - lo).collect() for f, lo, hi in batch])
        df = df.with_row_index("msg_idx", offset=offset).with_columns(pl.col("msg_idx").cast(pl.Int64),
                                                                      partition_of(task.k).alias("_p"))
        offset += df.height
        accounts.append(df.select("shop", "agent_account").unique())
        for (p,), g in df.partition_by("_p", as_dict=True, include_key=False).items():
            path = Path(task.scratch) / f"p{p:03d}" / f"{task.name}-{b:04d}.parquet"
            g.write_parquet(path, compression=SCRATCH_COMPRESSION, statistics=False)
            written.append((p, str(path)))
    return written, pl.concat(accounts).unique() if accounts else pl.DataFrame(schema=_NO_ACCOUNTS)


def split_batch_rows(k: int) -> int:
    """Messages a split batch reads for ``k`` partitions: :data:`SPLIT_BATCH_ROWS`, more when
    there are so many partitions that a batch's file per partition would be tiny (a file
    costs ~4 ms to write; 10M: 80 partitions, batches of 500k rows, 1,600 files instead of
    3,200), up to half a task (memory: a batch is ~100 MB per 500k rows)."""
    return min(SPLIT_TASK_ROWS // 2, max(SPLIT_BATCH_ROWS, k * SPLIT_PIECE_ROWS))


def split_messages(files: list[Path], k: int, scratch: Path, map_: Map = local_map) -> tuple[list[list[str]], pl.DataFrame, int]:
    """(each partition's message files in month order, the month's distinct (shop,
    agent_account), rows): ``files`` cut into tasks of up to :data:`SPLIT_TASK_ROWS` rows
    (at least 4 tasks when they can hold a batch each, :func:`split_batch_rows`; a task may span
    files: an ingest writes parts of ~250k rows and a few tiny ones, and each batch writes
    one file per partition), split by ``map_`` (on the partition workers when there are some)."""
    for i in range(k):
        (scratch / f"p{i:03d}").mkdir(parents=True, exist_ok=True)
    ranges = [(str(f), 0, pq.ParquetFile(f).metadata.num_rows) for f in files]
    total = sum(hi for _, _, hi in ranges)
    size = min(SPLIT_TASK_ROWS, max(split_batch_rows(k), -(-total // 4)))
    tasks, offset = [], 0
    for group in cut_ranges([r for r in ranges if r[2]], size):
        tasks.append(SplitTask(tuple(group), offset, k, str(scratch), f"t{len(tasks):05d}"))
        offset += sum(hi - lo for _, lo, hi in group)
    out: list[list[str]] = [[] for _ in range(k)]
    accounts = []
    for written, acc in map_(split_range, tasks):
        for p, path in written:
            out[p].append(path)
        accounts.append(acc)
    acc = pl.concat(accounts).unique() if accounts else pl.DataFrame(schema=_NO_ACCOUNTS)
    return out, acc, offset


_REFUNDS: dict[str, MonthRefunds | None] = {}
_REFUNDS_LOCK = threading.Lock()


def _refunds(path: str | None) -> MonthRefunds | None:
    """The refunds file of a task, read and prepared for the links once per process (the
    month's refunds are the same for every partition; their sort is the costly part)."""
    if path is None:
        return None
    with _REFUNDS_LOCK:  # partitions on threads wait for the first one's preparation
        if path not in _REFUNDS:
            _REFUNDS.clear()
            _REFUNDS[path] = prepare_refunds(pl.read_parquet(path))
        return _REFUNDS[path]


@dataclass
class PartitionOutput:
    """What a partition task returns: ``frames``, the small frames the merge needs (first
    pass, :data:`analytics.partition.SMALL`) or its documents of the topic sample (second
    pass); ``key_samples``, every :data:`KEY_SAMPLE_EVERY`-th key of each row mart it wrote."""

    frames: dict[str, pl.DataFrame]
    key_samples: dict[str, pl.DataFrame]


def run_partition(task: PartitionTask) -> PartitionOutput:
    """First pass of one partition (see module doc)."""
    msgs = pl.read_parquet(list(task.files))
    global_idx = msgs["msg_idx"]
    res = text_resources(task.settings, task.data_dir)
    out = partition_marts(msgs.drop("msg_idx"), global_idx, task.accounts, _refunds(task.refunds), task.roster, task.settings, res)
    del msgs
    folder = Path(task.out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    out["conversations_pre"] = out.pop("conversations")
    samples = {name: _write_sorted(out.pop(name), name, folder / f"{name}.parquet") for name in FIRST_PASS_MARTS}
    for name in _CARRY:
        out.pop(name).write_parquet(folder / f"{name}.parquet", compression=SCRATCH_COMPRESSION, statistics=False)
    return PartitionOutput({name: _own_buffers(out[name]) for name in SMALL}, samples)


def finish_partition(task: FinishTask) -> PartitionOutput:
    """Second pass of one partition: its conversations and conversation_reasons files; its
    documents of the topic sample (``frames["topic_docs"]``)."""
    folder = Path(task.out_dir)
    part = {name: pl.read_parquet(folder / f"{name}.parquet") for name in _CARRY}
    part["conversations"] = part.pop("conversations_pre")
    done = _finish(part, task.model, task.topic_choice, text_resources(task.settings, task.data_dir))
    topic_docs = done.pop("topic_docs")
    samples = {name: _write_sorted(frame, name, folder / f"{name}.parquet") for name, frame in done.items()}
    return PartitionOutput({"topic_docs": topic_docs}, samples)


@dataclass(frozen=True)
class MergeTask:
    """One row mart to write into the build as ordered parts from the partitions' sorted
    files; the build (picklable) has started the table's parts folder (a worker adds parts)."""

    build: Any  # pipelines.publish.MonthBuild
    table: str
    files: tuple[str, ...]
    sample: pl.DataFrame


def merge_table(task: MergeTask) -> int:
    """:func:`write_sorted_parts` of a task; returns its row count."""
    return write_sorted_parts(task.build, task.table, [Path(f) for f in task.files], ROW_MARTS[task.table], task.sample)


def run_task(task: FinishTask | MergeTask) -> Any:
    """One task of the step's last two rounds (second passes and merges share the workers)."""
    return finish_partition(task) if isinstance(task, FinishTask) else merge_table(task)


def write_sorted_parts(build, table: str, files: list[Path], key: list[str], sample: pl.DataFrame) -> int:
    """Write ``table`` into the build as ordered parts (the caller started them,
    ``build.start_parts``): the rows of ``files`` (each sorted by ``key``, a total order)
    merged in that order, about :data:`PART_ROWS` rows at a time.

    Boundaries are cut from ``sample`` (every :data:`KEY_SAMPLE_EVERY`-th key of each file,
    kept by the partitions when they wrote them); since every file is sorted, the rows of one
    part are one contiguous slice of each file (:func:`part_slices`). Each file is read ahead
    in windows of several parts' slices (:class:`_ReadAhead`, about :data:`MERGE_WINDOW_BYTES`
    over all files), not one scan per part and file. Memory: one file's key columns, or the
    windows and one part. Returns the row count."""
    readers = [_ReadAhead(f, MERGE_WINDOW_BYTES // max(1, len(files))) for f in files]
    readers = [r for r in readers if r.rows]
    if not readers:
        return 0
    slices = part_slices([r.path for r in readers], key, sample)
    rows = 0
    for j in range(len(slices[0]) - 1):
        pieces = [r.take(pos[j], pos[j + 1]) for r, pos in zip(readers, slices, strict=True) if pos[j + 1] > pos[j]]
        if pieces:
            part = pl.concat(pieces).sort(key)
            del pieces
            build.write_part(table, part)
            rows += part.height
    return rows


def part_slices(files: list[Path], key: list[str], sample: pl.DataFrame) -> list[list[int]]:
    """For each of ``files`` (sorted by ``key``, not empty), the row numbers where the parts
    of the merge start and end: [0, rows before boundary 1, ..., rows]. The boundaries are
    every ``step``-th key of the sorted ``sample``, ``step`` such that parts hold about
    :data:`PART_ROWS` rows; a boundary sorts before a row equal to it (a binary search of
    the file's keys as one struct column, which compares field by field like the sort,
    nulls first)."""
    total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    sample = sample.sort(key)
    n_parts = -(-total // PART_ROWS)
    step = max(1, -(-sample.height // n_parts))
    bounds = sample[step::step].select(pl.struct(key).alias("k"))["k"]
    slices = []
    for f in files:
        keys = pl.read_parquet(f, columns=key).select(pl.struct(key).alias("k"))["k"]
        slices.append([0, *keys.search_sorted(bounds, side="left").cast(pl.Int64).to_list(), keys.len()])
    return slices


class _ReadAhead:
    """Consecutive slices of one sorted parquet file, each scan reading at least
    :data:`MERGE_SCAN_ROWS` rows (ahead of the slice asked for) unless that would hold more
    than ``window_bytes`` in memory: a part's slice of one of 80 files is ~1,250 rows at 10M,
    and a scan for each part and file (thousands) cost more than the rows it read. A part's
    slice of one of a few files (1M: 8 files) is read as it is."""

    def __init__(self, path: Path, window_bytes: int):
        meta = pq.ParquetFile(path).metadata
        self.path, self.rows, self.window_bytes = path, meta.num_rows, window_bytes
        # until a window is read: the parquet bytes of a row, doubled (polars' string views)
        self.row_bytes = 2 * sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups)) / max(1, self.rows)
        self.lo, self.frame = 0, pl.DataFrame()

    def take(self, a: int, b: int) -> pl.DataFrame:
        """Rows [a, b) of the file, ``a`` at or after the previous call's ``b``."""
        if b > self.lo + self.frame.height:
            n = max(b - a, min(MERGE_SCAN_ROWS, int(self.window_bytes / max(1.0, self.row_bytes))))
            self.frame = pl.DataFrame()  # the previous window is not needed any more
            self.frame = pl.scan_parquet(self.path).slice(a, n).collect()
            self.lo = a
            if self.frame.height:
                self.row_bytes = self.frame.estimated_size() / self.frame.height
        return self.frame.slice(a - self.lo, b - a)


def _write_sorted(frame: pl.DataFrame, name: str, path: Path) -> pl.DataFrame:
    """A partition's row mart, sorted by its total order, in small row groups (the merge reads
    slices of it); returns every :data:`KEY_SAMPLE_EVERY`-th key (the merge's boundaries are
    cut from them)."""
    key = ROW_MARTS[name]
    frame = frame.sort(key)
    frame.write_parquet(path, row_group_size=ROW_GROUP_ROWS, compression=SCRATCH_COMPRESSION, statistics=False)
    return _own_buffers(frame.select(key).gather_every(KEY_SAMPLE_EVERY))


def _own_buffers(small: pl.DataFrame) -> pl.DataFrame:
    """``small`` copied into buffers of its own: gathered or grouped strings still point into
    the partition's string buffers (its messages', its marts'), which would stay alive as long
    as the small frame does, i.e. until the merge."""
    return pl.from_arrow(small.to_arrow(compat_level=pl.CompatLevel.oldest()))  # type: ignore[return-value]


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
        files, accounts, _ = split_messages(build.parts("messages"), k, scratch / "messages", map_)
        refunds_file = None
        if refunds is not None:
            refunds_file = str(scratch / "refunds.parquet")
            refunds.write_parquet(refunds_file, compression=SCRATCH_COMPRESSION, statistics=False)
        tasks = [PartitionTask(tuple(f), str(scratch / "marts" / f"p{i:03d}"), accounts, refunds_file, roster, settings,
                               str(data_dir)) for i, f in enumerate(files) if f]
        firsts = map_(run_partition, tasks)
        shutil.rmtree(scratch / "messages", ignore_errors=True)
        _REFUNDS.clear()
        small = {name: concat_parts([p.frames[name] for p in firsts]) for name in SMALL}
        samples = {name: concat_parts([p.key_samples[name] for p in firsts]) for name in FIRST_PASS_MARTS}
        del firsts
        release_freed_memory()  # the first passes' pages, before the merge builds the month's frames
        res = text_resources(settings, str(data_dir))
        small_marts, model, report, choice, _ = merge_small(small, roster, settings, res)
        del small
        release_freed_memory()

        def merges(names):
            for name in names:
                build.start_parts(name)
            return [MergeTask(build, name, tuple(str(Path(t.out_dir) / f"{name}.parquet") for t in tasks),
                              samples.pop(name)) for name in names]

        # the first-pass marts are merged while the second pass runs (merges first: the longest tasks)
        done = map_(run_task, [*merges(FIRST_PASS_MARTS), *(FinishTask(t.out_dir, model, choice, settings, str(data_dir))
                                                            for t in tasks)])
        rows = dict(zip(FIRST_PASS_MARTS, done[:len(FIRST_PASS_MARTS)], strict=True))
        seconds = done[len(FIRST_PASS_MARTS):]
        del done
        samples |= {name: concat_parts([p.key_samples[name] for p in seconds]) for name in SECOND_PASS_MARTS}
        small_marts["topics"], topics_message = month_topics_of(concat_parts([p.frames["topic_docs"] for p in seconds]),
                                                                settings, res)
        del seconds
        rows |= dict(zip(SECOND_PASS_MARTS, map_(merge_table, merges(SECOND_PASS_MARTS)), strict=True))
        return PartsOutcome(small_marts, rows, report, topics_message)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
