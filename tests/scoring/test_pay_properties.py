"""Property tests of the pay formula (issue 9 item 10) against an independent computation.

The reference below is written from docs/scoring.md ("Formula") with exact fractions, not
Decimal: total = items − deductions + bonuses; passed = total ≥ pass_ratio × total_points
(unrounded); kpi = passed ? pool × total / total_points : 0, capped at pool when
cap_kpi_bonus; base by role; with pro_rating calendar_days both × employed days / days in
month; kpi and base each rounded once to the cent, half away from zero; salary = base + kpi.
It is compared with scoring.payroll.PayrollLine.row under rules files hypothesis varies.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring import DEFAULT_RULES_PATH, load_rules
from scoring.model import Adjustment, ItemScore
from scoring.money import round_money
from scoring.payroll import ITEM_KEYS, PayrollLine, payroll_frame, reconcile

ROLES = ("普通售后客服", "高级售后客服", "售后组长")
MAX_POINTS = {"quality": 20, "refund_rate": 30, "complaints": 20, "cooperation": 20, "execution": 20, "attendance": 20}
MONTH = "2026-10"
PROFILE = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def cents(lo: int, hi: int) -> st.SearchStrategy[Decimal]:
    """Decimals with 2 places in [lo, hi]."""
    return st.integers(lo * 100, hi * 100).map(lambda c: Decimal(c) / 100)


# --- the independent reference ---------------------------------------------------------------

def half_up_cents(x: Fraction) -> Fraction:
    """Round to 0.01, ties away from zero (what ROUND_HALF_UP means), on exact fractions."""
    sign = -1 if x < 0 else 1
    return sign * Fraction(math.floor(abs(x) * 100 + Fraction(1, 2)), 100)


def days_employed(joined: date | None, left: date | None) -> tuple[int, int]:
    first, last = date(2026, 10, 1), date(2026, 10, 31)
    start = max(first, joined) if joined else first
    end = min(last, left) if left else last
    return max(0, (end - start).days + 1), 31


def reference(points: dict[str, Decimal], deductions: list[Decimal], bonuses: list[Decimal], role: str,
              joined: date | None, left: date | None, p: dict) -> dict:
    total = sum(Fraction(v) for v in points.values()) - sum(Fraction(-d) for d in deductions) + sum(Fraction(b) for b in bonuses)
    passed = total >= Fraction(p["pass_ratio"]) * 130
    pool = Fraction(p["pool"])
    kpi = pool * total / 130 if passed else Fraction(0)
    if p["cap"] and kpi > pool:
        kpi = pool
    days, n = days_employed(joined, left)
    factor = Fraction(days, n) if p["pro_rating"] == "calendar_days" and days < n else Fraction(1)
    base = half_up_cents(Fraction(p["base"][role]) * factor)
    kpi = half_up_cents(kpi * factor)
    return {"total": total, "passed": passed, "kpi": kpi, "base": base, "salary": base + kpi}


# --- rules files hypothesis varies ------------------------------------------------------------

@lru_cache(maxsize=1)
def _default_text() -> str:
    return open(DEFAULT_RULES_PATH, encoding="utf-8").read()


@lru_cache(maxsize=256)
def rules_for(pass_ratio: Decimal, pool: Decimal, cap: bool, pro_rating: str, base: tuple[Decimal, ...]):
    text = _default_text()
    text = re.sub(r"pass_ratio: [0-9.]+", f"pass_ratio: {pass_ratio}", text)
    text = re.sub(r"(kpi_pool:\n  amount:) [0-9.]+", rf"\g<1> {pool}", text)
    for role, amount in zip(ROLES, base):
        text = re.sub(rf"({role}): [0-9.]+", rf"\g<1>: {amount}", text)
    text = re.sub(r"cap_kpi_bonus: \w+", f"cap_kpi_bonus: {'true' if cap else 'false'}", text)
    text = re.sub(r"pro_rating: \w+", f"pro_rating: {pro_rating}", text)
    return load_rules(text)


params = st.fixed_dictionaries({
    "pass_ratio": st.integers(1, 100).map(lambda n: Decimal(n) / 100),
    "pool": cents(1, 5000),
    "cap": st.booleans(),
    "pro_rating": st.sampled_from(["none", "calendar_days"]),
    "base": st.fixed_dictionaries({r: cents(0, 20000) for r in ROLES}),
})
points = st.fixed_dictionaries({k: cents(0, m) for k, m in MAX_POINTS.items()})
dates = st.one_of(st.none(), st.dates(date(2026, 9, 1), date(2026, 11, 30)))


def line(points_: dict, deductions: list, bonuses: list, role: str, joined, left) -> PayrollLine:
    items = {k: ItemScore("a", k, k, v) for k, v in points_.items()}
    adjustments = [Adjustment("a", "deduction", "verified_complaint", d, f"c{i}", "") for i, d in enumerate(deductions)]
    adjustments += [Adjustment("a", "bonus", "outstanding", b, f"b{i}", "") for i, b in enumerate(bonuses)]
    roster = {"agent_account": "a", "name": "甲", "role": role, "joined_on": joined, "left_on": left}
    return PayrollLine(MONTH, "a", roster, items, adjustments, [])


@PROFILE
@given(p=params, pts=points, deductions=st.lists(cents(-20, -1), max_size=4),
       bonuses=st.lists(cents(1, 10), max_size=3), role=st.sampled_from(ROLES), joined=dates, left=dates)
def test_payroll_row_matches_the_documented_formula(p, pts, deductions, bonuses, role, joined, left):
    rules = rules_for(p["pass_ratio"], p["pool"], p["cap"], p["pro_rating"], tuple(p["base"][r] for r in ROLES))
    row = line(pts, deductions, bonuses, role, joined, left).row(rules)
    want = reference(pts, deductions, bonuses, role, joined, left, p)
    assert row["status"] == "final"
    assert Fraction(row["total_score"]) == want["total"]
    assert row["passed"] == want["passed"]
    assert Fraction(row["kpi_bonus"]) == want["kpi"]
    assert Fraction(row["base_salary"]) == want["base"]
    assert Fraction(row["salary"]) == want["salary"]
    for k in ("kpi_bonus", "base_salary", "salary"):
        assert row[k].as_tuple().exponent == -2, (k, row[k])  # always exactly 2 places
    assert row["salary"] == row["base_salary"] + row["kpi_bonus"]
    if p["cap"] and p["pro_rating"] == "none":
        assert row["kpi_bonus"] <= p["pool"]


@PROFILE
@given(rows=st.lists(st.tuples(points, st.lists(cents(-20, -1), max_size=3), st.sampled_from(ROLES), st.booleans()),
                     min_size=1, max_size=8),
       p=params)
def test_payroll_totals_reconcile_to_the_cent(rows, p):
    rules = rules_for(p["pass_ratio"], p["pool"], p["cap"], p["pro_rating"], tuple(p["base"][r] for r in ROLES))
    out = []
    for i, (pts, deds, role, known) in enumerate(rows):
        ln = line(pts, deds, [], role, None, None)
        ln.agent = f"a{i}"
        if not known:
            ln.roster = None  # incomplete: no salary, not in the totals
        out.append(ln.row(rules))
    frame = payroll_frame(out)
    rec = reconcile(frame)
    final = frame.filter(pl.col("status") == "final")
    assert rec.rows == final.height == sum(1 for *_, known in rows if known)
    assert rec.ok
    assert rec.salary_total == sum(final["salary"].to_list(), Decimal("0.00"))
    assert frame.filter(pl.col("status") == "incomplete")["salary"].null_count() == frame.height - final.height


@settings(max_examples=500, deadline=None)
@given(st.decimals(min_value=Decimal("-1e9"), max_value=Decimal("1e9"), allow_nan=False, allow_infinity=False, places=6))
def test_round_money_is_half_up_to_the_cent(x):
    got = round_money(x)
    assert Fraction(got) == half_up_cents(Fraction(x))
    assert got.as_tuple().exponent == -2


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**9, 10**9))
def test_round_money_ties_go_away_from_zero(c):
    tie = Decimal(c) / 100 + Decimal("0.005")
    assert round_money(tie) == (Decimal(c + 1) / 100 if tie > 0 else Decimal(c) / 100)


def test_reference_agrees_on_hand_computed_cases():
    """The reference itself, on cases worked out by hand from docs/scoring.md."""
    default = {"pass_ratio": Decimal("0.70"), "pool": Decimal("1000"), "cap": True, "pro_rating": "none",
               "base": {"普通售后客服": Decimal(2000), "高级售后客服": Decimal(2500), "售后组长": Decimal(3000)}}
    full = {k: Decimal(m) for k, m in MAX_POINTS.items()}
    r = reference(full, [], [Decimal(5)], "售后组长", None, None, default)  # 135 > 130: capped at the pool
    assert (r["kpi"], r["salary"]) == (1000, 4000)
    pts = dict(full, quality=Decimal(0), refund_rate=Decimal(11))  # 0+11+20+20+20+20 = 91 = 0.70 × 130
    r = reference(pts, [], [], "普通售后客服", None, None, default)
    assert r["passed"] and r["kpi"] == 700 and r["salary"] == 2700
    r = reference(pts, [Decimal("-0.01")], [], "普通售后客服", None, None, default)  # 90.99 < 91
    assert not r["passed"] and r["salary"] == 2000
    pts = dict(full, refund_rate=Decimal(10))  # 110 → 1000 × 110/130 = 846.153… → 846.15
    assert reference(pts, [], [], "高级售后客服", None, None, default)["kpi"] == Fraction("846.15")
    pro = dict(default, pro_rating="calendar_days")  # joined 10-17: 15/31 of 2500 = 1209.677… → 1209.68
    assert reference(full, [], [], "高级售后客服", date(2026, 10, 17), None, pro)["base"] == Fraction("1209.68")
    assert days_employed(date(2026, 10, 17), None) == (15, 31) and date(2026, 10, 17) + timedelta(days=14) == date(2026, 10, 31)


def _points_summing_to(total: Decimal) -> dict[str, Decimal]:
    left, out = total, {}
    for k in ITEM_KEYS:
        out[k] = min(Decimal(MAX_POINTS[k]), left)
        left -= out[k]
    assert left == 0
    return out


@PROFILE
@given(p=params, role=st.sampled_from(ROLES), below=st.booleans())
def test_gate_is_inclusive_at_the_exact_threshold(p, role, below):
    """total == pass_ratio × total_points passes, one cent less does not (random totals
    almost never hit the threshold exactly, so it is built here)."""
    rules = rules_for(p["pass_ratio"], p["pool"], p["cap"], p["pro_rating"], tuple(p["base"][r] for r in ROLES))
    threshold = p["pass_ratio"] * 130
    pts = _points_summing_to(threshold - (Decimal("0.01") if below else 0))
    row = line(pts, [], [], role, None, None).row(rules)
    want = reference(pts, [], [], role, None, None, p)
    assert row["passed"] == want["passed"] == (not below)
    assert Fraction(row["kpi_bonus"]) == want["kpi"]
    assert Fraction(row["salary"]) == want["salary"]
