"""SLA report: self-contained HTML (no CDN, every text escaped) and an xlsx workbook.

``render_sla_report(results, month) -> str`` and ``write_sla_xlsx(results, path)``.
In the workbook every text cell is written with ``write_string`` (a value like ``=HYPERLINK(...)``
stays text, never a formula), numbers as numbers, times as Excel datetimes.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from .run import SlaResults

STATUS_CN = {"met": "达标", "breached": "超时", "running": "进行中"}
LEVEL_CN = {"all": "全部门", "team": "服务组", "staff": "服务人员"}
CHECK_CN = {
    "signature_before_completion": "服务前签字",
    "missing_completion": "缺少完成时间",
    "missing_signature": "缺少用户签字",
    "body_distance_missing": "缺少服务半径",
    "satisfaction_out_of_range": "满意度评分越界",
    "call_not_archived": "复电复函未存档",
    "part_issued_unapproved": "领料未批准",
    "warranty_part_no_requisition": "三包换件无领料单",
    "old_part_not_returned": "旧件未按期返还",
    "stock_mismatch": "帐物/帐帐不符",
    "claim_open_too_long": "二次索赔逾期未结",
    # issue 12 clause checks
    "contact_archive_feedback": "联系结果未及时存档/反馈",
    "fee_approval_remittance": "收费未批准/未如数上缴",
    "courtesy": "服务用语/用户反映",
    "report_approval_archive": "服务报告未按时审批存档",
    "major_issue_reported": "较大问题未及时汇报",
    "old_part_brought_back": "旧件未带回",
    "call_log_order": "来电来函未按时间顺序登记",
    "reply_archive_time": "复电复函存档不及时",
    "issue_before_approval": "批准前发放",
    "writeoff_consent": "销账缺签字/领导同意",
    "shipping_writeoff_signatures": "邮运费缺签字",
    "old_parts_processed_monthly": "旧件未按月处理",
    "station_ledger": "服务站台账",
    "supplier_parts_unclaimed": "责任件未索赔",
}

# issue 12: which checks ran, courtesy per staff, station ledgers, claims per supplier
CHECKS_COLUMNS = {"check": "检查项", "policy_ref": "条款", "name": "内容", "status": "状态", "reason": "说明", "checked": "检查记录数", "findings": "发现"}
COURTESY_COLUMNS = {"staff": "服务人员", "team": "服务组", "staff_texts": "人员文字数", "staff_hits": "禁语命中", "customer_texts": "用户文字数",
                    "customer_hits": "用户负面/升级", "by_lexicon": "按词库", "met": "达标"}
STATION_COLUMNS = {"station": "服务站", "part_id": "备件编号", "part_name": "备件名称", "counted_on": "盘点日期", "opening_qty": "期初", "sent_qty": "发出",
                   "used_qty": "使用", "returned_qty": "退回", "computed_book": "应有", "book_qty": "账面", "counted_qty": "实盘", "status": "结论"}


def _extra_sections(r: SlaResults) -> str:
    """HTML sections for the issue-12 results (generic tables)."""
    out = []
    if r.checks is not None:
        out.append(f"<h2>检查项 (未检查 {r.checks.filter(pl.col('status') == '未检查').height})</h2>" + _table(r.checks, CHECKS_COLUMNS))
    if r.courtesy is not None:
        out.append("<h2>服务用语 (3.3.5)</h2>" + _table(r.courtesy, COURTESY_COLUMNS))
    if r.station_ledger is not None:
        out.append("<h2>服务站台账 (3.7.6)</h2>" + _table(r.station_ledger, STATION_COLUMNS))
    if r.claims_summary is not None:
        cs = r.claims_summary.with_columns(pl.col("claimed_amount", "recovered_amount").cast(pl.String))
        out.append("<h2>二次索赔 按供应商 (3.8)</h2>" + _table(cs))
    return "".join(out)

MONTH_COLUMNS = {
    "level": "层级", "team": "服务组", "staff": "服务人员", "timely": "及时", "timed": "应计", "timeliness": "服务及时率",
    "timeliness_met": "及时率达标", "running": "进行中", "satisfied": "满意", "surveyed": "调查数", "satisfaction": "用户满意度",
    "satisfaction_met": "满意度达标", "complaints": "服务责任抱怨", "tickets": "工单数", "complaint_rate": "用户抱怨率",
    "complaint_met": "抱怨率达标", "all_met": "全部达标",
}

_CSS = """
body{font-family:"PingFang SC","Microsoft YaHei",sans-serif;margin:24px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:2px solid #4472c4;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#ddebf7}td.num{text-align:right}.ok{color:#1a7f37;font-weight:bold}.bad{color:#c62828;font-weight:bold}
.na{color:#888}.cards{display:flex;gap:16px;flex-wrap:wrap}.card{border:1px solid #ccc;border-radius:6px;padding:12px 16px;min-width:200px}
.card .v{font-size:26px}.muted{color:#666;font-size:12px}
"""


def _e(v) -> str:
    return html.escape("" if v is None else str(v), quote=True)


def _pct(num: int, den: int) -> str:
    return "—" if not den else f"{num / den * 100:.2f}% ({num}/{den})"


def _flag(v: bool | None) -> str:
    if v is None:
        return '<span class="na">无数据</span>'
    return '<span class="ok">达标</span>' if v else '<span class="bad">未达标</span>'


def _cell(v) -> str:
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return "" if v is None else str(v)


def _table(df: pl.DataFrame, headers: dict[str, str] | None = None, limit: int = 500) -> str:
    if df.height == 0:
        return '<p class="muted">无</p>'
    cols = list(headers) if headers else df.columns
    head = "".join(f"<th>{_e((headers or {}).get(c, c))}</th>" for c in cols)
    rows = []
    for r in df.head(limit).select(cols).iter_rows():
        rows.append("<tr>" + "".join(f'<td{" class=num" if isinstance(v, (int, float)) and not isinstance(v, bool) else ""}>{_e(_cell(v))}</td>' for v in r) + "</tr>")
    more = f'<p class="muted">仅显示前 {limit} 行, 共 {df.height} 行</p>' if df.height > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def render_sla_report(results: SlaResults, month: str) -> str:
    """The month's SLA report as one self-contained HTML page."""
    r = results
    t = r.rules.targets
    o = r.overall or {}
    cards = [
        ("服务及时率", f"≥ {t.timeliness_min * 100:g}%", _pct(o.get("timely", 0), o.get("timed", 0)), o.get("timeliness_met")),
        ("用户满意度", f"≥ {t.satisfaction_min * 100:g}% (评分 ≥ {t.satisfied_min_score})", _pct(o.get("satisfied", 0), o.get("surveyed", 0)), o.get("satisfaction_met")),
        ("用户抱怨率(服务责任)", f"< {t.complaint_below * 100:g}%", _pct(o.get("complaints", 0), o.get("tickets", 0)), o.get("complaint_met")),
    ]
    card_html = "".join(
        f'<div class="card"><div>{_e(n)}</div><div class="v">{_e(v)}</div><div>目标 {_e(goal)} · {_flag(ok)}</div></div>' for n, goal, v, ok in cards
    )
    sm = r.sla_month.with_columns(pl.col("level").replace(LEVEL_CN))
    for col in ("timeliness_met", "satisfaction_met", "complaint_met", "all_met"):
        sm = sm.with_columns(pl.col(col).cast(pl.String).replace({"true": "达标", "false": "未达标"}).fill_null("无数据"))
    for col in ("timeliness", "satisfaction", "complaint_rate"):
        sm = sm.with_columns((pl.col(col) * 100).round(2).cast(pl.String).fill_null("—") + pl.when(pl.col(col).is_not_null()).then(pl.lit("%")).otherwise(pl.lit("")))
    clocks = r.ticket_sla.with_columns(pl.col("status").replace(STATUS_CN), (pl.col("elapsed_s") / 3600).round(2).alias("elapsed_h"))
    clock_cols = {"record_kind": "类型", "record_id": "编号", "rule_name": "时限规则", "staff": "服务人员", "start_at": "开始", "deadline": "期限",
                  "stop_at": "完成", "elapsed_h": "用时(小时)", "target_h": "目标(小时)", "status": "状态"}
    breached = clocks.filter(pl.col("status") == "超时").sort("deadline")
    running = clocks.filter(pl.col("status") == "进行中").sort("deadline")
    findings = r.compliance.with_columns(pl.col("check").replace(CHECK_CN))
    find_cols = {"check": "检查项", "policy_ref": "条款", "record_id": "记录", "staff": "人员", "at": "时间", "detail": "说明"}
    ledger_cols = {"part_id": "备件编号", "part_name": "备件名称", "counted_on": "盘点日期", "opening_qty": "期初", "received": "接收", "issued": "发放",
                   "computed_book": "应有", "book_qty": "账面", "counted_qty": "实盘", "status": "结论"}
    warn_html = ""
    if r.warnings is not None:
        warn_cols = {"level": "级别", "record_id": "编号", "rule_name": "时限规则", "staff": "服务人员", "deadline": "期限", "remaining_h": "剩余(小时)"}
        warn_html = f"<h2>超时预警 (截至 {_e(_cell(r.now))})</h2>" + _table(r.warnings, warn_cols)
    notes = "".join(f"<li>{_e(n)}</li>" for n in r.notes)
    overall = {True: '<span class="ok">三项目标全部达标</span>', False: '<span class="bad">有目标未达标</span>', None: '<span class="na">无数据</span>'}[r.targets_met]
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{_e(month)} 售后服务时限报告</title><style>{_CSS}</style></head>
<body>
<h1>{_e(month)} 售后服务时限与考核报告</h1>
<p class="muted">统计截至 {_e(_cell(r.as_of))} · 规则版本 {_e(r.rules.version)} ({_e(r.rules_hash)}) · {overall}</p>
<div class="cards">{card_html}</div>
{"<ul>" + notes + "</ul>" if notes else ""}
<h2>服务组与人员</h2>{_table(sm, MONTH_COLUMNS)}
{warn_html}
<h2>超时明细 ({breached.height})</h2>{_table(breached, clock_cols)}
<h2>进行中 ({running.height})</h2>{_table(running, clock_cols)}
<h2>合规检查 ({findings.height})</h2>{_table(findings, find_cols)}
<h2>备用件帐物核对</h2>{_table(r.ledger, ledger_cols)}
{_extra_sections(r)}
<h2>数据隔离 ({r.quarantine.height})</h2>{_table(r.quarantine.select("source_file", "source_sheet", "source_row", "reason"), {"source_file": "文件", "source_sheet": "工作表", "source_row": "行", "reason": "原因"})}
</body></html>
"""


def _write_frame(wb, name: str, df: pl.DataFrame, headers: dict[str, str] | None = None) -> None:
    ws = wb.add_worksheet(name)
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    d_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    cols = list(headers) if headers else df.columns
    for j, c in enumerate(cols):
        ws.write_string(0, j, (headers or {}).get(c, c), head)
        ws.set_column(j, j, 14)
    for i, row in enumerate(df.select(cols).iter_rows(), start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_string(i, j, "是" if v else "否")
            elif isinstance(v, (int, float)):
                ws.write_number(i, j, v)
            elif isinstance(v, datetime):
                ws.write_datetime(i, j, v, dt_fmt)
            elif isinstance(v, date):
                ws.write_datetime(i, j, datetime(v.year, v.month, v.day), d_fmt)
            else:
                ws.write_string(i, j, str(v))
    ws.freeze_panes(1, 0)


def write_sla_xlsx(results: SlaResults, path: Path | str) -> Path:
    """Write the SLA results workbook (月度目标, 时限明细, 预警, 合规检查, 备件对账, 数据隔离)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False})
    r = results
    _write_frame(wb, "月度目标", r.sla_month.with_columns(pl.col("level").replace(LEVEL_CN)), {"month": "月份", **MONTH_COLUMNS})
    _write_frame(wb, "时限明细", r.ticket_sla.with_columns(pl.col("status").replace(STATUS_CN)))
    if r.warnings is not None:
        _write_frame(wb, "预警", r.warnings)
    _write_frame(wb, "合规检查", r.compliance.with_columns(pl.col("check").replace(CHECK_CN)))
    _write_frame(wb, "备件对账", r.ledger)
    for name, df, heads in (("检查项", r.checks, CHECKS_COLUMNS), ("服务用语", r.courtesy, COURTESY_COLUMNS),
                            ("服务站台账", r.station_ledger, STATION_COLUMNS), ("二次索赔按供应商", r.claims_summary, None)):
        if df is not None:
            _write_frame(wb, name, df.with_columns(pl.col(pl.Decimal).cast(pl.String)), heads)
    _write_frame(wb, "数据隔离", r.quarantine)
    wb.close()
    return path
