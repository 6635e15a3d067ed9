"""钉钉考勤 monthly summary (月度汇总) → ``attendance`` (one row per person and day) and
``attendance_summary`` (per-person totals as DingTalk counted them).

Shapes accepted (see docs/readers_tables.md):
* one or more title rows above the header ("月度汇总 统计日期：2026-10-01 至 2026-10-31");
* a one-row header, or a two-row header where day columns sit under a merged 考勤结果 cell
  and leave types under a merged 请假 cell (the merged cell's text is in its first column);
* day headers ``1``…``31``, ``1号``/``1日``, ``01 一`` / ``1\\n星期一`` (day + weekday),
  ``10-01``/``10月1日`` or full dates;
* the year-month comes from the title rows (a date range or a month) or from a
  日期/统计日期/考勤月份 column; a range crossing months (2026-09-26 至 2026-10-25) maps
  each day number to the date inside the range.
Empty day cells are not records (no row); 合计/平均 rows are skipped and noted.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

import polars as pl

from pipelines.io.headers import norm_header
from pipelines.io.source import SourceFile

from ._table_common import (
    _trim_decimal,
    base_key,
    blank_to_null,
    concat,
    count,
    find_header,
    is_summary,
    resemblance,
    signature_score,
    unit_of,
)
from .base import Batch, MissingColumns, Reader

SIGNATURE = (
    "应出勤天数", "出勤天数", "休息天数", "迟到次数", "迟到时长", "严重迟到次数", "旷工迟到次数", "旷工迟到天数",
    "早退次数", "上班缺卡次数", "下班缺卡次数", "旷工天数", "考勤组", "考勤结果",
)
HEADER_EXPECTED = SIGNATURE + ("姓名", "部门", "工号", "职位", "UserId", "工作时长", "严重迟到时长", "早退时长", "请假", "出差时长", "外出时长")

SUMMARY_ALIASES: dict[str, tuple[str, ...]] = {
    "department": ("部门",),
    "required_days": ("应出勤天数",),
    "attended_days": ("出勤天数",),
    "rest_days": ("休息天数",),
    "late_count": ("迟到次数",),
    "late_minutes": ("迟到时长",),
    "severe_late_count": ("严重迟到次数",),
    "absent_late_count": ("旷工迟到次数", "旷工迟到天数"),
    "early_count": ("早退次数",),
    "missing_in_count": ("上班缺卡次数",),
    "missing_out_count": ("下班缺卡次数",),
    "absent_days": ("旷工天数",),
}
LEAVE_TYPES = {"事假", "病假", "调休", "年假", "婚假", "产假", "陪产假", "丧假", "哺乳假", "育儿假", "探亲假", "产检假", "护理假", "工伤假"}
LEAVE_TOTALS = {"请假天数", "请假"}
NAME_ALIASES = {"dingtalk_name": ("姓名",)}  # the one required column: whose day it is
PERIOD_COLUMNS = ("日期", "统计日期", "考勤日期", "考勤月份", "统计月份", "月份")
HOURS_PER_DAY = 8  # leave given in hours is converted with an 8-hour working day

_WEEKDAY = r"(?:星期|周)?[一二三四五六日天]?"
_DAY = re.compile(rf"^(\d{{1,2}})(?:号|日)?{_WEEKDAY}$")
_MONTH_DAY = re.compile(rf"^(?:(\d{{4}})[-/.年])?(\d{{1,2}})[-/.月](\d{{1,2}})日?{_WEEKDAY}(?:\d{{1,2}}:\d{{2}}(?::\d{{2}})?)?$")
_D = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_RANGE = re.compile(_D + r"(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?\s*(?:至|到|~|～|—|－|-)\s*(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})")
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})(?!\d)")
_PERIOD_HINTS = ("统计日期", "考勤日期", "统计时间", "日期范围", "统计周期", "考勤周期", "统计区间")
_NOT_PERIOD = ("生成", "导出", "打印", "下载")

NO_PERIOD = "无法确定考勤年月：标题行中没有统计日期，也没有日期列"


def parse_day_header(h: str | None) -> tuple[int | None, int, int | None] | None:
    """(year or None, month or None, day) for a day-column header, None otherwise."""
    t = norm_header(h)
    m = _DAY.match(t)
    if m:
        d = int(m.group(1))
        return (None, None, d) if 1 <= d <= 31 else None
    m = _MONTH_DAY.match(t)
    if m:
        y = int(m.group(1)) if m.group(1) else None
        mo, d = int(m.group(2)), int(m.group(3))
        return (y, mo, d) if 1 <= mo <= 12 and 1 <= d <= 31 else None
    return None


def parse_period(text: str | None) -> tuple[date, date] | None:
    """(first, last) day of the period written in ``text``: a date range, else a month."""
    if not text:
        return None
    m = _RANGE.search(text)
    if m:
        try:
            start = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            end_year = int(m.group(4)) if m.group(4) else start.year
            end = date(end_year, int(m.group(5)), int(m.group(6)))
            if end < start and not m.group(4):
                end = date(end_year + 1, end.month, end.day)
            if start <= end <= start + timedelta(days=62):
                return start, end
        except ValueError:
            pass
    m = _MONTH.search(text)
    if m:
        y, mo = int(m.group(1)), int(m.group(2))
        if 1 <= mo <= 12:
            return date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1])
    return None


def period_from_titles(titles: list[str]) -> tuple[date, date] | None:
    """The statistics period from the title rows: hinted rows (统计日期...) first, then
    any row that is not an export/generation timestamp."""
    hinted = [t for t in titles if any(k in t for k in _PERIOD_HINTS)]
    others = [t for t in titles if t not in hinted and not any(k in t for k in _NOT_PERIOD)]
    for t in hinted + others:
        p = parse_period(t)
        if p:
            return p
    return None


def day_in_period(spec: tuple[int | None, int | None, int], period: tuple[date, date] | None) -> tuple[str | None, str | None]:
    """(YYYY-MM-DD, None) or (None, reason) for a day header inside ``period``."""
    y, mo, d = spec
    if y is not None and mo is not None:
        try:
            return date(y, mo, d).isoformat(), None
        except ValueError:
            return None, f"日期无效：{y}年{mo}月没有{d}日"
    if period is None:
        return None, NO_PERIOD
    start, end = period
    n = (end - start).days + 1
    hits = [start + timedelta(days=i) for i in range(n)]
    hits = [x for x in hits if x.day == d and (mo is None or x.month == mo)]
    if len(hits) == 1:
        return hits[0].isoformat(), None
    if mo is not None:  # month-day header outside the period: trust the header
        try:
            return date(start.year, mo, d).isoformat(), None
        except ValueError:
            return None, f"日期无效：{mo}月没有{d}日"
    return None, f"日期无效：统计期间 {start}至{end} 内没有{d}日"


class DingtalkAttendanceReader(Reader):
    layout = "dingtalk_attendance"
    kinds = ("attendance", "attendance_summary")
    description = "钉钉考勤月度汇总（每日考勤结果 + 每人合计）"

    def sniff(self, src: SourceFile) -> float:
        return signature_score(src, SIGNATURE, 3, require=("姓名",), key=base_key)

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        return resemblance(src, SIGNATURE, NAME_ALIASES, ("dingtalk_name",), key=base_key)

    def read(self, src: SourceFile) -> list[Batch]:
        att, summ, notes = [], [], []
        for sheet, grid in src.sheets().items():
            got = _read_sheet(sheet or None, grid, notes, self.description)
            if got is not None:
                att.append(got[0])
                summ.append(got[1])
        out = []
        a, s = concat(att), concat(summ)
        if a is not None:
            out.append(Batch("attendance", a, notes))
        if s is not None:
            out.append(Batch("attendance_summary", s, list(notes)))
        return out


def _cell(v: str | None) -> str:
    return "" if v is None else str(v).strip()


def _read_sheet(sheet: str | None, grid: pl.DataFrame, notes: list[str], description: str = "") -> tuple[pl.DataFrame, pl.DataFrame] | None:
    h = find_header(grid, {base_key(x) for x in HEADER_EXPECTED}, 3, key=base_key)
    if h is None:
        return None
    cols = [c for c in grid.columns if c != "_row"]
    top = [_cell(v) for v in grid.select(cols).row(h)]
    keys = [base_key(v) for v in top]
    if "姓名" not in keys:
        if len(set(keys) & {base_key(x) for x in SIGNATURE}) >= 3:
            raise MissingColumns(description, ["姓名"], sheet)
        return None
    name_j = keys.index("姓名")
    sub = [_cell(v) for v in grid.select(cols).row(h + 1)] if h + 1 < grid.height else [""] * len(cols)
    two_row = (sub[name_j] in ("", top[name_j])) and sum(bool(v) for v in sub) >= 2

    # Composite header per column; group = the merged top cell a sub-header sits under
    headers, groups, group = [], [], ""
    for j in range(len(cols)):
        if top[j]:
            group = top[j]
        use_sub = two_row and sub[j] and sub[j] != top[j]
        headers.append(sub[j] if use_sub else top[j])
        groups.append(base_key(group) if use_sub else "")

    day_cols: dict[str, tuple] = {}
    leave_cols: list[tuple[str, str]] = []  # (grid column, unit)
    total_leave: str | None = None
    for j, (hd, grp) in enumerate(zip(headers, groups, strict=False)):
        spec = parse_day_header(hd)
        if spec is not None:
            day_cols[cols[j]] = spec
            continue
        k = base_key(hd)
        if k in LEAVE_TOTALS and total_leave is None:
            total_leave = cols[j]
        elif k in LEAVE_TYPES or (grp == "请假" and k.endswith("假")):
            leave_cols.append((cols[j], unit_of(hd)))

    body = grid.slice(h + (2 if two_row else 1))
    body = body.filter(~pl.all_horizontal([pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in cols]))
    name_col = cols[name_j]
    summary = is_summary(pl.col(name_col))
    n_sum = body.select(summary.sum()).item()
    if n_sum:
        notes.append(f"跳过合计/平均行 {n_sum} 行" + (f"（工作表 {sheet}）" if sheet else ""))
    body = body.filter(~summary)

    # Period: per-row 日期 column if present, else the title rows
    titles = [" ".join(_cell(v) for v in row if v is not None) for row in grid.select(cols).head(h).iter_rows()]
    title_period = period_from_titles(titles)
    period_j = next((j for j, k in enumerate(keys) if k in PERIOD_COLUMNS), None)
    pk = pl.col(cols[period_j]).fill_null("") if period_j is not None else pl.lit("")
    body = body.with_columns(pk.alias("_period"))

    name = blank_to_null(pl.col(name_col)).str.strip_chars().alias("dingtalk_name")
    lineage = [pl.col("_row").cast(pl.Int64).alias("source_row"), pl.lit(sheet, dtype=pl.String).alias("source_sheet")]

    # ---- attendance: unpivot the day columns and map (period, column) -> date
    periods = body.get_column("_period").unique().to_list()
    order = {c: i for i, c in enumerate(day_cols)}
    mapping_rows = []
    for p in periods:
        per = parse_period(p) or title_period
        for c, spec in day_cols.items():
            d, why = day_in_period(spec, per)
            mapping_rows.append((p, c, d, why, order[c]))
    mapping = pl.DataFrame(mapping_rows, schema={"_period": pl.String, "_col": pl.String, "day": pl.String, "_reason": pl.String, "_ord": pl.Int64}, orient="row")
    if day_cols:
        long = (
            body.select(["_row", "_period", name] + list(day_cols))
            .unpivot(index=["_row", "_period", "dingtalk_name"], on=list(day_cols), variable_name="_col", value_name="status")
            .with_columns(blank_to_null(pl.col("status")).str.strip_chars().alias("status"))
            .filter(pl.col("status").is_not_null())
            .join(mapping, on=["_period", "_col"], how="left")
            .sort(["_row", "_ord"])
        )
        attendance = long.select(["dingtalk_name", "day", "status"] + lineage + ["_reason"])
    else:
        attendance = pl.DataFrame(schema={"dingtalk_name": pl.String, "day": pl.String, "status": pl.String, "source_row": pl.Int64, "source_sheet": pl.String, "_reason": pl.String})

    # ---- attendance_summary: one row per person
    hdr = {headers[j]: cols[j] for j in range(len(cols)) if headers[j] and cols[j] not in day_cols}
    exprs: list[pl.Expr] = [name]
    for canon, aliases in SUMMARY_ALIASES.items():
        hit = next(((h_, c) for a in aliases for h_, c in hdr.items() if base_key(h_) == a), None)
        if hit is None:
            continue
        h_, c = hit
        if canon == "department":
            exprs.append(blank_to_null(pl.col(c)).alias(canon))
        elif canon == "late_minutes" and unit_of(h_) in ("小时", "h"):
            exprs.append(_scaled(pl.col(c), 60).alias(canon))
        else:
            exprs.append(count(pl.col(c)).alias(canon))
    if total_leave is not None:
        exprs.append(count(pl.col(total_leave)).alias("leave_days"))
    elif leave_cols:
        exprs.append(_leave_days(leave_cols).alias("leave_days"))
    summary_frame = body.select(exprs + lineage)
    return attendance, summary_frame


def _scaled(e: pl.Expr, factor: float) -> pl.Expr:
    s = count(e)
    v = s.cast(pl.Float64, strict=False)
    return pl.when(v.is_null()).then(s).otherwise(_trim_decimal((v * factor).round(4)))


def _leave_days(leave_cols: list[tuple[str, str]]) -> pl.Expr:
    """Sum of the per-leave-type columns in days (hours / 8); null when all are empty."""
    parts = []
    for c, unit in leave_cols:
        v = count(pl.col(c)).cast(pl.Float64, strict=False)
        if unit in ("小时", "h", "时"):
            v = v / HOURS_PER_DAY
        parts.append(v)
    any_value = pl.any_horizontal([p.is_not_null() for p in parts])
    total = pl.sum_horizontal(parts)
    return pl.when(any_value).then(_trim_decimal(total.round(4))).otherwise(None)


__all__ = ["DingtalkAttendanceReader", "parse_day_header", "parse_period"]
