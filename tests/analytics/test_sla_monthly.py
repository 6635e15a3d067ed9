"""Monthly rates and targets (3.2.1): exactly 90% / 85% meet, exactly 3% misses."""

from datetime import datetime as D, timedelta
from decimal import Decimal

import polars as pl

from analytics.sla import evaluate, sla_month
from analytics.sla.rules import Targets, below, meets_min
from contracts.staged import POLARS_TYPES
from contracts.sla import SLA_TICKETS
from pathlib import Path

from analytics.sla import load_rules

RULES = load_rules((Path(__file__).parents[2] / "data" / "sla_rules.yaml").read_text(encoding="utf-8"))

MONTH = "2026-10"
T0 = D(2026, 10, 5, 9)


def frame(rows):
    schema = {c.name: POLARS_TYPES[c.type] for c in SLA_TICKETS.cols}
    return pl.DataFrame([{**{k: None for k in schema}, **r} for r in rows], schema=schema)


def body(i, staff, late=False, **kw):
    arrived = T0 + timedelta(hours=25 if late else 5)
    return dict(ticket_id=f"{staff}{i}", received_at=T0, fault_category="车身", distance_km=10.0, staff=staff, team="一组", arrived_at=arrived, **kw)


def overall(m: pl.DataFrame) -> dict:
    return m.filter(pl.col("level") == "all").row(0, named=True)


def test_exact_boundaries_helpers():
    assert meets_min(9, 10, Decimal("0.90")) is True
    assert meets_min(899, 1000, Decimal("0.90")) is False
    assert meets_min(17, 20, Decimal("0.85")) is True
    assert below(3, 100, Decimal("0.03")) is False
    assert below(2, 100, Decimal("0.03")) is True
    assert meets_min(0, 0, Decimal("0.9")) is None


def test_timeliness_exactly_90_percent_meets():
    rows = [body(i, "王强", late=(i == 0)) for i in range(10)]  # 9 of 10 on time
    t = frame(rows)
    m = sla_month(evaluate(t, None, RULES, D(2026, 11, 1)), t, MONTH, RULES.targets)
    o = overall(m)
    assert (o["timely"], o["timed"], o["timeliness_met"]) == (9, 10, True)
    rows = [body(i, "王强", late=(i < 2)) for i in range(19)]  # 17/19 = 89.47%
    t = frame(rows)
    o = overall(sla_month(evaluate(t, None, RULES, D(2026, 11, 1)), t, MONTH, RULES.targets))
    assert (o["timely"], o["timed"], o["timeliness_met"]) == (17, 19, False)


def test_satisfaction_exactly_85_percent_meets_and_complaints_exactly_3_percent_miss():
    done = dict(completed_at=T0 + timedelta(hours=8))
    rows = []
    for i in range(100):
        score = None if i >= 20 else (5 if i < 12 else 4 if i < 17 else 3)  # 20 surveyed, 17 with >= 4
        rows.append(body(i, "李明", satisfaction=score, complaint=(i < 3), **done))
    t = frame(rows)
    o = overall(sla_month(evaluate(t, None, RULES, D(2026, 11, 1)), t, MONTH, RULES.targets))
    assert (o["satisfied"], o["surveyed"], o["satisfaction_met"]) == (17, 20, True)
    assert (o["complaints"], o["tickets"], o["complaint_met"]) == (3, 100, False)  # 3% is not < 3%
    assert o["complaint_rate"] == 0.03 and o["all_met"] is False
    rows[2]["complaint"] = False
    rows[16]["satisfaction"] = 3  # 16/20 = 80%
    t = frame(rows)
    o = overall(sla_month(evaluate(t, None, RULES, D(2026, 11, 1)), t, MONTH, RULES.targets))
    assert (o["complaints"], o["complaint_met"]) == (2, True)
    assert (o["satisfied"], o["satisfaction_met"]) == (16, False)


def test_score_threshold_is_configurable_and_out_of_range_scores_do_not_count():
    done = dict(completed_at=T0 + timedelta(hours=8))
    t = frame([body(0, "A", satisfaction=3, **done), body(1, "A", satisfaction=5, **done), body(2, "A", satisfaction=9, **done)])
    sla = evaluate(t, None, RULES, D(2026, 11, 1))
    o = overall(sla_month(sla, t, MONTH, RULES.targets))
    assert (o["satisfied"], o["surveyed"]) == (1, 2)
    o = overall(sla_month(sla, t, MONTH, Targets(satisfied_min_score=3)))
    assert (o["satisfied"], o["surveyed"]) == (2, 2)


def test_clocks_count_in_the_month_they_are_decided():
    t = frame([
        body(0, "赵磊"),  # met in October
        dict(ticket_id="LATEOCT", received_at=D(2026, 10, 30, 12), fault_category="车身", distance_km=5.0, staff="赵磊", team="二组"),  # deadline 10-31 12:00 passed
        dict(ticket_id="OPEN", received_at=D(2026, 10, 31, 20), fault_category="车身", distance_km=5.0, staff="赵磊", team="二组"),  # running
        dict(ticket_id="NOVSTOP", received_at=D(2026, 10, 31, 22), fault_category="车身", distance_km=5.0, staff="赵磊", team="二组",
             arrived_at=D(2026, 11, 1, 8)),  # met, but decided in November
    ])
    oct_ = sla_month(evaluate(t, None, RULES, D(2026, 11, 1)), t, MONTH, RULES.targets)
    o = overall(oct_)
    assert (o["timely"], o["timed"], o["running"]) == (1, 2, 2)
    nov = overall(sla_month(evaluate(t, None, RULES, D(2026, 12, 1)), t, "2026-11", RULES.targets))
    assert (nov["timely"], nov["timed"]) == (1, 2)  # NOVSTOP met; OPEN breached at 11-01 20:00


def test_levels_staff_team_all_and_no_data():
    t = frame([body(0, "王强"), body(1, "李明", late=True)])
    m = sla_month(evaluate(t, None, RULES, D(2026, 11, 1)), t, MONTH, RULES.targets)
    assert m.select("level", "staff", "timely", "timed").rows() == [
        ("all", None, 1, 2), ("team", None, 1, 2), ("staff", "李明", 0, 1), ("staff", "王强", 1, 1),
    ]
    o = overall(m)
    assert o["satisfaction"] is None and o["satisfaction_met"] is None  # nobody surveyed: no data, not a miss
    assert o["all_met"] is False  # timeliness 50% misses
