"""主管填报表 (docs/supervisor_workbook.md): sheets 客服名单 / 主管评分 / 投诉维权 / 评价 →
``roster`` / ``ratings`` / ``complaints`` / ``reviews``.

Each sheet is recognised by its headers, never by its name, so a workbook with renamed
sheets, or one sheet saved alone as CSV/XLSX, is read the same. Sheets that match none
(说明, notes) are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from pipelines.io.encoding import UndecodableFile
from pipelines.io.headers import apply_header
from pipelines.io.source import SourceFile, UnreadableFile

from ._table_common import (
    blank_to_null,
    check_required,
    concat,
    count,
    find_header,
    finish,
    head_header_sets,
    header_key,
    missing_headers,
    resolve,
    yes_no,
)
from .base import Batch, Reader


@dataclass(frozen=True)
class SheetKind:
    kind: str  # canonical table
    title: str  # sheet name in the template
    aliases: dict[str, tuple[str, ...]]  # canonical column -> accepted headers
    distinctive: tuple[str, ...]  # headers that tell this sheet from the others
    required: tuple[str, ...] = ()  # canonical columns the sheet must have (else an error)
    bools: tuple[str, ...] = ()
    ints: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()


ROSTER = SheetKind(
    "roster",
    "客服名单",
    {
        "agent_account": ("客服账号", "子账号", "旺旺账号"),
        "name": ("姓名", "客服姓名"),
        "role": ("岗位", "职位", "角色"),
        "dingtalk_name": ("钉钉姓名", "钉钉名"),
        "joined_on": ("入职日期", "入职时间"),
        "left_on": ("离职日期", "离职时间"),
    },
    ("姓名", "岗位", "钉钉姓名", "入职日期", "离职日期", "客服姓名", "职位"),
    required=("agent_account", "name", "role"),
    dates=("joined_on", "left_on"),
)
RATINGS = SheetKind(
    "ratings",
    "主管评分",
    {
        "rating_month": ("月份", "评分月份", "考核月份"),
        "agent_account": ("客服账号", "子账号", "旺旺账号"),
        "cooperation": ("配合度",),
        "execution": ("执行力",),
        "quality_override": ("客服素质(覆盖)", "客服素质"),
        "complaint_override": ("投诉处理(覆盖)", "投诉处理"),
        "outstanding_bonus": ("表现突出加分", "突出表现加分"),
        "note": ("备注",),
    },
    ("月份", "配合度", "执行力", "客服素质(覆盖)", "投诉处理(覆盖)", "表现突出加分", "评分月份", "考核月份"),
    required=("rating_month", "agent_account", "cooperation", "execution"),
    ints=("outstanding_bonus",),
)
COMPLAINTS = SheetKind(
    "complaints",
    "投诉维权",
    {
        "complaint_id": ("编号", "投诉编号"),
        "kind": ("类型",),
        "agent_account": ("客服账号", "子账号", "旺旺账号"),
        "buyer": ("买家", "买家会员名"),
        "order_id": ("订单编号", "订单号"),
        "received_at": ("发生时间",),
        "handled_at": ("处理完成时间", "完成时间"),
        "platform_intervened": ("平台介入", "小二介入"),
        "outcome": ("处理结果",),
        "verified": ("查实", "是否查实"),
        "deduction": ("扣分",),
        "note": ("备注",),
    },
    ("发生时间", "处理完成时间", "平台介入", "小二介入", "处理结果", "查实", "是否查实", "扣分", "投诉编号"),
    required=("complaint_id", "kind", "agent_account", "received_at", "verified", "deduction"),
    bools=("platform_intervened", "verified"),
    ints=("deduction",),
)
REVIEWS = SheetKind(
    "reviews",
    "评价",
    {
        "review_id": ("编号", "评价编号"),
        "kind": ("类型",),
        "agent_account": ("客服账号", "子账号", "旺旺账号"),
        "buyer": ("买家", "买家会员名"),
        "order_id": ("订单编号", "订单号"),
        "reviewed_at": ("评价时间",),
        "after_sales": ("售后原因",),
        "confirmed": ("主管确认",),
        "content": ("评价内容",),
    },
    ("评价时间", "售后原因", "主管确认", "评价内容", "评价编号"),
    required=("review_id", "kind", "agent_account", "reviewed_at", "after_sales"),
    bools=("after_sales", "confirmed"),
)
SHEET_KINDS = (ROSTER, RATINGS, COMPLAINTS, REVIEWS)
MIN_DISTINCTIVE = 2

_MONTH_RE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})"


def classify(cells: set[str]) -> SheetKind | None:
    """The sheet kind whose distinctive headers a header row holds most of (>= 2)."""
    best, best_hits = None, 0
    for sk in SHEET_KINDS:
        hits = len(cells & {header_key(h) for h in sk.distinctive})
        if hits > best_hits:
            best, best_hits = sk, hits
    return best if best_hits >= MIN_DISTINCTIVE else None


def rating_month(e: pl.Expr) -> pl.Expr:
    """'2026-10' / '2026/10' / '2026年10月' / an Excel date cell -> '2026-10'."""
    s = blank_to_null(e).str.strip_chars()
    parts = s.str.extract_groups(_MONTH_RE)
    y, m = parts.struct[0], parts.struct[1].cast(pl.Int32, strict=False)
    ok = y.is_not_null() & m.is_between(1, 12)
    return pl.when(ok).then(pl.concat_str([y, pl.lit("-"), m.cast(pl.String).str.zfill(2)])).otherwise(s)


def _date_only(e: pl.Expr) -> pl.Expr:
    # Excel date cells arrive as '2026-10-01 00:00:00'
    return blank_to_null(e).str.strip_chars().str.replace(r"\s+00:00:00$", "")


class SupervisorWorkbookReader(Reader):
    layout = "supervisor_workbook"
    kinds = ("roster", "ratings", "complaints", "reviews")
    description = "主管填报表（客服名单/主管评分/投诉维权/评价，按表头识别）"

    def sniff(self, src: SourceFile) -> float:
        try:
            sheets = head_header_sets(src)
        except (UnreadableFile, UndecodableFile):
            return 0.0
        best = 0.0
        for rows in sheets:
            for cells in rows:
                sk = classify(cells)
                if sk is None or not cells & {header_key(a) for a in sk.aliases[_id_col(sk)]}:
                    continue
                share = len(cells & {header_key(a) for al in sk.aliases.values() for a in al}) / len(sk.aliases)
                best = max(best, 0.5 + 0.5 * min(share, 1.0))
        return best

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        """A sheet whose headers say which sheet it is (>= 2 distinctive headers) and
        that has at least half of that sheet's columns, but lacks a required one."""
        best: tuple[float, list[str]] = (0.0, [])
        for rows in head_header_sets(src):
            for cells in rows:
                sk = classify(cells)
                if sk is None:
                    continue
                share = len(resolve(list(cells), sk.aliases)) / len(sk.aliases)
                if share > best[0]:
                    best = (share, missing_headers(cells, sk.aliases, sk.required))
        return best

    def read(self, src: SourceFile) -> list[Batch]:
        frames: dict[str, list[pl.DataFrame]] = {}
        for sheet, grid in src.sheets().items():
            found = _classify_grid(grid)
            if found is None:
                continue
            sk, idx = found
            frame = apply_header(grid, idx)
            frame = frame.rename({c: header_key(c) for c in frame.columns if c != "_row" and header_key(c) not in frame.columns})
            check_required(f"{self.description}: {sk.title}", frame.columns, sk.aliases, sk.required, sheet)
            frames.setdefault(sk.kind, []).append(finish(frame, _exprs(sk, frame), sheet or None, _reason(sk, frame)))
        out = []
        for sk in SHEET_KINDS:
            f = concat(frames.get(sk.kind, []))
            if f is not None:
                out.append(Batch(sk.kind, f))
        return out


def _id_col(sk: SheetKind) -> str:
    return {"roster": "agent_account", "ratings": "agent_account", "complaints": "complaint_id", "reviews": "review_id"}[sk.kind]


def _classify_grid(grid: pl.DataFrame) -> tuple[SheetKind, int] | None:
    all_headers = {header_key(h) for sk in SHEET_KINDS for al in sk.aliases.values() for h in al}
    idx = find_header(grid, all_headers, 2)
    if idx is None:
        return None
    cells = {header_key(v) for v in grid.drop("_row").row(idx) if v is not None}
    sk = classify(cells)
    return (sk, idx) if sk is not None else None


def _exprs(sk: SheetKind, frame: pl.DataFrame) -> dict[str, pl.Expr]:
    exprs: dict[str, pl.Expr] = {}
    cols = resolve(frame.columns, sk.aliases)
    for canon, col in cols.items():
        e = pl.col(col)
        if canon in sk.bools:
            exprs[canon] = yes_no(e)
        elif canon in sk.ints:
            exprs[canon] = count(e)
        elif canon in sk.dates:
            exprs[canon] = _date_only(e)
        elif canon == "rating_month":
            exprs[canon] = rating_month(e)
        else:
            exprs[canon] = blank_to_null(e)
    if sk is ROSTER and "name" in cols:
        # 钉钉姓名 left blank means the DingTalk name is the 姓名
        dn = exprs.get("dingtalk_name", pl.lit(None, dtype=pl.String))
        exprs["dingtalk_name"] = pl.coalesce([dn, blank_to_null(pl.col(cols["name"]))])
    return exprs


def _reason(sk: SheetKind, frame: pl.DataFrame) -> pl.Expr | None:
    if sk is not RATINGS:
        return None
    col = resolve(frame.columns, {"m": sk.aliases["rating_month"]}).get("m")
    if col is None:
        return None
    m = rating_month(pl.col(col))
    bad = m.is_not_null() & ~m.str.contains(r"^\d{4}-\d{2}$")
    return pl.when(bad).then(pl.lit("月份格式无法识别（应为 YYYY-MM，如 2026-10）")).otherwise(None)
