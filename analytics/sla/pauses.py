"""Pause states that stop a clock (optional, ``pauses.enabled: false`` by default).

A ticket may record one pause: 暂停时间 (paused_at), 恢复时间 (resumed_at, blank = still
paused) and 暂停原因 (pause_reason). When pauses are enabled and the reason is one of
``pauses.reasons`` (default 等待用户确认, 等待配件), a pausable rule's deadline moves later by
the paused calendar time (working time under a working-hours calendar). The pause counts
only while the clock was running: it starts at or after the clock's start, before the
clock stopped and before the unpaused deadline (a pause cannot rescue a breach already
made); it ends at the resume, the stop or ``as_of``, whichever is first.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from .calendars import Calendar
from .deadlines import DT, deadline_status

PAUSE_COLUMNS = ("paused_at", "resumed_at", "pause_reason")


def paused_hours(frame: pl.DataFrame, start: str, stop: str, target_hours: float, cal: Calendar, as_of: datetime, reasons: list[str]) -> pl.Series:
    """Paused calendar hours per row of ``frame`` for one clock (0.0 where no pause counts)."""
    if frame.height == 0 or not set(PAUSE_COLUMNS) <= set(frame.columns):
        return pl.Series("paused_h", [0.0] * frame.height, dtype=pl.Float64)
    base = frame.select(
        pl.col(start).cast(DT).alias("s"),
        pl.col(stop).cast(DT).alias("e"),
        pl.col("paused_at").cast(DT).alias("p0"),
        pl.min_horizontal(pl.coalesce(pl.col("resumed_at").cast(DT), pl.lit(as_of, DT)), pl.coalesce(pl.col(stop).cast(DT), pl.lit(as_of, DT)), pl.lit(as_of, DT)).alias("p1"),
        pl.col("pause_reason").is_in(reasons).fill_null(False).alias("ok"),
        deadline_status(pl.col(start), None, target_hours, cal, as_of).struct.field("deadline").alias("d0"),
    )
    valid = base.select(
        pl.col("ok") & (pl.col("p0") >= pl.col("s")) & (pl.col("p0") < pl.col("d0")) & (pl.col("p1") > pl.col("p0"))
        & (pl.col("e").is_null() | (pl.col("p0") < pl.col("e")))
    ).to_series().fill_null(False)
    if cal.is_24x7:
        hours = base.select(((pl.col("p1") - pl.col("p0")).dt.total_microseconds() / 3.6e9).alias("h")).to_series()
    else:  # working time: the calendar's own per-interval arithmetic (few paused tickets)
        hours = pl.Series([cal.elapsed_us(a, b) / 3.6e9 if v else 0.0 for a, b, v in zip(base["p0"], base["p1"], valid, strict=True)], dtype=pl.Float64)
    out = pl.DataFrame({"h": hours, "v": valid}).select(pl.when(pl.col("v")).then(pl.col("h")).otherwise(0.0).alias("paused_h"))
    return out.to_series()
