"""End-to-end Prefect flows on the bundled sample month (one test harness for the
session), and the Dask fan-out over two shops. The step logic is tested without Prefect
in test_cli.py / test_ingest.py; these check the wiring."""

import shutil
from pathlib import Path
from datetime import datetime

import pytest

from pipelines import warehouse
from pipelines.monthly import SAMPLE_INBOX, previous_month

MONTH = "2026-10"


@pytest.fixture(scope="module")
def prefect_harness(tmp_path_factory):
    import os

    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect_home")))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_previous_month_for_the_schedule():
    assert previous_month(datetime(2026, 11, 1, 2, 0)) == "2026-10"
    assert previous_month(datetime(2027, 1, 1, 2, 0)) == "2026-12"


def test_monthly_kpi_flow_on_the_sample_month(prefect_harness, tmp_path):
    from pipelines.flows import monthly_kpi

    wh, out = tmp_path / "w.duckdb", tmp_path / "out"
    outcome = monthly_kpi(MONTH, str(SAMPLE_INBOX), str(wh), None, str(out))
    assert outcome.ingest.unrecognised == []
    for name in ("report.html", "payroll.xlsx", "payroll.csv"):
        assert (out / MONTH / name).exists()
    runs = warehouse.read("runs", path=wh).sort("started_at")
    assert runs["step"].to_list() == ["ingest-kpi", "analytics", "score"]
    assert runs["status"].to_list()[:2] == ["ok", "ok"]
    pay = warehouse.read("payroll", month=MONTH, path=wh)
    assert pay.height == warehouse.read("roster", month=MONTH, path=wh).height
    # re-running the flow gives the same payroll (idempotent)
    again = monthly_kpi(MONTH, str(SAMPLE_INBOX), str(wh), None, str(out))
    pay2 = warehouse.read("payroll", month=MONTH, path=wh)
    assert pay2.sort("agent").equals(pay.sort("agent"))
    assert again.score.rules_hash == outcome.score.rules_hash


def test_sla_flow(prefect_harness, tmp_path):
    from pipelines.flows import monthly_sla
    from pipelines.sla.sample import generate_sla

    inbox = tmp_path / "sla"
    generate_sla(MONTH, inbox, 7)
    o = monthly_sla(MONTH, str(inbox), str(tmp_path / "w.duckdb"), None, str(tmp_path / "out"))
    assert o.outputs["sla_report.html"].exists()
    assert warehouse.read("ticket_sla", month=MONTH, path=tmp_path / "w.duckdb").height > 0


def test_two_shops_fan_out_over_a_local_dask_cluster_into_one_warehouse(prefect_harness, tmp_path, capfd):
    from pipelines.flows import shops_kpi

    shops = tmp_path / "shops"
    for name in ("shop_a", "shop_b"):
        shutil.copytree(SAMPLE_INBOX, shops / name)
    wh = tmp_path / "shared.duckdb"
    results = shops_kpi(MONTH, str(shops), str(tmp_path / "out"), None, None, workers=2, warehouse=str(wh))
    assert sorted(r["shop"] for r in results) == ["shop_a", "shop_b"]
    totals = {r["salary_total"] for r in results}
    assert len(totals) == 1  # same inputs, same pay
    pay = warehouse.read("payroll", month=MONTH, path=wh)
    assert sorted(pay["shop_key"].unique().to_list()) == ["shop_a", "shop_b"]
    assert pay.height == 16
    for name in ("shop_a", "shop_b"):
        assert warehouse.read("payroll", month=MONTH, path=wh, shop=name).height == 8
        assert (tmp_path / "out" / name / MONTH / "report.html").exists()
    summary = (tmp_path / "out" / "shops" / MONTH / "shops.csv").read_text("utf-8-sig")
    assert "shop_a" in summary and "shop_b" in summary
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err


def test_serve_deployment_schedule_and_parameters():
    from pipelines.flows import monthly_deployment

    dep = monthly_deployment("/data/exports", warehouse="/data/w.duckdb")
    (sched,) = dep.schedules
    assert sched.schedule.cron == "0 2 1 * *"
    assert sched.schedule.timezone == "Asia/Shanghai"
    assert dep.parameters["inbox_root"] == "/data/exports"
    dep2 = monthly_deployment("/x", cron="30 3 2 * *", timezone="UTC")
    assert (dep2.schedules[0].schedule.cron, dep2.schedules[0].schedule.timezone) == ("30 3 2 * *", "UTC")


def test_bad_input_fails_the_flow_once_without_retries(prefect_harness, tmp_path, monkeypatch):
    from pipelines import monthly
    from pipelines.flows import monthly_kpi
    from pipelines.ingest import IngestError

    calls = []
    real = monthly.step_ingest
    monkeypatch.setattr(monthly, "step_ingest", lambda job, build: calls.append(1) or real(job, build))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    with pytest.raises(IngestError, match="broken.xlsx"):
        monthly_kpi(MONTH, str(inbox), str(tmp_path / "w.duckdb"), None, str(tmp_path / "out"))
    assert len(calls) == 1  # one attempt, not three
    assert not (tmp_path / "w.duckdb").exists()  # nothing written
    assert not (tmp_path / "out" / MONTH).exists()
    log = (tmp_path / "w.duckdb.failures.jsonl").read_text("utf-8").splitlines()
    assert len(log) == 1 and "broken.xlsx" in log[0]


def test_lock_task_retries_while_another_run_holds_the_warehouse(prefect_harness, tmp_path, monkeypatch):
    """The flow's lock task retries on WarehouseBusy (a DuckDB lock error never did)."""
    import os
    import subprocess
    import sys

    from pipelines.flows import lock_task
    from pipelines.monthly import MonthJob

    root = Path(__file__).resolve().parents[2]
    wh = tmp_path / "w.duckdb"
    code = f"import time; from pipelines.lock import WarehouseLock; l = WarehouseLock({str(wh)!r}, 'holder').acquire(); print('held', flush=True); time.sleep(4)"
    holder = subprocess.Popen([sys.executable, "-c", code], cwd=root, env=dict(os.environ, PYTHONPATH=str(root)), stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    job = MonthJob(MONTH, warehouse=wh, out=tmp_path / "out", lock_timeout=1.0)  # each attempt waits 1 s

    from prefect import flow

    @flow
    def take_lock():
        return lock_task(job)

    lock = take_lock()  # attempt 1 times out while the holder sleeps; a retry 5 s later gets it
    holder.wait()
    try:
        from pipelines.lock import holder as lock_holder

        assert lock_holder(wh)["pid"] == os.getpid()
    finally:
        lock.release()
