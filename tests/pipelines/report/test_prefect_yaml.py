"""prefect.yaml deploys the KPI monthly job and both SLA jobs, scheduled, with no month written in."""

from __future__ import annotations

import importlib
import inspect
from datetime import datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]


def test_deployments_are_scheduled_flows_without_a_month() -> None:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text("utf-8"))
    deps = {d["name"]: d for d in spec["deployments"]}
    assert set(deps) == {"kefu-monthly", "kefu-monthly-sla", "kefu-sla-warnings"}
    for d in deps.values():
        module, name = d["entrypoint"].split(":")
        fl = getattr(importlib.import_module(module.removesuffix(".py").replace("/", ".")), name)
        params = inspect.signature(fl.fn).parameters
        assert set(d["parameters"]) <= set(params), d["name"]
        assert "month" not in d["parameters"] and "2026" not in yaml.safe_dump(d), d["name"]
        assert params["month"].default is None  # derived from the clock when not given
        assert d["schedules"] and all(s["timezone"] == "Asia/Shanghai" and s["active"] for s in d["schedules"])


def test_month_of_each_job() -> None:
    from pipelines.monthly import previous_month
    from pipelines.prefect_jobs import current_month

    assert previous_month(datetime(2026, 11, 1, 2, 30)) == "2026-10"
    assert current_month(datetime(2026, 10, 31, 18)) == "2026-10"
