"""End to end (issue 9 item 4): a verified complaint whose date cannot be parsed is
quarantined by staging and, through ``scoring_inputs`` → ``ScoringInputs.quarantine``,
makes its agent ``incomplete`` — its deduction never silently vanishes."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import polars as pl

from pipelines.monthly import MonthJob, run_month

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample" / "2026-10"


def _break_a_verified_complaint(workbook: Path) -> tuple[str, int]:
    """Replace the 发生时间 of the first verified complaint with a deduction; returns
    (its agent account, its Excel row)."""
    wb = openpyxl.load_workbook(workbook)
    for ws in wb.worksheets:
        top = [[c.value for c in r] for r in ws.iter_rows(max_row=5)]
        at = next((i for i, h in enumerate(top) if "发生时间" in h and "扣分" in h), None)
        if at is None:
            continue
        col = {h: i for i, h in enumerate(top[at])}
        for row in ws.iter_rows(min_row=at + 2):
            if row[col["查实"]].value == "是" and row[col["扣分"]].value not in (None, ""):
                row[col["发生时间"]].value = "10月3号下午"
                wb.save(workbook)
                return row[col["客服账号"]].value, row[0].row
    raise AssertionError("no verified complaint in the sample workbook")


def test_unparseable_complaint_date_makes_the_agent_incomplete_in_the_payroll(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / ".prefect"))
    inbox = shutil.copytree(SAMPLE, tmp_path / "inbox")
    agent, row = _break_a_verified_complaint(inbox / "主管填报表.xlsx")
    job = MonthJob("2026-10", inbox=inbox, warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out")
    outcome = run_month(job)
    q = outcome.ingest.quarantine.filter(pl.col("kind") == "complaints")
    assert q["source_row"].to_list() == [row]
    from pipelines import warehouse

    payroll = warehouse.read("payroll", month="2026-10", path=job.warehouse).filter(pl.col("agent") == agent)
    assert payroll["status"].to_list() == ["incomplete"]
    reason = payroll["status_reason"][0]
    assert "主管填报表.xlsx" in reason and f"第 {row} 行" in reason and "发生时间无法解析: '10月3号下午'" in reason
    assert agent in {r["agent"] for r in outcome.score.incomplete}
