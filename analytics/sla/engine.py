"""Apply an SLA rule set to tickets and calls: one row per (record, applicable rule).

Output ``ticket_sla`` columns:
  record_kind ('ticket' | 'call'), record_id, rule_id, rule_name, policy_ref, staff, team,
  calendar, target_h, start_event, stop_event, start_at, deadline, stop_at (the stop
  event's recorded time, even if after ``as_of``), elapsed_s, remaining_s, status
  (met / breached / running; null if the start time is missing), decided_at,
  decided_month ('YYYY-MM' of decided_at), counts_for_timeliness.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from contracts import SLA_RESULTS

from .calendars import Calendar
from .deadlines import DT, deadline_status
from .pauses import paused_hours
from .rules import RulesError, RuleSet, condition_expr, condition_fields

ID_COLUMN = {"tickets": "ticket_id", "calls": "call_id"}
RECORD_KIND = {"tickets": "ticket", "calls": "call"}

TICKET_SLA_SCHEMA = SLA_RESULTS["ticket_sla"].schema(exclude=("month",))


def _text_or_null(column: str, columns: list[str]) -> pl.Expr:
    """``column`` as text when the frame has it, else a null text column."""
    return pl.col(column).cast(pl.String) if column in columns else pl.lit(None, dtype=pl.String)


def evaluate(
    tickets: pl.DataFrame | None,
    calls: pl.DataFrame | None,
    rules: RuleSet,
    as_of: datetime,
    calendars: dict[str, Calendar] | None = None,
) -> pl.DataFrame:
    """Every applicable (record, rule) pair with its deadline and status as of ``as_of``.

    ``calendars`` defaults to ``rules.build_calendars()``; pass your own dict to read
    ``uncovered_years`` notes afterwards."""
    calendars = calendars if calendars is not None else rules.build_calendars()
    sources = {"tickets": tickets, "calls": calls}
    parts = []
    for rule in rules.rules:
        frame = sources[rule.source]
        if frame is None or frame.height == 0:
            continue
        id_col = ID_COLUMN[rule.source]
        needed = {id_col, rule.start, rule.stop} | condition_fields(rule.applies_to)
        missing = sorted(needed - set(frame.columns))
        if missing:
            raise RulesError(f"规则 {rule.id} 引用了{rule.source}中不存在的字段: {missing}")
        cal = calendars[rule.calendar]
        picked = frame.filter(condition_expr(rule.applies_to))
        if picked.height == 0:
            continue
        pause = rules.pauses.enabled and rule.pausable and rule.source == "tickets"
        paused = paused_hours(picked, rule.start, rule.stop, rule.target_hours, cal, as_of, rules.pauses.reasons) if pause else None
        picked = picked.with_columns(paused if paused is not None else pl.lit(0.0).alias("paused_h"))
        out = picked.select(
            pl.lit(RECORD_KIND[rule.source]).alias("record_kind"),
            pl.col(id_col).cast(pl.String).alias("record_id"),
            pl.lit(rule.id).alias("rule_id"),
            pl.lit(rule.name).alias("rule_name"),
            pl.lit(rule.policy_ref).alias("policy_ref"),
            _text_or_null("staff", picked.columns).alias("staff"),
            _text_or_null("team", picked.columns).alias("team"),
            pl.lit(rule.calendar).alias("calendar"),
            pl.lit(rule.target_hours, dtype=pl.Float64).alias("target_h"),
            pl.lit(rule.start).alias("start_event"),
            pl.lit(rule.stop).alias("stop_event"),
            pl.col(rule.start).cast(DT).alias("start_at"),
            pl.col(rule.stop).cast(DT).alias("stop_at"),
            deadline_status(pl.col(rule.start), pl.col(rule.stop), pl.col("paused_h") + rule.target_hours, cal, as_of).alias("_d"),
            pl.lit(rule.counts_for_timeliness).alias("counts_for_timeliness"),
            pl.col("paused_h"),
        ).unnest("_d")
        out = out.with_columns(pl.col("decided_at").dt.strftime("%Y-%m").alias("decided_month"))
        parts.append(out.select(list(TICKET_SLA_SCHEMA)))
    if not parts:
        return pl.DataFrame(schema=TICKET_SLA_SCHEMA)
    return pl.concat(parts).sort(["record_kind", "record_id", "rule_id"])


def calendar_notes(calendars: dict[str, Calendar]) -> list[str]:
    """Human notes from calendars used in a run (e.g. years without holiday data)."""
    return [f"日历 {name}: {n}" for name, cal in calendars.items() for n in cal.notes()]
