"""Workbook layouts of the SLA inputs: Chinese header → canonical column, per table.

Headers are the ``Col.label`` s of :mod:`contracts.sla` (what the shipped
templates write) plus a few common aliases. A sheet is recognised by its headers, never
by its name, and may sit below title rows. Shared by the three SLA readers.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from pipelines.io.headers import apply_header, find_header_row, header_rows, norm_header
from pipelines.io.encoding import UndecodableFile
from pipelines.io.source import SourceFile, UnreadableFile
from pipelines.readers.base import Batch
from contracts.sla import SLA_TABLES

ALIASES: dict[str, dict[str, str]] = {
    "sla_tickets": {
        "接报时间": "received_at", "报修日期": "received_at", "服务半径": "distance_km", "距离(km)": "distance_km",
        "服务半径(公里)": "distance_km", "需要配套厂家": "needs_supplier", "答复时间": "first_reply_at",
        "到达时间": "arrived_at", "完成时间": "completed_at", "签字时间": "signed_at", "满意度": "satisfaction",
        "抱怨(服务责任)": "complaint", "状态": "status", "是否三包": "warranty",
    },
    "sla_calls": {"时间": "received_at", "复电复函时间": "replied_at", "存档": "archived"},
    "sla_part_requisitions": {"审批": "approval", "批准": "approver"},
}

# Headers that must all be present for a sheet to be taken as that table.
KEY_HEADERS: dict[str, tuple[str, ...]] = {
    "sla_tickets": ("工单编号", "报修时间", "故障类别"),
    "sla_staff": ("服务人员", "服务组"),  # after sla_tickets in the reader's kinds
    "sla_calls": ("记录编号", "来电来函时间"),
    "sla_part_receipts": ("接收单号", "接收日期"),
    "sla_part_requisitions": ("领料单号", "申请日期"),
    "sla_part_returns": ("返还单号", "返还日期"),
    "sla_station_stock": ("服务站", "盘点日期", "实盘数量"),  # before sla_stocktakes in the reader's kinds
    "sla_stocktakes": ("盘点日期", "实盘数量"),
    "sla_claims": ("索赔单号", "提交日期"),
}


_NUM = r"\d+(?:\.\d+)?"


def distance_text(e: pl.Expr) -> pl.Expr:
    """服务半径 as people write it → plain km text the stager parses as a number.

    Full-width digits (１００), units (km / KM / 公里 / 千米; 米 / m are metres, ÷1000),
    approximations (约80km, 80公里左右, ~80) and thousands commas are accepted. A range
    (80-100公里) is its upper bound: the farther end decides which 3.2.2 deadline applies.
    Text without a number (很远, 市区) is left as is, so staging quarantines it; so is a
    negative number (the 服务半径 ≥ 0 check names it)."""
    t = e.str.normalize("NFKC").str.strip_chars().str.to_lowercase()
    t = t.str.replace_all(r"(\d),(\d{3})", "$1$2").str.replace_all(r"\s+", "")
    nums = t.str.extract_all(_NUM).list.eval(pl.element().cast(pl.Float64))
    upper = nums.list.max()
    metres = t.str.contains(r"(?:^|[^千k])(?:米|m)(?:$|[^a-z])") & ~t.str.contains(r"km|公里|千米")
    km = pl.when(metres).then(upper / 1000).otherwise(upper)
    usable = upper.is_not_null() & ~t.str.contains(r"^-\d")
    return pl.when(usable).then(km.cast(pl.String)).otherwise(e)


@cache
def header_map(kind: str) -> dict[str, str]:
    """Normalised header text → canonical column name for ``kind``."""
    m = {norm_header(c.label): c.name for c in SLA_TABLES[kind].cols}
    m.update({norm_header(k): v for k, v in ALIASES.get(kind, {}).items()})
    return m


def _match(grid: pl.DataFrame, kind: str, rows: list[set[str]] | None = None) -> tuple[int, float] | None:
    """(header row index, share of the table's headers found) or None. ``rows``: the
    grid's :func:`header_rows`, when already computed."""
    hm = header_map(kind)
    rows = header_rows(grid) if rows is None else rows
    idx = find_header_row(grid, set(hm), min_hits=len(KEY_HEADERS[kind]), rows=rows)
    if idx is None:
        return None
    found = rows[idx]
    if not all(norm_header(h) in found for h in KEY_HEADERS[kind]):
        return None
    cols = {hm[h] for h in found if h in hm}
    return idx, len(cols) / len(SLA_TABLES[kind].cols)


def sniff_kinds(src: SourceFile, kinds: tuple[str, ...]) -> float:
    """0 when no sheet is one of ``kinds``; else 0.6..1.0 growing with headers found."""
    try:
        sheets = src.head_sheets()
    except (UnreadableFile, UndecodableFile, OSError):  # not a readable table: not this layout
        return 0.0
    best = 0.0
    for name, grid in sheets.items():
        rows = src.memo(("header_rows", name), lambda g=grid: header_rows(g))
        for kind in kinds:
            m = _match(grid, kind, rows)
            if m:
                best = max(best, 0.6 + 0.4 * m[1])
    return best


def read_kinds(src: SourceFile, kinds: tuple[str, ...]) -> list[Batch]:
    """One batch per recognised sheet: canonical columns as strings, source_row, source_sheet."""
    batches = []
    for sheet, grid in src.sheets().items():
        for kind in kinds:
            m = _match(grid, kind)
            if not m:
                continue
            idx, _ = m
            headed = apply_header(grid, idx)
            hm = header_map(kind)
            rename, unknown = {}, []
            for c in headed.columns:
                if c == "_row":
                    continue
                if c in hm and hm[c] not in rename.values():
                    rename[c] = hm[c]
                elif not c.startswith("_col"):
                    unknown.append(c)
            frame = headed.select(
                [pl.col(src_c).alias(dst) for src_c, dst in rename.items()]
                + [pl.col("_row").alias("source_row"), pl.lit(sheet or None, dtype=pl.String).alias("source_sheet")]
            )
            if "distance_km" in frame.columns:
                frame = frame.with_columns(distance_text(pl.col("distance_km").cast(pl.String)).alias("distance_km"))
            notes = [f"忽略未知列: {', '.join(unknown)}"] if unknown else []
            batches.append(Batch(kind, frame, notes))
            break  # a sheet is one table
    return batches
