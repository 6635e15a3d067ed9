"""The project's one deadline mechanism: start + target under a calendar → deadline,
elapsed time and status (met / breached / running) as of a moment.

Semantics (exact, integer microseconds):
  * deadline = the instant at which ``target_hours`` of calendar time have accumulated
    since ``start`` (24×7: ``start + target``);
  * a stop at or before ``as_of`` counts; a stop after ``as_of`` is "not yet known"
    (so re-running a past month gives the same answer);
  * ``met``      stop <= deadline (exactly on the deadline is met);
  * ``breached`` stop > deadline, or no stop and ``as_of`` > deadline;
  * ``running``  no stop and ``as_of`` <= deadline;
  * null         start is null (the clock never started).
  * ``decided_at``: when the outcome became final: stop if met, deadline if breached.
  * ``elapsed_s``: calendar seconds from start to the stop (or to ``as_of`` while open);
    ``remaining_s``: calendar seconds from ``as_of`` to the deadline for open clocks
    (negative when overdue), null once stopped.

24×7 is pure polars expressions; a working-hours calendar is computed row by row in
Python (a clear per-row walk over days; tickets are a few thousand a month).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from .calendars import US_PER_HOUR, Calendar, TwentyFourSeven

DT = pl.Datetime("us")
STRUCT = pl.Struct(
    {
        "deadline": DT,
        "elapsed_s": pl.Float64,
        "remaining_s": pl.Float64,
        "status": pl.String,
        "decided_at": DT,
    }
)


def _as_expr(x, dtype) -> pl.Expr:
    if x is None:
        return pl.lit(None, dtype=dtype)
    if isinstance(x, pl.Expr):
        return x.cast(dtype)
    return pl.lit(x).cast(dtype)


def deadline_status(
    start: pl.Expr | pl.Series,
    stop: pl.Expr | pl.Series | None,
    target_hours: float | pl.Expr | pl.Series,
    calendar: Calendar | None,
    as_of: datetime,
) -> pl.Expr | pl.Series:
    """Deadline, elapsed/remaining seconds, status and decided_at as a struct.

    Pass expressions to get an expression (use inside ``with_columns``, then
    ``.struct.unnest()`` or ``.struct.field("status")``), or Series of equal length to get
    a Series. ``target_hours`` may be a number or per-row values; ``calendar`` None means
    24×7. Struct fields: deadline, elapsed_s, remaining_s, status, decided_at."""
    if isinstance(start, pl.Series):
        n = len(start)
        cols = {"_s": start, "_e": stop if isinstance(stop, pl.Series) else pl.Series("_e", [None] * n, dtype=DT)}
        t = target_hours
        if isinstance(target_hours, pl.Series):
            cols["_t"] = target_hours
            t = pl.col("_t")
        df = pl.DataFrame(cols)
        return df.select(deadline_status(pl.col("_s"), pl.col("_e"), t, calendar, as_of).alias("deadline_status")).to_series()
    calendar = calendar or TwentyFourSeven()
    s = _as_expr(start, DT)
    e = _as_expr(stop, DT)
    t_us = (_as_expr(target_hours, pl.Float64) * US_PER_HOUR).round(0).cast(pl.Int64)
    as_of_lit = pl.lit(as_of, dtype=DT)
    eff_stop = pl.when(e <= as_of_lit).then(e).otherwise(pl.lit(None, dtype=DT))

    if calendar.is_24x7:
        deadline = s + pl.duration(microseconds=t_us)
        end = pl.coalesce([eff_stop, as_of_lit])
        elapsed = (end - s).dt.total_microseconds().cast(pl.Float64) / 1e6
        elapsed = pl.when(eff_stop.is_null()).then(elapsed.clip(lower_bound=0.0)).otherwise(elapsed)
        remaining = pl.when(eff_stop.is_null()).then((deadline - as_of_lit).dt.total_microseconds().cast(pl.Float64) / 1e6)
        parts = pl.struct(deadline.alias("deadline"), elapsed.alias("elapsed_s"), remaining.alias("remaining_s"))
    else:
        parts = pl.struct(s.alias("s"), eff_stop.alias("e"), t_us.alias("t")).map_batches(
            lambda batch: _calendar_rows(batch, calendar, as_of),
            return_dtype=pl.Struct({"deadline": DT, "elapsed_s": pl.Float64, "remaining_s": pl.Float64}),
            is_elementwise=True,
        )
    deadline = parts.struct.field("deadline")
    status = (
        pl.when(s.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(eff_stop.is_not_null())
        .then(pl.when(eff_stop <= deadline).then(pl.lit("met")).otherwise(pl.lit("breached")))
        .when(as_of_lit > deadline)
        .then(pl.lit("breached"))
        .otherwise(pl.lit("running"))
    )
    decided = pl.when(status == "met").then(eff_stop).when(status == "breached").then(deadline).otherwise(pl.lit(None, dtype=DT))
    return pl.struct(
        deadline.alias("deadline"),
        parts.struct.field("elapsed_s").alias("elapsed_s"),
        parts.struct.field("remaining_s").alias("remaining_s"),
        status.alias("status"),
        decided.alias("decided_at"),
    )


def _calendar_rows(batch: pl.Series, cal: Calendar, as_of: datetime) -> pl.Series:
    deadlines: list[datetime | None] = []
    elapsed: list[float | None] = []
    remaining: list[float | None] = []
    for row in batch.to_list():
        s, e, t = row["s"], row["e"], row["t"]
        if s is None or t is None:
            deadlines.append(None)
            elapsed.append(None)
            remaining.append(None)
            continue
        d = cal.deadline(s, t)
        deadlines.append(d)
        if e is not None:
            elapsed.append(cal.elapsed_us(s, e) / 1e6)
            remaining.append(None)
        else:
            elapsed.append(max(cal.elapsed_us(s, as_of), 0) / 1e6)
            remaining.append(cal.elapsed_us(as_of, d) / 1e6)
    return pl.DataFrame(
        {
            "deadline": pl.Series(deadlines, dtype=DT),
            "elapsed_s": pl.Series(elapsed, dtype=pl.Float64),
            "remaining_s": pl.Series(remaining, dtype=pl.Float64),
        }
    ).to_struct(batch.name)
