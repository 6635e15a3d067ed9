"""Find the real header row below title rows, and normalise header text.

Exports put one or more title rows ("钉钉考勤月度汇总 2026-10-01至2026-10-31", "导出时间: ...")
above the header. We scan the first rows of a raw grid for the row that contains the
most of a reader's expected header names.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import polars as pl

_SPACE = re.compile(r"\s+")


def norm_header(h: str | None) -> str:
    """Trim and fold a header cell: NFKC (full-width -> half-width, （）-> ()), no spaces,
    no BOM, no stray quotes. '平均响应时长（秒） ' -> '平均响应时长(秒)'."""
    if h is None:
        return ""
    if isinstance(h, str):
        return _norm_header_text(h)
    return _norm_header_text(str(h))


@lru_cache(maxsize=1 << 16)
def _norm_header_text(h: str) -> str:
    # cached: every reader's sniff folds the same first rows of every file again
    h = unicodedata.normalize("NFKC", str(h)).replace("\ufeff", "")
    return _SPACE.sub("", h).strip("\"'")


def header_rows(grid: pl.DataFrame, scan: int = 30) -> list[set[str]]:
    """The normalised cell texts of each of the first ``scan`` rows of a raw grid (what a
    header search compares; computed once and shared by the layouts that test a grid)."""
    cols = [c for c in grid.columns if c != "_row"]
    return [{norm_header(v) for v in row if v is not None} for row in grid.head(scan).select(cols).iter_rows()]


def find_header_row(grid: pl.DataFrame, expected: set[str], min_hits: int = 2, scan: int = 30,
                    rows: list[set[str]] | None = None) -> int | None:
    """Index (0-based, in ``grid``) of the row with the most ``expected`` header names,
    or None when no row has at least ``min_hits``. ``expected`` must be normalised.
    ``rows``: :func:`header_rows` of ``grid`` when the caller already has them."""
    best, best_hits = None, 0
    for i, cells in enumerate(header_rows(grid, scan) if rows is None else rows[:scan]):
        hits = len(cells & expected)
        if hits > best_hits:
            best, best_hits = i, hits
    return best if best_hits >= min_hits else None


def apply_header(grid: pl.DataFrame, header_idx: int) -> pl.DataFrame:
    """Rows below ``header_idx`` with the header row's (normalised) names as columns.
    Unnamed or repeated headers get ``_colN`` names. Fully empty rows are dropped
    (they are layout, not records). ``_row`` (the 1-based source row) is kept."""
    return apply_names(grid.slice(header_idx + 1), header_names(grid, header_idx))


def header_names(grid: pl.DataFrame, header_idx: int) -> dict[str, str]:
    """Raw grid column -> the header row's normalised name (``_colN`` if unnamed/repeated)."""
    header = grid.row(header_idx)
    names, seen = {}, set()
    for c, v in zip(grid.columns, header, strict=False):
        if c == "_row":
            continue
        n = norm_header(v)
        if not n or n in seen:
            n = f"_col{c[1:]}"
        seen.add(n)
        names[c] = n
    return names


def apply_names(body: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """Rows of a raw grid (no header among them: a later chunk of a big CSV too) named by
    :func:`header_names`, fully empty rows dropped. Columns the header did not reach are
    ``_colN``."""
    cols = [c for c in body.columns if c != "_row"]
    names = {c: names.get(c, f"_col{c[1:]}") for c in cols}
    return body.filter(~_blank_rows(body, cols)).rename(names)


def _blank(c: str) -> pl.Expr:
    return pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "")


def _blank_rows(body: pl.DataFrame, cols: list[str]) -> pl.Series:
    """Rows whose ``cols`` are all empty or whitespace. Only rows blank in the fullest
    column can be (one column tested for every row, all of them for those few)."""
    if not cols or not body.height:  # as a plain filter would (no columns: polars raises)
        return body.select(pl.all_horizontal([_blank(c) for c in cols])).to_series()
    fullest = min(cols, key=lambda c: body.get_column(c).null_count())
    idx = body.select(_blank(fullest)).to_series().arg_true()
    blank = pl.Series([], dtype=pl.Boolean).extend_constant(False, body.height)
    if len(idx):
        blank = blank.scatter(idx, body.gather(idx).select(pl.all_horizontal([_blank(c) for c in cols])).to_series())
    return blank


def headed_frame(grid: pl.DataFrame, expected: set[str], min_hits: int = 2) -> pl.DataFrame | None:
    """find_header_row + apply_header, or None if the grid does not look like it."""
    idx = find_header_row(grid, expected, min_hits)
    return None if idx is None else apply_header(grid, idx)
