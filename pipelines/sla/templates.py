"""Blank SLA input workbooks (Chinese headers in row 1) and the shared xlsx writer.

Three files, so each is recognised by exactly one reader:
  服务工单.xlsx          sheets 服务工单, 服务人员名单
  来电来函记录.xlsx      sheet 来电来函记录
  备用件台账.xlsx        sheets 接收单, 领料单, 旧件返还, 盘点, 服务站台账, 二次索赔
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter

from pipelines.staging.sla_schemas import SHEET_NAMES, SLA_TABLES

FILES: dict[str, tuple[str, ...]] = {
    "服务工单": ("sla_tickets", "sla_staff"),
    "来电来函记录": ("sla_calls",),
    "备用件台账": ("sla_part_receipts", "sla_part_requisitions", "sla_part_returns", "sla_stocktakes", "sla_station_stock", "sla_claims"),
}

_HINT = {"datetime": "YYYY-MM-DD HH:MM:SS", "date": "YYYY-MM-DD", "bool": "是/否", "decimal": "金额(元)", "int": "整数", "float": "数字"}


def headers(kind: str) -> list[str]:
    return [c.label for c in SLA_TABLES[kind].cols]


def write_workbook(path: Path, sheets: dict[str, list[list]], kinds: dict[str, str]) -> Path:
    """Write sheets (name → rows, without header) of the given kinds (sheet → kind).

    Every non-empty cell is written as a *string* (never a formula: "=..." stays text);
    a choice column gets a drop-down list; header comments show the expected format."""
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for sheet, rows in sheets.items():
        table = SLA_TABLES[kinds[sheet]]
        ws = wb.add_worksheet(sheet)
        for j, col in enumerate(table.cols):
            ws.write_string(0, j, col.label, head)
            ws.set_column(j, j, max(10, len(col.label) * 2 + 4))
            hint = _HINT.get(col.type)
            if hint or col.required:
                ws.write_comment(0, j, ("必填. " if col.required else "") + (hint or ""))
            if col.choices:
                ws.data_validation(1, j, 5000, j, {"validate": "list", "source": list(col.choices)})
        for i, row in enumerate(rows, start=1):
            for j, v in enumerate(row):
                if v is not None and v != "":
                    ws.write_string(i, j, str(v))
        ws.freeze_panes(1, 0)
    wb.close()
    return path


def write_sla_templates(dir: Path | str) -> list[Path]:
    """Write the three blank SLA workbooks into ``dir``; returns their paths."""
    d = Path(dir)
    out = []
    for stem, kinds in FILES.items():
        sheets = {SHEET_NAMES[k]: [] for k in kinds}
        out.append(write_workbook(d / f"{stem}模板.xlsx", sheets, {SHEET_NAMES[k]: k for k in kinds}))
    return out
