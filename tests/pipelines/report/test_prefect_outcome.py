"""Prefect shows the outcome: a named final state for incomplete payroll, artifacts, DingTalk."""

from __future__ import annotations

import json
import os

import pytest

from pipelines.monthly import SAMPLE_INBOX

MONTH = "2026-10"


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect_home")))
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_incomplete_payroll_ends_in_a_named_state_with_artifacts(harness, tmp_path, monkeypatch) -> None:
    from prefect.artifacts import Artifact

    from pipelines import notify
    from pipelines.flows import monthly_kpi
    from pipelines.prefect_outcome import INCOMPLETE_STATE

    sent: list[dict] = []
    monkeypatch.setenv(notify.ENV_WEBHOOK, "http://127.0.0.1:9/robot")  # configured, but captured below
    monkeypatch.setattr(notify, "send", lambda msg, cfg, **kw: sent.append(msg) or "")
    state = monthly_kpi(MONTH, str(SAMPLE_INBOX), str(tmp_path / "w.duckdb"), None, str(tmp_path / "out"),
                        return_state=True)
    assert state.is_completed() and state.name == INCOMPLETE_STATE  # the sample leaves one agent incomplete
    assert "1 人工资待补充" in state.message
    outcome = state.result()
    assert outcome.score.incomplete and (tmp_path / "out" / MONTH / "report.html").exists()
    table = Artifact.get(f"kefu-payroll-{MONTH}")
    summary = Artifact.get(f"kefu-kpi-{MONTH}")
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert {r["状态"] for r in rows} == {"已定稿", "待补充"} and any(r["姓名"] == "陈志杰" for r in rows)
    assert summary is not None and "工资总额" in str(summary.data)
    assert len(sent) == 1 and "待补充" in sent[0]["markdown"]["title"]
