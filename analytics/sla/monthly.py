"""Monthly service targets (policy 3.2.1) per staff member, per team and overall.

How each rate is counted (also in docs/sla.md):
  * 服务及时率 = met / (met + breached) over SLA clocks with ``counts_for_timeliness``
    whose outcome was *decided* in the month (met: stop time in the month; breached: the
    deadline passed in the month). Running clocks are not counted yet; each clock is
    counted in exactly one month. Target: rate >= timeliness_min (exactly 90% meets).
  * 用户满意度 = surveyed tickets with score >= satisfied_min_score / surveyed tickets,
    over tickets whose service ended in the month (coalesce(completed_at, closed_at)).
    Scores outside 1..score_max are not counted (they are a compliance finding).
    Target: rate >= satisfaction_min (exactly 85% meets).
  * 用户抱怨率 = tickets with 服务责任抱怨=是 / tickets received in the month.
    Target: rate < complaint_below (exactly 3% misses).
A rate with a zero denominator is null and its target flag is null (无数据), not a miss.
Comparisons are exact integer arithmetic (num * q >= den * p for target p/q).
"""

from __future__ import annotations

from fractions import Fraction

import polars as pl

from contracts import SLA_RESULTS

from .rules import Targets

NO_STAFF = "(未指定)"
NO_TEAM = "(未分组)"

SLA_MONTH_SCHEMA = SLA_RESULTS["sla_month"].schema()  # level: staff / team / all


def _who(frame: pl.DataFrame) -> list[pl.Expr]:
    def col(name: str, blank: str) -> pl.Expr:
        if name not in frame.columns:
            return pl.lit(blank).alias(name)
        return pl.col(name).cast(pl.String).fill_null(blank).alias(name)

    return [col("team", NO_TEAM), col("staff", NO_STAFF)]


def _ge(num: str, den: str, target) -> pl.Expr:
    f = Fraction(target)
    return pl.when(pl.col(den) > 0).then(pl.col(num) * f.denominator >= pl.col(den) * f.numerator)


def _lt(num: str, den: str, target) -> pl.Expr:
    f = Fraction(target)
    return pl.when(pl.col(den) > 0).then(pl.col(num) * f.denominator < pl.col(den) * f.numerator)


def _rate(num: str, den: str) -> pl.Expr:
    return pl.when(pl.col(den) > 0).then(pl.col(num) / pl.col(den))


def month_counts(ticket_sla: pl.DataFrame, tickets: pl.DataFrame | None, month: str, targets: Targets) -> pl.DataFrame:
    """Per (team, staff) counts: timely/timed/running clocks, satisfied/surveyed, complaints/tickets."""
    clocks = ticket_sla.filter(pl.col("counts_for_timeliness")).select(
        *_who(ticket_sla),
        ((pl.col("decided_month") == month) & (pl.col("status") == "met")).cast(pl.Int64).alias("timely"),
        ((pl.col("decided_month") == month) & pl.col("status").is_in(["met", "breached"])).cast(pl.Int64).alias("timed"),
        (pl.col("status") == "running").cast(pl.Int64).alias("running"),
    )
    clocks = clocks.group_by("team", "staff").agg(pl.col("timely", "timed", "running").sum())
    if tickets is None or tickets.height == 0:
        tk = pl.DataFrame(schema={"team": pl.String, "staff": pl.String, "satisfied": pl.Int64, "surveyed": pl.Int64, "complaints": pl.Int64, "tickets": pl.Int64})
    else:
        ended = pl.coalesce(pl.col("completed_at"), pl.col("closed_at")).dt.strftime("%Y-%m") == month
        score = pl.col("satisfaction")
        valid = score.is_between(1, targets.score_max)
        received = pl.col("received_at").dt.strftime("%Y-%m") == month
        tk = tickets.select(
            *_who(tickets),
            (ended & valid & (score >= targets.satisfied_min_score)).fill_null(False).cast(pl.Int64).alias("satisfied"),
            (ended & valid).fill_null(False).cast(pl.Int64).alias("surveyed"),
            (received & pl.col("complaint").fill_null(False)).fill_null(False).cast(pl.Int64).alias("complaints"),
            received.fill_null(False).cast(pl.Int64).alias("tickets"),
        )
        tk = tk.group_by("team", "staff").agg(pl.col("satisfied", "surveyed", "complaints", "tickets").sum())
    out = clocks.join(tk, on=["team", "staff"], how="full", coalesce=True)
    counts = ["timely", "timed", "running", "satisfied", "surveyed", "complaints", "tickets"]
    return out.with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))


def sla_month(ticket_sla: pl.DataFrame, tickets: pl.DataFrame | None, month: str, targets: Targets) -> pl.DataFrame:
    """The month's rates and target flags at three levels: staff, team, all."""
    counts = month_counts(ticket_sla, tickets, month, targets)
    sums = pl.col("timely", "timed", "running", "satisfied", "surveyed", "complaints", "tickets").sum()
    staff = counts.with_columns(pl.lit("staff").alias("level"))
    team = counts.group_by("team").agg(sums).with_columns(pl.lit("team").alias("level"), pl.lit(None, pl.String).alias("staff"))
    every = counts.select(sums).with_columns(
        pl.lit("all").alias("level"), pl.lit(None, pl.String).alias("team"), pl.lit(None, pl.String).alias("staff")
    )
    out = pl.concat([staff, team, every], how="diagonal_relaxed").with_columns(
        pl.lit(month).alias("month"),
        _rate("timely", "timed").alias("timeliness"),
        _ge("timely", "timed", targets.timeliness_min).alias("timeliness_met"),
        _rate("satisfied", "surveyed").alias("satisfaction"),
        _ge("satisfied", "surveyed", targets.satisfaction_min).alias("satisfaction_met"),
        _rate("complaints", "tickets").alias("complaint_rate"),
        _lt("complaints", "tickets", targets.complaint_below).alias("complaint_met"),
    )
    flags = ["timeliness_met", "satisfaction_met", "complaint_met"]
    # all_met: every target with data is met; null when no target has data
    out = out.with_columns(
        pl.when(pl.any_horizontal([pl.col(f).is_not_null() for f in flags]))
        .then(pl.all_horizontal([pl.col(f).fill_null(True) for f in flags]))
        .alias("all_met")
    )
    order = pl.col("level").replace_strict({"all": 0, "team": 1, "staff": 2}, return_dtype=pl.Int8)
    return out.sort(order, pl.col("team"), pl.col("staff"), nulls_last=False).select(
        [pl.col(c).cast(t) for c, t in SLA_MONTH_SCHEMA.items()]
    )
