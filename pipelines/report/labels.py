"""THE label table: every metric, column and code value a user sees, in Chinese, with its format.

One place feeds report.html, payroll.xlsx, sla report/xlsx, ``kefu explain`` and the notebooks.
Metric names follow what supervisors know from 生意参谋 / 赤兔 (回复率, 平均响应时长, 3分钟回复率 …).
``kind`` says how a value is shown: ``rate`` 96.3%, ``seconds`` 1分02秒, ``count`` 12,
``ratio`` 1.23, ``points`` 17.5, ``money`` ¥1,234.50, ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    """Chinese label of one metric/column and how its values are formatted."""

    text: str
    kind: str = "text"
    better: str = ""  # "high" / "low": which direction is good (for ▲▼ colours); "" = neutral


METRICS: dict[str, Label] = {
    # agent_month_metrics / agent_day_metrics (docs/marts.md)
    "conversations": Label("会话数", "count"),
    "consult_buyers": Label("咨询人数", "count"),
    "received_buyers": Label("接待人数", "count"),
    "unreplied_buyers": Label("未回复人数", "count", "low"),
    "reply_rate": Label("回复率", "rate", "high"),
    "questions": Label("问题数", "count"),
    "answered_questions": Label("已回复问题", "count"),
    "first_response_mean_s": Label("平均首次响应时长", "seconds", "low"),
    "first_response_median_s": Label("首次响应时长(中位)", "seconds", "low"),
    "avg_response_s": Label("平均响应时长", "seconds", "low"),
    "p90_response_s": Label("90%响应时长", "seconds", "low"),
    "response_3min_rate": Label("3分钟回复率", "rate", "high"),
    "slow_responses": Label("慢响应", "count", "low"),
    "ask_answer_ratio": Label("答问比", "ratio"),
    "long_conversations": Label("长接待", "count"),
    "transfers_in": Label("转入", "count"),
    "transfers_out": Label("转出", "count"),
    "agent_chars": Label("客服字数", "count"),
    "max_concurrent": Label("最大同时接待", "count"),
    "buyer_msgs": Label("买家消息数", "count"),
    "agent_msgs": Label("客服消息数", "count"),
    "polite_opening_rate": Label("礼貌开场率", "rate", "high"),
    "forbidden_hits": Label("禁用语", "count", "low"),
    "knowledge_gap_replies": Label("知识盲区回复", "count", "low"),
    "escalation_conversations": Label("投诉威胁会话", "count", "low"),
    "buyer_negative_turns": Label("买家负面", "count", "low"),
    "praise_candidates": Label("表扬候选", "count", "high"),
    # complaint figures (scoring.complaints) used by the 投诉处理 ladder
    "complaints": Label("投诉数", "count", "low"),
    "within_deadline_rate": Label("按时处理率", "rate", "high"),
    "platform_interventions": Label("平台介入", "count", "low"),
    "against_shop": Label("判商家责任", "count", "low"),
    # payroll
    "total_score": Label("总分", "points", "high"),
    "salary": Label("应发工资", "money"),
    "kpi_bonus": Label("KPI奖金", "money"),
    "base_salary": Label("底薪", "money"),
    "refund_rate": Label("退款率", "rate", "low"),
}

# payroll.csv / warehouse column → Chinese header (payroll.xlsx 工资表, report, explain)
PAYROLL_HEADERS: dict[str, str] = {
    "month": "月份",
    "agent": "客服账号",
    "name": "姓名",
    "role": "岗位",
    "quality_grade": "客服素质等级",
    "quality_pts": "客服素质得分",
    "refund_rate": "退款率",
    "refund_pts": "退款率得分",
    "complaint_grade": "投诉处理等级",
    "complaint_pts": "投诉处理得分",
    "cooperation_pts": "配合度得分",
    "execution_pts": "执行力得分",
    "attendance_pts": "出勤率得分",
    "deductions": "扣分合计",
    "bonuses": "加分合计",
    "total_score": "总分",
    "passed": "达标",
    "kpi_bonus": "KPI奖金",
    "base_salary": "底薪",
    "salary": "应发工资",
    "status": "状态",
    "status_reason": "状态说明",
}

STATUS_LABELS = {"final": "已定稿", "incomplete": "待补充"}
PASSED_LABELS = {True: "达标", False: "未达标"}

# kpi_items.source → Chinese
SOURCE_LABELS = {
    "suggested": "系统建议", "override": "主管覆盖", "data": "数据计算", "none": "无数据",
    "metrics": "系统建议", "supervisor": "主管评定",
}

KIND_LABELS = {
    "slow_response": "慢响应",
    "unanswered": "未回复",
    "forbidden_word": "禁用语",
    "knowledge_gap": "知识盲区",
    "escalation": "升级/投诉威胁",
    "praise_candidate": "表扬候选",
    "negative_turn": "买家负面",
    "product_gap": "商品知识",
    "deduction": "扣分",
    "bonus": "加分",
}
# who wrote the evidence excerpt when the message itself is not at hand
KIND_SPEAKER = {
    "slow_response": "buyer", "unanswered": "buyer", "forbidden_word": "agent", "knowledge_gap": "agent",
    "escalation": "buyer", "praise_candidate": "buyer", "negative_turn": "buyer", "product_gap": "buyer",
}
SPEAKER_LABELS = {"buyer": "买家", "agent": "客服", "system": "系统"}

ADJUSTMENT_ITEM_LABELS = {  # kpi_adjustments.item keys of the rules file → Chinese
    "low_quality_review": "低质评价", "verified_complaint": "客户投诉(查实)", "praise": "客户表扬",
    "outstanding": "表现突出", "praise_candidate": "表扬候选(聊天)",
}
LEXICON_LABELS = {
    "politeness": "礼貌用语", "polite": "礼貌用语", "forbidden": "禁用语", "forbidden_word": "禁用语",
    "ad_law": "广告法极限词", "knowledge_gap": "知识盲区", "escalation": "升级/投诉威胁",
    "praise": "表扬", "negative": "买家负面", "product": "商品/活动",
}
# KPI item keys of the default scheme → Chinese (the run's rules file labels win when present)
ITEM_LABELS = {
    "quality": "售后客服素质", "refund_rate": "退款率", "complaints": "投诉/维权/举报/退款纠纷处理",
    "cooperation": "配合度", "execution": "执行力", "attendance": "出勤率",
}
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def metric_label(key: str) -> str:
    """Chinese label of a metric/column key; unknown keys unchanged."""
    m = METRICS.get(key)
    return m.text if m else PAYROLL_HEADERS.get(key, key)


def metric_kind(key: str) -> str:
    """Format kind of a metric key (``rate``/``seconds``/``count``/…); ``text`` when unknown."""
    m = METRICS.get(key)
    return m.kind if m else "text"


# --- SLA (售后服务时限) -------------------------------------------------------------------------
SLA_STATUS = {"met": "达标", "breached": "超时", "running": "进行中"}
SLA_LEVELS = {"all": "全部门", "team": "服务组", "staff": "服务人员"}
SLA_RECORD_KINDS = {"ticket": "服务工单", "call": "来电来函"}
# every column of the SLA result frames → Chinese header (unknown columns keep their name)
SLA_COLUMNS: dict[str, str] = {
    "month": "月份", "level": "层级", "team": "服务组", "staff": "服务人员",
    "timely": "及时", "timed": "应计", "timeliness": "服务及时率", "timeliness_met": "及时率达标",
    "running": "进行中", "satisfied": "满意", "surveyed": "调查数", "satisfaction": "用户满意度",
    "satisfaction_met": "满意度达标", "complaints": "服务责任抱怨", "tickets": "工单数",
    "complaint_rate": "用户抱怨率", "complaint_met": "抱怨率达标", "all_met": "全部达标",
    "record_kind": "类型", "record_id": "编号", "rule_id": "规则编号", "rule_name": "时限规则",
    "policy_ref": "条款", "calendar": "计时日历", "target_h": "时限(小时)", "start_event": "起点",
    "stop_event": "终点", "start_at": "开始", "deadline": "期限", "stop_at": "完成",
    "elapsed_s": "用时", "remaining_s": "剩余", "remaining_h": "剩余(小时)", "status": "状态",
    "decided_at": "判定时间", "decided_month": "判定月份", "counts_for_timeliness": "计入及时率",
    "finding_id": "发现编号", "check": "检查项", "at": "时间", "detail": "说明",
    "part_id": "备件编号", "part_name": "备件名称", "counted_on": "盘点日期", "opening_qty": "期初",
    "received": "接收", "issued": "发放", "computed_book": "应有", "book_qty": "账面",
    "counted_qty": "实盘", "book_diff": "账账差", "count_diff": "账物差",
    "kind": "类型", "source_file": "文件", "source_sheet": "工作表", "source_row": "行", "reason": "原因",
    "raw": "原始内容",
}
# how SLA columns are formatted (others: by dtype)
SLA_KINDS: dict[str, str] = {
    "timeliness": "rate", "satisfaction": "rate", "complaint_rate": "rate",
    "elapsed_s": "duration", "remaining_s": "duration",
    "timeliness_met": "bool", "satisfaction_met": "bool", "complaint_met": "bool", "all_met": "bool",
    "counts_for_timeliness": "bool",
}


def humanize(text: str) -> str:
    """A scoring text in users' words: metric keys → labels (``within_deadline_rate`` →
    按时处理率), sources and booleans → Chinese, ``命中档 [1]`` → ``命中第 2 档``."""
    import re

    from .fmt import by_kind

    for key in sorted(METRICS, key=len, reverse=True):
        if key in text:
            text = text.replace(key, METRICS[key].text)
    num = r"-?\d+(?:\.\d+)?"
    for lab in sorted({m.text: m for m in METRICS.values() if m.kind in ("rate", "seconds")}.values(),
                      key=lambda m: len(m.text), reverse=True):
        def shown(m: re.Match, lab: Label = lab) -> str:
            tail = f"{m.group(4)}{by_kind(lab.kind, float(m.group(5)))}" if m.group(5) else ""
            return f"{m.group(1)}{m.group(2)}{by_kind(lab.kind, float(m.group(3)))}{tail}"
        text = re.sub(rf"({re.escape(lab.text)})(=| |≥|≤)({num})( [<>≤≥] )?({num})?", shown, text)
    text = re.sub(r"命中档 \[(\d+)\]", lambda m: f"命中第 {int(m.group(1)) + 1} 档", text)
    text = re.sub(r"档位 \[(\d+)\]", lambda m: f"第 {int(m.group(1)) + 1} 档", text)
    text = re.sub(r"来源 (suggested|override|data|none)\b", lambda m: "来源 " + SOURCE_LABELS[m.group(1)], text)
    text = re.sub(r"(合格|达标) True\b", r"\1 是", text)
    text = re.sub(r"(合格|达标) False\b", r"\1 否", text)
    text = re.sub(r"(合格|达标) None\b", r"\1 —", text)
    return text.replace("incomplete", STATUS_LABELS["incomplete"]).replace("final", STATUS_LABELS["final"])


def resolve_agent(accounts: list[str], names: list[str | None], query: str) -> tuple[str | None, list[str]]:
    """The one account ``query`` names: a full account (店铺名:子账号), a unique sub-account
    (子账号) or a unique name. Returns (account, []) or (None, the candidates it could be)."""
    q = query.strip()
    for rule in (lambda a, n: a == q, lambda a, n: a.split(":")[-1] == q or n == q,
                 lambda a, n: q in a or (n is not None and q in n)):
        hits = sorted({a for a, n in zip(accounts, names, strict=False) if a is not None and rule(a, n)})
        if len(hits) == 1:
            return hits[0], []
        if hits:
            return None, hits
    return None, []
