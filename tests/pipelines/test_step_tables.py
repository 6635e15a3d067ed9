"""Each step of the monthly run touches only the tables it declares (monthly.STEPS): the
orchestration reads like the pipeline it is, and a new step states its inputs and outputs."""

from __future__ import annotations

from pipelines import publish
from pipelines.monthly import SAMPLE_INBOX, STEPS, MonthJob, run_month


def test_every_table_access_is_declared_by_its_step(tmp_path, monkeypatch):
    traces = []
    real = publish.MonthBuild.publish

    def recording(self):
        traces.append(list(self.trace))
        return real(self)

    monkeypatch.setattr(publish.MonthBuild, "publish", recording)
    run_month(MonthJob("2026-10", inbox=SAMPLE_INBOX, warehouse=tmp_path / "w.duckdb", out=tmp_path / "out"))
    (trace,) = traces
    assert {step for step, _, _ in trace} == set(STEPS)
    for step, op, table in trace:
        declared = {"read": STEPS[step].reads, "write": STEPS[step].writes, "append": STEPS[step].appends}[op]
        assert table in declared, f"step {step} {op}s {table} without declaring it"
    # and every declared write happens (the declaration is not a wish list)
    for step, tables in STEPS.items():
        written = {t for s, op, t in trace if s == step and op in ("write", "append")}
        assert written == tables.writes | tables.appends, step
