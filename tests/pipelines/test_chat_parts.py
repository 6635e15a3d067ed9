"""Issue 13 (memory): the analytics step streamed through buyer partitions (pipelines.chat_parts)
writes the same marts, row for row and in the same order, as the one-piece build."""

from __future__ import annotations

import pickle
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.monthly import CHAT_MARTS, DEFAULT_SETTINGS, MonthJob, step_analytics
from pipelines.publish import MonthBuild

MONTH = "2026-10"


def _staged(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the staged table's other columns, null (the analytics do not read them)."""
    from contracts import contract

    schema = contract(table).schema()
    return frame.select(pl.col(c).cast(schema[c]) if c in frame.columns else pl.lit(None, schema[c]).alias(c)
                        for c in schema if c != "month")


@pytest.fixture(scope="module")
def month_frames():
    from pipelines.bench import sample_frames

    messages, refunds = sample_frames(20_000, seed=3)
    refunds = _staged("refunds", refunds.drop("needs_return"))
    accounts = messages["agent_account"].unique().sort().to_list()[:3]  # a roster of some agents only
    roster = _staged("roster", pl.DataFrame({"agent_account": accounts, "name": [f"客服{i}" for i in range(len(accounts))],
                                             "role": ["普通售后客服"] * len(accounts)}))
    return messages, refunds, roster


@pytest.fixture(scope="module")
def settings_file(tmp_path_factory) -> Path:
    """The default settings with a topic sample cap below the month's documents (so the
    sample itself is compared across the two paths)."""
    text = DEFAULT_SETTINGS.read_text("utf-8").replace("    min_docs: 30\n", "    min_docs: 30\n    max_docs: 500\n", 1)
    assert "max_docs: 500" in text
    path = tmp_path_factory.mktemp("settings") / "settings.yaml"
    path.write_text(text, "utf-8")
    return path


def _staged_build(tmp: Path, messages: pl.DataFrame, refunds: pl.DataFrame, roster: pl.DataFrame,
                  pieces: int) -> MonthBuild:
    build = MonthBuild(MONTH, tmp / "w.duckdb", tmp / "out")
    size = -(-messages.height // pieces)
    for i in range(pieces):  # messages in parts, as ingest writes a big month
        build.write_part("messages", messages.slice(i * size, size))
    build.write("refunds", refunds)
    build.write("roster", roster)
    return build


def _run(tmp: Path, frames, settings: Path, partitions: int, pieces: int = 3):
    build = _staged_build(tmp, *frames, pieces)
    job = MonthJob(MONTH, warehouse=tmp / "w.duckdb", out=tmp / "out", settings=settings, partitions=partitions)
    summary = step_analytics(job, build)
    return build, summary


def test_streamed_partitions_write_the_marts_of_the_one_piece_build(tmp_path, month_frames, settings_file):
    one, one_sum = _run(tmp_path / "one", month_frames, settings_file, partitions=1)
    many, many_sum = _run(tmp_path / "many", month_frames, settings_file, partitions=5)
    assert one_sum.reasons_message == many_sum.reasons_message and "macro-F1" in one_sum.reasons_message
    assert one_sum.topics_message == many_sum.topics_message and "500 个会话" in one_sum.topics_message
    assert one_sum.rows == many_sum.rows
    for name in (*CHAT_MARTS, "lexicon_versions"):
        a, b = one.read(name), many.read(name)
        assert a.height > 0, name
        assert_frame_equal(a, b, check_exact=True), name  # same rows in the same order
    assert many.parts("text_hits")[0].parent.name == "text_hits"  # row marts written in parts
    assert not (many.dir / "scratch" / "chat-parts").exists()  # scratch removed


def test_partitions_run_through_an_injected_map_of_pickled_tasks(tmp_path, month_frames, settings_file, monkeypatch):
    """The hook for a Dask cluster: every task and result crosses a pickle, tasks run in
    reverse order; the marts are the same. Rounds: the split, the first pass, the second pass
    with the merges of the first-pass marts, the merges of the second-pass marts."""
    from analytics.settings import AnalyticsSettings
    from pipelines.chat_parts import chat_marts_in_parts
    from pipelines.monthly import DATA_DIR

    import pipelines.chat_parts as chat_parts

    calls: list = []
    monkeypatch.setattr(chat_parts, "release_freed_memory", lambda: calls.append("release"))

    def pickling_map(fn, items):
        items = [pickle.loads(pickle.dumps(item)) for item in items]
        calls.append(len(items))
        out = {i: pickle.loads(pickle.dumps(fn(items[i]))) for i in reversed(range(len(items)))}
        return [out[i] for i in range(len(items))]

    settings = AnalyticsSettings.from_yaml_text(settings_file.read_text("utf-8"))
    ref, _ = _run(tmp_path / "ref", month_frames, settings_file, partitions=4)
    build = _staged_build(tmp_path / "b", *month_frames, 2)
    calls.clear()  # the reference run released too
    out = chat_marts_in_parts(build, 4, build.read("refunds"), build.read("roster"), settings, DATA_DIR, pickling_map)
    # split (one task: both messages parts), first pass, second (tagging) pass + 4 merges, 2 merges; freed pages
    # go back before the merge of the small frames and before the second round (pipelines/memory.py)
    assert calls == [1, 4, "release", "release", 4 + 4, 2]
    for name, frame in out.small_marts.items():
        assert_frame_equal(frame, ref.read(name).select(frame.columns), check_exact=True, check_dtypes=False), name
    for name in out.rows:
        assert_frame_equal(build.read(name), ref.read(name), check_exact=True), name


def test_streamed_partitions_from_the_committed_month(tmp_path, month_frames, settings_file):
    """`kefu run` without an inbox re-analyses the month the warehouse holds: the messages
    come from the committed month (its stored parquet files), and the marts equal
    those of the run that computed them from its own parts."""
    from pipelines.publish import new_build

    from datetime import datetime

    from pipelines import warehouse

    first, _ = _run(tmp_path, month_frames, settings_file, partitions=4)
    expected = {name: first.read(name) for name in (*CHAT_MARTS, "lexicon_versions")}
    first.log(warehouse.RunRecord(MONTH, "ingest-kpi", datetime.now(), details={"shop": ""}))  # the month counts as loaded
    first.publish()
    again = new_build(MONTH, tmp_path / "w.duckdb", tmp_path / "out")
    assert "messages" not in again.replaced
    job = MonthJob(MONTH, warehouse=tmp_path / "w.duckdb", out=tmp_path / "out", settings=settings_file, partitions=4)
    step_analytics(job, again)
    from pipelines.table_files import files_dir  # the warehouse's stored files, read without an export

    assert again.parts("messages")[0].is_relative_to(files_dir(tmp_path / "w.duckdb"))
    for name, frame in expected.items():
        assert_frame_equal(again.read(name), frame, check_exact=True), name



class _Parts:
    """A build that keeps the parts written to it."""

    def __init__(self):
        self.parts: list[pl.DataFrame] = []

    def write_part(self, table: str, frame: pl.DataFrame) -> None:
        self.parts.append(frame)


_KEY = ["a", "b", "c"]


def _sorted_files(tmp: Path, sizes: list[int], seed: int) -> list[Path]:
    """Files of unique (a, b, c) keys (nulls in every key column, strings that differ by a
    trailing space or a prefix) and a payload, each sorted, in row groups of 5 rows."""
    import random

    rng = random.Random(seed)
    strings = [None, "", "x", "x ", "xx", "x\u00e9", "y", "\u5ba2\u670d"]
    keys = {(rng.choice(strings), rng.choice([None, -2, 0, 1, 7]), rng.choice(strings)) for _ in range(4 * sum(sizes))}
    keys = sorted(keys, key=repr)
    rng.shuffle(keys)
    files, at = [], 0
    for i, n in enumerate(sizes):
        rows = keys[at:at + n]
        at += n
        frame = pl.DataFrame({"a": [k[0] for k in rows], "b": [k[1] for k in rows], "c": [k[2] for k in rows],
                              "payload": [f"row{at}-{j}" for j in range(len(rows))]},
                             schema={"a": pl.String, "b": pl.Int64, "c": pl.String, "payload": pl.String}).sort(_KEY)
        path = tmp / f"p{i:03d}.parquet"
        frame.write_parquet(path, row_group_size=5)
        files.append(path)
    assert at == sum(sizes)
    return files


def _slices_by_sort(files: list[Path], key: list[str], sample: pl.DataFrame, part_rows: int) -> list[list[int]]:
    """Where each file's parts start (the merge before the read-ahead, a reference): each
    file's keys sorted with the boundaries, a boundary before a row equal to it."""
    total = sum(pl.scan_parquet(f).select(pl.len()).collect().item() for f in files)
    sample = sample.sort(key)
    n_parts = -(-total // part_rows)
    step = max(1, -(-sample.height // n_parts))
    bounds = sample[step::step]
    slices = []
    for f in files:
        keys = pl.read_parquet(f, columns=key)
        before = (pl.concat([keys.with_columns(pl.lit(1, pl.Int8).alias("_f")), bounds.with_columns(pl.lit(0, pl.Int8).alias("_f"))])
                  .sort([*key, "_f"]).with_columns(pl.col("_f").cast(pl.Int64).cum_sum().alias("n"))
                  .filter(pl.col("_f") == 0)["n"].to_list())
        slices.append([0, *before, keys.height])
    return slices


def _merge_by_part_scans(files: list[Path], key: list[str], sample: pl.DataFrame, part_rows: int) -> list[pl.DataFrame]:
    """The merge as it was before the read-ahead (a reference): one scan per part and file."""
    files = [f for f in files if pl.scan_parquet(f).select(pl.len()).collect().item()]
    slices = _slices_by_sort(files, key, sample, part_rows)
    parts = []
    for j in range(len(slices[0]) - 1):
        pieces = [pl.scan_parquet(f).slice(pos[j], pos[j + 1] - pos[j]).collect()
                  for f, pos in zip(files, slices, strict=True) if pos[j + 1] > pos[j]]
        if pieces:
            parts.append(pl.concat(pieces).sort(key))
    return parts


@pytest.mark.parametrize("part_rows, window_bytes, scan_rows, every", [
    (10, 1, 8_192, 3),  # windows of one part's slice: a scan per part and file, as before
    (10, 2_000, 8_192, 3),  # windows of a few parts (by bytes)
    (10, 10**9, 8_192, 3),  # each file read once
    (10, 10**9, 4, 3),  # scans of at least 4 rows (fewer than a part's slice of some files)
    (1, 700, 8_192, 1),  # one-row parts (every key sampled)
    (1_000, 700, 8_192, 4),  # one part
])
def test_read_ahead_merge_cuts_the_parts_of_one_scan_per_part_and_file(tmp_path, monkeypatch, part_rows, window_bytes,
                                                                       scan_rows, every):
    """The merge of the partitions' sorted row marts reads each file ahead in windows; the
    parts are the same frames, cut at the same rows, as the merge that scanned each file once
    per part: files whose rows straddle many parts, an empty file, a one-row file, keys with
    nulls and strings that differ by a trailing space or a prefix."""
    import pipelines.chat_parts as cp

    files = _sorted_files(tmp_path, [37, 0, 1, 60, 23, 5], seed=part_rows + window_bytes + scan_rows)
    sample = pl.concat([pl.read_parquet(f, columns=_KEY).gather_every(every) for f in files])
    monkeypatch.setattr(cp, "PART_ROWS", part_rows)
    monkeypatch.setattr(cp, "MERGE_WINDOW_BYTES", window_bytes)
    monkeypatch.setattr(cp, "MERGE_SCAN_ROWS", scan_rows)
    build = _Parts()
    rows = cp.write_sorted_parts(build, "t", files, _KEY, sample)
    expected = _merge_by_part_scans(files, _KEY, sample, part_rows)
    assert rows == 126 and [p.height for p in build.parts] == [p.height for p in expected]
    for got, want in zip(build.parts, expected, strict=True):
        assert_frame_equal(got, want, check_exact=True)
    assert_frame_equal(pl.concat(build.parts), pl.concat([pl.read_parquet(f) for f in files]).sort(_KEY, nulls_last=False))
    if part_rows == 1:
        assert max(p.height for p in build.parts) == 1
    if part_rows == 1_000:
        assert len(build.parts) == 1


def test_part_slices_search_the_keys_like_a_sort_with_the_boundaries(tmp_path, monkeypatch):
    """Boundaries found by a binary search of each file's keys as one struct column land
    where sorting the keys with the boundaries puts them (nulls first in every column; a
    boundary before the row equal to it)."""
    import pipelines.chat_parts as cp

    files = _sorted_files(tmp_path, [50, 1, 80, 9], seed=11)
    sample = pl.concat([pl.read_parquet(f, columns=_KEY).gather_every(2) for f in files])
    monkeypatch.setattr(cp, "PART_ROWS", 7)
    got = cp.part_slices(files, _KEY, sample)
    # 140 rows: 20 parts of 7; 71 sampled keys: a boundary every 4th (17 of them)
    assert [len(s) for s in got] == [19] * 4 and [s[-1] for s in got] == [50, 1, 80, 9]
    assert got == _slices_by_sort(files, _KEY, sample, 7)


def test_split_tasks_and_batches_span_the_messages_files():
    """The split cuts the month's rows (files of any size, empty ones too) into consecutive
    groups of a fixed size, whatever the files: every row once, in month order."""
    from pipelines.chat_parts import cut_ranges

    ranges = [("a", 0, 7), ("b", 0, 0), ("c", 0, 1), ("d", 0, 12)]
    assert cut_ranges(ranges, 5) == [[("a", 0, 5)], [("a", 5, 7), ("c", 0, 1), ("d", 0, 2)], [("d", 2, 7)], [("d", 7, 12)]]
    assert cut_ranges(ranges, 100) == [[("a", 0, 7), ("c", 0, 1), ("d", 0, 12)]]
    assert cut_ranges(ranges, 1)[7:9] == [[("c", 0, 1)], [("d", 0, 1)]] and len(cut_ranges(ranges, 1)) == 20
    assert cut_ranges([("a", 3, 3)], 4) == [] and cut_ranges([("a", 2, 9)], 4) == [[("a", 2, 6)], [("a", 6, 9)]]


def test_split_of_messages_files_spanned_by_tasks_and_batches(tmp_path, monkeypatch):
    """Messages in files of uneven sizes (an empty one) split in batches that span files:
    each partition gets its buyers' rows in month order, numbered by their month row."""
    import pipelines.chat_parts as cp
    from analytics.partition import partition_of

    rows = pl.DataFrame({"shop": ["s"] * 23, "agent_account": [f"a{i % 3}" for i in range(23)],
                         "buyer": [f"b{i % 5}" for i in range(23)], "text": [f"m{i}" for i in range(23)]})
    files = []
    for i, (lo, hi) in enumerate([(0, 9), (9, 9), (9, 10), (10, 23)]):
        files.append(tmp_path / f"m{i}.parquet")
        rows.slice(lo, hi - lo).write_parquet(files[-1])
    monkeypatch.setattr(cp, "SPLIT_BATCH_ROWS", 4)
    monkeypatch.setattr(cp, "SPLIT_PIECE_ROWS", 1)
    monkeypatch.setattr(cp, "SPLIT_TASK_ROWS", 6)
    out, accounts, n = cp.split_messages(files, 3, tmp_path / "scratch")
    assert n == 23 and accounts.sort("agent_account").equals(rows.select("shop", "agent_account").unique().sort("agent_account"))
    numbered = rows.with_row_index("msg_idx").with_columns(pl.col("msg_idx").cast(pl.Int64))
    for p in range(3):
        got = pl.read_parquet(out[p])
        want = numbered.filter(partition_of(3) == p).select(got.columns)
        assert got.height > 0 and got.equals(want)


def test_split_batches_grow_with_the_partitions_up_to_half_a_task():
    from pipelines.chat_parts import SPLIT_BATCH_ROWS, SPLIT_TASK_ROWS, split_batch_rows

    assert split_batch_rows(1) == split_batch_rows(9) == SPLIT_BATCH_ROWS == 250_000  # 1M: 9 partitions
    assert split_batch_rows(80) == 500_000 == SPLIT_TASK_ROWS // 2  # 10M: 80 partitions
    assert split_batch_rows(128) == 500_000
