"""Reproducible (issue 9, guarantee 7): the same inputs and rules give identical tables
(apart from run ids and timestamps) and byte-identical output files."""

from __future__ import annotations

from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.monthly import SAMPLE_INBOX

from .snapshot import comparable, folder_state, warehouse_state

MONTH = "2026-10"


def run(tmp_path, name):
    wh, out = tmp_path / f"{name}.duckdb", tmp_path / f"{name}_out"
    res = CliRunner().invoke(app, ["run", "-m", MONTH, "-i", str(SAMPLE_INBOX), "-w", str(wh), "-o", str(out), "--no-prefect"])
    assert res.exit_code in (0, 4), res.output
    return wh, out


def test_two_runs_of_the_sample_month_are_identical(tmp_path):
    (wh1, out1), (wh2, out2) = run(tmp_path, "first"), run(tmp_path, "second")
    t1, t2 = comparable(warehouse_state(wh1), wh1), comparable(warehouse_state(wh2), wh2)
    assert t1.keys() == t2.keys()
    for table in t1.keys() - {"publications"}:  # publications name the two different out folders
        assert t1[table] == t2[table], table
    f1, f2 = folder_state(out1 / MONTH), folder_state(out2 / MONTH)
    assert {"report.html", "payroll.xlsx", "payroll.csv"} <= f1.keys()
    assert f1 == f2  # byte-identical files


def test_a_rerun_on_the_same_warehouse_changes_nothing_but_the_log(tmp_path):
    wh, out = run(tmp_path, "same")
    before, files = comparable(warehouse_state(wh), wh), folder_state(out / MONTH)
    run(tmp_path, "same")
    after = comparable(warehouse_state(wh), wh)
    for table in before:
        if table in ("runs", "run_files", "payroll_history", "publications"):
            continue  # the run log and history grow by one run
        assert before[table] == after[table], table
    assert folder_state(out / MONTH) == files
