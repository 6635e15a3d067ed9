"""Raw reader output → staged canonical rows: cast, validate, quarantine, month, dedupe.

Pure functions over polars frames (no I/O). Every input row ends in exactly one bucket,
so for each file and kind ``rows_read = loaded + quarantined + out_of_month + duplicates``.
Order of decisions for a row: quarantine (bad value / missing key / not allowed) first,
then out-of-month, then duplicate (first occurrence in file order wins).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from .privacy import mask_staged
from contracts.staged import LINEAGE, POLARS_TYPES, TABLES, Col, Table

REASON = "_reason"

_DT_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_TRUE = ("是", "y", "yes", "true", "1", "需要", "有", "✓", "√")
_FALSE = ("否", "n", "no", "false", "0", "不需要", "无", "")


@dataclass
class Counts:
    rows_read: int = 0
    loaded: int = 0
    quarantined: int = 0
    out_of_month: int = 0
    duplicates: int = 0

    def add(self, other: "Counts") -> None:
        for f in ("rows_read", "loaded", "quarantined", "out_of_month", "duplicates"):
            setattr(self, f, getattr(self, f) + getattr(other, f))

    @property
    def balanced(self) -> bool:
        return self.rows_read == self.loaded + self.quarantined + self.out_of_month + self.duplicates




def month_bounds(month: str) -> tuple[datetime, datetime]:
    """[start, end) of a 'YYYY-MM' month in China local time (naive)."""
    y, m = (int(x) for x in month.split("-"))
    start = datetime(y, m, 1)
    end = datetime(y + (m == 12), m % 12 + 1, 1)
    return start, end


def last_day(month: str) -> date:
    y, m = (int(x) for x in month.split("-"))
    return date(y, m, calendar.monthrange(y, m)[1])


# --- normalisers: each returns an expression of the target type (null where unparseable)


def clean_text(e: pl.Expr) -> pl.Expr:
    # replace, not when/then: an eager select has no common-subexpression elimination, so
    # when(e == "").otherwise(e) would strip every value twice
    return e.cast(pl.String).str.strip_chars().replace("", None)


def unwrap_id(e: pl.Expr) -> pl.Expr:
    """'="3012..."', "'3012...", '\\t3012...', '3012....0' -> '3012...'."""
    e = clean_text(e)
    e = e.str.replace(r'^=\s*"(.*)"$', "$1").str.strip_chars("'\t =\"").str.replace(r"^(\d+)\.0+$", "$1")
    return e.replace("", None)


def _on_rows(s: pl.Series, rows: pl.Series, fn) -> pl.Series:
    """``s`` with ``fn`` (expression → expression) applied to the rows where ``rows`` holds."""
    idx = rows.fill_null(False).arg_true()
    if not len(idx):
        return s
    return s.scatter(idx, pl.select(fn(pl.lit(s.gather(idx)))).to_series())


def unwrap_id_series(s: pl.Series) -> pl.Series:
    """:func:`unwrap_id` of a materialised column, the same values, each regex run only on
    the rows it can change: the wrapper ``="…"`` needs none (the strip that follows removes
    ``=``, quotes and spaces from both ends anyway), only ``=`` + other whitespace + ``"``
    does; ``^(\\d+)\\.0+$`` needs a dot."""
    t = s.cast(pl.String).str.strip_chars().replace("", None)
    t = _on_rows(t, t.str.starts_with("=") & ~t.str.starts_with('="'), lambda e: e.str.replace(r'^=\s*"(.*)"$', "$1"))
    t = t.str.strip_chars("'\t =\"")
    t = _on_rows(t, t.str.contains(".", literal=True), lambda e: e.str.replace(r"^(\d+)\.0+$", "$1"))
    return t.replace("", None).alias(s.name)


def is_scientific(e: pl.Expr) -> pl.Expr:
    return e.str.contains(r"^\d(\.\d+)?[eE]\+?\d+$")


def is_excel_truncated(e: pl.Expr) -> pl.Expr:
    """A long digit id Excel stored as a number keeps 15 significant digits and pads with
    zeros (3012345678901230000). Flag >15-digit ids whose digits after the 15th are all 0."""
    digits = e.str.contains(r"^\d{16,}$")
    zeros = e.str.extract(r"(0*)$", 1).str.len_chars()
    return digits & (zeros >= e.str.len_chars() - 15)


# Placeholders exports and hand-filled sheets write where there is no id
NO_ID = ("null", "none", "nan", "n/a", "na", "-", "--", "—", "/", "无", "空", "#n/a", "#value!", "#ref!")


def not_an_id(e: pl.Expr, pattern: str | None) -> pl.Expr:
    """True where an unwrapped id is present but is no id: a placeholder (``NULL``, ``-``,
    ``#N/A``...) or, when the column has a ``pattern``, any value of another shape
    (``退款?``, ``0x1F``, 30 digits). Scientific/truncated values are reported apart."""
    present = e.is_not_null() & ~is_scientific(e).fill_null(False) & ~is_excel_truncated(e).fill_null(False)
    bad = e.str.to_lowercase().is_in(list(NO_ID))
    if pattern:
        bad = bad | ~e.str.contains(pattern)
    return (present & bad).fill_null(False)


def _dt_text(e: pl.Expr) -> pl.Expr:
    e = clean_text(e)
    return (
        e.str.replace_all("年|月|/", "-")
        .str.replace("日", " ")
        .str.replace("T", " ")
        .str.replace(r"\.\d+$", "")  # fractional seconds
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        # zero-pad single-digit month/day/hour so strptime accepts them
        .str.replace(r"^(\d{4})-(\d)-", "$1-0$2-")
        .str.replace(r"^(\d{4}-\d{2})-(\d)(\s|$)", "$1-0$2$3")
        .str.replace(r" (\d):", " 0$1:")
    )


def parse_datetime(e: pl.Expr) -> pl.Expr:
    t = _dt_text(e)
    return pl.coalesce([t.str.strptime(pl.Datetime("us"), f, strict=False) for f in _DT_FORMATS])


def parse_date(e: pl.Expr) -> pl.Expr:
    return parse_datetime(e).dt.date()


def parse_decimal(e: pl.Expr) -> pl.Expr:
    t = clean_text(e).str.replace_all(r"[,¥￥元\s]", "")
    ok = t.str.contains(r"^-?\d+(\.\d{1,2})?$")
    return pl.when(ok).then(t).otherwise(None).cast(pl.Decimal(14, 2), strict=False)


def parse_int(e: pl.Expr) -> pl.Expr:
    t = clean_text(e).str.replace(r"\.0+$", "")
    return t.cast(pl.Int64, strict=False)


def parse_float(e: pl.Expr) -> pl.Expr:
    t = clean_text(e).str.replace_all(r"[,\s]", "")
    pct = t.str.ends_with("%")
    num = t.str.strip_suffix("%").cast(pl.Float64, strict=False)
    return pl.when(pct).then(num / 100).otherwise(num)


def parse_bool(e: pl.Expr) -> pl.Expr:
    t = clean_text(e).str.to_lowercase()
    return pl.when(t.is_in(list(_TRUE))).then(True).when(t.is_in(list(_FALSE[:-1]))).then(False).otherwise(None)


_PARSERS = {
    "str": clean_text,
    "id": unwrap_id,
    "datetime": parse_datetime,
    "date": parse_date,
    "decimal": parse_decimal,
    "int": parse_int,
    "float": parse_float,
    "bool": parse_bool,
}


def _cast_col(frame: pl.DataFrame, col: Col, clean: frozenset[str] = frozenset()) -> tuple[pl.Expr, pl.Expr | None]:
    """(typed expression, reason expression or None) for one canonical column. Every reason
    leaves the typed value null; :func:`cast_and_validate` builds reasons only for rows
    that are candidates by that test. ``clean``: string columns already stripped with
    blanks null (:attr:`pipelines.readers.base.Batch.clean`), taken as they are."""
    target = POLARS_TYPES[col.type]
    label = col.label or col.name
    missing = pl.lit(f"缺少{label}") if col.required else None
    if col.name not in frame.columns:
        return pl.lit(None, dtype=target).alias(col.name), missing
    src = frame.schema[col.name]
    raw = pl.col(col.name)
    if col.type == "str" and col.name in clean and src == pl.String:
        # clean_text(raw) is raw itself: nothing unparsed; missing where it is null
        return raw, (None if missing is None else pl.when(raw.is_null()).then(missing))
    if (src == target and col.type not in ("str", "id")) or (col.type in ("datetime", "date") and src.is_temporal()):
        typed = raw.cast(target)
        if missing is None:
            return typed.alias(col.name), None
        return typed.alias(col.name), pl.when(typed.is_null()).then(missing)
    if src != pl.String:
        raw = raw.cast(pl.String)
    pre = f"{_PRE}{col.name}"
    typed = pl.col(pre) if pre in frame.columns else _PARSERS[col.type](raw)
    raw_clean = clean_text(raw)
    unparsed = raw_clean.is_not_null() & typed.is_null()
    reasons = [pl.when(unparsed).then(pl.format(f"{label}无法解析: '{{}}'", raw_clean))]
    if missing is not None:
        reasons.append(pl.when(raw_clean.is_null()).then(missing))
    if col.type == "id":
        not_id = not_an_id(typed, col.pattern)
        hint = f"({col.pattern_hint})" if col.pattern_hint else ""
        reasons = [
            pl.when(is_scientific(typed)).then(pl.format(f"{label}被Excel改成科学计数法, 原始数字已丢失: '{{}}'", raw_clean)),
            pl.when(is_excel_truncated(typed)).then(
                pl.format(f"{label}超过15位且末尾全是0, 疑似被Excel当数字截断(请按文本重新导出): '{{}}'", raw_clean)
            ),
            pl.when(not_id).then(pl.format(f"{label}不是有效的编号{hint}: '{{}}'", raw_clean)),
        ] + reasons[1:]  # 'missing' stays; the generic 'unparseable' is said more precisely above
        typed = pl.when(is_scientific(typed) | is_excel_truncated(typed) | not_id).then(None).otherwise(typed)
    return typed.alias(col.name), pl.coalesce(reasons)


_PRE = "__parsed_"
_STD_FORMATS = {"datetime": "%Y-%m-%d %H:%M:%S", "date": "%Y-%m-%d"}


def preparse_times(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """Parse datetime/date text columns: the standard format for all rows in one fast pass,
    the slow normalising parser only on the rows that need it (title-style dates, 年月日,
    single digits...); unwrap id columns once. Adds ``__parsed_<col>`` columns that
    :func:`_cast_col` picks up."""
    adds = []
    for col in table.cols:
        if col.type == "id" and col.name in frame.columns:
            # unwrapped once: the id checks below read it many times
            adds.append(unwrap_id_series(frame.get_column(col.name)).alias(f"{_PRE}{col.name}"))
            continue
        if col.type not in _STD_FORMATS or col.name not in frame.columns or frame.schema[col.name] != pl.String:
            continue
        raw = frame[col.name].str.strip_chars()
        # no cache of parsed values: times are nearly all distinct (the cache costs ~40 %)
        fast = raw.str.strptime(pl.Datetime("us"), _STD_FORMATS[col.type], strict=False, cache=col.type == "date")
        need = (fast.is_null() & raw.is_not_null() & (raw != "")).arg_true()
        if len(need):
            slow = pl.DataFrame({"v": raw.gather(need)}).select(parse_datetime(pl.col("v"))).to_series()
            fast = fast.scatter(need, slow)
        adds.append((fast.dt.date() if col.type == "date" else fast).alias(f"{_PRE}{col.name}"))
    return frame.with_columns(adds) if adds else frame


def cast_and_validate(table: Table, frame: pl.DataFrame, clean: frozenset[str] = frozenset()) -> pl.DataFrame:
    """Cast every canonical column to its type; add ``_reason`` (null = good row).
    ``clean``: text columns the reader already cleaned (see :func:`_cast_col`).

    One ``select`` casts every column for every row. Every reason a row can get leaves a
    typed value null (a required column, or a present value that did not parse), comes
    from the reader's ``_reason`` or from a rule check on typed values; those cheap tests
    (null bitmaps, no strings) pick the few candidate rows, and reason texts are built
    for those rows only (:func:`_reasons`), the same texts as for the whole frame."""
    frame = preparse_times(table, frame)
    cast = [_cast_col(frame, col, clean) for col in table.cols]
    lineage = [
        (pl.col(c) if c in frame.columns else pl.lit(None)).cast(pl.Int64 if c == "source_row" else pl.String).alias(c)
        for c in LINEAGE
    ]
    out = frame.select([typed for typed, _ in cast] + lineage)
    checks, check_conds = _rule_checks(table)
    maybe = [pl.col(col.name).is_null() for col, (_, reason) in zip(table.cols, cast, strict=True) if reason is not None and col.required]
    candidate = out.select(pl.any_horizontal(maybe + check_conds) if maybe or check_conds else pl.lit(False)).to_series()
    for col, (_, reason) in zip(table.cols, cast, strict=True):
        if reason is not None and not col.required and col.name in frame.columns:
            candidate = candidate | (out[col.name].is_null() & frame[col.name].is_not_null())
    if REASON in frame.columns:
        candidate = candidate | frame[REASON].is_not_null()
    idx = candidate.fill_null(False).arg_true()
    reasons = pl.Series(REASON, [], dtype=pl.String).extend_constant(None, out.height)
    if len(idx):
        reasons = reasons.scatter(idx, _reasons(frame.gather(idx), out.gather(idx), cast, checks))
    return out.with_columns(reasons)


def _rule_checks(table: Table) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """(reason expressions, their conditions) of the rule checks on typed values."""
    checks, check_conds = [], []
    for col in table.cols:
        label = col.label or col.name
        c = pl.col(col.name)
        if col.choices:
            bad_choice = c.is_not_null() & ~c.cast(pl.String).is_in(list(col.choices))
            checks.append(pl.when(bad_choice).then(pl.format(f"{label}不是允许的值: '{{}}'", c.cast(pl.String))))
            check_conds.append(bad_choice)
        if col.min is not None:
            checks.append(pl.when(c < col.min).then(pl.format(f"{label}不能为负数/小于{col.min:g}: {{}}", c.cast(pl.String))))
            check_conds.append((c < col.min).fill_null(False))
    return checks, check_conds


def _reasons(frame: pl.DataFrame, out: pl.DataFrame, cast: list, checks: list[pl.Expr]) -> pl.Series:
    """The ``_reason`` of each row of ``frame`` (source rows) / ``out`` (their typed
    values): cast reasons, then rule checks, ``; ``-joined; null when there is none."""
    reason_exprs = [clean_text(pl.col(REASON))] if REASON in frame.columns else []
    reason_exprs += [reason for _, reason in cast if reason is not None]
    cast_reason = (pl.concat_str(reason_exprs, separator="; ", ignore_nulls=True) if reason_exprs
                   else pl.lit(None, pl.String))
    sub = out.with_columns(frame.select(cast_reason.alias("_cast_reason")).to_series())
    cast_reason = pl.when(pl.col("_cast_reason") == "").then(None).otherwise(pl.col("_cast_reason"))
    reason = pl.concat_str([cast_reason] + checks, separator="; ", ignore_nulls=True)
    return sub.select(pl.when(reason == "").then(None).otherwise(reason)).to_series()


def raw_json(frame: pl.DataFrame) -> pl.Series:
    """The source values of (bad) rows as JSON, kept in quarantine for the supervisor."""
    cols = [c for c in frame.columns if not c.startswith("_") and c not in ("source_file", "source_sheet", "source_row")]
    if not cols:
        return pl.Series("_raw", [None] * frame.height, dtype=pl.String)
    # a time a reader already typed is shown as the text it normalised it to
    shown = [pl.col(c).dt.to_string(_TEXT_FORMATS[frame.schema[c].__class__]).alias(c)
             if frame.schema[c].__class__ in _TEXT_FORMATS else pl.col(c) for c in cols]
    return frame.select(pl.struct(shown).struct.json_encode().alias("_raw")).to_series()


_TEXT_FORMATS = {pl.Datetime: "%Y-%m-%d %H:%M:%S", pl.Date: "%Y-%m-%d"}


def in_month(table: Table, month: str) -> pl.Expr:
    """Whether a staged row belongs to ``month`` (see Table.month_by)."""
    if "rating_month" in table.names:
        norm = (
            pl.col("rating_month")
            .str.replace_all("年|/|\\.", "-")
            .str.replace("月", "")
            .str.replace(r"^(\d{4})-(\d)$", "$1-0$2")
            .str.slice(0, 7)
        )
        return norm == month
    if not table.month_by:
        return pl.lit(True)
    start, end = month_bounds(month)
    conds = []
    for name in table.month_by:
        c = pl.col(name)
        if table.col(name).type == "date":
            conds.append(c.is_between(start.date(), (end.date()), closed="left"))
        else:
            conds.append(c.is_between(start, end, closed="left"))
    if table.open_carry:  # still open at the month's start (e.g. an SLA ticket from last month)
        first, closers = table.open_carry
        conds.append((pl.col(first) < start) & pl.all_horizontal([pl.col(c).is_null() for c in closers]))
    return pl.any_horizontal([c.fill_null(False) for c in conds])


QUARANTINE_SCHEMA = {
    "kind": pl.String,
    "source_file": pl.String,
    "source_sheet": pl.String,
    "source_row": pl.Int64,
    "reason": pl.String,
    "raw": pl.String,
}


def stage_batch(table: Table | str, frame: pl.DataFrame, month: str, source_file: str,
                clean: frozenset[str] = frozenset()) -> tuple[pl.DataFrame, pl.DataFrame, Counts]:
    """Stage one reader batch: returns (good rows of the month, quarantine rows, counts).
    ``clean``: the batch's :attr:`~pipelines.readers.base.Batch.clean` text columns.

    Duplicates are not removed here (they can span files): see :func:`dedupe`.
    ``counts.duplicates`` is 0 and ``loaded`` is provisional until dedupe.
    """
    table = TABLES[table] if isinstance(table, str) else table
    frame = frame.with_columns(pl.lit(source_file).alias("source_file"))
    typed = cast_and_validate(table, frame, clean)
    bad_mask = typed[REASON].is_not_null()
    bad = typed.filter(bad_mask).with_columns(raw_json(frame.filter(bad_mask)))
    # one filter (no copy at all when every row stays): good rows of the month
    keep = typed.select(in_month(table, month)).to_series().fill_null(False) & ~bad_mask
    loaded = (typed if keep.all() else typed.filter(keep)).drop(REASON).with_columns(pl.lit(month).alias("month"))
    quarantine = bad.select(
        pl.lit(table.name).alias("kind"),
        "source_file",
        "source_sheet",
        "source_row",
        pl.col(REASON).alias("reason"),
        pl.col("_raw").alias("raw"),
    ).with_columns(pl.lit(month).alias("month"))
    counts = Counts(rows_read=frame.height, loaded=loaded.height, quarantined=bad.height,
                    out_of_month=frame.height - bad.height - loaded.height)
    loaded, quarantine = mask_staged(table.name, loaded, quarantine)  # nothing unmasked is stored
    return loaded, quarantine, counts


def dedupe(table: Table | str, frames: list[pl.DataFrame]) -> tuple[pl.DataFrame, dict[str, int]]:
    """Concatenate staged frames of one kind (in file order) and drop duplicates by the
    table's natural key; the first occurrence wins. Returns (frame, duplicates per file).

    For tables with ``dedupe_with_occurrence`` (messages), the n-th repeat of a key
    *inside one file* is a distinct record: the key is extended with its occurrence
    number within the file, so overlapping exports still collapse."""
    table = TABLES[table] if isinstance(table, str) else table
    frames = [f for f in frames if f.height]
    if not frames:
        return empty_staged(table), {}
    df = pl.concat(frames, how="vertical_relaxed")
    key = list(table.natural_key)
    # Only rows whose key hash repeats can be duplicates (equal keys hash equally); the exact
    # key comparison below runs on those alone, usually a small share of the rows.
    maybe = df.select(pl.struct(key).hash().is_duplicated()).to_series()
    idx = maybe.arg_true()
    first = pl.Series([], dtype=pl.Boolean).extend_constant(True, df.height)
    if len(idx):
        cand = df.select([*key, "source_file"]).gather(idx)
        k = key
        if table.dedupe_with_occurrence:
            # rows are in file order, so int_range over a partition numbers repeats in order
            cand = cand.with_columns(pl.int_range(pl.len()).over(key + ["source_file"]).alias("_occ"))
            k = key + ["_occ"]
        first = first.scatter(idx, cand.select(pl.struct(k).is_first_distinct()).to_series())
    per_file = dict(df.filter(~first).group_by("source_file").len().iter_rows())
    out = df.filter(first)
    return out, per_file


# Tables where one key is one person's truth: two rows with the same key that disagree
# cannot be resolved by "first wins" (which one the supervisor meant is unknown).
MUST_AGREE = ("roster", "ratings")


def where(file: str | None, sheet: str | None, row: int | None) -> str:
    """'文件 主管填报表.xlsx 工作表 客服名单 第 3 行' (no sheet for CSV)."""
    return f"文件 {file}" + (f" 工作表 {sheet}" if sheet else "") + f" 第 {row} 行"


def conflicting_duplicates(table: Table | str, frames: list[pl.DataFrame]) -> list[str]:
    """One message per natural key of ``table`` whose staged rows (across ``frames``, in
    file order) disagree on any other column, naming the first row and the first row
    that differs. Identical repeats are not conflicts (they are duplicates)."""
    table = TABLES[table] if isinstance(table, str) else table
    frames = [f for f in frames if f.height]
    if not frames:
        return []
    df = pl.concat(frames, how="vertical_relaxed").with_row_index("_i")
    key = list(table.natural_key)
    values = [c for c in table.names if c not in key]
    df = df.with_columns(pl.struct(values).hash().alias("_h"))  # only compares rows of one key
    bad = df.group_by(key).agg(pl.col("_h").n_unique().alias("_n")).filter(pl.col("_n") > 1)
    if not bad.height:
        return []
    out = []
    for grp in df.join(bad.select(key), on=key, how="semi").sort("_i").partition_by(key, maintain_order=True):
        first = grp.row(0, named=True)
        other = grp.filter(pl.col("_h") != first["_h"]).row(0, named=True)
        diff = [c for c in values if first[c] != other[c]]
        labels = "、".join(table.col(c).label or c for c in diff)
        keytext = " ".join(str(first[k]) for k in key)
        out.append(
            f"{keytext}: {where(first['source_file'], first['source_sheet'], first['source_row'])} 与 "
            f"{where(other['source_file'], other['source_sheet'], other['source_row'])} 重复且不一致({labels})"
        )
    return out


def empty_staged(table: Table) -> pl.DataFrame:
    schema = {c.name: POLARS_TYPES[c.type] for c in table.cols}
    schema.update({"source_file": pl.String, "source_sheet": pl.String, "source_row": pl.Int64, "month": pl.String})
    return pl.DataFrame(schema=schema)


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema={**QUARANTINE_SCHEMA, "month": pl.String})
