"""One run at a time per warehouse (issue 9, guarantee 5): a second run waits, then exits
with a message naming the holder; a dead holder's lock is free at once; the lock is
re-entrant inside one process (a flow's tasks)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import EXIT_BUSY, app
from pipelines.lock import WarehouseBusy, WarehouseLock, holder, warehouse_lock

ROOT = Path(__file__).resolve().parents[3]


def hold_in_subprocess(wh: Path, seconds: float) -> subprocess.Popen:
    code = (
        "import sys, time; from pipelines.lock import WarehouseLock; "
        f"lock = WarehouseLock({str(wh)!r}, 'test holder').acquire(); print('held', flush=True); time.sleep({seconds})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_run_times_out_naming_the_holder_and_writes_nothing(tmp_path):
    wh = tmp_path / "w.duckdb"
    proc = hold_in_subprocess(wh, 60)
    try:
        res = CliRunner().invoke(app, ["run", "-m", "2026-10", "-w", str(wh), "-o", str(tmp_path / "out"), "--no-prefect", "--lock-timeout", "0.5"])
        assert res.exit_code == EXIT_BUSY, res.output
        assert f"进程 {proc.pid}" in res.output and "test holder" in res.output
        assert "Traceback" not in res.output
        assert not wh.exists() and not (tmp_path / "out" / "2026-10").exists()
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_holder_frees_the_lock_at_once(tmp_path):
    wh = tmp_path / "w.duckdb"
    proc = hold_in_subprocess(wh, 60)
    with pytest.raises(WarehouseBusy):
        WarehouseLock(wh).acquire(timeout_s=0.3)
    proc.kill()  # SIGKILL: no cleanup code runs
    proc.wait()
    assert holder(wh)["pid"] == proc.pid  # the stale info file is still there...
    with warehouse_lock(wh, "next run", timeout_s=2):  # ...but the kernel freed the lock
        assert holder(wh)["pid"] == os.getpid()


def test_a_waiting_run_goes_on_when_the_holder_finishes(tmp_path):
    wh = tmp_path / "w.duckdb"
    proc = hold_in_subprocess(wh, 1.0)
    t0 = time.monotonic()
    with warehouse_lock(wh, "waiter", timeout_s=30):
        waited = time.monotonic() - t0
    proc.wait()
    assert waited > 0.3  # it really waited for the holder (not a timing assertion on speed)


def test_lock_is_reentrant_within_a_process(tmp_path):
    wh = tmp_path / "w.duckdb"
    with warehouse_lock(wh, "outer", timeout_s=1):
        with warehouse_lock(wh, "inner", timeout_s=1):
            pass
        assert holder(wh)["command"] == "outer"
    with warehouse_lock(wh, "again", timeout_s=1):  # released after the outer block
        pass
