"""Value formatting shared by the HTML and Excel renderers (Decimal money, points, rates)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")

# Payroll columns: english name (payroll.csv / warehouse) → Chinese header.
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
    "passed": "达标(≥70%)",
    "kpi_bonus": "KPI奖金",
    "base_salary": "底薪",
    "salary": "应发工资",
    "status": "状态",
    "status_reason": "状态说明",
}
MONEY_COLS = ("kpi_bonus", "base_salary", "salary")
POINT_COLS = (
    "quality_pts", "refund_pts", "complaint_pts", "cooperation_pts", "execution_pts",
    "attendance_pts", "deductions", "bonuses", "total_score",
)
STATUS_LABELS = {"final": "已定稿", "incomplete": "待补充"}
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

ADJUSTMENT_ITEM_LABELS = {  # kpi_adjustments.item keys of the rules file → Chinese
    "low_quality_review": "低质评价", "verified_complaint": "客户投诉(查实)", "praise": "客户表扬",
    "outstanding": "表现突出", "praise_candidate": "表扬候选(聊天)",
}
LEXICON_LABELS = {
    "politeness": "礼貌用语", "polite": "礼貌用语", "forbidden": "禁用语", "forbidden_word": "禁用语",
    "ad_law": "广告法极限词", "knowledge_gap": "知识盲区", "escalation": "升级/投诉威胁",
    "praise": "表扬", "negative": "买家负面", "product": "商品/活动",
}


def to_decimal(v: object) -> Decimal | None:
    """Decimal (2 places, ROUND_HALF_UP) from a Decimal, a decimal string or a number; None if absent."""
    if v is None or v == "":
        return None
    try:
        d = v if isinstance(v, Decimal) else Decimal(str(v).strip())
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def money(v: object) -> str:
    """``¥1,234.50`` or ``—``."""
    d = to_decimal(v)
    return "—" if d is None else f"¥{d:,.2f}"


def points(v: object) -> str:
    """Points without useless decimals: ``20``, ``17.5``, ``-5``; ``—`` if absent."""
    d = to_decimal(v)
    if d is None:
        return "—"
    s = f"{d:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def points_float(v: object) -> float | None:
    """Points as float for charts only (never for money)."""
    d = to_decimal(v)
    return None if d is None else float(d)


def rate(v: object, digits: int = 1) -> str:
    """A 0..1 fraction as a percentage: ``0.0425`` → ``4.3%``."""
    if v is None:
        return "—"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f != f:  # NaN
        return "—"
    return f"{100 * f:.{digits}f}%"


def seconds(v: object) -> str:
    """Seconds as ``42 秒`` / ``3分12秒``."""
    if v is None:
        return "—"
    try:
        s = float(v)
    except (TypeError, ValueError):
        return str(v)
    if s != s:
        return "—"
    if s < 60:
        return f"{s:.0f} 秒"
    m, r = divmod(round(s), 60)
    return f"{m}分{r:02d}秒"


def plain(v: object) -> str:
    """Any value as display text (``—`` for None; datetimes to the second; lists joined)."""
    if v is None:
        return "—"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return points(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(plain(x) for x in v)
    return str(v)


def as_bool(v: object) -> bool | None:
    """True/False from a bool or 'true'/'false'/'1'/'0'/'是'/'否'; None otherwise."""
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "1", "yes", "y", "是", "t"):
        return True
    if s in ("false", "0", "no", "n", "否", "f"):
        return False
    return None


def id_list(v: object) -> list[str]:
    """Evidence ids from a list or a comma-separated string."""
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if x not in (None, "")]
    if hasattr(v, "to_list"):
        return [str(x) for x in v.to_list() if x not in (None, "")]
    return [s.strip() for s in str(v).split(",") if s.strip()]
