"""SLA report: self-contained HTML in the KPI report's design system, and sla.xlsx to payroll.xlsx's standard.

``render_sla_report(results, month) -> str`` and ``write_sla_xlsx(results, path)``.
The page answers "are we on target, where do we breach, which tickets are about to breach,
is it getting better": target cards, rates vs targets per team and person (charts), breaches
by rule, open tickets due soon, a week-by-week trend, then the detail tables — Chinese
headers everywhere (labels from ``pipelines.report.labels``), every text escaped (Jinja
autoescape), no external resources. The workbook uses the payroll.xlsx writer (``_Sheet``):
Chinese headers, %/duration formats, widths, frozen header, auto-filter, a 合计 row, text
never a formula. Check results the SLA module adds later appear as generic rows (their
``check`` code is shown as is when ``CHECK_CN`` has no label).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter
from markupsafe import Markup

from pipelines.report import svg
from pipelines.report.excel import _formats, _Sheet, document_properties
from pipelines.report.fmt import plain, seconds
from pipelines.report.html import _ENV, _SCRIPT_HASH, _SORT_JS
from pipelines.report.labels import SLA_COLUMNS, SLA_KINDS, SLA_LEVELS, SLA_RECORD_KINDS, SLA_STATUS

from .run import SlaResults

STATUS_CN = SLA_STATUS
LEVEL_CN = SLA_LEVELS
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
EXTRA_LABELS = {
    "check": "检查项", "policy_ref": "条款", "name": "内容", "status": "状态", "reason": "说明", "checked": "检查记录数",
    "findings": "发现", "staff": "服务人员", "team": "服务组", "staff_texts": "人员文字数", "staff_hits": "禁语命中",
    "customer_texts": "用户文字数", "customer_hits": "用户负面/升级", "by_lexicon": "按词库", "met": "达标",
    "station": "服务站", "part_id": "备件编号", "part_name": "备件名称", "counted_on": "盘点日期", "opening_qty": "期初",
    "sent_qty": "发出", "used_qty": "使用", "returned_qty": "退回", "computed_book": "应有", "book_qty": "账面",
    "counted_qty": "实盘",
    "paused_h": "暂停(小时)", "supplier": "供应商", "fault_parts": "责任件", "claimed_parts": "已索赔件", "unclaimed_parts": "未索赔件",
    "claims": "索赔单", "open_claims": "未结索赔", "claimed_amount": "索赔金额", "recovered_amount": "追回金额", "recovery_rate": "追回率",
    "age_le_30": "未结≤30天", "age_le_60": "未结31-60天", "age_le_90": "未结61-90天", "age_over_90": "未结>90天",
}


def _extra_sections(r: SlaResults) -> list[dict[str, Any]]:
    """The issue-12 results as titled tables (checks run / not run, courtesy, station ledgers, claims)."""
    out = []
    if r.checks is not None:
        not_run = r.checks.filter(pl.col("status") == "未检查").height
        out.append({"title": f"检查项（未检查 {not_run}）", "table": _table(r.checks, labels=EXTRA_LABELS)})
    if r.courtesy is not None:
        out.append({"title": "服务用语（3.3.5）", "table": _table(r.courtesy, labels=EXTRA_LABELS)})
    if r.station_ledger is not None:
        out.append({"title": "服务站台账（3.7.6）", "table": _table(r.station_ledger, labels=EXTRA_LABELS)})
    if r.claims_summary is not None:
        out.append({"title": "二次索赔 按供应商（3.8）", "table": _table(r.claims_summary.with_columns(pl.col(pl.Decimal).cast(pl.String)), labels=EXTRA_LABELS)})
    return out


MONTH_COLUMNS = {c: SLA_COLUMNS[c] for c in (
    "level", "team", "staff", "timely", "timed", "timeliness", "timeliness_met", "running", "satisfied", "surveyed",
    "satisfaction", "satisfaction_met", "complaints", "tickets", "complaint_rate", "complaint_met", "all_met")}
TABLE_LIMIT = 300  # rows per detail table on the page; sla.xlsx has them all
DUE_SOON = 20


def _pct(num: int | None, den: int | None) -> str:
    return "—" if not den else f"{(num or 0) / den * 100:.1f}%（{num}/{den}）"


def _flag(v: bool | None) -> dict[str, str]:
    if v is None:
        return {"text": "无数据", "cls": "muted"}
    return {"text": "达标", "cls": "ok"} if v else {"text": "未达标", "cls": "bad"}


def _labelled(df: pl.DataFrame) -> pl.DataFrame:
    """Codes → Chinese (status, level, record kind, check) in the columns that hold them."""
    maps = {"status": STATUS_CN, "level": LEVEL_CN, "record_kind": SLA_RECORD_KINDS, "check": CHECK_CN}
    return df.with_columns([pl.col(c).cast(pl.String).replace(m) for c, m in maps.items()
                            if c in df.columns and df.schema[c] == pl.String])


def _cell(col: str, v: Any) -> str:
    kind = SLA_KINDS.get(col)
    if v is None:
        return "—"
    if kind == "rate":
        return f"{100 * float(v):.1f}%"
    if kind == "duration":
        return seconds(v)
    if isinstance(v, bool):
        if col.endswith("_met"):
            return "达标" if v else "未达标"
        return "是" if v else "否"
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".")
    return plain(v)


def _table(df: pl.DataFrame, cols: list[str] | None = None, limit: int = TABLE_LIMIT,
           labels: dict[str, str] | None = None) -> dict[str, Any]:
    """A display table: Chinese headers (unknown columns by name), formatted cells, capped rows."""
    df = _labelled(df)
    cols = [c for c in (cols or df.columns) if c in df.columns]
    rows = [[{"v": _cell(c, v), "num": isinstance(v, (int, float)) and not isinstance(v, bool),
              "cls": ("ok" if v in ("达标", "一致") else "bad" if v in ("超时", "未达标", "帐物不符", "帐帐不符") else "")}
             for c, v in zip(cols, r, strict=False)] for r in df.head(limit).select(cols).iter_rows()]
    return {"headers": [SLA_COLUMNS.get(c) or (labels or {}).get(c, c) for c in cols], "rows": rows, "total": df.height,
            "more": max(0, df.height - limit)}


def _decided(r: SlaResults) -> pl.DataFrame:
    # ticket_sla columns: contracts.sla.TICKET_SLA
    return r.ticket_sla.filter((pl.col("decided_month") == r.month) & pl.col("status").is_in(["met", "breached"]))


def _breaches_by_rule(r: SlaResults) -> dict[str, Any]:
    t = _decided(r)
    if t.height == 0:
        return {"rows": [], "svg": None}
    g = (t.group_by("rule_name", "policy_ref")
         .agg(pl.len().alias("n"), (pl.col("status") == "breached").sum().alias("breached"))
         .sort(["breached", "rule_name"], descending=[True, False]))
    rows = [{"rule": x["rule_name"], "ref": plain(x["policy_ref"]), "n": x["n"], "breached": x["breached"],
             "rate": f"{100 * x['breached'] / x['n']:.1f}%"} for x in g.to_dicts()]
    return {"rows": rows, "svg": svg.hbar_chart([x["rule"] for x in rows], [x["breached"] for x in rows],
                                                color=svg.PALETTE[3], value_suffix=" 次", aria="各时限规则超时次数")}


def _weekly(r: SlaResults) -> dict[str, Any] | None:
    t = _decided(r).filter(pl.col("counts_for_timeliness").fill_null(False) & pl.col("decided_at").is_not_null())
    if t.height == 0:
        return None
    w = (t.with_columns(pl.col("decided_at").dt.truncate("1w").dt.date().alias("wk"))
         .group_by("wk").agg(pl.len().alias("n"), (pl.col("status") == "met").sum().alias("met"),
                             (pl.col("status") == "breached").sum().alias("breached"))
         .sort("wk"))
    labels = [f"{d.month}/{d.day}起" for d in w["wk"].to_list()]
    rates = [100 * m / n for m, n in zip(w["met"].to_list(), w["n"].to_list(), strict=False)]
    target = float(r.rules.targets.timeliness_min) * 100
    return {
        "rate_svg": svg.line_chart(labels, [("服务及时率 %", rates)], hline=target, hline_label=f"目标 {target:g}%",
                                   y_max=100.0, aria="每周服务及时率"),
        "breach_svg": svg.bar_chart(labels, w["breached"].to_list(), y_label="超时次数", aria="每周超时次数",
                                    colors=["#c8504b"] * w.height),
        "rows": [{"week": lab, "n": n, "breached": b, "rate": f"{x:.1f}%"}
                 for lab, n, b, x in zip(labels, w["n"].to_list(), w["breached"].to_list(), rates, strict=False)],
    }


def _target_charts(r: SlaResults) -> list[dict[str, Any]]:
    sm = r.sla_month
    if sm.height == 0:
        return []
    t = r.rules.targets
    name = pl.when(pl.col("level") == "all").then(pl.lit("全部门")).when(pl.col("level") == "team").then(
        pl.col("team")).otherwise(pl.format("{}·{}", pl.col("team").fill_null(""), pl.col("staff")))
    sm = sm.with_columns(name.alias("_name"))
    out = []
    for col, target, higher, title in (
        ("timeliness", float(t.timeliness_min), True, f"服务及时率（目标 ≥ {float(t.timeliness_min) * 100:g}%）"),
        ("satisfaction", float(t.satisfaction_min), True, f"用户满意度（目标 ≥ {float(t.satisfaction_min) * 100:g}%）"),
        ("complaint_rate", float(t.complaint_below), False, f"用户抱怨率（目标 < {float(t.complaint_below) * 100:g}%）"),
    ):
        labels = sm["_name"].cast(pl.String).fill_null("—").to_list()
        vals = sm[col].to_list()
        out.append({"title": title, "svg": svg.target_bars(labels, vals, target, higher_is_better=higher,
                                                           scale=None if higher else max([target * 2] + [v or 0 for v in vals]),
                                                           aria=title)})
    return out


def _due_soon(r: SlaResults) -> dict[str, Any]:
    if r.warnings is not None:
        w = r.warnings.sort("deadline", "record_id")
        return _table(w, ["level", "record_kind", "record_id", "rule_name", "staff", "team", "deadline", "remaining_s"])
    running = r.ticket_sla.filter(pl.col("status") == "running").sort("deadline", "record_id").head(DUE_SOON)
    return _table(running, ["record_kind", "record_id", "rule_name", "staff", "team", "deadline", "remaining_s"])


def render_sla_report(results: SlaResults, month: str) -> str:
    """The month's SLA report as one self-contained HTML page."""
    r = results
    t = r.rules.targets
    o = r.overall or {}
    cards = [
        ("服务及时率", f"≥ {float(t.timeliness_min) * 100:g}%", _pct(o.get("timely"), o.get("timed")), _flag(o.get("timeliness_met"))),
        ("用户满意度", f"≥ {float(t.satisfaction_min) * 100:g}%（评分 ≥ {t.satisfied_min_score}）",
         _pct(o.get("satisfied"), o.get("surveyed")), _flag(o.get("satisfaction_met"))),
        ("用户抱怨率（服务责任）", f"< {float(t.complaint_below) * 100:g}%", _pct(o.get("complaints"), o.get("tickets")),
         _flag(o.get("complaint_met"))),
    ]
    overall = {True: ("三项目标全部达标", "ok"), False: ("有目标未达标", "bad"), None: ("无数据", "muted")}[r.targets_met]
    clocks = r.ticket_sla.sort("deadline", "record_id", nulls_last=True)
    clock_cols = ["record_kind", "record_id", "rule_name", "staff", "team", "start_at", "deadline", "stop_at",
                  "elapsed_s", "target_h", "status"]
    breached = clocks.filter(pl.col("status") == "breached")
    running = clocks.filter(pl.col("status") == "running")
    findings = r.compliance.sort("check", "record_id", "at")
    find_cols = [c for c in findings.columns if c != "finding_id"]
    tmpl = _ENV.get_template("sla_report.html.j2")
    return tmpl.render(
        month=month, as_of=plain(r.as_of), rules_version=plain(r.rules.version), rules_hash=r.rules_hash,
        overall=overall, cards=cards, notes=r.notes,
        targets=_target_charts(r), team_table=_table(r.sla_month, list(MONTH_COLUMNS)),
        due=_due_soon(r), now=plain(r.now) if r.now else None, has_warnings=r.warnings is not None,
        by_rule=_breaches_by_rule(r), weekly=_weekly(r),
        breached=_table(breached, clock_cols), running=_table(running, clock_cols),
        findings=_table(findings, find_cols), ledger=_table(r.ledger.sort("part_id"),
            [c for c in r.ledger.columns if c != "month"]),
        quarantine=_table(r.quarantine, ["source_file", "source_sheet", "source_row", "reason"]),
        extra=_extra_sections(r),
        script=Markup(_SORT_JS), script_hash=_SCRIPT_HASH,
    )


def _specs(df: pl.DataFrame) -> list[tuple[str, str, str]]:
    """(column, Chinese header, cell kind) for every column of an SLA frame."""
    specs = []
    for c, dt in df.schema.items():
        kind = SLA_KINDS.get(c)
        if kind is None:
            kind = ("datetime" if isinstance(dt, (pl.Datetime, pl.Date)) else "bool" if dt == pl.Boolean
                    else "int" if dt.is_integer() else "float" if dt.is_float() else "text")
        specs.append((c, SLA_COLUMNS.get(c) or EXTRA_LABELS.get(c, c), kind))
    return specs


def _sheet(wb: xlsxwriter.Workbook, fmts: dict, name: str, df: pl.DataFrame, sort: list[str] | None = None,
           totals: bool = False) -> None:
    df = _labelled(df)
    if sort:
        df = df.sort([c for c in sort if c in df.columns], nulls_last=True, maintain_order=True)
    sh = _Sheet(wb, name, _specs(df), fmts)
    n = sh.write_frame(df)
    if totals and df.height:
        sh.write_cell(sh.row, 0, "text", f"合计 {df.height} 条", bold=True)
        if "status" in df.columns:
            counts = df.group_by("status").len().sort("status")
            text = "，".join(f"{s} {k}" for s, k in counts.iter_rows())
            j = [c for c, _h, _k in sh.specs].index("status")
            sh.write_cell(sh.row, j, "text", text, bold=True)
        sh.row += 1
    sh.finish(n)


def write_sla_xlsx(results: SlaResults, path: Path | str) -> Path:
    """Write the SLA results workbook (月度目标, 时限明细, 预警, 合规检查, 备件对账, 数据隔离)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties(document_properties(results.month, f"{results.month} 售后服务时限"))
    fmts = _formats(wb)
    r = results
    _sheet(wb, fmts, "月度目标", r.sla_month)
    _sheet(wb, fmts, "时限明细", r.ticket_sla, ["start_at", "record_id", "rule_id"], totals=True)
    if r.warnings is not None:
        _sheet(wb, fmts, "预警", r.warnings, ["deadline", "record_id"], totals=True)
    _sheet(wb, fmts, "合规检查", r.compliance, ["check", "record_id", "at"], totals=True)
    _sheet(wb, fmts, "备件对账", r.ledger, ["part_id"])
    for name, df in (("检查项", r.checks), ("服务用语", r.courtesy), ("服务站台账", r.station_ledger), ("二次索赔按供应商", r.claims_summary)):
        if df is not None:
            _sheet(wb, fmts, name, df.with_columns(pl.col(pl.Decimal).cast(pl.String)))
    _sheet(wb, fmts, "数据隔离", r.quarantine, ["source_file", "source_sheet", "source_row"], totals=True)
    wb.close()
    return path

