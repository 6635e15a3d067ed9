"""Supervisor workbook (主管填报表), DingTalk attendance summary and 生意参谋 stats.

These files are small (one row per agent, complaint, review or person-day), so plain
Python building rows is fine here. Each function returns the file entry and its facts
(ground truth) for :class:`~pipelines.sample.summary.SampleSummary`.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from . import catalog as cat
from .chats import AgentPlan
from .summary import SampleFile
from .write_chats import new_workbook

DT = "%Y-%m-%d %H:%M:%S"


def roles(n: int) -> list[str]:
    """Agent 0 leads the team, agents 1-2 are senior, the rest ordinary."""
    return ["售后组长"] + ["高级售后客服"] * min(2, n - 1) + ["普通售后客服"] * max(0, n - 3)


def dingtalk_names(n: int) -> list[str]:
    """DingTalk 姓名 per agent: agent 4 (if any) is registered with a suffix in DingTalk."""
    names = list(cat.AGENT_NAMES[:n])
    if n > 4:
        names[4] = f"{names[4]}-售后"
    return names


def write_workbook(path: Path, month: str, plan: AgentPlan, convs: pl.DataFrame, refunds: pl.DataFrame,
                   rng: np.random.Generator, export_at: datetime) -> tuple[SampleFile, dict]:
    """主管填报表.xlsx with sheets 客服名单, 主管评分, 投诉维权, 评价 (docs/supervisor_workbook.md)."""
    A = len(plan.accounts)
    rl = roles(A)
    dnames = dingtalk_names(A)
    wb = new_workbook(path, export_at)
    bold = wb.add_format({"bold": True})
    facts: dict = {}

    ws = wb.add_worksheet("客服名单")
    ws.write_row(0, 0, ["客服账号", "姓名", "岗位", "钉钉姓名", "入职日期", "离职日期"], bold)
    for i, acc in enumerate(plan.accounts):
        joined = date(2023 + i % 3, 1 + (i * 5) % 12, 1 + (i * 7) % 27).isoformat()
        dn = dnames[i] if dnames[i] != cat.AGENT_NAMES[i] or i % 3 == 0 else ""  # blank = same as 姓名
        ws.write_row(i + 1, 0, [acc, cat.AGENT_NAMES[i], rl[i], dn, joined, ""])

    # ratings: one agent's 执行力 left blank (not yet rated)
    missing = 2
    grades = ["优", "良", "良", "中", "良", "优", "良", "中", "良", "优", "良", "良", "中", "良", "优", "良"]
    bonus = {1: 3, 0: 2}
    ws = wb.add_worksheet("主管评分")
    ws.write_row(0, 0, ["月份", "客服账号", "配合度", "执行力", "客服素质(覆盖)", "投诉处理(覆盖)", "表现突出加分", "备注"], bold)
    overrides = {plan.rude: ("差", ""), 0: ("", "良")}
    for i, acc in enumerate(plan.accounts):
        q, c = overrides.get(i, ("", ""))
        ex = "" if i == missing else grades[(i + 1) % len(grades)]
        coop = "中" if i == plan.rude else grades[i]
        note = {missing: "执行力待评", plan.rude: "聊天中多次使用禁用语", 1: "本月响应最快，买家多次表扬"}.get(i, "")
        ws.write_row(i + 1, 0, [month, acc, coop, ex, q, c, "", note])
        if i in bonus:
            ws.write_number(i + 1, 6, bonus[i])
    facts["missing_execution"] = plan.accounts[missing]
    facts["outstanding_bonus"] = {plan.accounts[i]: b for i, b in bonus.items()}
    facts["quality_override"] = {plan.accounts[plan.rude]: "差"}
    facts["complaint_override"] = {plan.accounts[0]: "良"}

    # complaints: from conversations where the buyer threatened, kinds in turn
    threats = convs.filter(pl.col("threat")).sort("conv").head(max(6, min(30, convs.filter(pl.col("threat")).height)))
    refund_of = dict(zip(refunds["buyer"].to_list(), refunds["order_id"].to_list(), strict=False))
    ws = wb.add_worksheet("投诉维权")
    ws.write(0, 0, f"{month[:4]}年{int(month[5:])}月 投诉维权登记表")
    head = ["编号", "类型", "客服账号", "买家", "订单编号", "发生时间", "处理完成时间", "平台介入", "处理结果", "查实", "扣分", "备注"]
    ws.write_row(1, 0, head, bold)
    late, open_, verified = 0, 0, {}
    kinds = {k: 0 for k in cat.COMPLAINT_KINDS}
    for j, row in enumerate(threats.iter_rows(named=True)):
        kind = cat.COMPLAINT_KINDS[j % 4]
        kinds[kind] += 1
        got = row["start"] + timedelta(hours=int(rng.integers(1, 30)))
        if j % 5 == 3:
            handled, open_ = None, open_ + 1
        elif j % 3 == 1:
            handled, late = got + timedelta(hours=int(rng.integers(50, 120))), late + 1
        else:
            handled = got + timedelta(hours=int(rng.integers(1, 20)))
        is_verified = j % 4 == 0
        ded = 15 if row["agent_account"] == plan.accounts[plan.rude] else (5 if j % 8 == 0 else 10)
        outcome = "商家责任" if is_verified else ("买家撤销" if j % 2 else "非商家责任")
        if handled is None:
            outcome = ""
        ws.write_row(j + 2, 0, [
            f"TS{month.replace('-', '')}{j + 1:03d}", kind, row["agent_account"], row["buyer"],
            refund_of.get(row["buyer"], ""), got.strftime(DT), handled.strftime(DT) if handled else "",
            "是" if kind in ("维权", "退款纠纷") else "否", outcome, "是" if is_verified else "否", "",
            "买家聊天中威胁投诉" if j % 2 == 0 else "",
        ])
        if is_verified:
            ws.write_number(j + 2, 10, ded)
            verified[row["agent_account"]] = verified.get(row["agent_account"], 0) + ded
    facts["complaints"] = {"rows": threats.height, "by_kind": kinds, "handled_late": late, "open": open_,
                           "verified_deductions": verified}

    # reviews: low-quality ones mostly about the rude agent, praise mostly for the praised agent
    ws = wb.add_worksheet("评价")
    ws.write_row(0, 0, ["编号", "类型", "客服账号", "买家", "订单编号", "评价时间", "售后原因", "主管确认", "评价内容"], bold)
    praise = convs.filter(pl.col("praise")).sort("conv").head(6)
    low = convs.filter(pl.col("agent_account") == plan.accounts[plan.rude]).sort("conv").head(4)
    low = pl.concat([low, convs.filter(pl.col("agent_account") != plan.accounts[plan.rude]).sort("conv").head(2)])
    r = 1
    low_as, praise_ok = {}, {}
    for j, row in enumerate(low.iter_rows(named=True)):
        after = j % 3 != 2
        at = row["start"] + timedelta(days=2)
        ws.write_row(r, 0, [f"PJ{r:04d}", "低质评价", row["agent_account"], row["buyer"], refund_of.get(row["buyer"], ""),
                            at.strftime(DT), "是" if after else "否", "", cat.LOW_REVIEWS[j % len(cat.LOW_REVIEWS)]])
        if after:
            low_as[row["agent_account"]] = low_as.get(row["agent_account"], 0) + 1
        r += 1
    for j, row in enumerate(praise.iter_rows(named=True)):
        ok = j % 4 != 3
        at = row["start"] + timedelta(days=1)
        ws.write_row(r, 0, [f"PJ{r:04d}", "表扬", row["agent_account"], row["buyer"], "", at.strftime(DT), "",
                            "是" if ok else "否", cat.PRAISE_REVIEWS[j % len(cat.PRAISE_REVIEWS)]])
        if ok:
            praise_ok[row["agent_account"]] = praise_ok.get(row["agent_account"], 0) + 1
        r += 1
    facts["reviews"] = {"rows": r - 1, "low_after_sales": low_as, "praise_confirmed": praise_ok}
    wb.close()
    rows = {"roster": A, "ratings": A, "complaints": threats.height, "reviews": r - 1}
    return SampleFile(path.name, "supervisor_workbook", "xlsx", rows), facts


# ------------------------------------------------------------------ attendance

# planned irregularities per agent index: list of (status, consecutive days)
_ATT_PLAN = {
    1: [("迟到", 1)],
    2: [("事假", 2), ("迟到", 1)],
    3: [("严重迟到", 1), ("早退", 1)],
    4: [("病假", 1), ("上班缺卡", 1)],
    5: [("旷工", 1)],
    6: [("迟到", 1), ("迟到", 1)],
    7: [("请假", 1)],
}
LEAVE = ("事假", "病假", "请假", "调休", "年假")


def write_attendance(path: Path, month: str, n_agents: int, rng: np.random.Generator,
                     export_at: datetime) -> tuple[SampleFile, dict]:
    """DingTalk 月度汇总: two title rows, a header with per-person totals and day columns."""
    y, m = int(month[:4]), int(month[5:])
    days = calendar.monthrange(y, m)[1]
    weekday = [date(y, m, d).weekday() < 5 for d in range(1, days + 1)]
    people = dingtalk_names(n_agents) + ["张建国", "李秀英"]
    depts = ["客服部"] * n_agents + ["仓储部", "仓储部"]
    wb = new_workbook(path, export_at)
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("月度汇总")
    ws.write(0, 0, f"月度汇总 统计日期：{y}-{m:02d}-01 至 {y}-{m:02d}-{days:02d}")
    ws.write(1, 0, f"报表生成时间：{export_at.strftime('%Y-%m-%d %H:%M')}")
    totals = ["应出勤天数", "出勤天数", "休息天数", "迟到次数", "迟到时长", "严重迟到次数", "严重迟到时长", "旷工迟到次数",
              "早退次数", "早退时长", "上班缺卡次数", "下班缺卡次数", "旷工天数", "事假(天)", "病假(天)", "调休(天)", "年假(天)"]
    ws.write_row(2, 0, ["姓名", "部门", "工号", "职位"] + totals + [str(d) for d in range(1, days + 1)], bold)
    work_days = [d for d in range(days) if weekday[d]]
    facts = {}
    for p, (name, dept) in enumerate(zip(people, depts, strict=False)):
        status = ["正常" if w else "休息" for w in weekday]
        plan = _ATT_PLAN.get(p % 8, []) if p < n_agents else []
        free = list(work_days)
        for st, span in plan:
            # a start day with `span` consecutive free work days
            starts = [d for d in free if all(d + k in free for k in range(span))]
            d0 = int(starts[int(rng.integers(0, len(starts)))])
            for k in range(span):
                status[d0 + k] = st
                free.remove(d0 + k)
        c = {s: status.count(s) for s in set(status)}
        leave_days = {s: c.get(s, 0) for s in LEAVE}
        spells = sum(1 for d in range(days) if status[d] in LEAVE and (d == 0 or status[d - 1] != status[d]))
        required = len(work_days)
        absent = c.get("旷工", 0)
        attended = required - absent - sum(leave_days.values())
        row = [name, dept, f"YP{100 + p:03d}", "客服专员" if p < n_agents else "仓管员",
               required, attended, days - required, c.get("迟到", 0), 12 * c.get("迟到", 0), c.get("严重迟到", 0),
               45 * c.get("严重迟到", 0), 0, c.get("早退", 0), 20 * c.get("早退", 0), c.get("上班缺卡", 0), 0, absent,
               leave_days["事假"] + leave_days["请假"], leave_days["病假"], 0, 0]
        ws.write_row(3 + p, 0, row + status)
        facts[name] = {"late": c.get("迟到", 0), "severe_late": c.get("严重迟到", 0), "early": c.get("早退", 0),
                       "missing_in": c.get("上班缺卡", 0), "absent": absent,
                       "leave_days": sum(leave_days.values()), "leave_spells": spells}
    wb.close()
    rows = {"attendance": len(people) * days, "attendance_summary": len(people)}
    return SampleFile(path.name, "dingtalk_attendance", "xlsx", rows), facts


# ------------------------------------------------------------------ 生意参谋


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def write_sycm(path: Path, month: str, plan: AgentPlan, msgs: pl.DataFrame, export_at: datetime) -> SampleFile:
    """咨询接待分析 (sheet 数据信息) with figures derived roughly from the chats, plus the
    汇总值 / 平均值 rows."""
    human = (pl.col("sender_role") == "agent") & ~pl.col("is_auto_reply") & (pl.col("event") == "message")
    per = msgs.group_by("agent_account").agg(
        consult=pl.col("buyer").filter(pl.col("sender_role") == "buyer").n_unique(),
        received=pl.col("buyer").filter(human).n_unique(),
        buyer_msgs=(pl.col("sender_role") == "buyer").sum(),
        agent_msgs=human.sum(),
    )
    stats = {r["agent_account"]: r for r in per.iter_rows(named=True)}
    wb = new_workbook(path, export_at)
    bold = wb.add_format({"bold": True})
    ws = wb.add_worksheet("数据信息")
    y, m = month[:4], month[5:]
    ws.write(0, 0, f"咨询接待分析  统计时间：{y}-{m}-01 ~ {y}-{m}-{calendar.monthrange(int(y), int(m))[1]:02d}")
    head = ["旺旺昵称", "咨询人数", "接待人数", "未回复人数", "有效接待人数", "平均响应时长（秒）", "3分钟人工响应率", "旺旺回复率",
            "首次响应时长（秒）", "慢响应人数", "答问比", "旺旺分组"]
    ws.write_row(1, 0, head, bold)
    sums = np.zeros(5)
    for i, acc in enumerate(plan.accounts):
        s = stats.get(acc, {"consult": 0, "received": 0, "buyer_msgs": 0, "agent_msgs": 0})
        med = plan.median_response_s[i]
        unrep = max(0, s["consult"] - s["received"])
        slow = int(round(s["received"] * (0.55 if med > 100 else 0.08)))
        rate3 = 0.62 if med > 100 else 0.97
        ratio = s["agent_msgs"] / s["buyer_msgs"] if s["buyer_msgs"] else 0.0
        ws.write_row(i + 2, 0, [acc, s["consult"], s["received"], unrep, max(0, s["received"] - 1), round(med * 1.3, 1),
                                _pct(rate3), _pct(s["received"] / s["consult"] if s["consult"] else 0),
                                round(med * 1.1, 1), slow, f"{ratio:.2f}", "售后组"])
        sums += [s["consult"], s["received"], unrep, max(0, s["received"] - 1), slow]
    n = len(plan.accounts)
    r = n + 2
    ws.write_row(r, 0, ["汇总值", *[int(x) for x in sums[:4]], "-", "-", "-", "-", int(sums[4]), "-", "-"])
    ws.write_row(r + 1, 0, ["平均值", *[round(x / n, 2) for x in sums[:4]], "-", "-", "-", "-", round(sums[4] / n, 2), "-", "-"])
    wb.close()
    return SampleFile(path.name, "stats_sycm", "xlsx", {"agent_stats": n})
