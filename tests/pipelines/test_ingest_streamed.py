"""Ingest file by file (big kinds streamed into the build as parts) loads exactly the tables
of the former whole-inbox path: every file read and staged, frames concatenated in file
order, then :func:`dedupe` (same rows, same order: analytics numbers messages by row)."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines import readers, warehouse
from pipelines.ingest import STREAMED_KINDS, inbox_files, stage_inbox, stage_into
from pipelines.io.source import SourceFile
from pipelines.publish import MonthBuild
from pipelines.sample import generate
from pipelines.staging.stage import dedupe, stage_batch

MONTH = "2026-10"


@pytest.fixture(scope="module")
def inbox(tmp_path_factory):
    """The sample month: overlapping flat chat CSVs, Qianniu workbooks exported twice,
    overlapping refund downloads, two order reports, JSON and TXT chats."""
    path = tmp_path_factory.mktemp("inbox")
    generate(MONTH, path, agents=5, seed=11)
    return path


def whole_inbox_path(inbox) -> tuple[dict[str, pl.DataFrame], dict[str, dict[str, int]]]:
    """The former path, spelled out: stage every batch of every file, keep all frames,
    dedupe each kind over the concatenation."""
    frames: dict[str, list[pl.DataFrame]] = {}
    for path in inbox_files(inbox):
        src = SourceFile(path)
        reader, _ = readers.detect(src)
        if reader is None:
            continue
        for b in reader.read(src):
            loaded, _, _ = stage_batch(b.kind, b.frame, MONTH, str(path.relative_to(inbox)))
            frames.setdefault(b.kind, []).append(loaded)
    tables, dups = {}, {}
    for kind in STREAMED_KINDS:
        tables[kind], dups[kind] = dedupe(kind, frames.get(kind, []))
    return tables, dups


@pytest.mark.parametrize("slice_rows", [250_000, 97])
def test_streamed_tables_equal_the_whole_inbox_path_row_for_row(inbox, tmp_path, monkeypatch, slice_rows):
    """Also with big files cut in slices of 97 rows (staged and written slice by slice)."""
    monkeypatch.setattr("pipelines.ingest.SLICE_ROWS", slice_rows)
    want, want_dups = whole_inbox_path(inbox)
    assert sum(want_dups["messages"].values()) > 0 and len(want_dups["messages"]) >= 2  # repeats across files
    build = MonthBuild(MONTH, tmp_path / "w.duckdb", tmp_path / "out")
    rep = stage_into(build, inbox)
    msg_files = [f for f in rep.files if "messages" in f.counts and f.counts["messages"].rows_read]
    n_parts = len(build.parts("messages"))
    if slice_rows > 1000:
        assert n_parts == len(msg_files) > 2  # one part per file
    else:
        assert n_parts > len(msg_files)  # big files in several parts
    for kind in sorted(STREAMED_KINDS):
        got = build.read(kind)
        assert_frame_equal(got.select(want[kind].columns), want[kind], check_dtypes=False)
        assert rep.rows[kind] == want[kind].height
        per_file = {f.file_name: f.counts[kind].duplicates for f in rep.files if f.counts.get(kind) and f.counts[kind].duplicates}
        assert per_file == want_dups[kind]
        assert kind not in rep.tables  # not held in memory
    build.publish()
    published = warehouse.read("messages", month=MONTH, path=tmp_path / "w.duckdb")
    assert published["source_file"].to_list() == want["messages"]["source_file"].to_list()
    assert published["source_row"].to_list() == want["messages"]["source_row"].to_list()


def test_in_memory_stage_inbox_gives_the_same_tables(inbox):
    want, _ = whole_inbox_path(inbox)
    results, tables, _ = stage_inbox(MONTH, inbox)
    for kind in STREAMED_KINDS:
        assert_frame_equal(tables[kind], want[kind])
    for f in results:
        for c in f.counts.values():
            assert c.rows_read == c.loaded + c.quarantined + c.out_of_month + c.duplicates


def test_report_keeps_buyers_and_roster_gaps_without_the_frames(inbox, tmp_path):
    _, tables, _ = stage_inbox(MONTH, inbox)
    build = MonthBuild(MONTH, tmp_path / "w.duckdb", tmp_path / "out")
    rep = stage_into(build, inbox)
    buyers = set()
    for kind in ("messages", "refunds", "complaints", "reviews"):
        buyers |= set(tables[kind]["buyer"].drop_nulls().to_list())
    assert rep.buyer_nicks() == buyers and buyers
    from pipelines.ingest import roster_gaps

    assert (rep.unknown_agents, rep.unknown_attendance_names) == roster_gaps(tables)


def test_a_reader_yielding_chunks_is_read_lazily_with_the_same_result(inbox, monkeypatch):
    """A reader may yield a big file's rows in chunks (a generator): same tables; a read error
    in the middle of the file still names the file."""
    from pipelines.ingest import IngestError
    from pipelines.readers.chat_flat import ChatFlatReader

    want, _ = whole_inbox_path(inbox)
    whole = ChatFlatReader.read

    def in_chunks(self, src):
        for b in whole(self, src):
            for start in range(0, b.frame.height, 50):
                yield type(b)(b.kind, b.frame.slice(start, 50), b.notes if start == 0 else [])

    monkeypatch.setattr(ChatFlatReader, "read", in_chunks)
    _, tables, _ = stage_inbox(MONTH, inbox)
    for kind in STREAMED_KINDS:
        assert_frame_equal(tables[kind], want[kind])

    def broken(self, src):
        yield from list(in_chunks(self, src))[:2]
        raise ValueError("第 101 行无法解析")

    monkeypatch.setattr(ChatFlatReader, "read", broken)
    with pytest.raises(IngestError, match=r"\.csv: 读取失败 \(ValueError: 第 101 行无法解析\)"):
        stage_inbox(MONTH, inbox)


def test_a_failure_while_staging_leaves_no_reading_thread_behind(inbox, tmp_path, monkeypatch):
    """Files are read ahead in a background thread: when staging fails, that thread is
    stopped (and its reader closed) before the error reaches the caller."""
    import threading

    import pipelines.ingest as ingest_mod

    real = ingest_mod.stage_batch
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("磁盘已满")
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest_mod, "stage_batch", failing)
    build = MonthBuild(MONTH, tmp_path / "w.duckdb", tmp_path / "out")
    with pytest.raises(RuntimeError, match="磁盘已满"):
        stage_into(build, inbox)
    assert not [t for t in threading.enumerate() if t.name == "kefu-read-ahead"]


def test_reading_ahead_or_not_stages_the_same(inbox, monkeypatch):
    monkeypatch.setattr("pipelines.ingest.READ_AHEAD", 0)
    results0, tables0, q0 = stage_inbox(MONTH, inbox)
    monkeypatch.setattr("pipelines.ingest.READ_AHEAD", 1)
    results1, tables1, q1 = stage_inbox(MONTH, inbox)
    assert [f.rows() for f in results0] == [f.rows() for f in results1]
    for kind in tables0:
        assert_frame_equal(tables0[kind], tables1[kind])
    assert_frame_equal(q0, q1)


@pytest.mark.parametrize("slice_rows", [97, 250_000])
def test_staging_slices_in_threads_or_not_stages_the_same(inbox, monkeypatch, slice_rows):
    monkeypatch.setattr("pipelines.ingest.SLICE_ROWS", slice_rows)
    monkeypatch.setattr("pipelines.ingest.STAGE_WORKERS", 1)
    results1, tables1, q1 = stage_inbox(MONTH, inbox)
    monkeypatch.setattr("pipelines.ingest.STAGE_WORKERS", 3)
    results3, tables3, q3 = stage_inbox(MONTH, inbox)
    assert [(f.rows(), f.notes) for f in results1] == [(f.rows(), f.notes) for f in results3]
    for kind in tables1:
        assert_frame_equal(tables1[kind], tables3[kind])
    assert_frame_equal(q1, q3)
    assert q1.height  # the inbox has bad rows: their order is compared too


def test_a_failing_part_write_fails_the_ingest_and_leaves_no_thread_behind(inbox, tmp_path, monkeypatch):
    """Parts are written by a writing thread: its error reaches the caller, and every
    thread of the ingest (reading ahead, scanning ahead, chunks, writing) is gone by then."""
    import threading

    real = MonthBuild.write_part
    calls = []

    def failing(self, table, frame):
        calls.append(table)
        if len(calls) == 2:
            raise OSError("磁盘已满")
        return real(self, table, frame)

    monkeypatch.setattr(MonthBuild, "write_part", failing)
    build = MonthBuild(MONTH, tmp_path / "w.duckdb", tmp_path / "out")
    with pytest.raises(OSError, match="磁盘已满"):
        stage_into(build, inbox)
    assert not [t.name for t in threading.enumerate() if t.name.startswith("kefu-")]
