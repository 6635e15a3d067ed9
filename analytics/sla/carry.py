"""Open tickets carried into a month, so a clock that crosses a month end is counted once.

A ticket received before month M whose clock is decided in M (its deadline passes or its
stop is recorded in M) belongs to M, whether its row was re-exported in M's workbook
(staging keeps rows still open at M's start) or only loaded in an earlier month (the
caller passes the previous months' loaded tickets from the warehouse).

``carried`` marks a ticket with no event of its own in M: its clocks count in M only when
decided in M (or still running), and it raises no ticket compliance finding in M (those
belong to the month of its events).
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

# the ticket times that place a row in a month (sla_tickets.month_by)
EVENT_COLUMNS = ("received_at", "first_reply_at", "written_contact_at", "arrived_at", "completed_at", "closed_at")


def _has_event(frame: pl.DataFrame, start: datetime, end: datetime) -> pl.Expr:
    conds = [pl.col(c).is_between(start, end, closed="left").fill_null(False) for c in EVENT_COLUMNS if c in frame.columns]
    return pl.any_horizontal(conds) if conds else pl.lit(False)


def merge_carried(current: pl.DataFrame | None, previous: pl.DataFrame | None, start: datetime, end: datetime) -> pl.DataFrame | None:
    """This month's staged tickets plus earlier tickets not re-exported, with ``carried``.

    ``previous``: tickets loaded in earlier months (several versions of one ticket allowed:
    the one with the latest ``month`` wins). A ticket in ``current`` always wins over its
    earlier version. Returns None when there are no tickets at all."""
    frames = []
    if current is not None and current.height:
        frames.append(current)
    if previous is not None and previous.height:
        prev = previous.filter(pl.col("received_at") < start)
        if "month" in prev.columns:
            prev = prev.sort("month", nulls_last=False).unique("ticket_id", keep="last", maintain_order=True)
        if frames:
            prev = prev.join(frames[0].select("ticket_id"), on="ticket_id", how="anti")
        frames.append(prev)
    frames = [f for f in frames if f.height]
    if not frames:
        return current
    out = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    return out.with_columns((~_has_event(out, start, end)).alias("carried"))


def keep_month_clocks(ticket_sla: pl.DataFrame, carried_ids: pl.Series, month: str) -> pl.DataFrame:
    """Drop clocks of carried tickets decided in another month (already counted there)."""
    if carried_ids.len() == 0:
        return ticket_sla
    carried = (pl.col("record_kind") == "ticket") & pl.col("record_id").is_in(carried_ids.implode())
    keep = ~carried | (pl.col("decided_month") == month).fill_null(False) | (pl.col("status") == "running").fill_null(False)
    return ticket_sla.filter(keep)
