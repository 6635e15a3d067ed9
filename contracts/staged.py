"""Canonical staged tables: the contract between readers, the warehouse and analytics.

Each table is a list of ``Col``. Readers only *rename* source columns to these names and
hand over strings (or already-parsed values); ``pipelines.staging.stage`` casts them
by ``type``, checks ``required``/``choices``/``min``, quarantines bad rows with a reason,
drops duplicates by ``natural_key`` and keeps rows of the requested month by ``month_by``.

Types:
  str       free text (stripped; empty -> null)
  id        an identifier given back as a plain string: Excel/Taobao wrappers such as
            ``="123"``, a leading ``'`` or tab, trailing ``.0`` are removed; scientific
            notation (``1.23E+17``, digits lost by Excel) is a quarantine reason; so is a
            value that is no id (``NULL``, ``-``, ``无``) or does not have the column's
            ``pattern`` (Taobao order/refund ids: 15–20 digits)
  datetime  naive ``Datetime('us')`` holding China local time (Asia/Shanghai, UTC+8, no DST)
  date      ``Date``
  decimal   ``Decimal(14, 2)``, exact money
  int       ``Int64``
  float     ``Float64``
  bool      ``Boolean`` from 是/否, Y/N, true/false, 1/0

Every staged table also carries ``month`` ('YYYY-MM', the partition it was loaded into) and
the lineage columns ``source_file``, ``source_sheet`` (null for CSV/text) and
``source_row`` (1-based row/line number in the source file as a user would see it).
"""

from __future__ import annotations

from typing import Any

from .table import DUCKDB_TYPES, LINEAGE, POLARS_TYPES, Col, Table  # noqa: F401 (re-exported)

GRADES = ("优", "良", "中", "差")
ROLES = ("普通售后客服", "高级售后客服", "售后组长")

# Statuses the 退款管理 export uses. Anything else is quarantined as 未知退款状态.
REFUND_STATUSES = (
    "退款成功",
    "退款关闭",
    "等待卖家同意",
    "等待买家退货",
    "等待卖家确认收货",
    "卖家拒绝退款",
    "退款中",
)

# Shapes of real ids (checked on the unwrapped value; anything else is quarantined)
TAOBAO_ID: dict[str, Any] = {"pattern": r"^\d{15,20}$", "pattern_hint": "应为15–20位数字"}
ALIPAY_ID: dict[str, Any] = {"pattern": r"^\d{16,32}$", "pattern_hint": "应为16–32位数字"}
# ids the supervisor assigns (TS202610001, PJ0001): letters, digits, CJK and - _ . / #
SUPERVISOR_ID: dict[str, Any] = {
    "pattern": r"^[0-9A-Za-z\p{Han}][0-9A-Za-z\p{Han}_\-./#]{0,39}$",
    "pattern_hint": "应由字母、数字、汉字和 -_./# 组成, 最长40个字符",
}

MESSAGES = Table(
    "messages",
    (
        Col("shop", "str", "店铺", required=True),
        Col("agent_account", "str", "客服账号", required=True),
        Col("buyer", "str", "买家", required=True),
        Col("sender", "str", "发送账号", required=True),
        Col("sender_role", "str", "发送方", required=True, choices=("buyer", "agent", "system")),
        Col("sent_at", "datetime", "发送时间", required=True),
        Col("text", "str", "发送内容"),
        Col("is_auto_reply", "bool", "自动回复"),
        Col("event", "str", "事件", required=True, choices=("message", "recall", "transfer")),
        Col("transfer_from", "str", "转出客服"),
        Col("transfer_to", "str", "转入客服"),
        Col("transfer_reason", "str", "转交原因"),
        Col("read_status", "str", "已读状态", choices=("已读", "未读")),
        Col("seq", "int", "文件内顺序", required=True),
    ),
    natural_key=("shop", "agent_account", "buyer", "sender", "sent_at", "event", "text"),
    month_by=("sent_at",),
    dedupe_with_occurrence=True,
    doc="One row per chat message, recall or transfer notice. A thread is (shop, agent_account, buyer).",
)

ORDERS = Table(
    "orders",
    (
        Col("order_id", "id", "订单编号", required=True, **TAOBAO_ID),
        Col("payment_id", "id", "支付单号", **ALIPAY_ID),
        Col("buyer", "str", "买家会员名"),
        Col("shop", "str", "店铺名称"),
        Col("status", "str", "订单状态"),
        Col("total_amount", "decimal", "总金额", min=0),
        Col("paid_amount", "decimal", "买家实际支付金额", required=True, min=0),
        Col("created_at", "datetime", "订单创建时间", required=True),
        Col("paid_at", "datetime", "订单付款时间"),
        Col("shipped_at", "datetime", "发货时间"),
        Col("title", "str", "宝贝标题"),
        Col("quantity", "int", "宝贝总数量", min=0),
        Col("layout", "str", "报表版式", choices=("classic", "new")),
    ),
    natural_key=("order_id",),
    month_by=("paid_at", "created_at"),
    doc="One row per order. Receiver name, address and phone are not staged (not needed, private).",
)

REFUNDS = Table(
    "refunds",
    (
        Col("refund_id", "id", "退款编号", required=True, **TAOBAO_ID),
        Col("order_id", "id", "订单编号", required=True, **TAOBAO_ID),
        Col("alipay_trade_no", "id", "支付宝交易号", **ALIPAY_ID),
        Col("buyer", "str", "买家会员名称"),
        Col("order_paid_at", "datetime", "订单付款时间"),
        Col("paid_amount", "decimal", "买家实际支付金额", min=0),
        Col("refund_amount", "decimal", "买家退款金额", required=True, min=0),
        Col("title", "str", "宝贝标题"),
        Col("refund_kind", "str", "手工退款/系统退款"),
        Col("needs_return", "bool", "是否需要退货"),
        Col("applied_at", "datetime", "退款的申请时间", required=True),
        Col("timeout_at", "datetime", "超时时间"),
        Col("status", "str", "退款状态", required=True, choices=REFUND_STATUSES),
        Col("goods_status", "str", "货物状态"),
        Col("cs_intervention", "str", "客服介入状态"),
        Col("reason", "str", "买家退款原因"),
        Col("description", "str", "买家退款说明"),
        Col("responsibility", "str", "责任方"),
        Col("phase", "str", "售中或售后"),
        Col("completed_at", "datetime", "退款完结时间"),
        Col("full_or_partial", "str", "部分退款/全部退款"),
        Col("reviewer", "str", "审核操作人"),
        Col("operator", "str", "退款操作人"),
    ),
    natural_key=("refund_id",),
    month_by=("applied_at", "completed_at"),
    doc="One row per refund (退款管理 export).",
)

COMPLAINTS = Table(
    "complaints",
    (
        Col("complaint_id", "id", "编号", required=True, **SUPERVISOR_ID),
        Col("kind", "str", "类型", required=True, choices=("投诉", "维权", "举报", "退款纠纷")),
        Col("agent_account", "str", "客服账号"),
        Col("buyer", "str", "买家"),
        Col("order_id", "id", "订单编号", **TAOBAO_ID),
        Col("received_at", "datetime", "发生时间", required=True),
        Col("handled_at", "datetime", "处理完成时间"),
        Col("platform_intervened", "bool", "平台介入"),
        Col("outcome", "str", "处理结果"),
        Col("verified", "bool", "查实"),
        Col("deduction", "int", "扣分"),
        Col("note", "str", "备注"),
    ),
    natural_key=("complaint_id",),
    month_by=("received_at", "handled_at"),
    doc="Supervisor workbook sheet 投诉维权. deduction (5..20) applies when verified; range checked by scoring rules.",
)

REVIEWS = Table(
    "reviews",
    (
        Col("review_id", "id", "编号", required=True, **SUPERVISOR_ID),
        Col("kind", "str", "类型", required=True, choices=("低质评价", "表扬")),
        Col("agent_account", "str", "客服账号", required=True),
        Col("buyer", "str", "买家"),
        Col("order_id", "id", "订单编号", **TAOBAO_ID),
        Col("reviewed_at", "datetime", "评价时间", required=True),
        Col("after_sales", "bool", "售后原因"),
        Col("confirmed", "bool", "主管确认"),
        Col("content", "str", "评价内容"),
    ),
    natural_key=("review_id",),
    month_by=("reviewed_at",),
    doc="Supervisor workbook sheet 评价: low-quality reviews and praise.",
)

RATINGS = Table(
    "ratings",
    (
        Col("rating_month", "str", "月份", required=True),
        Col("agent_account", "str", "客服账号", required=True),
        Col("cooperation", "str", "配合度", choices=GRADES),
        Col("execution", "str", "执行力", choices=GRADES),
        Col("quality_override", "str", "客服素质(覆盖)", choices=GRADES),
        Col("complaint_override", "str", "投诉处理(覆盖)", choices=GRADES),
        Col("outstanding_bonus", "int", "表现突出加分"),
        Col("note", "str", "备注"),
    ),
    natural_key=("rating_month", "agent_account"),
    month_by=None,  # rating_month is compared to the ingested month by the stager
    doc="Supervisor workbook sheet 主管评分. Missing grades stay null (scoring marks the agent incomplete).",
)

ROSTER = Table(
    "roster",
    (
        Col("agent_account", "str", "客服账号", required=True),
        Col("name", "str", "姓名", required=True),
        Col("role", "str", "岗位", required=True, choices=ROLES),
        Col("dingtalk_name", "str", "钉钉姓名"),
        Col("joined_on", "date", "入职日期"),
        Col("left_on", "date", "离职日期"),
    ),
    natural_key=("agent_account",),
    month_by=None,
    doc="Supervisor workbook sheet 客服名单: the month's roster snapshot.",
)

ATTENDANCE = Table(
    "attendance",
    (
        Col("dingtalk_name", "str", "姓名", required=True),
        Col("day", "date", "日期", required=True),
        Col("status", "str", "考勤状态"),
    ),
    natural_key=("dingtalk_name", "day"),
    month_by=("day",),
    doc="DingTalk monthly summary, day columns unpivoted: one row per person and day, status as DingTalk wrote it.",
)

ATTENDANCE_SUMMARY = Table(
    "attendance_summary",
    (
        Col("dingtalk_name", "str", "姓名", required=True),
        Col("department", "str", "部门"),
        Col("required_days", "float", "应出勤天数"),
        Col("attended_days", "float", "出勤天数"),
        Col("rest_days", "float", "休息天数"),
        Col("late_count", "int", "迟到次数", min=0),
        Col("late_minutes", "float", "迟到时长", min=0),
        Col("severe_late_count", "int", "严重迟到次数", min=0),
        Col("absent_late_count", "int", "旷工迟到次数", min=0),
        Col("early_count", "int", "早退次数", min=0),
        Col("missing_in_count", "int", "上班缺卡次数", min=0),
        Col("missing_out_count", "int", "下班缺卡次数", min=0),
        Col("absent_days", "float", "旷工天数", min=0),
        Col("leave_days", "float", "请假天数", min=0),
    ),
    natural_key=("dingtalk_name",),
    month_by=None,
    doc="DingTalk monthly summary per-person totals (as DingTalk counted them).",
)

AGENT_STATS = Table(
    "agent_stats",
    (
        Col("source", "str", "来源", required=True, choices=("sycm", "chitu")),
        Col("agent_nick", "str", "旺旺昵称", required=True),
        Col("consult_buyers", "int", "咨询人数", min=0),
        Col("received_buyers", "int", "接待人数", min=0),
        Col("unreplied_buyers", "int", "未回复人数", min=0),
        Col("reply_rate", "float", "回复率"),
        Col("first_response_s", "float", "首次响应(秒)", min=0),
        Col("avg_response_s", "float", "平均响应(秒)", min=0),
        Col("response_3min_rate", "float", "3分钟人工响应率"),
        Col("slow_buyers", "int", "慢响应人数", min=0),
        Col("ask_answer_ratio", "float", "答问比"),
        Col("long_receptions", "int", "长接待人数", min=0),
        Col("transfers_out", "int", "转出人数", min=0),
        Col("agent_chars", "int", "客服字数", min=0),
        Col("max_concurrent", "int", "最大同时聊天数", min=0),
        Col("group_name", "str", "旺旺分组"),
    ),
    natural_key=("source", "agent_nick"),
    month_by=None,
    doc="Per-agent statistics from 生意参谋 咨询接待分析 or Chitu 客服数据, for shops without raw chats. Rates are fractions 0..1.",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        MESSAGES,
        ORDERS,
        REFUNDS,
        COMPLAINTS,
        REVIEWS,
        RATINGS,
        ROSTER,
        ATTENDANCE,
        ATTENDANCE_SUMMARY,
        AGENT_STATS,
    )
}

# Service-SLA inputs (issue 6) are canonical tables too.
from .sla import SLA_TABLES  # noqa: E402

TABLES.update(SLA_TABLES)


def _quarantine(name: str, what: str) -> Table:
    return Table(
        name,
        (
            Col("kind", "str", "表"),
            Col("source_file", "str", "文件"),
            Col("source_sheet", "str", "工作表"),
            Col("source_row", "int", "行"),
            Col("reason", "str", "原因"),
            Col("raw", "str", "原始内容"),
            Col("month", "str", "月份"),
        ),
        natural_key=("kind", "source_file", "source_sheet", "source_row"),
        doc=f"Rows of the {what} inbox that failed a check, with file, sheet, row and the reason (raw: the row's canonical values as JSON).",
        layer="quarantine",
    )


QUARANTINE = _quarantine("quarantine", "KPI")
SLA_QUARANTINE = _quarantine("sla_quarantine", "SLA")
