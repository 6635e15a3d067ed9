"""Rules file and rule application (policy 3.2.2 / 3.2.3 / 3.5), by hand."""

from datetime import datetime as D
from pathlib import Path

import polars as pl
import pytest

from analytics.sla import evaluate, load_rules
from analytics.sla.rules import RulesError
from contracts.staged import POLARS_TYPES
from contracts.sla import SLA_CALLS, SLA_TICKETS

RULES_TEXT = (Path(__file__).parents[2] / "data" / "sla_rules.yaml").read_text(encoding="utf-8")
RULES = load_rules(RULES_TEXT)
MONTH_END = D(2026, 11, 1)
T0 = D(2026, 10, 5, 9)


def frame(table, rows: list[dict]) -> pl.DataFrame:
    schema = {c.name: POLARS_TYPES[c.type] for c in table.cols}
    return pl.DataFrame([{**{k: None for k in schema}, **r} for r in rows], schema=schema)


def ticket(tid, **kw) -> dict:
    base = dict(ticket_id=tid, received_at=T0, fault_category="车身", distance_km=50.0, needs_supplier=False, staff="王强", team="一组")
    return {**base, **kw}


def rules_of(sla: pl.DataFrame) -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list] = {}
    for r in sla.iter_rows(named=True):
        out.setdefault(r["record_id"], []).append((r["rule_id"], r["status"]))
    return out


def test_default_rules_load_and_reference_staged_columns():
    assert [r.id for r in RULES.rules] == ["body_onsite_24h", "body_reply_12h", "chassis_engine_written_12h", "call_reply_24h"]
    names = {"tickets": set(SLA_TICKETS.names), "calls": set(SLA_CALLS.names)}
    for r in RULES.rules:
        assert {r.start, r.stop} <= names[r.source], r.id


def test_100km_vs_100_1km_and_supplier():
    t = frame(SLA_TICKETS, [
        ticket("A100", distance_km=100.0, arrived_at=T0 + (D(2026, 10, 6, 9) - T0)),  # on site exactly 24 h later
        ticket("A100.1", distance_km=100.1, first_reply_at=D(2026, 10, 5, 21)),  # replied exactly 12 h later
        ticket("SUP", distance_km=30.0, needs_supplier=True, first_reply_at=D(2026, 10, 5, 21, 0, 1)),
        ticket("NULLSUP", distance_km=30.0, needs_supplier=None, arrived_at=D(2026, 10, 5, 12)),
        ticket("CHASSIS", fault_category="底盘", written_contact_at=D(2026, 10, 5, 20)),
        ticket("ENGINE", fault_category="发动机", written_contact_at=None),
        ticket("OTHER", fault_category="其他"),
        ticket("NODIST", distance_km=None),
    ])
    got = rules_of(evaluate(t, None, RULES, MONTH_END))
    assert got == {
        "A100": [("body_onsite_24h", "met")],
        "A100.1": [("body_reply_12h", "met")],
        "SUP": [("body_reply_12h", "breached")],
        "NULLSUP": [("body_onsite_24h", "met")],  # blank 需配套厂家 = not needed
        "CHASSIS": [("chassis_engine_written_12h", "met")],
        "ENGINE": [("chassis_engine_written_12h", "breached")],  # no written contact by month end
    }


def test_call_rule_and_output_columns():
    c = frame(SLA_CALLS, [
        dict(call_id="C1", received_at=T0, kind="来电", staff="李明", replied_at=D(2026, 10, 6, 9)),
        dict(call_id="C2", received_at=D(2026, 10, 31, 12), kind="来函", staff="李明"),
    ])
    sla = evaluate(None, c, RULES, MONTH_END)
    row = sla.row(0, named=True)
    assert row["record_kind"] == "call" and row["rule_id"] == "call_reply_24h"
    assert row["deadline"] == D(2026, 10, 6, 9) and row["status"] == "met" and row["decided_month"] == "2026-10"
    assert row["elapsed_s"] == 86400.0 and row["target_h"] == 24.0
    assert sla["status"].to_list() == ["met", "running"]


def test_several_rules_on_one_ticket():
    text = RULES_TEXT.replace(
        "targets:",
        """  - id: complete_3_workdays
    name: 3个工作日(22.5工作小时)内完成服务
    source: tickets
    start: received_at
    stop: completed_at
    target_hours: 22.5
    calendar: 工作时间

targets:""",
    )
    rules = load_rules(text)
    # Fri 10-09 09:00: on site Sat 10-10 10:00 (25 h: breached); completed Tue 10-13 17:00.
    # Working hours from Fri 09:00: Fri 7 h (09:00-12:00 3 h, 13:30-17:30 4 h), Sat 10-10 调休 7.5 h,
    # Sun off, Mon 7.5 h -> 22 h by Mon 17:30; the last 0.5 h ends Tue 09:00 -> completion breached.
    t = frame(SLA_TICKETS, [ticket("MULTI", received_at=D(2026, 10, 9, 9), arrived_at=D(2026, 10, 10, 10), completed_at=D(2026, 10, 13, 17))])
    sla = evaluate(t, None, rules, MONTH_END)
    got = {r["rule_id"]: (r["deadline"], r["status"]) for r in sla.iter_rows(named=True)}
    assert got == {
        "body_onsite_24h": (D(2026, 10, 10, 9), "breached"),
        "complete_3_workdays": (D(2026, 10, 13, 9), "breached"),
    }


def test_rules_file_errors():
    with pytest.raises(RulesError, match="typo_key"):
        load_rules(RULES_TEXT.replace("counts_for", "x") + "\ntypo_key: 1\n")
    with pytest.raises(RulesError, match="未定义的日历"):
        load_rules(RULES_TEXT.replace("calendar: 24x7", "calendar: 夜班", 1))
    with pytest.raises(RulesError):
        load_rules("version: 1\nrules: []\n")
    with pytest.raises(RulesError, match="YAML"):
        load_rules("version: [1\n")


def test_rule_on_missing_field_names_it():
    bad = load_rules(RULES_TEXT.replace("stop: arrived_at", "stop: arrival_time"))
    t = frame(SLA_TICKETS, [ticket("X")])
    with pytest.raises(RulesError, match="arrival_time"):
        evaluate(t, None, bad, MONTH_END)
