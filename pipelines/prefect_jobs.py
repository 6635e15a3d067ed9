"""Scheduled SLA jobs (deployed by prefect.yaml next to the monthly KPI job).

* ``scheduled_monthly_sla(inbox_root, ...)``: the previous month (China time) from
  ``inbox_root/<YYYY-MM>/``; ends named SLA未达标 when a target was missed.
* ``sla_warnings(inbox_root, ...)``: during the month (e.g. hourly in service hours), the
  current month up to now: sends "due in < 2 h" / "breached" tickets to the DingTalk group.

No month is hard-coded: each run derives it from the clock (or takes ``month=``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from prefect import flow

from pipelines.flows import SHANGHAI, monthly_sla
from pipelines.monthly import previous_month
from pipelines.prefect_outcome import on_flow_failure, sla_outcome


def current_month(now: datetime) -> str:
    """'YYYY-MM' of ``now``."""
    return f"{now.year:04d}-{now.month:02d}"


@flow(name="scheduled_monthly_sla", log_prints=True, on_failure=[on_flow_failure], on_crashed=[on_flow_failure])
def scheduled_monthly_sla(inbox_root: str, warehouse: str | None = None, rules: str | None = None, out: str = "out",
                          month: str | None = None):
    """The monthly SLA report of the previous month (China time)."""
    month = month or previous_month(datetime.now(SHANGHAI))
    outcome = monthly_sla(month, str(Path(inbox_root) / month), warehouse, rules, out)
    return sla_outcome(outcome, month)


@flow(name="sla_warnings", log_prints=True, on_failure=[on_flow_failure], on_crashed=[on_flow_failure])
def sla_warnings(inbox_root: str, warehouse: str | None = None, rules: str | None = None, out: str = "out",
                 month: str | None = None, now: datetime | None = None):
    """Open tickets due soon or breached, as of now (China time), pushed to DingTalk."""
    now = now or datetime.now(SHANGHAI).replace(tzinfo=None)
    month = month or current_month(now)
    outcome = monthly_sla(month, str(Path(inbox_root) / month), warehouse, rules, out, now)
    return sla_outcome(outcome, month)
