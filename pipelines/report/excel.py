"""``write_payroll_xlsx(bundle, path)``: the supervisor's workbook (工资表, 考核明细, 扣分加分明细, 证据).

Every text cell is written with ``write_string`` and the text number format ``@`` (a chat line
starting with ``=``, ``+``, ``-`` or ``@`` stays text, never a formula); money is written as a
number with ``#,##0.00`` (from the exact 2-place Decimal — payroll.csv is the exact record);
header row frozen, auto-filter on, column widths from the content. Buyer data is masked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from .bundle import MonthBundle, first_col
from .fmt import (
    ADJUSTMENT_ITEM_LABELS,
    KIND_LABELS,
    MONEY_COLS,
    PAYROLL_HEADERS,
    POINT_COLS,
    STATUS_LABELS,
    as_bool,
    id_list,
    to_decimal,
)
from .mask import mask_frame
from .sections import item_label

EXCEL_MAX_ROWS = 1_048_575  # data rows below the header
EXCEL_MAX_CHARS = 32_767
MAX_WIDTH = 60

# (source column, Chinese header, kind); kind → how the cell is written (see _write_cell)
Spec = tuple[str, str, str]

PAYROLL_SPECS: list[Spec] = [
    (c, h, "money" if c in MONEY_COLS else "points" if c in POINT_COLS else
     "rate" if c == "refund_rate" else "bool" if c == "passed" else "status" if c == "status" else "text")
    for c, h in PAYROLL_HEADERS.items()
]
KPI_SPECS: list[Spec] = [
    ("month", "月份", "text"), ("agent_account", "客服账号", "text"), ("item", "考核项目", "item"),
    ("raw_value", "原始值", "auto"), ("grade", "采用等级", "text"), ("suggested_grade", "建议等级", "text"),
    ("override_grade", "主管等级", "text"), ("points", "得分", "points"), ("source", "来源", "text"),
    ("rule", "规则", "text"), ("evidence_ids", "证据编号", "list"),
]
ADJ_SPECS: list[Spec] = [
    ("month", "月份", "text"), ("agent_account", "客服账号", "text"), ("kind", "类型", "kind"),
    ("item", "项目", "adj_item"), ("points", "分值", "points"), ("record_id", "记录编号", "text"),
    ("detail", "说明", "text"),
]
EVIDENCE_SPECS: list[Spec] = [
    ("evidence_id", "证据编号", "text"), ("month", "月份", "text"), ("agent_account", "客服账号", "text"),
    ("kind", "类型", "kind"), ("buyer", "买家(脱敏)", "text"), ("at", "时间", "datetime"),
    ("excerpt", "消息摘录(脱敏)", "text"), ("detail", "说明", "text"),
    ("source_file", "来源文件", "text"), ("source_row", "来源行", "int"),
]


def _display_width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in s)


class _Sheet:
    """One worksheet: header, typed cells, tracked column widths."""

    def __init__(self, wb: xlsxwriter.Workbook, name: str, specs: list[Spec], fmts: dict[str, Any]):
        self.ws: Worksheet = wb.add_worksheet(name)
        self.specs = specs
        self.f = fmts
        self.widths = [_display_width(h) + 2 for _c, h, _k in specs]
        for j, (_c, h, _k) in enumerate(specs):
            self.ws.write_string(0, j, h, fmts["header"])
        self.ws.freeze_panes(1, 0)
        self.row = 1

    def _text(self, r: int, j: int, v: object, fmt_key: str = "text") -> None:
        if v is None or v == "":
            self.ws.write_blank(r, j, None, self.f[fmt_key])
            return
        s = str(v)[:EXCEL_MAX_CHARS]
        self.ws.write_string(r, j, s, self.f[fmt_key])
        self.widths[j] = max(self.widths[j], _display_width(s[:200]) + 2)

    def _number(self, r: int, j: int, v: float | None, fmt_key: str, shown: str) -> None:
        if v is None:
            self.ws.write_blank(r, j, None, self.f[fmt_key])
            return
        self.ws.write_number(r, j, v, self.f[fmt_key])
        self.widths[j] = max(self.widths[j], len(shown) + 3)

    def write_cell(self, r: int, j: int, kind: str, v: object, bold: bool = False) -> None:
        """Write one value according to its column kind."""
        sfx = "_bold" if bold else ""
        if kind in ("money", "points"):
            d = to_decimal(v)
            self._number(r, j, None if d is None else float(d), kind + sfx, "" if d is None else f"{d:,.2f}")
        elif kind == "rate":
            f = None if v is None else float(v)
            self._number(r, j, f, "rate", "100.00%")
        elif kind == "int":
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                self._number(r, j, float(v), "int", str(v))
            else:
                self._text(r, j, v)
        elif kind == "datetime":
            if isinstance(v, datetime):
                self.ws.write_datetime(r, j, v, self.f["datetime"])
                self.widths[j] = max(self.widths[j], 21)
            elif isinstance(v, date):
                self.ws.write_datetime(r, j, datetime(v.year, v.month, v.day), self.f["date"])
                self.widths[j] = max(self.widths[j], 12)
            else:
                self._text(r, j, v)
        elif kind == "auto":
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                self._number(r, j, float(v), "general", f"{v}")
            elif v is not None and to_decimal(v) is not None and not isinstance(v, str):
                self._number(r, j, float(to_decimal(v)), "general", str(v))
            else:
                self._text(r, j, v if not isinstance(v, (list, tuple)) else ", ".join(map(str, v)))
        elif kind == "bool":
            b = as_bool(v)
            self._text(r, j, None if b is None else ("是" if b else "否"), "text" + sfx)
        elif kind == "status":
            self._text(r, j, None if v is None else STATUS_LABELS.get(str(v), str(v)), "text" + sfx)
        elif kind == "kind":
            self._text(r, j, None if v is None else KIND_LABELS.get(str(v), str(v)))
        elif kind == "adj_item":
            self._text(r, j, None if v is None else ADJUSTMENT_ITEM_LABELS.get(str(v), str(v)))
        elif kind == "item":
            self._text(r, j, None if v is None else item_label(v))
        elif kind == "list":
            self._text(r, j, ", ".join(id_list(v)))
        else:
            self._text(r, j, v, "text" + sfx)

    def write_frame(self, df: pl.DataFrame | None, limit: int = EXCEL_MAX_ROWS) -> int:
        """Append ``df``'s rows (columns by spec; missing columns blank). Returns rows written."""
        if df is None or df.height == 0:
            return 0
        cols = [c for c, _h, _k in self.specs]
        present = [c for c in cols if c in df.columns]
        n = 0
        for rec in df.head(limit).select(present).iter_rows(named=True):
            for j, (c, _h, kind) in enumerate(self.specs):
                self.write_cell(self.row, j, kind, rec.get(c))
            self.row += 1
            n += 1
        return n

    def finish(self, data_rows: int) -> None:
        """Auto-filter over the data and column widths."""
        last_col = len(self.specs) - 1
        self.ws.autofilter(0, 0, max(data_rows, 1), last_col)
        for j, w in enumerate(self.widths):
            self.ws.set_column(j, j, min(w, MAX_WIDTH))


def _formats(wb: xlsxwriter.Workbook) -> dict[str, Any]:
    base = {"font_name": "Microsoft YaHei", "font_size": 10, "valign": "top"}

    def f(**kw: Any) -> Any:
        return wb.add_format({**base, **kw})

    return {
        "header": f(bold=True, bg_color="#DCE6F1", border=1, text_wrap=True, valign="vcenter"),
        "text": f(num_format="@"),
        "text_bold": f(num_format="@", bold=True, top=1),
        "money": f(num_format="#,##0.00"),
        "money_bold": f(num_format="#,##0.00", bold=True, top=1),
        "points": f(num_format="General"),
        "points_bold": f(num_format="General", bold=True, top=1),
        "general": f(num_format="General"),
        "rate": f(num_format="0.00%"),
        "int": f(num_format="0"),
        "datetime": f(num_format="yyyy-mm-dd hh:mm:ss"),
        "date": f(num_format="yyyy-mm-dd"),
    }


def _total_row(sheet: _Sheet, payroll: pl.DataFrame) -> None:
    """合计 under the payroll: sums of base, KPI bonus and salary (exact Decimal sums)."""
    r = sheet.row
    sheet.write_cell(r, 0, "text", "合计", bold=True)
    for j, (c, _h, kind) in enumerate(sheet.specs):
        if kind == "money" and c in payroll.columns:
            vals = [to_decimal(v) for v in payroll[c].to_list()]
            total = sum((v for v in vals if v is not None), start=to_decimal(0))
            sheet.write_cell(r, j, "money", total, bold=True)
    sheet.row += 1


def write_payroll_xlsx(bundle: MonthBundle, path: str | Path) -> Path:
    """Write ``payroll.xlsx`` for the bundle's month; returns the path.

    Sheets: 工资表 (payroll, Chinese headers — mapping in ``fmt.PAYROLL_HEADERS`` and
    docs/reports.md — plus a 合计 row), 考核明细 (kpi_items), 扣分加分明细 (kpi_adjustments,
    detail masked), 证据 (evidence, buyer/excerpt/detail masked). Missing frames → header only.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(
        str(p),
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False},
    )
    fmts = _formats(wb)

    def sheet(name: str, specs: list[Spec], df: pl.DataFrame | None,
              prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> _Sheet:
        sh = _Sheet(wb, name, specs, fmts)
        if df is not None and prepare is not None:
            df = prepare(df)
        n = sh.write_frame(df)
        if name == "工资表" and df is not None and df.height:
            _total_row(sh, df)
        sh.finish(n)
        return sh

    def by_agent(df: pl.DataFrame) -> pl.DataFrame:
        col = first_col(df, "agent", "agent_account")
        return df.sort(col, nulls_last=True) if col else df

    def adj(df: pl.DataFrame) -> pl.DataFrame:
        return by_agent(mask_frame(df, text_cols=("detail",), nick_cols=("buyer",)))

    def ev(df: pl.DataFrame) -> pl.DataFrame:
        keys = [c for c in ("agent_account", "kind", "at") if c in df.columns]
        return mask_frame(df.sort(keys, nulls_last=True) if keys else df)

    sheet("工资表", PAYROLL_SPECS, bundle.payroll, by_agent)
    sheet("考核明细", KPI_SPECS, bundle.kpi_items, by_agent)
    sheet("扣分加分明细", ADJ_SPECS, bundle.kpi_adjustments, adj)
    sheet("证据", EVIDENCE_SPECS, bundle.evidence, ev)
    wb.close()
    return p
