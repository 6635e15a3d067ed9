"""Mutation fuzzer over every reader layout and the supervisor workbook (issue 9 item 10).

Property, for every mutated file put alone in an inbox: ``stage_inbox`` either raises
:class:`pipelines.ingest.IngestError` for a reason a user can act on (unreadable, undecodable,
corrupt workbook, a known layout with required columns missing), or succeeds with ``rows_read = loaded + quarantined + out_of_month +
duplicates`` for every file and kind, and the staged tables hold exactly the loaded rows.
Anything else is a crash — including a reader exception that only the ingest's catch-all
turned into "读取失败 (KeyError: ...)", or a reader's sniff crash (``readers.SniffError``).

``KEFU_FUZZ_CASES`` cases in total (default 2000) spread evenly over the seeds, run by
``KEFU_FUZZ_WORKERS`` spawned processes (default 2) with single-threaded polars (tiny frames);
``KEFU_FUZZ_SEED`` (default 0) picks another deterministic set. A crash message names the
seed and case number: ``harness.case_file(seed, i, base)`` rebuilds the file, and the file is
also kept under the test's tmp_path/crashes.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from pipelines.ingest import KPI_KINDS, SLA_KINDS, stage_inbox
from tests.fuzz.corpus import MONTH, build_seeds
from tests.fuzz.harness import case_key, run_job

TOTAL = int(os.environ.get("KEFU_FUZZ_CASES", "2000"))
BASE = os.environ.get("KEFU_FUZZ_SEED", "0")
WORKERS = int(os.environ.get("KEFU_FUZZ_WORKERS", "2"))
CHUNK = 25


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return build_seeds(tmp_path_factory.mktemp("fuzz_seeds"))


def test_seeds_cover_every_layout(seeds, tmp_path):
    from pipelines import readers

    assert {s.layout for s in seeds} | {"sla_calls", "sla_parts", "sla_tickets"} >= set(readers.registry())
    for s in seeds:  # every seed is valid: it loads rows
        inbox = tmp_path / case_key(s).replace(":", "_")
        inbox.mkdir()
        (inbox / s.name).write_bytes(s.data)
        results, tables, _ = stage_inbox(MONTH, inbox, SLA_KINDS if s.domain == "sla" else KPI_KINDS)
        assert results[0].status == "loaded", (s.layout, results[0].notes)
        assert sum(t.height for t in tables.values()) > 0, s.layout


def test_fuzz_readers(seeds, tmp_path, monkeypatch):
    per_seed = max(1, -(-TOTAL // len(seeds)))
    keep = str(tmp_path / "crashes")
    jobs = [(s, a, min(a + CHUNK, per_seed), BASE, keep) for s in seeds for a in range(0, per_seed, CHUNK)]
    monkeypatch.setenv("POLARS_MAX_THREADS", "1")  # read by the spawned workers' polars
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(WORKERS) as pool:
        parts = pool.map(run_job, jobs, chunksize=1)
    ok = sum(o["ok"] for o, _ in parts)
    errors = sum(o["error"] for o, _ in parts)
    crashes = [c for _, cs in parts for c in cs]
    total = ok + errors + len(crashes)
    print(f"fuzz: {total} cases ({len(seeds)} seeds), {ok} loaded, {errors} clear input errors, {len(crashes)} crashes")
    assert total == per_seed * len(seeds) >= TOTAL
    assert not crashes, f"{len(crashes)} crashes (files kept in {keep}):\n" + "\n".join(crashes[:15])
    assert ok > total // 3  # most mutations still load: the fuzzer reaches the stager
