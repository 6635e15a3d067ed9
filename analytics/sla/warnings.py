"""Breach warnings: open clocks whose deadline is near (or already passed) at ``now``.

A clock is warned when it has no stop event by ``now``, its record is still open (a ticket
not 已关闭 / without a closed time at or before ``now``), and the calendar time left is at
most ``window_share`` × target (default 25%). Overdue open clocks are included with level
已超时. Sorted by urgency: least time left first (most overdue at the top).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from .calendars import Calendar
from .engine import evaluate
from .rules import RuleSet

WARNING_COLUMNS = [
    "level", "record_kind", "record_id", "rule_id", "rule_name", "staff", "team",
    "start_at", "deadline", "remaining_s", "remaining_h", "target_h",
]


def breach_warnings(
    tickets: pl.DataFrame | None,
    calls: pl.DataFrame | None,
    rules: RuleSet,
    now: datetime,
    calendars: dict[str, Calendar] | None = None,
    window_share: float | None = None,
) -> pl.DataFrame:
    """Warnings as of ``now`` (see module doc); ``window_share`` overrides the rules file."""
    share = rules.warnings.window_share if window_share is None else window_share
    sla = evaluate(tickets, calls, rules, now, calendars)
    if tickets is not None and tickets.height:
        closed = tickets.filter(
            (pl.col("status") == "已关闭").fill_null(False) | (pl.col("closed_at") <= now).fill_null(False)
        ).select(pl.col("ticket_id").cast(pl.String).alias("record_id"), pl.lit("ticket").alias("record_kind"))
        sla = sla.join(closed, on=["record_kind", "record_id"], how="anti")
    open_ = sla.filter(pl.col("remaining_s").is_not_null() & pl.col("status").is_in(["running", "breached"]))
    warn = open_.filter((pl.col("remaining_s") < 0) | (pl.col("remaining_s") <= pl.col("target_h") * 3600 * share))
    return (
        warn.with_columns(
            pl.when(pl.col("remaining_s") < 0).then(pl.lit("已超时")).otherwise(pl.lit("即将超时")).alias("level"),
            (pl.col("remaining_s") / 3600).round(2).alias("remaining_h"),
        )
        .sort("remaining_s", "deadline", "record_id")
        .select(WARNING_COLUMNS)
    )
