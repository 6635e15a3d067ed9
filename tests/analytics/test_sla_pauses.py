"""Optional pause states (off by default): a pause moves the deadline by the paused time."""

from datetime import datetime as D
from datetime import timedelta
from pathlib import Path

import polars as pl

from analytics.sla import evaluate, load_rules
from pipelines.staging.schemas import POLARS_TYPES
from pipelines.staging.sla_schemas import SLA_TICKETS

TEXT = (Path(__file__).parents[2] / "data" / "sla_rules.yaml").read_text(encoding="utf-8")
OFF = load_rules(TEXT)
ON = load_rules(TEXT.replace("pauses:\n  enabled: false", "pauses:\n  enabled: true"))
T0 = D(2026, 10, 5, 9)
H = lambda x: timedelta(hours=x)


def tickets(*rows):
    schema = {c.name: POLARS_TYPES[c.type] for c in SLA_TICKETS.cols}
    base = dict(received_at=T0, fault_category="车身", distance_km=50.0, staff="王强")
    return pl.DataFrame([{**{k: None for k in schema}, **base, "ticket_id": f"T{i}", **r} for i, r in enumerate(rows)], schema=schema)


def status(rules, t, as_of=D(2026, 11, 1)):
    return {r["record_id"]: (r["status"], r["paused_h"]) for r in evaluate(t, None, rules, as_of).iter_rows(named=True)}


def test_pause_moves_the_deadline_exactly_and_is_off_by_default():
    pause = dict(paused_at=T0 + H(2), resumed_at=T0 + H(5), pause_reason="等待配件")
    t = tickets(
        dict(arrived_at=T0 + H(27), **pause),                                   # 24 + 3 h: exactly on the moved deadline
        dict(arrived_at=T0 + H(27) + timedelta(seconds=1), **pause),            # one second later
        dict(arrived_at=T0 + H(27), **{**pause, "pause_reason": "其他"}),       # not a pause reason
        dict(arrived_at=T0 + H(27), **{**pause, "paused_at": T0 + H(24)}),     # paused at the deadline: too late
    )
    assert status(OFF, t) == {"T0": ("breached", 0.0), "T1": ("breached", 0.0), "T2": ("breached", 0.0), "T3": ("breached", 0.0)}
    assert status(ON, t) == {"T0": ("met", 3.0), "T1": ("breached", 3.0), "T2": ("breached", 0.0), "T3": ("breached", 0.0)}


def test_open_pause_keeps_the_clock_running_until_resumed():
    t = tickets(dict(paused_at=T0 + H(20), pause_reason="等待用户确认", status="等待用户确认"))
    assert status(ON, t, T0 + H(40)) == {"T0": ("running", 20.0)}
    assert status(OFF, t, T0 + H(40)) == {"T0": ("breached", 0.0)}


def test_pause_under_working_hours_counts_working_time_only():
    wh = load_rules(TEXT.replace("pauses:\n  enabled: false", "pauses:\n  enabled: true").replace("    calendar: 24x7", "    calendar: 工作时间", 1))
    mon = D(2026, 10, 12, 8, 30)
    t = tickets(
        dict(received_at=mon, paused_at=mon + H(1.5), resumed_at=mon + H(2.5), pause_reason="等待配件"),   # 10:00-11:00
        dict(received_at=mon, paused_at=D(2026, 10, 12, 12), resumed_at=D(2026, 10, 12, 13, 30), pause_reason="等待配件"),  # lunch
    )
    assert {k: v[1] for k, v in status(wh, t, D(2026, 10, 12, 18)).items()} == {"T0": 1.0, "T1": 0.0}
