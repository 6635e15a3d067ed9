"""Score tables: what ``scoring.score_month`` produces for a month (KPI items, adjustments,
the evidence cited, the run's rules) and the payroll (one row per agent, exact Decimal).

``payroll`` columns are those of payroll.csv (docs/scoring.md); ``payroll_history`` keeps
every scoring run's payroll rows with the run and the rules hash.
"""

from __future__ import annotations

from .table import Col, Table, computed, history_of


def _score(name: str, cols: str, key: tuple[str, ...], doc: str, open_cols: tuple[tuple[str, str], ...] = ()) -> Table:
    return computed(name, cols, key, doc, "score", open_cols)


# KPI items of a rules file beyond the default scheme add their own payroll columns: points,
# a grade, an exact value (scoring.items.base.PayrollColumn fields points / grade / value)
ITEM_COLUMNS = (
    (r"^[a-z][a-z0-9_]*_pts$", "points"),
    (r"^[a-z][a-z0-9_]*_grade$", "str"),
    (r"^[a-z][a-z0-9_]*_(value|rate)$", "fraction"),
)


KPI_ITEMS = _score(
    "kpi_items",
    "month::月份, agent_account::客服账号, item::考核项, label::考核项名称, raw_value::原始值, grade::等级,"
    " suggested_grade::系统建议等级, override_grade::主管覆盖等级, points:points:得分, source::来源, rule::规则,"
    " evidence_ids:str_list:证据",
    ("month", "agent_account", "item"),
    "One row per agent and KPI item: value, grade, points and the rule that gave them.",
)
KPI_ADJUSTMENTS = _score(
    "kpi_adjustments",
    "month::月份, agent_account::客服账号, kind::类型, item::项目, points:points:分数, record_id:id:记录编号,"
    " detail::说明, rule::规则",
    ("month", "agent_account", "kind", "item", "record_id"),
    "Deductions and bonuses (complaints, low-quality reviews, praise, outstanding performance).",
)
KPI_EVIDENCE = _score(
    "kpi_evidence",
    "evidence_id:id:证据编号, agent_account::客服账号, kind::类型, at:datetime:时间, text::内容, month::月份",
    ("month", "evidence_id"),
    "The evidence cited by the month's points (explain and the report's drill-down).",
)
KPI_META = _score(
    "kpi_meta",
    "rules_version::规则版本, rules_hash::规则哈希, rules_file::规则文件, pass_mark::达标线, total_points::满分,"
    " kpi_pool::KPI奖金池, cap_kpi_bonus:bool:奖金封顶, warnings::提示, month::月份",
    ("month",),
    "One row: the rules the month was scored with (numbers as exact decimal text).",
)
PAYROLL = _score(
    "payroll",
    "month::月份, agent::客服账号, name::姓名, role::岗位, quality_grade::客服素质等级, quality_pts:points:客服素质得分,"
    " refund_rate:fraction:退款率, refund_pts:points:退款率得分, complaint_grade::投诉处理等级,"
    " complaint_pts:points:投诉处理得分, cooperation_pts:points:配合度得分, execution_pts:points:执行力得分,"
    " attendance_pts:points:出勤率得分, deductions:points:扣分合计, bonuses:points:加分合计, total_score:points:总分,"
    " passed:bool:达标, kpi_bonus:decimal:KPI奖金, base_salary:decimal:底薪, salary:decimal:应发工资, status::状态,"
    " status_reason::状态说明",
    ("month", "agent"),
    "One row per agent: item points, total, pass, pay (exact to the cent). The columns of payroll.csv;"
    " a rules file with more KPI items adds `<item>_pts` (and `<item>_grade`, `<item>_value`) columns.",
    ITEM_COLUMNS,
)
PAYROLL_HISTORY = history_of(PAYROLL, "payroll_history", (Col("rules_hash", "str", "规则哈希"),))

SCORES: dict[str, Table] = {t.name: t for t in (KPI_ITEMS, KPI_ADJUSTMENTS, KPI_EVIDENCE, KPI_META, PAYROLL)}
HISTORY: dict[str, Table] = {PAYROLL_HISTORY.name: PAYROLL_HISTORY}
