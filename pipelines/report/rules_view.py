"""What the report says about rules, taken from the run's rules (never hard-coded).

Item maxima, labels, the pass line, grade tables, refund bands, suggestion ladders and
adjustments come from ``bundle.rules`` (the parsed rules file of the scoring run) and
``bundle.meta`` (kpi_meta: pass_mark, total_points, kpi_pool). Without the rules text the
report still shows the pass line and totals from kpi_meta and the item labels of kpi_items.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .bundle import MonthBundle
from .fmt import by_kind, money, points, rate
from .labels import ADJUSTMENT_ITEM_LABELS, ITEM_LABELS, METRICS, metric_label

GRADES = ("优", "良", "中")
# payroll column holding each default item's points / grade (other items: kpi_items only)
PAYROLL_POINTS = {"quality": "quality_pts", "refund_rate": "refund_pts", "complaints": "complaint_pts",
                  "cooperation": "cooperation_pts", "execution": "execution_pts", "attendance": "attendance_pts"}
PAYROLL_GRADE = {"quality": "quality_grade", "complaints": "complaint_grade"}


@dataclass(frozen=True)
class ItemSpec:
    key: str
    label: str
    max_points: Decimal | None


def _items_model(bundle: MonthBundle) -> list[tuple[str, Any]]:
    if bundle.rules is None:
        return []
    items = bundle.rules.model.items
    if isinstance(items, dict):
        return list(items.items())
    return [(k, getattr(items, k)) for k in type(items).model_fields]


def item_specs(bundle: MonthBundle) -> list[ItemSpec]:
    """KPI items in rules order (label, maximum); without rules: the items kpi_items names."""
    specs = [ItemSpec(k, str(getattr(it, "label", ITEM_LABELS.get(k, k))), getattr(it, "max_points", None))
             for k, it in _items_model(bundle)]
    if specs:
        return specs
    seen: dict[str, str] = {}
    ki = bundle.kpi_items
    if ki is not None and ki.height and "item" in ki.columns:
        labels = ki["label"].to_list() if "label" in ki.columns else [None] * ki.height
        for k, lab in zip(ki["item"].to_list(), labels, strict=False):
            seen.setdefault(str(k), str(lab or ITEM_LABELS.get(str(k), k)))
    if not seen:
        seen = dict(ITEM_LABELS)
    order = list(ITEM_LABELS)
    keys = sorted(seen, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [ItemSpec(k, seen[k], None) for k in keys]


def total_points(bundle: MonthBundle) -> Decimal | None:
    if bundle.rules is not None:
        return bundle.rules.model.total_points
    return (bundle.meta or {}).get("total_points")


def pass_mark(bundle: MonthBundle) -> Decimal | None:
    """The pass line in points (pass_ratio × total_points) of the run."""
    if bundle.rules is not None:
        m = bundle.rules.model
        return m.gate.pass_ratio * m.total_points
    return (bundle.meta or {}).get("pass_mark")


def pass_ratio(bundle: MonthBundle) -> Decimal | None:
    if bundle.rules is not None:
        return bundle.rules.model.gate.pass_ratio
    pm, tp = pass_mark(bundle), total_points(bundle)
    return pm / tp if pm is not None and tp else None


def bound_text(metric: str, side: str, v: Any) -> str:
    """``回复率 ≥ 98.0%`` / ``平均响应时长 ≤ 30秒``."""
    kind = METRICS[metric].kind if metric in METRICS else "text"
    shown = by_kind(kind, v) if kind != "count" else points(v)
    return f"{metric_label(metric)} {'≥' if side == 'min' else '≤'} {shown}"


def _ladder(suggest: Any) -> list[dict[str, Any]]:
    rows = []
    for g in GRADES:
        cond = getattr(suggest, g)
        bits = [bound_text(k, "min", v) for k, v in cond.min.model_dump(exclude_none=True).items()]
        bits += [bound_text(k, "max", v) for k, v in cond.max.model_dump(exclude_none=True).items()]
        rows.append({"grade": g, "bounds": bits})
    return rows


def missed_bounds(suggest: Any, values: dict[str, Any], grade: str | None) -> list[str]:
    """Every bound of the next better grade than ``grade`` that ``values`` miss, e.g.
    ``回复率 83.3% < 90.0%``; empty for 优 or when the ladder has no metric values."""
    if suggest is None or grade not in ("良", "中", "差"):
        return []
    target = {"良": "优", "中": "良", "差": "中"}[grade]
    cond = getattr(suggest, target)
    out = []
    for side in ("min", "max"):
        for metric, bound in getattr(cond, side).model_dump(exclude_none=True).items():
            v = values.get(metric)
            if v is None:
                continue
            try:
                fv, fb = float(v), float(bound)
            except (TypeError, ValueError):
                continue
            if (side == "min" and fv < fb) or (side == "max" and fv > fb):
                kind = METRICS[metric].kind if metric in METRICS else "text"
                f = (lambda x, k=kind: by_kind(k, x)) if kind != "count" else points
                out.append(f"{metric_label(metric)} {f(v)} {'<' if side == 'min' else '>'} {f(bound)}")
    return [f"未达{target}: " + s for s in out]


def suggest_of(bundle: MonthBundle, key: str) -> Any:
    for k, it in _items_model(bundle):
        if k == key:
            return getattr(it, "suggest", None)
    return None


def _grade_points(gp: Any) -> str:
    return " / ".join(f"{g} {points(gp.points(g))}" for g in ("优", "良", "中", "差"))


def _bands(bands: Any) -> list[str]:
    out = []
    for i, b in enumerate(bands):
        lo = rate(b.lower, 1)
        rng = f"≤ {rate(b.upper, 1)}" if i == 0 and b.upper is not None else (
            f"{lo} – {rate(b.upper, 1)}" if b.upper is not None else f"> {lo}")
        out.append(f"{rng}：{points(b.points)} 分" + ("（假设，待店铺确认）" if getattr(b, "assumption", False) else ""))
    return out


def _item_rule(key: str, it: Any) -> dict[str, Any]:
    how: list[str] = []
    ladder: list[dict[str, Any]] = []
    if hasattr(it, "grade_points"):
        how.append("等级分：" + _grade_points(it.grade_points))
    if hasattr(it, "suggest"):
        ladder = _ladder(it.suggest)
        how.append("系统按下表建议等级（满足该等级全部条件才取该等级，否则为差），主管覆盖优先")
    if hasattr(it, "shop_bands"):
        scope = "全店口径：退款成功笔数 ÷ 本月付款订单" if it.scope == "shop" else "客服口径：本人退款单中退款成功的比例"
        how.append(scope)
        how += _bands(it.shop_bands if it.scope == "shop" else it.agent_bands)
    if hasattr(it, "penalties"):
        names = {"late": "迟到", "leave": "请假", "absent": "旷工", "early": "早退", "missing_punch": "缺卡",
                 "other_leave": "其他假", "rest": "休息", "ok": "正常"}
        pen = [f"{names.get(k, k)} 每次扣 {points(v)} 分" for k, v in it.penalties.items() if v]
        how.append(f"满分 {points(it.max_points)}，" + "，".join(pen) + f"，最低 {points(it.floor)} 分")
    if hasattr(it, "deadline_hours"):
        how.append(f"处理时限 {points(it.deadline_hours)} 小时")
    if not how:
        how.append("主管评定")
    return {"key": key, "label": it.label, "max": points(it.max_points), "how": how, "ladder": ladder}


def rules_section(bundle: MonthBundle) -> dict[str, Any]:
    """The 考核规则 section: every item's maximum and scoring, adjustments, gate, pay."""
    pm, tp = pass_mark(bundle), total_points(bundle)
    meta = bundle.meta or {}
    out: dict[str, Any] = {
        "has": bundle.rules is not None or bool(meta),
        "from_file": bundle.rules is not None,
        "name": bundle.rules.model.name if bundle.rules is not None else "",
        "version": bundle.rules_version or "—",
        "total": points(tp), "pass_mark": points(pm),
        "pass_ratio": rate(pass_ratio(bundle), 0) if pass_ratio(bundle) is not None else "—",
        "kpi_pool": money(bundle.rules.model.kpi_pool.amount if bundle.rules is not None else meta.get("kpi_pool")),
        "item_rules": [], "adjustments": [], "base": [], "cap": None,
    }
    if bundle.rules is None:
        return out
    m = bundle.rules.model
    out["item_rules"] = [_item_rule(k, it) for k, it in _items_model(bundle)]
    for group, sign in ((m.deductions, "扣"), (m.bonuses, "加")):
        for k in type(group).model_fields:
            a = getattr(group, k)
            amount = points(a.points) if hasattr(a, "points") else f"{points(a.min)}–{points(a.max)}"
            out["adjustments"].append(f"{ADJUSTMENT_ITEM_LABELS.get(k, a.label)}：每次{sign} {amount} 分")
    out["base"] = [f"{role} {money(v)}" for role, v in m.base_salary.items()]
    out["cap"] = m.options.cap_kpi_bonus
    return out
