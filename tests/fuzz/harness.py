"""One fuzz case = one mutated file alone in an inbox, run through ``stage_inbox``.

Kept apart from the test module so spawned worker processes can import it by name.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import traceback
from pathlib import Path

from tests.fuzz.corpus import MONTH, Seed
from tests.fuzz.mutate import mutate

def case_key(seed: Seed) -> str:
    return f"{seed.layout}:{seed.name}"


def case_file(seed: Seed, i: int, base: str) -> tuple[bytes, list[str]]:
    """The bytes of case ``i`` of ``seed`` (deterministic in ``base``, the run's seed)."""
    return mutate(random.Random(f"{base}:{case_key(seed)}:{i}"), seed)


def check(inbox: Path, domain: str) -> str:
    """The property on one inbox: 'error' (a clear IngestError) or 'ok' (accounting
    balanced); raises AssertionError (or whatever escaped) otherwise."""
    from pipelines.ingest import KPI_KINDS, SLA_KINDS, IngestError, stage_inbox
    from pipelines.io.encoding import UndecodableFile
    from pipelines.io.source import UnreadableFile
    from pipelines.readers import MissingColumns  # a broken known layout: a user error too

    kinds = SLA_KINDS if domain == "sla" else KPI_KINDS
    try:
        results, tables, quarantine = stage_inbox(MONTH, inbox, kinds)
    except IngestError as e:
        cause = e.__cause__
        # anything else behind the IngestError (the catch-all, a readers.SniffError) is a bug
        if cause is not None and not isinstance(cause, (UnreadableFile, UndecodableFile, OSError, MissingColumns, IngestError)):
            raise AssertionError(f"reader crash behind the catch-all: {e}") from cause
        assert str(e).strip()
        return "error"
    loaded: dict[str, int] = {}
    for f in results:
        for kind, c in f.counts.items():
            assert c.balanced, (f.file_name, kind, c)
            assert min(c.rows_read, c.loaded, c.quarantined, c.out_of_month, c.duplicates) >= 0, c
            loaded[kind] = loaded.get(kind, 0) + c.loaded
    for kind, n in loaded.items():
        assert tables[kind].height == n, (kind, tables[kind].height, n)
    assert quarantine.height == sum(c.quarantined for f in results for c in f.counts.values())
    return "ok"


def run_cases(seed: Seed, cases: range, base: str, keep_dir: str | None = None) -> tuple[dict[str, int], list[str]]:
    """Run ``cases`` of ``seed``; returns (outcome counts, crash descriptions). A crashing
    file is copied to ``keep_dir`` when given."""
    outcomes = {"ok": 0, "error": 0}
    crashes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="kefu-fuzz-"))
    inbox = tmp / "inbox"
    inbox.mkdir()
    path = inbox / seed.name
    try:
        for i in cases:
            data, names = case_file(seed, i, base)
            path.write_bytes(data)
            try:
                outcomes[check(inbox, seed.domain)] += 1
            except Exception as e:  # noqa: BLE001 - every crash is collected and reported
                where = "".join(traceback.format_exception(e)[-4:])[-700:]
                crashes.append(f"{case_key(seed)} case {i} {names}: {type(e).__name__}: {str(e)[:300]}\n{where}")
                if keep_dir:
                    kept = Path(keep_dir) / f"{case_key(seed).replace('/', '_').replace(':', '_')}-{i}"
                    kept.mkdir(parents=True, exist_ok=True)
                    shutil.copy(path, kept / seed.name)
            finally:
                path.unlink(missing_ok=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return outcomes, crashes


def run_job(job: tuple[Seed, int, int, str, str | None]) -> tuple[dict[str, int], list[str]]:
    seed, start, stop, base, keep = job
    return run_cases(seed, range(start, stop), base, keep)
