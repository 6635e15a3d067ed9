"""Tables of the service-SLA module (policy 篇2 售后服务管理考核办法): the staged inputs and
the result tables the SLA run writes.

Staged tables follow the conventions of :mod:`contracts.staged` (``SLA_TABLES`` is merged
into its ``TABLES``). Each ``Col.label`` is also the Chinese header of the shipped workbook template
(see ``docs/sla.md``); the SLA readers map headers to columns through these labels.

Ledger sheets (备用件台账 and 二次索赔) are cumulative registers: a month's workbook lists
every row still relevant (open claims, unreturned old parts), so they have no ``month_by``
and the SLA engine picks dates itself.
"""

from __future__ import annotations

from .table import Col, Table, computed, history_of

TICKET_CHANNELS = ("电话", "来函", "上门", "线上")
FAULT_CATEGORIES = ("车身", "底盘", "发动机", "其他")
TICKET_STATUSES = ("待处理", "处理中", "等待用户确认", "等待配件", "已完成", "已关闭")
CALL_KINDS = ("来电", "来函")
APPROVALS = ("已批准", "待审批", "已驳回")
CLAIM_STATUSES = ("处理中", "已结案", "已驳回")

SLA_TICKETS = Table(
    "sla_tickets",
    (
        Col("ticket_id", "id", "工单编号", required=True),
        Col("received_at", "datetime", "报修时间", required=True),
        Col("channel", "str", "报修渠道", choices=TICKET_CHANNELS),
        Col("customer", "str", "用户"),
        Col("vehicle_model", "str", "车型"),
        Col("vehicle_no", "id", "车辆编号"),
        Col("fault_category", "str", "故障类别", required=True, choices=FAULT_CATEGORIES),
        Col("distance_km", "float", "服务半径(km)", min=0),
        Col("needs_supplier", "bool", "需配套厂家"),
        Col("staff", "str", "服务人员"),
        Col("team", "str", "服务组"),
        Col("first_reply_at", "datetime", "答复用户时间"),
        Col("written_contact_at", "datetime", "书面联系时间"),
        Col("arrived_at", "datetime", "到达现场时间"),
        Col("completed_at", "datetime", "服务完成时间"),
        Col("signed_at", "datetime", "用户签字时间"),
        Col("warranty", "bool", "三包"),
        Col("parts_replaced", "bool", "更换备件"),
        Col("satisfaction", "int", "满意度评分", min=1),
        Col("complaint", "bool", "服务责任抱怨"),
        Col("status", "str", "工单状态", choices=TICKET_STATUSES),
        Col("closed_at", "datetime", "关闭时间"),
        Col("note", "str", "备注"),
        # added for issue 12 (older workbooks without them still load; their checks are 未检查)
        Col("contact_archived_at", "datetime", "联系结果存档时间"),
        Col("feedback_at", "datetime", "反馈用户时间"),
        Col("report_text", "str", "处理情况"),
        Col("customer_comment", "str", "用户意见"),
        Col("fee_amount", "decimal", "收费金额", min=0),
        Col("fee_approver", "str", "收费批准人"),
        Col("fee_remitted", "decimal", "上缴金额", min=0),
        Col("major_issue", "bool", "较大问题"),
        Col("leader_reported_at", "datetime", "向领导汇报时间"),
        Col("old_part_back", "bool", "旧件带回"),
        Col("returned_at", "datetime", "返回单位时间"),
        Col("report_approved_at", "datetime", "报告审批时间"),
        Col("report_archived_at", "datetime", "报告存档时间"),
        Col("paused_at", "datetime", "暂停时间"),  # optional pause states (rules: pauses)
        Col("resumed_at", "datetime", "恢复时间"),
        Col("pause_reason", "str", "暂停原因"),
    ),
    natural_key=("ticket_id",),
    month_by=("received_at", "first_reply_at", "written_contact_at", "arrived_at", "completed_at", "closed_at"),
    open_carry=("received_at", ("completed_at", "closed_at")),
    doc="服务工单: one row per service ticket. Satisfaction is the survey score (1..5 by default), blank = not surveyed.",
)

SLA_CALLS = Table(
    "sla_calls",
    (
        Col("call_id", "id", "记录编号", required=True),
        Col("received_at", "datetime", "来电来函时间", required=True),
        Col("kind", "str", "类型", required=True, choices=CALL_KINDS),
        Col("customer", "str", "用户"),
        Col("subject", "str", "事由"),
        Col("staff", "str", "处理人"),
        Col("team", "str", "服务组"),
        Col("replied_at", "datetime", "答复时间"),
        Col("archived", "bool", "已存档"),
        Col("ticket_id", "id", "关联工单"),
        Col("reply_text", "str", "答复内容"),
        Col("archived_at", "datetime", "存档时间"),
    ),
    natural_key=("call_id",),
    month_by=("received_at", "replied_at"),
    open_carry=("received_at", ("replied_at",)),
    doc="来电来函记录 (3.5): one row per call or letter, in order received.",
)

SLA_PART_RECEIPTS = Table(
    "sla_part_receipts",
    (
        Col("receipt_id", "id", "接收单号", required=True),
        Col("received_on", "date", "接收日期", required=True),
        Col("part_id", "id", "备件编号", required=True),
        Col("part_name", "str", "备件名称"),
        Col("quantity", "int", "数量", required=True, min=0),
        Col("supplier", "str", "供货单位"),
        Col("handler", "str", "经手人"),
    ),
    natural_key=("receipt_id", "part_id"),
    month_by=None,
    doc="备用件接收单 (3.7.2): parts received into the store.",
)

SLA_PART_REQUISITIONS = Table(
    "sla_part_requisitions",
    (
        Col("requisition_id", "id", "领料单号", required=True),
        Col("requested_on", "date", "申请日期", required=True),
        Col("part_id", "id", "备件编号", required=True),
        Col("part_name", "str", "备件名称"),
        Col("quantity", "int", "数量", required=True, min=0),
        Col("ticket_id", "id", "工单编号"),
        Col("staff", "str", "领料人"),
        Col("approver", "str", "批准人"),
        Col("approval", "str", "审批状态", choices=APPROVALS),
        Col("issued_on", "date", "发放日期"),
        Col("warranty", "bool", "三包件"),
        Col("approved_on", "date", "批准日期"),
        Col("written_off_on", "date", "销账日期"),
        Col("writeoff_approver", "str", "销账批准人"),
        Col("mailed", "bool", "邮寄发运"),
        Col("shipping_fee", "decimal", "邮运费", min=0),
        Col("handler_signed", "str", "经手人签字"),
        Col("leader_signed", "str", "领导签字"),
        Col("station", "str", "服务站"),
        Col("fault_supplier", "str", "责任供应商"),
    ),
    natural_key=("requisition_id", "part_id"),
    month_by=None,
    doc="备用件领料单 (3.6.1, 3.7.4): a requisition; 发放日期 filled = issued from the store.",
)

SLA_PART_RETURNS = Table(
    "sla_part_returns",
    (
        Col("return_id", "id", "返还单号", required=True),
        Col("returned_on", "date", "返还日期", required=True),
        Col("part_id", "id", "备件编号", required=True),
        Col("part_name", "str", "备件名称"),
        Col("quantity", "int", "数量", min=0),
        Col("ticket_id", "id", "工单编号"),
        Col("requisition_id", "id", "领料单号"),
        Col("staff", "str", "返还人"),
        Col("processed_on", "date", "旧件处理日期"),
        Col("processing", "str", "处理方式"),
    ),
    natural_key=("return_id", "part_id"),
    month_by=None,
    doc="旧件返还 (3.6.2, 3.7.5): old parts brought back after a replacement.",
)

SLA_STOCKTAKES = Table(
    "sla_stocktakes",
    (
        Col("counted_on", "date", "盘点日期", required=True),
        Col("part_id", "id", "备件编号", required=True),
        Col("part_name", "str", "备件名称"),
        Col("opening_qty", "int", "期初数量", min=0),
        Col("book_qty", "int", "账面数量", min=0),
        Col("counted_qty", "int", "实盘数量", required=True, min=0),
        Col("counter", "str", "盘点人"),
    ),
    natural_key=("counted_on", "part_id"),
    month_by=None,
    doc="盘点 (3.7.1 帐物一致): stock count per part; 期初数量 = book stock on the 1st of the month.",
)

SLA_CLAIMS = Table(
    "sla_claims",
    (
        Col("claim_id", "id", "索赔单号", required=True),
        Col("supplier", "str", "供应商", required=True),
        Col("part_id", "id", "备件编号"),
        Col("part_name", "str", "备件名称"),
        Col("ticket_id", "id", "工单编号"),
        Col("amount", "decimal", "索赔金额", min=0),
        Col("filed_on", "date", "提交日期", required=True),
        Col("status", "str", "状态", required=True, choices=CLAIM_STATUSES),
        Col("closed_on", "date", "结案日期"),
        Col("recovered_amount", "decimal", "追回金额", min=0),
    ),
    natural_key=("claim_id",),
    month_by=None,
    doc="二次索赔 (3.8): claims against suppliers for warranty parts.",
)

SLA_STATION_STOCK = Table(
    "sla_station_stock",
    (
        Col("station", "str", "服务站", required=True),
        Col("counted_on", "date", "盘点日期", required=True),
        Col("part_id", "id", "备件编号", required=True),
        Col("part_name", "str", "备件名称"),
        Col("opening_qty", "int", "期初数量", min=0),
        Col("sent_qty", "int", "发出数量", min=0),
        Col("used_qty", "int", "使用数量", min=0),
        Col("returned_qty", "int", "退回数量", min=0),
        Col("book_qty", "int", "账面数量", min=0),
        Col("counted_qty", "int", "实盘数量", required=True, min=0),
    ),
    natural_key=("station", "counted_on", "part_id"),
    month_by=None,
    doc="服务站备件台账 (3.7.6): a separate ledger per service station, counted like the store.",
)

SLA_STAFF = Table(
    "sla_staff",
    (
        Col("staff", "str", "服务人员", required=True),
        Col("team", "str", "服务组", required=True),
    ),
    natural_key=("staff",),
    month_by=None,
    doc="服务人员名单: each person's team (a blank 服务组 on a ticket never splits a person).",
)

SLA_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        SLA_TICKETS,
        SLA_STAFF,
        SLA_CALLS,
        SLA_PART_RECEIPTS,
        SLA_PART_REQUISITIONS,
        SLA_PART_RETURNS,
        SLA_STOCKTAKES,
        SLA_STATION_STOCK,
        SLA_CLAIMS,
    )
}

# Sheet names of the shipped templates (readers recognise sheets by headers, not names).
SHEET_NAMES: dict[str, str] = {
    "sla_tickets": "服务工单",
    "sla_staff": "服务人员名单",
    "sla_calls": "来电来函记录",
    "sla_part_receipts": "接收单",
    "sla_part_requisitions": "领料单",
    "sla_part_returns": "旧件返还",
    "sla_stocktakes": "盘点",
    "sla_station_stock": "服务站台账",
    "sla_claims": "二次索赔",
}


# --- result tables of an SLA run (the latest run of a month; sla_history_* keep every run)


def _result(name: str, cols: str, key: tuple[str, ...], doc: str, open_cols: tuple[tuple[str, str], ...] = ()) -> Table:
    return computed(name, cols, key, doc, "sla_result", open_cols)


TICKET_SLA = _result(
    "ticket_sla",
    "record_kind::类型, record_id:id:编号, rule_id::规则编号, rule_name::时限规则, policy_ref::条款, staff::服务人员,"
    " team::服务组, calendar::计时日历, target_h:float:时限(小时), start_event::起点, stop_event::终点,"
    " start_at:datetime:开始, deadline:datetime:期限, stop_at:datetime:完成, elapsed_s:float:用时,"
    " remaining_s:float:剩余, status::状态, decided_at:datetime:判定时间, decided_month::判定月份,"
    " counts_for_timeliness:bool:计入及时率, paused_h:float:暂停(小时), month::月份",
    ("month", "record_kind", "record_id", "rule_id"),
    "One row per record (ticket or call) and time rule: its clock, deadline and status (met / breached / running).",
)
SLA_MONTH = _result(
    "sla_month",
    "month::月份, level::层级, team::服务组, staff::服务人员, timely:int:及时, timed:int:应计, timeliness:float:服务及时率,"
    " timeliness_met:bool:及时率达标, running:int:进行中, satisfied:int:满意, surveyed:int:调查数,"
    " satisfaction:float:用户满意度, satisfaction_met:bool:满意度达标, complaints:int:服务责任抱怨, tickets:int:工单数,"
    " complaint_rate:float:用户抱怨率, complaint_met:bool:抱怨率达标, all_met:bool:全部达标",
    ("month", "level", "team", "staff"),
    "The three department targets per level (all / team / staff).",
)
SLA_COMPLIANCE = _result(
    "sla_compliance",
    "finding_id:id:发现编号, check::检查项, policy_ref::条款, record_kind::类型, record_id:id:编号, staff::服务人员,"
    " at:datetime:时间, detail::说明, month::月份",
    ("month", "finding_id"),
    "One row per compliance finding (a clause of the policy not kept).",
)
SLA_LEDGER = _result(
    "sla_ledger",
    "month::月份, part_id:id:备件编号, part_name::备件名称, counted_on:date:盘点日期, opening_qty:int:期初, received:int:接收,"
    " issued:int:发放, computed_book:int:应有, book_qty:int:账面, counted_qty:int:实盘, book_diff:int:账账差,"
    " count_diff:int:账物差, status::状态",
    ("month", "part_id", "counted_on"),
    "The store's parts ledger reconciled with the stock count (3.7.1 帐物一致).",
)
SLA_CHECKS = _result(
    "sla_checks",
    "check::检查项, policy_ref::条款, name::名称, status::状态, reason::原因, checked:int:检查数, findings:int:发现数, month::月份",
    ("month", "check"),
    "Which clause checks ran (已检查 / 未检查 / 已关闭) and how many records each checked.",
)
SLA_COURTESY = _result(
    "sla_courtesy",
    "staff::服务人员, team::服务组, staff_texts:int:人员文本数, staff_hits:int:人员命中, customer_texts:int:用户文本数,"
    " customer_hits:int:用户命中, by_lexicon::按词库, met:bool:达标, month::月份",
    ("month", "staff"),
    "Per staff: courtesy lexicon hits in their texts and the customers' (3.3.5).",
)
SLA_STATION_LEDGER = _result(
    "sla_station_ledger",
    "station::服务站, part_id:id:备件编号, part_name::备件名称, counted_on:date:盘点日期, opening_qty:int:期初,"
    " sent_qty:int:发出, used_qty:int:使用, returned_qty:int:退回, computed_book:int:应有, book_qty:int:账面,"
    " counted_qty:int:实盘, status::状态, month::月份",
    ("month", "station", "part_id", "counted_on"),
    "Per service station and part: the station ledger reconciled with its count (3.7.6).",
)
SLA_CLAIMS_SUMMARY = _result(
    "sla_claims_summary",
    "supplier::供应商, fault_parts:int:故障件, claimed_parts:int:已索赔件, unclaimed_parts:int:未索赔件, claims:int:索赔单数,"
    " open_claims:int:未结案, claimed_amount:decimal:索赔金额, recovered_amount:decimal:追回金额,"
    " recovery_rate:float:追回率, month::月份",
    ("month", "supplier"),
    "Per supplier: warranty parts, claims filed and recovered, open claims by age: one column per bucket"
    " of the rules' `ageing_days` (`age_le_30`, `age_le_60`, `age_le_90`, `age_over_90` by default).",
    ((r"^age_(le|over)_\d+$", "int"),),
)

SLA_RESULTS: dict[str, Table] = {
    t.name: t
    for t in (TICKET_SLA, SLA_MONTH, SLA_COMPLIANCE, SLA_LEDGER, SLA_CHECKS, SLA_COURTESY, SLA_STATION_LEDGER, SLA_CLAIMS_SUMMARY)
}
SLA_HISTORY: dict[str, Table] = {f"sla_history_{n}": history_of(t, f"sla_history_{n}") for n, t in SLA_RESULTS.items()}
