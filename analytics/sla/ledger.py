"""备用件 ledger reconciliation (3.7.1 帐物一致): book stock vs stocktake per part.

For each stocktake row of the month (盘点日期 in the month), movements are summed from the
1st of the month up to and including the stocktake date (a count is taken at day end):
  computed_book = opening_qty + received − issued      (null when 期初数量 is blank)
  book_diff     = book_qty − computed_book              (帐帐: the written book vs the ledger)
  count_diff    = counted_qty − coalesce(book_qty, computed_book)   (帐物: book vs shelf)
Old parts returned (旧件) are not stock: they do not enter the count.
Parts with movements in the month but no stocktake get status 未盘点.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from contracts import SLA_RESULTS

LEDGER_SCHEMA = SLA_RESULTS["sla_ledger"].schema()  # status: 一致 / 帐物不符 / 帐帐不符 / 帐帐不符;帐物不符 / 未盘点


def _empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _movements(frame: pl.DataFrame | None, day_col: str, start: date, end: date) -> pl.DataFrame:
    """(part_id, day, qty) of movements dated in [start, end)."""
    if frame is None or frame.height == 0:
        return _empty({"part_id": pl.String, "day": pl.Date, "qty": pl.Int64})
    return frame.filter(pl.col(day_col).is_between(start, end, closed="left")).select(
        pl.col("part_id").cast(pl.String), pl.col(day_col).alias("day"), pl.col("quantity").fill_null(0).cast(pl.Int64).alias("qty")
    )


def reconcile(
    receipts: pl.DataFrame | None,
    requisitions: pl.DataFrame | None,
    stocktakes: pl.DataFrame | None,
    month_start: date,
    month_end: date,
    month: str,
) -> pl.DataFrame:
    """One row per stocktaken part (and per part moved but not counted), see module doc."""
    rec = _movements(receipts, "received_on", month_start, month_end)
    iss = _movements(requisitions.filter(pl.col("issued_on").is_not_null()) if requisitions is not None else None, "issued_on", month_start, month_end)
    if stocktakes is None or stocktakes.height == 0:
        st = _empty({"part_id": pl.String, "part_name": pl.String, "counted_on": pl.Date, "opening_qty": pl.Int64, "book_qty": pl.Int64, "counted_qty": pl.Int64})
    else:
        st = stocktakes.filter(pl.col("counted_on").is_between(month_start, month_end, closed="left")).select(
            pl.col("part_id").cast(pl.String), "part_name", "counted_on", "opening_qty", "book_qty", "counted_qty"
        )

    def upto(mov: pl.DataFrame, name: str) -> pl.DataFrame:
        j = st.select("part_id", "counted_on").join(mov, on="part_id", how="inner")
        return j.filter(pl.col("day") <= pl.col("counted_on")).group_by("part_id", "counted_on").agg(pl.col("qty").sum().alias(name))

    out = (
        st.join(upto(rec, "received"), on=["part_id", "counted_on"], how="left")
        .join(upto(iss, "issued"), on=["part_id", "counted_on"], how="left")
        .with_columns(pl.col("received", "issued").fill_null(0).cast(pl.Int64))
        .with_columns((pl.col("opening_qty") + pl.col("received") - pl.col("issued")).alias("computed_book"))
        .with_columns(
            (pl.col("book_qty") - pl.col("computed_book")).alias("book_diff"),
            (pl.col("counted_qty") - pl.coalesce("book_qty", "computed_book")).alias("count_diff"),
        )
    )
    book_bad = pl.col("book_diff").fill_null(0) != 0
    count_bad = pl.col("count_diff").fill_null(0) != 0
    out = out.with_columns(
        pl.when(book_bad & count_bad)
        .then(pl.lit("帐帐不符;帐物不符"))
        .when(book_bad)
        .then(pl.lit("帐帐不符"))
        .when(count_bad)
        .then(pl.lit("帐物不符"))
        .otherwise(pl.lit("一致"))
        .alias("status")
    )
    moved = pl.concat([rec.select("part_id"), iss.select("part_id")]).unique()
    uncounted = moved.join(st.select("part_id").unique(), on="part_id", how="anti")
    if uncounted.height:
        names = _part_names(receipts, requisitions)
        extra = (
            uncounted.join(rec.group_by("part_id").agg(pl.col("qty").sum().alias("received")), on="part_id", how="left")
            .join(iss.group_by("part_id").agg(pl.col("qty").sum().alias("issued")), on="part_id", how="left")
            .join(names, on="part_id", how="left")
            .with_columns(pl.col("received", "issued").fill_null(0).cast(pl.Int64), pl.lit("未盘点").alias("status"))
        )
        out = pl.concat([out, extra], how="diagonal_relaxed")
    out = out.with_columns(pl.lit(month).alias("month"))
    return out.select([pl.col(c).cast(t) if c in out.columns else pl.lit(None, t).alias(c) for c, t in LEDGER_SCHEMA.items()]).sort(
        "part_id", "counted_on", nulls_last=True
    )


def _part_names(*frames: pl.DataFrame | None) -> pl.DataFrame:
    parts = [f.select(pl.col("part_id").cast(pl.String), pl.col("part_name").cast(pl.String)) for f in frames if f is not None and f.height]
    if not parts:
        return _empty({"part_id": pl.String, "part_name": pl.String})
    return pl.concat(parts).drop_nulls("part_name").unique("part_id", keep="first")
