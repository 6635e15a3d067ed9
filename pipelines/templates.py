"""Blank templates users fill in by hand: the supervisor workbook (主管填报表).

The layout is docs/supervisor_workbook.md; the headers come from the reader's sheet
definitions so the template and the reader cannot drift apart.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pipelines.readers.supervisor_workbook import COMPLAINTS, RATINGS, REVIEWS, ROSTER
from contracts.staged import GRADES, ROLES, TABLES

YES_NO = ("是", "否")
COMPLAINT_KINDS = TABLES["complaints"].col("kind").choices
REVIEW_KINDS = TABLES["reviews"].col("kind").choices
DATA_ROWS = 1000  # rows carrying drop-downs and formats

# (header, help text, drop-down choices or None, number range or None, cell kind)
Field = tuple[str, str, tuple[str, ...] | None, tuple[int, int] | None, str]

SHEETS: dict[str, list[Field]] = {
    ROSTER.title: [
        ("客服账号", "必填，千牛子账号，写法为 店铺名:子账号，不可重复", None, None, "text"),
        ("姓名", "必填", None, None, "text"),
        ("岗位", "必填：" + " / ".join(ROLES), ROLES, None, "text"),
        ("钉钉姓名", "钉钉考勤导出中的姓名；留空表示与姓名相同", None, None, "text"),
        ("入职日期", "可选，YYYY-MM-DD", None, None, "date"),
        ("离职日期", "可选，YYYY-MM-DD", None, None, "date"),
    ],
    RATINGS.title: [
        ("月份", "必填，YYYY-MM，如 2026-10；其他月份的行不计入本月", None, None, "text"),
        ("客服账号", "必填，与客服名单一致", None, None, "text"),
        ("配合度", "优/良/中/差；留空表示尚未评分（该客服本月考核不完整）", GRADES, None, "text"),
        ("执行力", "优/良/中/差", GRADES, None, "text"),
        ("客服素质(覆盖)", "可选，填写后覆盖系统根据聊天建议的等级", GRADES, None, "text"),
        ("投诉处理(覆盖)", "可选，填写后覆盖系统根据投诉记录建议的等级", GRADES, None, "text"),
        ("表现突出加分", "可选，2~5 分", None, (2, 5), "int"),
        ("备注", "", None, None, "text"),
    ],
    COMPLAINTS.title: [
        ("编号", "必填，唯一", None, None, "text"),
        ("类型", "必填：" + " / ".join(COMPLAINT_KINDS), COMPLAINT_KINDS, None, "text"),
        ("客服账号", "处理人/被投诉的客服", None, None, "text"),
        ("买家", "", None, None, "text"),
        ("订单编号", "按文本填写，避免长数字被 Excel 改成科学计数法", None, None, "text"),
        ("发生时间", "必填，YYYY-MM-DD HH:MM[:SS]（北京时间）", None, None, "datetime"),
        ("处理完成时间", "留空表示仍在处理中", None, None, "datetime"),
        ("平台介入", "是/否（小二介入）", YES_NO, None, "text"),
        ("处理结果", "如 买家撤销 / 商家责任 / 非商家责任", None, None, "text"),
        ("查实", "是/否：查实的客户投诉将扣分", YES_NO, None, "text"),
        ("扣分", "查实=是 时填写，5~20 分", None, (5, 20), "int"),
        ("备注", "", None, None, "text"),
    ],
    REVIEWS.title: [
        ("编号", "必填，唯一", None, None, "text"),
        ("类型", "必填：" + " / ".join(REVIEW_KINDS), REVIEW_KINDS, None, "text"),
        ("客服账号", "必填", None, None, "text"),
        ("买家", "", None, None, "text"),
        ("订单编号", "按文本填写", None, None, "text"),
        ("评价时间", "必填，YYYY-MM-DD HH:MM[:SS]", None, None, "datetime"),
        ("售后原因", "是/否：低质评价是否由售后引起（只有“是”才扣分）", YES_NO, None, "text"),
        ("主管确认", "是/否：表扬是否经主管确认（只有“是”才加分）", YES_NO, None, "text"),
        ("评价内容", "", None, None, "text"),
    ],
}


def _check_against_reader() -> None:
    """Every template header must be a header the reader accepts."""
    for sk in (ROSTER, RATINGS, COMPLAINTS, REVIEWS):
        accepted = {a for al in sk.aliases.values() for a in al}
        missing = [f[0] for f in SHEETS[sk.title] if f[0] not in accepted]
        if missing:  # pragma: no cover - a programming error
            raise AssertionError(f"template headers not read by supervisor_workbook: {missing}")


def write_supervisor_template(path: Path | str) -> Path:
    """Write the blank 主管填报表 template (xlsx) to ``path`` and return it.

    One sheet per kind with the header in row 1 (a comment on each header explains it),
    drop-downs for 是/否, grades, roles and kinds, number ranges for points, text format
    for ids and months (so Excel does not mangle them), and a 说明 sheet listing every
    field. Creation time is fixed so the file is reproducible."""
    import xlsxwriter

    _check_against_reader()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": "主管填报表", "created": datetime(2026, 1, 1)})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    fmt = {
        "text": wb.add_format({"num_format": "@"}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
        "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
        "int": wb.add_format({"num_format": "0"}),
    }
    for title, fields in SHEETS.items():
        ws = wb.add_worksheet(title)
        ws.freeze_panes(1, 0)
        for j, (header, help_text, choices, rng, kind) in enumerate(fields):
            ws.write_string(0, j, header, head)
            ws.set_column(j, j, max(12, 2 * len(header) + 4), fmt[kind])
            if help_text:
                ws.write_comment(0, j, help_text)
            if choices:
                ws.data_validation(1, j, DATA_ROWS, j, {
                    "validate": "list", "source": list(choices),
                    "error_title": header, "error_message": "请从下拉列表中选择：" + "/".join(choices),
                })
            elif rng:
                ws.data_validation(1, j, DATA_ROWS, j, {
                    "validate": "integer", "criteria": "between", "minimum": rng[0], "maximum": rng[1],
                    "error_title": header, "error_message": f"请填写 {rng[0]}~{rng[1]} 的整数",
                })
    notes = wb.add_worksheet("说明")
    notes.set_column(0, 0, 12)
    notes.set_column(1, 1, 16)
    notes.set_column(2, 2, 70)
    notes.write_row(0, 0, ["工作表", "列", "填写说明"], head)
    r = 1
    notes.write_string(r, 0, "通用")
    notes.write_string(r, 2, "每个工作表第1行为表头，请勿修改表头文字；工作表可改名或单独另存为 CSV/XLSX，系统按表头识别。")
    r += 1
    notes.write_string(r, 2, "是/否 列填 是 或 否；等级填 优/良/中/差；时间为北京时间；客服账号写法为 店铺名:子账号。")
    r += 1
    for title, fields in SHEETS.items():
        for header, help_text, *_ in fields:
            notes.write_row(r, 0, [title, header, help_text or "—"])
            r += 1
    wb.close()
    return path
