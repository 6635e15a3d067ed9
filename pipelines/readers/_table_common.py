"""Shared helpers for the table-shaped (non-chat) readers.

These readers all work the same way: find the header row of each sheet (below any title
rows), rename the source headers to canonical columns, lightly normalise a few values
and hand strings to the stager. The helpers here keep that logic in one place:

* :func:`signature_score` — content sniffing from the first rows only;
* :func:`headed_tables` — every sheet of a file whose header row was found;
* :func:`pick` / :func:`resolve` — header aliases → canonical column;
* :func:`check_required` / :func:`resemblance` — required columns: a sheet lacking one is
  an error (:class:`MissingColumns`), and an unrecognised file that has most of a
  layout's signature is reported as that layout, broken;
* value clean-ups as polars expressions (blank → null, money, fractions, durations);
* :func:`finish` — canonical columns + ``source_row``/``source_sheet``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import polars as pl

from pipelines.io.ahead import ordered_map
from pipelines.io.encoding import UndecodableFile
from pipelines.io.headers import apply_header, apply_names, header_names, norm_header
from pipelines.io.source import PARALLEL_CHUNKS, SourceFile, UnreadableFile

from .base import Batch, MissingColumns

# Labels of total/average rows at the bottom of statistics sheets (not records)
SUMMARY_LABELS = ("汇总", "汇总值", "平均", "平均值", "均值", "合计", "总计", "总和", "小计")
SNIFF_ROWS = 30
_SNIFF_CHARS = 64_000
_NO_DATA = ("-", "--", "—", "——", "/", "N/A", "n/a", "null", "NULL")


def header_key(h: str | None) -> str:
    """norm_header plus the decorations templates add to headers ('*编号', '编号*')."""
    return norm_header(h).strip("*")


# --------------------------------------------------------------------------- sniffing
def _text_head_rows(src: SourceFile) -> list[list[str]]:
    """First rows of a CSV-like text file, parsed from a prefix only (a large chat text
    file is never parsed as a whole CSV just to be rejected)."""
    head = src.head_text(_SNIFF_CHARS)
    lines = head.splitlines()[:SNIFF_ROWS]
    sample = "\n".join(lines)
    delim = max([",", "\t", ";"], key=lambda d: sample.count(d))
    try:
        return list(csv.reader(io.StringIO(sample, newline=""), delimiter=delim))
    except csv.Error:
        return []


def head_header_sets(src: SourceFile, key: Callable[[str | None], str] | None = None) -> list[list[set[str]]]:
    """For each sheet, the set of keyed (default :func:`header_key`) cell texts of each
    of its first rows. Empty for files that are not tables (JSON, binary)."""
    key = key or header_key
    return src.memo(("head_header_sets", key), lambda: _head_header_sets(src, key))


def _head_header_sets(src: SourceFile, key: Callable[[str | None], str]) -> list[list[set[str]]]:
    fmt = src.format
    if fmt == "text":
        return [[{key(v) for v in row if v} for row in _text_head_rows(src)]]
    if fmt not in ("xlsx", "xls"):
        return []
    out = []
    for grid in src.sheets().values():
        cols = [c for c in grid.columns if c != "_row"]
        rows = grid.head(SNIFF_ROWS).select(cols).iter_rows()
        out.append([{key(v) for v in row if v is not None} for row in rows])
    return out


def signature_score(
    src: SourceFile,
    signature: Iterable[str],
    min_hits: int,
    *,
    require: Iterable[str] = (),
    forbidden: Iterable[str] = (),
    rival: Iterable[str] = (),
    key: Callable[[str | None], str] | None = None,
) -> float:
    """Confidence that some sheet of ``src`` has a header row carrying this layout's
    ``signature`` headers (names distinctive of the layout, compared after ``key``).

    A row counts only if it holds every ``require`` header, no ``forbidden`` header
    (distinctive of a sibling layout) and more signature than ``rival`` headers (the
    sibling's own signature). Below ``min_hits`` the score stays < 0.5; from there it
    grows with the share of the signature present: 0.5 + 0.5 * hits / len(signature)."""
    key = key or header_key
    sig, req, bad, riv = ({key(h) for h in hs} for hs in (signature, require, forbidden, rival))
    try:
        sheets = head_header_sets(src, key)
    except (UnreadableFile, UndecodableFile):
        return 0.0
    best = 0
    for rows in sheets:
        for cells in rows:
            if cells & bad or not req <= cells:
                continue
            hits = len(cells & sig)
            if riv and hits <= len(cells & riv):
                continue
            best = max(best, hits)
    if best < min_hits:
        return 0.4 * best / max(min_hits, 1)
    return 0.5 + 0.5 * best / len(sig)


# --------------------------------------------------------------------------- reading
def find_header(grid: pl.DataFrame, expected: Iterable[str], min_hits: int = 2, key: Callable[[str | None], str] = header_key, scan: int = SNIFF_ROWS) -> int | None:
    """0-based index of the row of ``grid`` with most cells whose ``key`` is in
    ``expected`` (already keyed), or None below ``min_hits``. Like
    :func:`pipelines.io.headers.find_header_row` with a pluggable key (e.g. unit-free)."""
    exp = set(expected)
    cols = [c for c in grid.columns if c != "_row"]
    best, best_hits = None, 0
    for i, row in enumerate(grid.head(scan).select(cols).iter_rows()):
        hits = len({key(v) for v in row if v is not None} & exp)
        if hits > best_hits:
            best, best_hits = i, hits
    return best if best_hits >= min_hits else None


def headed_tables(
    src: SourceFile, expected: Iterable[str], min_hits: int = 2, key: Callable[[str | None], str] = header_key
) -> list[tuple[str | None, pl.DataFrame, int]]:
    """(sheet name or None for CSV, headed frame, 0-based header index in the grid) for
    every sheet whose header row holds at least ``min_hits`` of ``expected`` (keyed).
    Column names are :func:`header_key` of the header cells."""
    exp = {key(e) for e in expected}
    out = []
    for name, grid in src.sheets().items():
        idx = find_header(grid, exp, min_hits, key)
        if idx is None:
            continue
        frame = apply_header(grid, idx)
        out.append((name or None, frame.rename(_keyed_names(frame.columns)), idx))
    return out


def headed_parts(
    src: SourceFile, expected: Iterable[str], min_hits: int = 2, key: Callable[[str | None], str] = header_key
) -> list[tuple[str | None, list[str], Iterator[pl.DataFrame]]]:
    """:func:`headed_tables` as (sheet, column names, headed frames): one frame per sheet,
    or for a big CSV (:attr:`SourceFile.chunked`) its chunks, read lazily and named by the
    header found in the first (which holds the title rows and the rows a header search
    scans). The headers are known before any chunk is read, so a required column can be
    checked first."""
    if not src.chunked:
        return [(sheet, frame.columns, iter([frame])) for sheet, frame, _ in headed_tables(src, expected, min_hits, key)]
    exp = {key(e) for e in expected}
    grids = src.csv_grid_chunks(first_records=SNIFF_ROWS + 1)
    first = next(grids)
    idx = find_header(first, exp, min_hits, key)
    if idx is None:
        return []
    names = header_names(first, idx)
    head = apply_names(first.slice(idx + 1), names)
    ren = _keyed_names(head.columns)
    columns = head.rename(ren).columns

    def frames() -> Iterator[pl.DataFrame]:
        yield head.rename(ren)
        for grid in grids:
            yield apply_names(grid, names).rename(ren, strict=False)

    return [(None, columns, frames())]


def _keyed_names(columns: list[str]) -> dict[str, str]:
    """Headed frame columns renamed to their :func:`header_key` where that is free."""
    ren: dict[str, str] = {}
    for c in columns:
        k = header_key(c)
        if c != "_row" and k != c and k not in columns and k not in ren.values():
            ren[c] = k
    return ren


def table_batches(kind: str, parts: list[tuple[Iterator[pl.DataFrame], Mapping[str, pl.Expr], str | None]], chunked: bool):
    """The reader's batches of ``kind`` from (frames, canonical expressions, sheet) per
    sheet: one batch of every sheet's rows, or for a chunked CSV one batch a chunk, lazily."""
    if not chunked:
        out = concat([finish(f, exprs, sheet) for frames, exprs, sheet in parts for f in frames])
        return [Batch(kind, out)] if out is not None else []
    # the chunks' clean-ups run PARALLEL_CHUNKS at a time (threads), handed on in order
    jobs = ((f, exprs, sheet) for frames, exprs, sheet in parts for f in frames)
    return (Batch(kind, out) for out in ordered_map(lambda job: finish(*job), jobs, PARALLEL_CHUNKS))


_UNIT = re.compile(r"\(([^()]*)\)$")


def base_key(h: str | None) -> str:
    """header_key without a trailing unit: '迟到时长（分钟）' -> '迟到时长'."""
    return _UNIT.sub("", header_key(h))


def unit_of(h: str | None) -> str:
    """The trailing parenthesised unit of a header ('' if none): '回复率(%)' -> '%'."""
    m = _UNIT.search(header_key(h))
    return m.group(1) if m else ""


def pick(columns: Sequence[str], *aliases: str, key: Callable[[str | None], str] = header_key) -> str | None:
    """First source column whose ``key`` equals the ``key`` of one of ``aliases``
    (aliases are tried in order)."""
    by_key: dict[str, str] = {}
    for c in columns:
        if c != "_row":
            by_key.setdefault(key(c), c)
    for a in aliases:
        col = by_key.get(key(a))
        if col is not None:
            return col
    return None


def resolve(columns: Sequence[str], aliases: Mapping[str, Sequence[str]], key: Callable[[str | None], str] = header_key) -> dict[str, str]:
    """canonical name -> source column, for the canonical names whose alias is present."""
    out = {}
    for canon, names in aliases.items():
        col = pick(columns, *names, key=key)
        if col is not None:
            out[canon] = col
    return out


def missing_headers(
    columns: Iterable[str], aliases: Mapping[str, Sequence[str]], required: Iterable[str], key: Callable[[str | None], str] = header_key
) -> list[str]:
    """The export names (first alias) of the ``required`` canonical columns that no
    header in ``columns`` stands for."""
    required = list(required)
    found = resolve(list(columns), {c: aliases[c] for c in required}, key)
    return [aliases[c][0] for c in required if c not in found]


def check_required(
    description: str, columns: Iterable[str], aliases: Mapping[str, Sequence[str]], required: Iterable[str],
    sheet: str | None, key: Callable[[str | None], str] = header_key,
) -> None:
    """Raise :class:`MissingColumns` if a sheet's header lacks a required column (never
    load a column of empty values because its header was renamed or deleted)."""
    missing = missing_headers(columns, aliases, required, key)
    if missing:
        raise MissingColumns(description, missing, sheet or None)


def resemblance(
    src: SourceFile,
    signature: Iterable[str],
    aliases: Mapping[str, Sequence[str]],
    required: Iterable[str],
    *,
    min_hits: int = 3,
    forbidden: Iterable[str] = (),
    rival: Iterable[str] = (),
    key: Callable[[str | None], str] | None = None,
) -> tuple[float, list[str]]:
    """How much ``src`` resembles a layout whose sniff rejected it: the best header row's
    share of ``signature`` (rows with fewer than ``min_hits`` signature headers, a
    ``forbidden`` header or no more signature than ``rival`` headers do not count) and
    the required columns that row lacks (export names). See :meth:`Reader.diagnose`."""
    key = key or header_key
    sig, bad, riv = ({key(h) for h in hs} for hs in (signature, forbidden, rival))
    required = list(required)
    best: tuple[float, list[str]] = (0.0, [])
    for rows in head_header_sets(src, key):
        for cells in rows:
            hits = len(cells & sig)
            if hits < min_hits or cells & bad or (riv and hits <= len(cells & riv)):
                continue
            share = hits / len(sig)
            if share > best[0]:
                best = (share, missing_headers(cells, aliases, required, key))
    return best


def blank_to_null(e: pl.Expr) -> pl.Expr:
    """Empty or whitespace-only cells are missing values; others are passed unchanged
    (ids keep their Excel wrappers so the stager can un-wrap and check them)."""
    e = e.cast(pl.String)
    return pl.when(e.str.strip_chars() == "").then(None).otherwise(e)


def no_data_to_null(e: pl.Expr) -> pl.Expr:
    """Statistics exports write '-' or '--' where there is no value."""
    e = blank_to_null(e)
    return pl.when(e.str.strip_chars().is_in(_NO_DATA)).then(None).otherwise(e)


def money(e: pl.Expr) -> pl.Expr:
    """'¥1,234.50' / '1234.50元' -> '1234.50' (still a string; the stager casts)."""
    return blank_to_null(e).str.replace_all(r"[,，¥￥元\s]", "")


def count(e: pl.Expr) -> pl.Expr:
    """'1,234' / '3次' / '2天' -> '1234' / '3' / '2'; unparseable text is kept as is."""
    s = no_data_to_null(e).str.strip_chars()
    cleaned = s.str.replace_all(r"[,，]", "").str.replace(r"(次|天|人|个|条|字|分钟|小时|分)$", "")
    return pl.when(cleaned.str.contains(r"^-?\d+(\.\d+)?$")).then(cleaned).otherwise(s)


def _trim_decimal(e: pl.Expr) -> pl.Expr:
    return e.cast(pl.String).str.replace(r"(\.\d*?)0+$", "$1").str.strip_chars_end(".")


def fraction(e: pl.Expr, header_is_percent: bool = False) -> pl.Expr:
    """'95.12%' -> '0.9512'; '0.9512' stays. With ``header_is_percent`` (a header like
    '回复率(%)') a bare number is a percentage too. Unparseable text is kept as is
    (the stager rejects it with the column's name)."""
    s = no_data_to_null(e).str.strip_chars()
    pct = s.str.ends_with("%") | pl.lit(header_is_percent)
    num = s.str.strip_chars_end("%").str.replace_all(r"[,，\s]", "")
    dec = num.cast(pl.Decimal(38, 10), strict=False)
    frac = pl.when(pct).then(dec / 100).otherwise(dec)
    return pl.when(dec.is_null()).then(s).otherwise(_trim_decimal(frac))


def seconds(e: pl.Expr) -> pl.Expr:
    """A duration to seconds as a string: '12.5' (already seconds), '00:01:05' or an
    Excel time cell '1899-12-31 00:01:05' -> '65', '01:05' (mm:ss) -> '65',
    '1分5秒' / '1小时2分' / '30秒' -> seconds. Unparseable text is kept as is."""
    s = no_data_to_null(e).str.strip_chars()
    hms = s.str.extract_groups(r"(?:^|\s)(\d+):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$")
    ms = s.str.extract_groups(r"^(\d+):(\d{1,2}(?:\.\d+)?)$")
    cn = s.str.extract_groups(r"^(?:(\d+(?:\.\d+)?)(?:小时|时))?(?:(\d+(?:\.\d+)?)分钟?)?(?:(\d+(?:\.\d+)?)秒)?$")

    def f(x: pl.Expr) -> pl.Expr:
        return x.cast(pl.Float64, strict=False).fill_null(0.0)

    from_hms = f(hms.struct[0]) * 3600 + f(hms.struct[1]) * 60 + f(hms.struct[2])
    from_ms = f(ms.struct[0]) * 60 + f(ms.struct[1])
    from_cn = f(cn.struct[0]) * 3600 + f(cn.struct[1]) * 60 + f(cn.struct[2])
    num = s.str.replace_all(r"[,，]", "").str.strip_suffix("秒")
    plain = num.str.contains(r"^\d+(\.\d+)?$")
    cn_any = cn.struct[0].is_not_null() | cn.struct[1].is_not_null() | cn.struct[2].is_not_null()
    return (
        pl.when(plain)
        .then(num)
        .when(hms.struct[0].is_not_null())
        .then(_trim_decimal(from_hms.round(3)))
        .when(ms.struct[0].is_not_null())
        .then(_trim_decimal(from_ms.round(3)))
        .when(cn_any)
        .then(_trim_decimal(from_cn.round(3)))
        .otherwise(s)
    )


def yes_no(e: pl.Expr) -> pl.Expr:
    """需要/不需要, 有/无, Y/N variants -> 是/否; anything else is passed as is."""
    s = blank_to_null(e).str.strip_chars()
    yes = s.is_in(["是", "需要", "有", "Y", "y", "yes", "Yes", "YES", "true", "True", "TRUE", "1", "√"])
    no = s.is_in(["否", "不需要", "无", "N", "n", "no", "No", "NO", "false", "False", "FALSE", "0", "×"])
    return pl.when(yes).then(pl.lit("是")).when(no).then(pl.lit("否")).otherwise(s)


def is_summary(e: pl.Expr) -> pl.Expr:
    """True where a cell is a total/average label (汇总值, 平均值, 合计...)."""
    s = e.cast(pl.String).str.replace_all(r"\s", "").str.strip_chars(":：")
    return s.is_in(SUMMARY_LABELS).fill_null(False)


def finish(frame: pl.DataFrame, exprs: Mapping[str, pl.Expr], sheet: str | None, reason: pl.Expr | None = None) -> pl.DataFrame:
    """The canonical frame: ``exprs`` (canonical name -> expression over ``frame``),
    ``source_row`` from ``_row``, ``source_sheet`` and, if given, ``_reason``."""
    cols = [e.alias(name) for name, e in exprs.items()]
    cols.append(pl.col("_row").cast(pl.Int64).alias("source_row"))
    cols.append(pl.lit(sheet, dtype=pl.String).alias("source_sheet"))
    if reason is not None:
        cols.append(reason.cast(pl.String).alias("_reason"))
    return frame.select(cols)



def concat(frames: list[pl.DataFrame]) -> pl.DataFrame | None:
    """Vertical concat tolerant of differing column sets (missing -> null)."""
    frames = [f for f in frames if f is not None]
    if not frames:
        return None
    return pl.concat(frames, how="diagonal_relaxed")


_MONTH_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})")



_STATS_RATES = ("reply_rate", "response_3min_rate")
_STATS_SECONDS = ("first_response_s", "avg_response_s")
_STATS_TEXT = ("agent_nick", "group_name")


STATS_REQUIRED = ("agent_nick",)  # a statistics row is nobody's without it


def stats_batches(src: SourceFile, source: str, aliases: Mapping[str, Sequence[str]], expected: Sequence[str], description: str = "") -> list[Batch]:
    """One ``agent_stats`` batch from a per-agent statistics export (生意参谋 or Chitu):
    rates to fractions, durations to seconds, counts without separators; 汇总/平均 rows
    skipped and noted. A sheet without the agent column raises :class:`MissingColumns`."""
    frames, notes = [], []
    for sheet, frame, _ in headed_tables(src, tuple(expected) + tuple(a for al in aliases.values() for a in al), 3, key=base_key):
        check_required(description or source, frame.columns, aliases, STATS_REQUIRED, sheet, key=base_key)
        cols = resolve(frame.columns, aliases, key=base_key)
        nick = cols.get("agent_nick")
        first = next(c for c in frame.columns if c != "_row")
        summary = is_summary(pl.col(first))
        if nick:
            summary = summary | is_summary(pl.col(nick))
        n_summary = frame.select(summary.sum()).item()
        if n_summary:
            where = f"（工作表 {sheet}）" if sheet else ""
            notes.append(f"跳过汇总/平均行 {n_summary} 行{where}")
        frame = frame.filter(~summary)
        exprs: dict[str, pl.Expr] = {"source": pl.lit(source, dtype=pl.String)}
        for canon, col in cols.items():
            e = pl.col(col)
            if canon in _STATS_RATES:
                exprs[canon] = fraction(e, header_is_percent=unit_of(col) == "%")
            elif canon in _STATS_SECONDS:
                exprs[canon] = seconds(e) if unit_of(col) not in ("分钟", "分", "min") else _minutes_to_seconds(e)
            elif canon in _STATS_TEXT:
                exprs[canon] = blank_to_null(e).str.strip_chars()
            else:  # counts and 答问比
                exprs[canon] = count(e)
        frames.append(finish(frame, exprs, sheet))
    out = concat(frames)
    return [Batch("agent_stats", out, notes)] if out is not None else []


def _minutes_to_seconds(e: pl.Expr) -> pl.Expr:
    s = no_data_to_null(e).str.strip_chars()
    v = s.cast(pl.Float64, strict=False)
    return pl.when(v.is_null()).then(s).otherwise(_trim_decimal((v * 60).round(3)))
