"""Publish, don't patch: a real `kefu run` killed with SIGKILL at every named point of the
run leaves the warehouse and out/<month>/ exactly as they were (issue 9, guarantee 1).

The run is a subprocess paused at a point by KEFU_PAUSE_AT (pipelines.publish.pause_point);
the test waits for it to get there, kills it, and compares every table and every output file
with the state before. A kill after the commit leaves the new warehouse and the old folder;
the next command rolls the folder forward to the committed run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.publish import PAUSE_POINTS, recover_outputs
from pipelines.sample import generate

from .snapshot import comparable, folder_state, warehouse_state

MONTH = "2026-10"
ROOT = Path(__file__).resolve().parents[3]
BEFORE_COMMIT = [p for p in PAUSE_POINTS if p != "after-commit"]


def kefu_args(inbox: Path, wh: Path, out: Path) -> list[str]:
    return ["run", "-m", MONTH, "-i", str(inbox), "-w", str(wh), "-o", str(out), "--no-prefect", "--replace"]


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    """Month A loaded and published; inbox B (another month of exports) ready to replace it."""
    base = tmp_path_factory.mktemp("kill")
    generate(MONTH, base / "a", agents=4, seed=21)
    generate(MONTH, base / "b", agents=4, seed=22)
    wh, out = base / "w.duckdb", base / "out"
    res = CliRunner().invoke(app, kefu_args(base / "a", wh, out))
    assert res.exit_code in (0, 4), res.output
    # what B looks like when it completes (a separate warehouse, same steps)
    exp_wh, exp_out = base / "expected.duckdb", base / "expected_out"
    shutil.copy(wh, exp_wh)
    res = CliRunner().invoke(app, kefu_args(base / "b", exp_wh, exp_out))
    assert res.exit_code in (0, 4), res.output
    return base, wh, out, exp_wh, exp_out


def run_until(point: str, inbox: Path, wh: Path, out: Path, marker: Path) -> subprocess.Popen:
    env = dict(os.environ, KEFU_PAUSE_AT=point, KEFU_PAUSE_FILE=str(marker), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *kefu_args(inbox, wh, out)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 600  # generous: CI machines can be slow
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(f"run ended before {point}: {proc.stdout.read().decode(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"run never reached {point}")
        time.sleep(0.05)
    assert marker.read_text("utf-8") == point
    return proc


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("point", BEFORE_COMMIT)
def test_sigkill_before_the_commit_changes_nothing(months, point, tmp_path):
    base, wh, out, _, _ = months
    before_tables, before_files = warehouse_state(wh), folder_state(out / MONTH)
    assert before_tables["payroll"] and before_files["payroll.csv"]
    kill(run_until(point, base / "b", wh, out, tmp_path / "paused"))
    assert warehouse_state(wh) == before_tables
    assert folder_state(out / MONTH) == before_files


def test_sigkill_after_the_commit_rolls_the_folder_forward(months, tmp_path):
    base, _, _, exp_wh, exp_out = months
    wh, out = tmp_path / "w.duckdb", tmp_path / "out"
    shutil.copy(base / "w.duckdb", wh)
    shutil.copytree(base / "out", out, symlinks=True)
    old_files = folder_state(out / MONTH)
    kill(run_until("after-commit", base / "b", wh, out, tmp_path / "paused"))
    # the commit point passed: the warehouse holds run B, the folder still shows A
    assert comparable(warehouse_state(wh), wh)["payroll"] == comparable(warehouse_state(exp_wh), exp_wh)["payroll"]
    assert folder_state(out / MONTH) == old_files
    # any next command first rolls the folder forward to the committed run
    assert recover_outputs(wh, out, MONTH) is True
    assert folder_state(out / MONTH)["payroll.csv"] == folder_state(exp_out / MONTH)["payroll.csv"]
    assert recover_outputs(wh, out, MONTH) is False  # idempotent


def test_a_run_after_kills_finishes_and_equals_an_uninterrupted_run(months, tmp_path):
    base, wh, out, exp_wh, exp_out = months
    kill(run_until("mid-transaction", base / "b", wh, out, tmp_path / "paused"))
    res = CliRunner().invoke(app, kefu_args(base / "b", wh, out))  # the dead run's lock is gone
    assert res.exit_code in (0, 4), res.output
    got, want = comparable(warehouse_state(wh), wh), comparable(warehouse_state(exp_wh), exp_wh)
    for table in ("payroll", "kpi_items", "messages", "refunds", "agent_month_metrics", "quarantine"):
        assert got[table] == want[table], table
    assert folder_state(out / MONTH)["payroll.csv"] == folder_state(exp_out / MONTH)["payroll.csv"]
    assert not (out / ".kefu-build").exists() or not any((out / ".kefu-build").iterdir())
