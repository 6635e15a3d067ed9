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

# the times that place a row in a month (sla_tickets / sla_calls month_by)
EVENT_COLUMNS = ("received_at", "first_reply_at", "written_contact_at", "arrived_at", "completed_at", "closed_at")
CALL_EVENT_COLUMNS = ("received_at", "replied_at")


def _has_event(frame: pl.DataFrame, start: datetime, end: datetime, events: tuple[str, ...]) -> pl.Expr:
    conds = [pl.col(c).is_between(start, end, closed="left").fill_null(False) for c in events if c in frame.columns]
    return pl.any_horizontal(conds) if conds else pl.lit(False)


def merge_carried(
    current: pl.DataFrame | None,
    previous: pl.DataFrame | None,
    start: datetime,
    end: datetime,
    id_col: str = "ticket_id",
    events: tuple[str, ...] = EVENT_COLUMNS,
) -> pl.DataFrame | None:
    """This month's staged records plus earlier ones not re-exported, with ``carried``.

    ``previous``: records loaded in earlier months (several versions of one record allowed:
    the one with the latest ``month`` wins). A record in ``current`` always wins over its
    earlier version. Tickets by default; calls with ``id_col="call_id"`` and
    ``events=CALL_EVENT_COLUMNS``. Returns ``current`` when there is nothing at all."""
    frames = []
    if current is not None and current.height:
        frames.append(current)
    if previous is not None and previous.height:
        prev = previous.filter(pl.col("received_at") < start)
        if "month" in prev.columns:
            prev = prev.sort("month", nulls_last=False).unique(id_col, keep="last", maintain_order=True)
        if frames:
            prev = prev.join(frames[0].select(id_col), on=id_col, how="anti")
        frames.append(prev)
    frames = [f for f in frames if f.height]
    if not frames:
        return current
    out = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    return out.with_columns((~_has_event(out, start, end, events)).alias("carried"))


def carried_ids(frame: pl.DataFrame | None, id_col: str) -> pl.Series:
    if frame is None or "carried" not in frame.columns:
        return pl.Series([], dtype=pl.String)
    return frame.filter(pl.col("carried"))[id_col].cast(pl.String)


def own_rows(frame: pl.DataFrame | None) -> pl.DataFrame | None:
    """Rows with an event of their own in the month (compliance findings belong there)."""
    return frame.filter(~pl.col("carried")) if frame is not None and "carried" in frame.columns else frame


def keep_month_clocks(ticket_sla: pl.DataFrame, carried: dict[str, pl.Series], month: str) -> pl.DataFrame:
    """Drop clocks of carried records (``{record_kind: ids}``) decided in another month
    (already counted there)."""
    conds = [(pl.col("record_kind") == kind) & pl.col("record_id").is_in(ids.implode()) for kind, ids in carried.items() if ids.len()]
    if not conds:
        return ticket_sla
    is_carried = pl.any_horizontal(conds)
    keep = ~is_carried | (pl.col("decided_month") == month).fill_null(False) | (pl.col("status") == "running").fill_null(False)
    return ticket_sla.filter(keep)
