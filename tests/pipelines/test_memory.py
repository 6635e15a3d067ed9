"""Memory between steps (pipelines/memory.py): what a step freed goes back to the system.

Each test measures the process's resident set around a synthetic allocation: without the
release the freed pages stay resident (jemalloc keeps them ~1.5 s, glibc until the top of its
heap is free), with it they go. No timings are asserted."""

from __future__ import annotations

import sys

import polars as pl
import pytest

from pipelines import memory
from pipelines.monthly import SAMPLE_INBOX, MonthJob, run_month

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RSS and both allocators: Linux")
MB = 2**20


@linux
def test_polars_allocator_is_found_and_a_purge_returns_freed_frames():
    assert memory._polars_mallctl() is not None  # the symbol table lookup works on this polars build
    frame = pl.select(a=pl.int_range(0, 40_000_000, dtype=pl.Int64), b=pl.int_range(0, 40_000_000, dtype=pl.Int64) * 2)
    assert frame.estimated_size() >= 600 * MB
    del frame  # freed to jemalloc, which keeps the pages resident for now
    before = memory.rss_mb()
    assert memory.purge_polars_allocator() is True
    assert before - memory.rss_mb() >= 300


@linux
def test_malloc_trim_returns_free_chunks_below_the_top_of_the_heap():
    blocks = [bytearray(64 * 1024) for _ in range(3_000)]  # 190 MB of malloc'd chunks (below the mmap threshold)
    pin = bytearray(64 * 1024)  # allocated last: the heap's top stays in use, so free() cannot shrink it
    del blocks
    before = memory.rss_mb()
    assert memory.trim_glibc() is True
    assert before - memory.rss_mb() >= 100
    del pin


@linux
def test_release_reports_what_it_freed():
    frame = pl.select(a=pl.int_range(0, 30_000_000, dtype=pl.Int64))
    del frame
    released = memory.release_freed_memory()
    assert released.polars_purged and released.glibc_trimmed
    assert released.freed_mb >= 100
    assert released.after_mb == pytest.approx(released.before_mb - released.freed_mb)


def test_a_polars_build_without_the_symbol_is_left_alone(tmp_path, monkeypatch):
    not_elf = tmp_path / "lib.so"
    not_elf.write_bytes(b"not an ELF file" * 10)
    assert memory.elf_symbol_offset(not_elf, b"_rjem_mallctl") is None
    import polars._plr as plr

    assert memory.elf_symbol_offset(plr.__file__, b"_kefu_no_such_symbol") is None
    monkeypatch.setattr(memory, "_polars_mallctl", lambda: None)
    released = memory.release_freed_memory()  # never raises: glibc is still trimmed
    assert released.polars_purged is False


def test_the_month_releases_memory_between_its_steps(tmp_path, monkeypatch):
    import pipelines.monthly as monthly

    events: list[str] = []
    real = memory.release_freed_memory

    def recording():
        events.append("release")
        return real()

    monkeypatch.setattr(monthly, "release_freed_memory", recording)
    run_month(MonthJob("2026-10", inbox=SAMPLE_INBOX, warehouse=tmp_path / "w.duckdb", out=tmp_path / "out"),
              on_step=lambda name: events.append(name.split()[-1]))
    assert events == ["ingest", "release", "analytics", "release", "scoring", "release", "reports", "release", "publish",
                      "done"]


def test_kefu_release_memory_0_turns_the_release_off(monkeypatch):
    called = []
    monkeypatch.setattr(memory, "purge_polars_allocator", lambda: called.append("purge") or True)
    monkeypatch.setattr(memory, "trim_glibc", lambda: called.append("trim") or True)
    monkeypatch.setenv("KEFU_RELEASE_MEMORY", "0")
    off = memory.release_freed_memory()
    assert (off.polars_purged, off.glibc_trimmed, called) == (False, False, [])
    monkeypatch.setenv("KEFU_RELEASE_MEMORY", "1")
    on = memory.release_freed_memory()
    assert (on.polars_purged, on.glibc_trimmed, called) == (True, True, ["purge", "trim"])


def test_the_prefect_tasks_release_memory_after_their_step(monkeypatch):
    import pipelines.flows as flows

    events: list[str] = []
    monkeypatch.setattr(flows, "release_freed_memory", lambda: events.append("release"))
    for name, task in (("ingest", flows.ingest_task), ("analytics", flows.analytics_task), ("score", flows.scoring_task),
                       ("report", flows.report_task)):
        monkeypatch.setattr(flows.monthly, f"step_{name}", lambda job, build, name=name: events.append(name) or name)
        assert task.fn(None, None) == name
    assert events == ["ingest", "release", "analytics", "release", "score", "release", "report", "release"]
