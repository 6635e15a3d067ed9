"""Money and id formatting helpers (integer cents in, exact strings out; no floats)."""

from __future__ import annotations

import polars as pl


def cents_to_str(col: str | pl.Expr) -> pl.Expr:
    """Integer cents → '123.45' (negative amounts keep their sign: -3500 → '-35.00')."""
    c = pl.col(col) if isinstance(col, str) else col
    a = c.abs()
    body = pl.concat_str([(a // 100).cast(pl.String), pl.lit("."), (a % 100).cast(pl.String).str.zfill(2)])
    return pl.when(c < 0).then(pl.concat_str([pl.lit("-"), body])).otherwise(body)


def fmt_dt(col: str, fmt: str = "%Y-%m-%d %H:%M:%S") -> pl.Expr:
    """Datetime column → text as the exports write it (null stays null)."""
    return pl.col(col).dt.strftime(fmt)
