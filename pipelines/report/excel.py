"""``write_payroll_xlsx(bundle, path)``: the supervisor's workbook (工资表, 考核明细, 扣分加分明细, 证据).

Every text cell is written with ``write_string`` and the text number format ``@``, and text
starting with ``=``, ``+``, ``-``, ``@`` (or tab/CR) gets a leading ``'`` exactly as in
payroll.csv, so it is never a formula and never displays as one; money is written as a number
with ``#,##0.00`` (from the exact 2-place Decimal — payroll.csv is the exact record); header
row frozen, auto-filter on, column widths from the content. Buyer data is masked.
The 证据 sheet holds at most ``EVIDENCE_PER_AGENT_KIND`` rows per agent and kind plus a
"另有 N 条" row; the full evidence is in evidence.csv / evidence.parquet (``exports``).
The file is byte-identical for the same bundle: document dates come from the month.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from .bundle import MonthBundle, columns_of, first_col, rank_in_runs
from .fmt import (
    ADJUSTMENT_ITEM_LABELS,
    KIND_LABELS,
    MONEY_COLS,
    PAYROLL_HEADERS,
    POINT_COLS,
    STATUS_LABELS,
    as_bool,
    id_list,
    ids_text,
    neutralise,
    points,
    to_decimal,
)
from .labels import SOURCE_LABELS
from .mask import mask_frame
from .rules_view import item_specs, pass_mark
from .totals import is_final, pay_totals

EXCEL_MAX_ROWS = 1_048_575  # data rows below the header
EVIDENCE_PER_AGENT_KIND = 50  # 证据 rows per agent and kind; the rest: "另有 N 条" + evidence.csv
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
    ("override_grade", "主管等级", "text"), ("points", "得分", "points"), ("source", "来源", "source"),
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
        self.item_labels: dict[str, str] = {}

    def _text(self, r: int, j: int, v: object, fmt_key: str = "text") -> None:
        if v is None or v == "":
            self.ws.write_blank(r, j, None, self.f[fmt_key])
            return
        s = neutralise(str(v))[:EXCEL_MAX_CHARS]
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
        elif kind == "float":
            f = None if v is None else float(v)
            self._number(r, j, f if f == f else None, "float", f"{f:,.2f}" if f is not None else "")
        elif kind == "duration":  # seconds → an Excel duration ([h]:mm:ss)
            f = None if v is None else float(v)
            self._number(r, j, None if f is None or f != f else f / 86400, "duration", "000:00:00")
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
            self._text(r, j, None if v is None else self.item_labels.get(str(v), str(v)))
        elif kind == "source":
            self._text(r, j, None if v is None else SOURCE_LABELS.get(str(v), str(v)))
        elif kind == "list":
            self._text(r, j, ", ".join(id_list(v)))
        elif kind == "joined":  # a list already joined by ids_text
            self._text(r, j, v)
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
        "float": f(num_format="#,##0.00"),
        "duration": f(num_format="[h]:mm:ss"),
        "int": f(num_format="0"),
        "datetime": f(num_format="yyyy-mm-dd hh:mm:ss"),
        "date": f(num_format="yyyy-mm-dd"),
    }


def _total_rows(sheet: _Sheet, payroll: pl.DataFrame) -> None:
    """合计 of the final rows (底薪 + KPI奖金 = 应发工资, exact Decimal sums) and, on its own
    row, the incomplete rows' count and base salaries (not payable yet, not in the 合计)."""
    t = pay_totals(payroll)
    money_col = {c: j for j, (c, _h, kind) in enumerate(sheet.specs) if kind == "money"}
    r = sheet.row
    sheet.write_cell(r, 0, "text", f"合计（已定稿 {t.final_rows} 人）", bold=True)
    for c, v in (("base_salary", t.base), ("kpi_bonus", t.kpi), ("salary", t.salary)):
        if c in money_col:
            sheet.write_cell(r, money_col[c], "money", v, bold=True)
    sheet.row += 1
    if t.incomplete_rows:
        r = sheet.row
        sheet.write_cell(r, 0, "text", f"待补充 {t.incomplete_rows} 人（未计入合计）", bold=True)
        if "base_salary" in money_col:
            sheet.write_cell(r, money_col["base_salary"], "money", t.incomplete_base, bold=True)
        sheet.row += 1


def capped_evidence(ev: pl.DataFrame | pl.LazyFrame, cap: int = EVIDENCE_PER_AGENT_KIND,
                    presorted: bool = False) -> pl.DataFrame:
    """At most ``cap`` rows per (agent, kind), earliest first, each group followed by a row
    ``另有 N 条…`` when rows were left out (``_note`` holds that text; null on data rows).
    A lazy ``ev`` is capped before anything is collected; a ``presorted`` one (agent, kind,
    time, id: bundle.evidence_sorted) is only ranked, not sorted."""
    have = columns_of(ev)
    keys = [c for c in ("agent_account", "kind") if c in have]
    order = keys + [c for c in ("at", "evidence_id") if c in have]
    ranked = (ev.lazy() if presorted else ev.lazy().sort(order, nulls_last=True)).with_columns(
        (rank_in_runs(*keys) if keys else pl.int_range(pl.len())).alias("_rank"))
    shown = ranked.filter(pl.col("_rank") < cap).with_columns(pl.lit(None, pl.String).alias("_note"))
    if not keys:
        return shown.head(cap).collect()
    more = (ev.lazy().group_by(keys).len().filter(pl.col("len") > cap)
            .select(*keys, pl.lit(cap, pl.Int64).alias("_rank"),
                    pl.format("另有 {} 条未列出，完整证据见 evidence.csv / evidence.parquet", pl.col("len") - cap).alias("_note")))
    shown_df, more_df = pl.collect_all([shown.with_columns(pl.col("_rank").cast(pl.Int64)), more])
    both = pl.concat([shown_df, more_df], how="diagonal_relaxed")
    return both.sort([*keys, "_rank"], nulls_last=True)


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
    wb.set_properties(document_properties(bundle.month, f"{bundle.shop} {bundle.month} 售后客服工资表"))
    fmts = _formats(wb)
    item_labels = {s.key: s.label for s in item_specs(bundle)}
    gate = pass_mark(bundle)
    payroll_specs = [(c, f"达标(≥{points(gate)}分)" if c == "passed" and gate is not None else h, k)
                     for c, h, k in PAYROLL_SPECS]
    at = next(i for i, s in enumerate(payroll_specs) if s[0] == "deductions")
    payroll_specs[at:at] = run_item_specs(bundle)

    def sheet(name: str, specs: list[Spec], df: pl.DataFrame | None,
              prepare: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> _Sheet:
        sh = _Sheet(wb, name, specs, fmts)
        sh.item_labels = item_labels
        if df is not None and prepare is not None:
            df = prepare(df)
        if name == "证据" and df is not None:
            n = _write_evidence(sh, df)
        else:
            n = sh.write_frame(df)
        if name == "工资表" and df is not None and df.height:
            _total_rows(sh, df)
        sh.finish(n)
        return sh

    def by_agent(df: pl.DataFrame) -> pl.DataFrame:
        col = first_col(df, "agent", "agent_account")
        keys = [c for c in (col, "item", "kind", "record_id") if c and c in df.columns]
        return df.sort(keys, nulls_last=True, maintain_order=True) if keys else df

    def payroll(df: pl.DataFrame) -> pl.DataFrame:  # final rows first, then incomplete; by account
        return df.sort([(~is_final(df)).alias("_inc"), pl.col("agent")], nulls_last=True) if "agent" in df.columns else df

    def adj(df: pl.DataFrame) -> pl.DataFrame:
        return by_agent(mask_frame(df, text_cols=("detail",), nick_cols=("buyer",)))

    def ev(df: pl.DataFrame) -> pl.DataFrame:
        return mask_frame(capped_evidence(df, presorted=bundle.evidence_sorted))

    sheet("工资表", payroll_specs, bundle.payroll, payroll)
    def kpi_order(df: pl.DataFrame) -> pl.DataFrame:  # items in the rules' order within each agent
        if "item" not in df.columns:
            return by_agent(df)
        order = {k: i for i, k in enumerate(item_labels)}
        col = first_col(df, "agent_account", "agent")
        rank = pl.col("item").cast(pl.String).replace_strict(order, default=len(order), return_dtype=pl.Int64)
        return df.sort([c for c in (col,) if c] + [rank, pl.col("item")], nulls_last=True, maintain_order=True)

    # every id an item cites (as many as the month's evidence): joined in polars, only the
    # characters a cell holds — the text ", ".join(id_list(ids)) would give, cut as _text cuts it
    id_lists = bundle.kpi_items is not None and bundle.kpi_items.schema.get("evidence_ids") == pl.List(pl.String)
    kpi_specs = [(c, h, "joined" if c == "evidence_ids" and id_lists else k) for c, h, k in KPI_SPECS]

    def kpi_rows(df: pl.DataFrame) -> pl.DataFrame:
        df = kpi_order(df)
        return df.with_columns(ids_text("evidence_ids", EXCEL_MAX_CHARS)) if id_lists else df

    sheet("考核明细", kpi_specs, bundle.kpi_items, kpi_rows)
    sheet("扣分加分明细", ADJ_SPECS, bundle.kpi_adjustments, adj)
    sheet("证据", EVIDENCE_SPECS, bundle.evidence, ev)
    wb.close()
    return p


def run_item_specs(bundle: MonthBundle) -> list[Spec]:
    """工资表 columns of the run's KPI items beyond the default scheme's (e.g. a new item's
    ``<key>_pts``), from the run's rules; headers from the item's label."""
    if bundle.rules is None or bundle.payroll is None:
        return []
    suffix = {"points": ("得分", "points"), "grade": ("等级", "text"), "value": ("", "rate")}
    return [(c.name, bundle.rules.items[key].label + suffix[c.field][0], suffix[c.field][1])
            for key, item in bundle.rules.kpi_items.items() for c in item.columns()
            if c.name not in PAYROLL_HEADERS and c.name in bundle.payroll.columns]


def _write_evidence(sh: _Sheet, df: pl.DataFrame) -> int:
    """Evidence rows; a ``_note`` row names how many rows of its group were left out."""
    n = 0
    cols = [c for c, _h, _k in sh.specs]
    note_j = cols.index("excerpt") if "excerpt" in cols else 0
    for rec in df.iter_rows(named=True):
        if rec.get("_note"):
            for j, (c, _h, kind) in enumerate(sh.specs):
                if c in ("agent_account", "kind", "month"):
                    sh.write_cell(sh.row, j, kind, rec.get(c))
            sh.write_cell(sh.row, note_j, "text", rec["_note"], bold=True)
        else:
            for j, (c, _h, kind) in enumerate(sh.specs):
                sh.write_cell(sh.row, j, kind, rec.get(c))
        sh.row += 1
        n += 1
    return n


def document_properties(month: str, title: str) -> dict[str, Any]:
    """xlsx document properties with a created date from the month (not the clock), so the
    same inputs give the same bytes."""
    try:
        created = datetime(int(month[:4]), int(month[5:7]), 1)
    except (ValueError, IndexError):
        created = datetime(2000, 1, 1)
    return {"title": title, "author": "kefu-kpi", "created": created}
