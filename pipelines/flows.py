"""Prefect 3 flows. They only wire tasks; every task calls one function of
:mod:`pipelines.monthly` (or the SLA glue). Retries are on I/O steps only.

* ``monthly_kpi(month, inbox, warehouse, rules, out)``: ingest → analytics → scoring → reports
* ``monthly_sla(month, inbox, warehouse, rules, out, now)``
* ``shops_kpi(month, shops_dir, ...)``: one ``monthly_kpi`` pipeline per shop inbox, fanned
  out over Dask (prefect-dask) — months of different shops are independent.

With no ``PREFECT_API_URL`` Prefect starts a temporary local server; set it to use a real
server. ``scheduled_monthly_kpi`` is what ``kefu serve`` deploys on a cron schedule.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from prefect import flow, task  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

from pipelines import monthly  # noqa: E402
from pipelines.lock import WarehouseBusy, WarehouseLock  # noqa: E402
from pipelines.prefect_outcome import kpi_outcome, on_flow_failure  # noqa: E402
from pipelines.memory import release_freed_memory  # noqa: E402
from pipelines.publish import MonthBuild, failure_log, new_build  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")


def io_errors_only(task, task_run, state) -> bool:
    """Retry a task only when it failed on I/O or on the warehouse lock (another run, a
    full disk, a network share): bad input or a bug fails at once instead of three times."""
    try:
        exc = state.result(raise_on_failure=False)
    except Exception:  # pragma: no cover - no result to inspect
        return False
    from pipelines.ingest import IngestError

    return isinstance(exc, (OSError, WarehouseBusy)) and not isinstance(exc, IngestError)


@task(name="lock-warehouse", retries=2, retry_delay_seconds=5, retry_condition_fn=io_errors_only, cache_policy=NO_CACHE)
def lock_task(job: monthly.MonthJob) -> WarehouseLock:
    """Take the warehouse lock (waits up to the lock timeout; retried while another run holds it)."""
    from pipelines.publish import run_lock_path

    return WarehouseLock(run_lock_path(job.warehouse, job.shop), f"prefect monthly_kpi {job.month} {job.shop}".strip()).acquire(job.lock_timeout)


@task(name="ingest", retries=2, retry_delay_seconds=2, retry_condition_fn=io_errors_only, cache_policy=NO_CACHE)
def ingest_task(job: monthly.MonthJob, build: MonthBuild):
    try:
        return monthly.step_ingest(job, build)
    finally:
        release_freed_memory()  # as run_month does between steps (pipelines/memory.py)


@task(name="chat-analytics", cache_policy=NO_CACHE)
def analytics_task(job: monthly.MonthJob, build: MonthBuild):
    try:
        return monthly.step_analytics(job, build)
    finally:
        release_freed_memory()  # as run_month does between steps (pipelines/memory.py)


@task(name="scoring", cache_policy=NO_CACHE)
def scoring_task(job: monthly.MonthJob, build: MonthBuild):
    try:
        return monthly.step_score(job, build)
    finally:
        release_freed_memory()  # as run_month does between steps (pipelines/memory.py)


@task(name="reports", retries=2, retry_delay_seconds=2, retry_condition_fn=io_errors_only, cache_policy=NO_CACHE)
def report_task(job: monthly.MonthJob, build: MonthBuild):
    try:
        return monthly.step_report(job, build)
    finally:
        release_freed_memory()  # as run_month does between steps (pipelines/memory.py)


@task(name="publish", retries=2, retry_delay_seconds=2, retry_condition_fn=io_errors_only, cache_policy=NO_CACHE)
def publish_task(build: MonthBuild):
    """One DuckDB transaction for every table of the month, then one switch of the folder."""
    return build.publish()


@flow(name="monthly_kpi", log_prints=True, on_failure=[on_flow_failure], on_crashed=[on_flow_failure])
def monthly_kpi(
    month: str,
    inbox: str | None = None,
    warehouse: str | None = None,
    rules: str | None = None,
    out: str = "out",
    allow_missing: list[str] | None = None,
    replace: bool = False,
    dask_address: str | None = None,
    partitions: int | None = None,
) -> monthly.MonthOutcome:
    """Score one month: ingest the inbox (skipped if None: re-score what the warehouse has),
    chat analytics, scoring and reports, published at once (nothing visible on failure)."""
    job = monthly.MonthJob(
        month, inbox=inbox, warehouse=warehouse, rules=rules, out=Path(out),
        allow_missing=frozenset(allow_missing or ()), replace=replace, dask_address=dask_address, partitions=partitions,
    )
    started = datetime.now()
    if dask_address:
        from pipelines.dask_map import check_cluster

        check_cluster(dask_address)
    lock = lock_task(job)
    try:
        build = new_build(job.month, job.warehouse, job.out, shop=job.shop)
        try:
            rep = ingest_task(job, build) if inbox else None
            ana = analytics_task(job, build)
            sc = scoring_task(job, build)
            outs = report_task(job, build)
            publish_task(build)
        except BaseException as e:
            build.discard()
            failure_log(job.warehouse, {"month": month, "step": "flow monthly_kpi", "started_at": started, "error": f"{type(e).__name__}: {e}"})
            raise
    finally:
        lock.release()
    return kpi_outcome(monthly.MonthOutcome(job, rep, ana, sc, outs))  # named state 工资待补充 + artifacts


@flow(name="scheduled_monthly_kpi", log_prints=True)
def scheduled_monthly_kpi(
    inbox_root: str,
    warehouse: str | None = None,
    rules: str | None = None,
    out: str = "out",
    month: str | None = None,
) -> monthly.MonthOutcome:
    """The cron entry point: scores the previous month (China time) from ``inbox_root/<month>``."""
    month = month or monthly.previous_month(datetime.now(SHANGHAI))
    return monthly_kpi(month, str(Path(inbox_root) / month), warehouse, rules, out, return_state=True)  # its named state


@task(name="shop-month", retries=1, retry_delay_seconds=2, retry_condition_fn=io_errors_only)
def shop_month_task(job: monthly.MonthJob) -> dict:
    """One shop's whole month: computed in parallel with the other shops, published into the
    shared warehouse under its shop key (publishes take turns on the warehouse lock)."""
    o = monthly.run_month(job)
    return {
        "shop": job.shop,
        "shop_dir": str(job.inbox),
        "agents": o.score.agents,
        "incomplete": len(o.score.incomplete),
        "salary_total": str(o.score.totals.get("salary")),
        "outputs": {k: str(v) for k, v in o.outputs.items()},
    }


def shops_kpi(
    month: str, shops_dir: str, out: str = "out", rules: str | None = None, dask_address: str | None = None,
    workers: int = 2, warehouse: str | None = None,
):
    """Fan out one month over every shop inbox in ``shops_dir`` (``shops_dir/<shop>/``) on Dask.

    Every shop writes into ONE warehouse (``warehouse``, default ``<out>/warehouse.duckdb``)
    under its shop key (the folder name), outputs under ``<out>/<shop>/<month>/``, and a group
    summary of all shops goes to ``<out>/shops/<month>/``. ``dask_address`` uses a running
    cluster; otherwise a local cluster of ``workers`` processes is started."""
    from prefect_dask import DaskTaskRunner

    from pipelines.dask_map import quiet_dask

    from pipelines.report.group import write_group_summary

    quiet_dask()
    wh = Path(warehouse) if warehouse else Path(out) / "warehouse.duckdb"

    runner = (
        DaskTaskRunner(address=dask_address)
        if dask_address
        else DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
    )

    @flow(name="shops_kpi", task_runner=runner, log_prints=True)
    def _shops_kpi() -> list[dict]:
        shops = sorted(p for p in Path(shops_dir).iterdir() if p.is_dir())
        futures = []
        for shop in shops:
            job = monthly.MonthJob(month, inbox=shop, warehouse=wh, rules=rules, out=Path(out) / shop.name, shop=shop.name)
            futures.append(shop_month_task.submit(job))
        return [f.result() for f in futures]

    results = _shops_kpi()
    write_group_summary(wh, month, Path(out) / "shops" / month)
    return results


@task(name="sla", retries=1, retry_delay_seconds=2, retry_condition_fn=io_errors_only)
def sla_task(month: str, inbox: str, warehouse: str | None, rules: str | None, out: str, now: datetime | None):
    from pipelines.sla_job import run_sla_month

    return run_sla_month(month, Path(inbox), warehouse, Path(rules) if rules else None, Path(out), now)


@flow(name="monthly_sla", log_prints=True)
def monthly_sla(month: str, inbox: str, warehouse: str | None = None, rules: str | None = None, out: str = "out", now: datetime | None = None):
    """Service-SLA month: tickets, calls and parts ledger → SLA tables, sla_report.html, sla.xlsx."""
    return sla_task(month, inbox, warehouse, rules, out, now)


def monthly_deployment(inbox_root: str, cron: str = "0 2 1 * *", timezone: str = "Asia/Shanghai", warehouse: str | None = None, out: str = "out", rules: str | None = None):
    """The scheduled deployment ``kefu serve`` registers: ``scheduled_monthly_kpi`` on a cron
    schedule in ``timezone`` (default the 1st of each month 02:00 China time)."""
    from prefect.schedules import Cron

    return scheduled_monthly_kpi.to_deployment(
        name="kefu-monthly",
        schedules=[Cron(cron, timezone=timezone)],
        parameters={"inbox_root": inbox_root, "warehouse": warehouse, "out": out, "rules": rules},
        description="售后客服月度 KPI 与工资: 每月评上个月",
    )
