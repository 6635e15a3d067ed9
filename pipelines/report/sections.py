"""Build the report's sections (plain dicts of display strings + inline SVG) from a MonthBundle.

Aggregation is done in polars; Python only iterates over small per-agent/per-bin results.
The big frames of the bundle (evidence, questions, text_hits, conversation_reasons, messages)
may be lazy: they are only aggregated, or capped before the shown rows are collected.
Every buyer-facing string (buyer, excerpt, detail, conversation text) goes through
``mask`` here; the template escapes everything (autoescape), SVG helpers escape their labels.
Everything the page says about rules comes from ``rules_view`` (the run's rules).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from . import svg
from .bundle import MonthBundle, columns_of, distinct, first_col, has_rows, rank_in_runs
from .fmt import as_bool, id_list, ids_count, metric, money, plain, points, points_float, rate, to_decimal
from .labels import (
    ADJUSTMENT_ITEM_LABELS,
    KIND_LABELS,
    KIND_SPEAKER,
    LEXICON_LABELS,
    METRICS,
    SOURCE_LABELS,
    SPEAKER_LABELS,
    STATUS_LABELS,
    WEEKDAYS,
    humanize,
    metric_label,
)
from .mask import mask_frame, mask_text
from .rules_view import PAYROLL_GRADE, PAYROLL_POINTS, item_specs, missed_bounds, pass_mark, suggest_of, total_points
from .totals import pay_totals

RESPONSE_KINDS = ("slow_response", "unanswered")
TEXT_KINDS = ("forbidden_word", "knowledge_gap", "escalation", "negative_turn", "praise_candidate", "product_gap")
EVIDENCE_ROWS_PER_AGENT = 30  # per kind and agent in the HTML; payroll.xlsx / evidence.csv have more
CONTEXT_MESSAGES = 12  # messages of the conversation shown around an evidence row
CONTEXT_WINDOW_S = 1800
SLOW_S = 100  # 慢响应 threshold of the analytics settings (docs/analytics.md), for the heatmap fallback


def item_label(item: object) -> str:
    """Chinese label of a kpi item key (``quality`` → 售后客服素质); unknown items unchanged."""
    from .labels import ITEM_LABELS

    s = plain(item)
    return ITEM_LABELS.get(s, s)


RESPONSE_BINS = ((30, "≤30秒"), (60, "30–60秒"), (100, "60–100秒"), (180, "100–180秒"),
                 (300, "3–5分"), (600, "5–10分"), (None, ">10分"))
_RESPONSE_COLORS = ("#3aa57a", "#3aa57a", "#7fae3a", "#e08a2e", "#e08a2e", "#d0703a", "#c8504b")


def _agent_names(b: MonthBundle) -> dict[str, str]:
    names: dict[str, str] = {}
    if has_rows(b.payroll) and "agent" in b.payroll.columns:
        name_col = "name" if "name" in b.payroll.columns else "agent"
        for r in b.payroll.select("agent", name_col).iter_rows():
            if r[0] is not None:
                names[str(r[0])] = str(r[1]) if r[1] else str(r[0])
    return names


def _label(names: dict[str, str], agent: str) -> str:
    n = names.get(agent)
    return f"{n}（{agent}）" if n and n != agent else agent


def _short(names: dict[str, str], agent: str) -> str:
    """Name for chart legends: the person's name, else the sub-account after 店铺名:."""
    n = names.get(agent)
    return n if n and n != agent else agent.split(":")[-1]


def _agents(b: MonthBundle, of_questions: set[str] | None = None) -> list[str]:
    """Agents in payroll order (by account), then any agent only found in analytics frames.
    ``of_questions``: the agents ``questions`` names; only those are wanted (they come right
    after the metrics' own agents), so the big frames are not scanned again."""
    seen: list[str] = []
    if has_rows(b.payroll) and "agent" in b.payroll.columns:
        seen = sorted({str(a) for a in b.payroll["agent"].to_list() if a is not None})
    frames = (b.agent_month_metrics,) if of_questions is not None else (
        b.agent_month_metrics, b.questions, b.evidence, b.conversation_reasons)
    for df in frames:
        if df is not None and "agent_account" in columns_of(df):
            extra = {str(a) for a in distinct(df, "agent_account") if a is not None}
            seen += sorted(extra - set(seen))
    if of_questions is not None:
        seen += sorted(of_questions - set(seen))
        return [a for a in seen if a in of_questions]
    return seen


def delta(cur: object, prev: object, better: str = "", kind: str = "points") -> dict[str, str] | None:
    """▲/▼ and the change ``cur − prev`` (None when either is missing); ``cls`` says good/bad."""
    c, p = to_decimal(cur) if kind != "rate" else cur, to_decimal(prev) if kind != "rate" else prev
    if c is None or p is None:
        return None
    try:
        d = Decimal(str(c)) - Decimal(str(p))
    except ArithmeticError:
        return None
    if d == 0:
        return {"text": "持平", "cls": "flat"}
    up = d > 0
    shown = {"money": lambda x: money(x).replace("¥", "¥"), "rate": lambda x: f"{100 * float(x):.1f}个百分点",
             "count": lambda x: f"{int(x)}"}.get(kind, points)(abs(d))
    good = "" if not better else ("good" if up == (better == "high") else "bad")
    return {"text": f"{'▲' if up else '▼'}{shown}", "cls": f"{'up' if up else 'down'} {good}".strip()}


def _prev_rows(df: pl.DataFrame | None, key: str) -> dict[str, dict]:
    if not has_rows(df) or key not in df.columns:
        return {}
    return {str(r[key]): r for r in df.to_dicts()}


def _attention_key(r: dict) -> tuple:
    """incomplete first, then not passed, then the rest; lowest score first inside each group."""
    st = str(r.get("status") or "")
    passed = as_bool(r.get("passed"))
    group = 0 if st == "incomplete" else (1 if passed is False else 2)
    score = points_float(r.get("total_score"))
    return group, score if score is not None else -1e9, str(r.get("agent") or "")


def attention_order(b: MonthBundle) -> list[dict]:
    """Payroll rows sorted by what needs attention (incomplete, failed, lowest score)."""
    if not has_rows(b.payroll):
        return []
    return sorted(b.payroll.to_dicts(), key=_attention_key)


def _item_points(b: MonthBundle) -> dict[tuple[str, str], dict[str, Any]]:
    """(agent, item) → kpi_items row; a list of ``evidence_ids`` (every id the item cites: as
    many as the month's evidence) comes as its count, ``evidence_n``."""
    if not has_rows(b.kpi_items):
        return {}
    df = b.kpi_items
    if isinstance(df.schema.get("evidence_ids"), pl.List):
        df = df.with_columns(ids_count("evidence_ids").alias("evidence_n")).drop("evidence_ids")
    agent_col = first_col(df, "agent_account", "agent")
    if agent_col is None or "item" not in df.columns:
        return {}
    return {(str(r.get(agent_col)), str(r.get("item"))): r for r in df.to_dicts()}


def _lost_points(b: MonthBundle, agent: str, row: dict, kpi: dict) -> list[str]:
    """Items where the agent lost points, biggest loss first: ``客服素质 10/20``."""
    out = []
    for spec in item_specs(b):
        pts = _points_of(spec.key, row, kpi.get((agent, spec.key), {}))
        if spec.max_points is None or pts is None:
            continue
        lost = spec.max_points - pts
        if lost > 0:
            out.append((lost, f"{spec.label} {points(pts)}/{points(spec.max_points)}"))
    return [t for _l, t in sorted(out, key=lambda x: -x[0])]


def _points_of(key: str, row: dict, k: dict) -> Decimal | None:
    col = PAYROLL_POINTS.get(key)
    v = row.get(col) if col and col in row else None
    return to_decimal(v if v is not None else k.get("points"))


# --- team summary -----------------------------------------------------------------------------

def summary(b: MonthBundle) -> dict[str, Any]:
    """Team cards (final rows and incomplete apart), attention-sorted table, histogram."""
    if not has_rows(b.payroll):
        return {"has": False}
    rows = attention_order(b)
    t, pt = pay_totals(b.payroll), pay_totals(b.previous_payroll)
    has_prev = has_rows(b.previous_payroll)
    final = [r for r in rows if str(r.get("status") or "") == "final"]
    scores = [points_float(r.get("total_score")) for r in final]
    scored = [s for s in scores if s is not None]
    prev = _prev_rows(b.previous_payroll, "agent")
    prev_scores = [points_float(r.get("total_score")) for r in prev.values() if str(r.get("status") or "") == "final"]
    prev_scored = [s for s in prev_scores if s is not None]
    avg = Decimal(str(sum(scored) / len(scored))) if scored else None
    prev_avg = Decimal(str(sum(prev_scored) / len(prev_scored))) if prev_scored else None
    passed = sum(1 for r in rows if as_bool(r.get("passed")) is True)
    gate = pass_mark(b)
    tp = total_points(b)
    kpi = _item_points(b)
    table = []
    for r in rows:
        agent = str(r.get("agent"))
        st = str(r.get("status") or "")
        ok = as_bool(r.get("passed"))
        p = prev.get(agent, {})
        why: list[str] = []
        if st == "incomplete":
            why.append(plain(r.get("status_reason")) if r.get("status_reason") else "待补充")
        else:
            if ok is False and gate is not None:
                why.append(f"总分 {points(r.get('total_score'))} < 达标线 {points(gate)}")
            why += _lost_points(b, agent, r, kpi)[:3]
        table.append({
            "agent": plain(r.get("agent")),
            "name": plain(r.get("name")),
            "role": plain(r.get("role")),
            "total": points(r.get("total_score")),
            "total_v": points_float(r.get("total_score")) if r.get("total_score") is not None else -1,
            "total_delta": delta(r.get("total_score"), p.get("total_score"), "high") if p else None,
            "passed": {True: "达标", False: "未达标"}.get(ok, "—"),
            "passed_ok": ok is True,
            "base": money(r.get("base_salary")),
            "kpi": money(r.get("kpi_bonus")),
            "salary": money(r.get("salary")),
            "salary_v": float(to_decimal(r.get("salary")) or 0),
            "salary_delta": delta(r.get("salary"), p.get("salary"), "", "money") if p else None,
            "status": STATUS_LABELS.get(st, st or "—"),
            "incomplete": st == "incomplete",
            "group": _attention_key(r)[0],
            "why": "；".join(why),
            "anchor": f"agent-{agent_anchor(agent)}",
        })
    bins = _score_bins(tp, gate)
    counts = [sum(1 for s in scored if lo <= s < hi) for lo, hi, _ in bins]
    colors = ["#c8504b" if gate is not None and hi <= float(gate) else "#3b6fd8" for _lo, hi, _ in bins]
    gate_x = next((i for i, (lo, _hi, _l) in enumerate(bins) if gate is not None and lo >= float(gate)), None)
    return {
        "has": True,
        "headcount": len(rows),
        "headcount_delta": delta(len(rows), b.previous_payroll.height, "", "count") if has_prev else None,
        "final": t.final_rows,
        "salary_total": money(t.salary),
        "salary_delta": delta(t.salary, pt.salary, "", "money") if has_prev else None,
        "base_total": money(t.base),
        "kpi_total": money(t.kpi),
        "kpi_delta": delta(t.kpi, pt.kpi, "high", "money") if has_prev else None,
        "reconciles": t.reconciles,
        "incomplete": t.incomplete_rows,
        "incomplete_base": money(t.incomplete_base),
        "passed": passed,
        "passed_delta": delta(passed, sum(1 for r in prev.values() if as_bool(r.get("passed")) is True), "high", "count")
                        if has_prev else None,
        "failed": sum(1 for r in rows if as_bool(r.get("passed")) is False),
        "avg_score": points(avg) if avg is not None else "—",
        "avg_delta": delta(avg, prev_avg, "high") if avg is not None and prev_avg is not None else None,
        "pass_mark": points(gate),
        "total_points": points(tp),
        "histogram": svg.bar_chart(
            [lab for *_x, lab in bins], counts, colors=colors, marker_x=gate_x,
            marker_label=f"达标线 {points(gate)}", y_label="人数", aria="总分分布",
        ),
        "table": table,
        "previous_month": has_prev,
    }


def agent_anchor(agent: str) -> str:
    """A stable, id-safe anchor for an agent account (hex of its UTF-8 bytes, short)."""
    import hashlib

    return hashlib.sha256(agent.encode("utf-8")).hexdigest()[:10]


def _score_bins(total: Decimal | None, gate: Decimal | None) -> list[tuple[float, float, str]]:
    """Histogram bins of 10% of the total points, with one edge at the pass line."""
    top = float(total) if total else 130.0
    step = top / 10
    edges = sorted({round(step * i, 2) for i in range(4, 11)} | ({round(float(gate), 2)} if gate is not None else set()))
    bins = [(0.0, edges[0], f"<{points(edges[0])}")]
    for lo, hi in zip(edges, edges[1:], strict=False):
        bins.append((lo, hi, f"{points(lo)}–{points(hi)}"))
    bins[-1] = (bins[-1][0], top + 1e-4, bins[-1][2])
    bins.append((top + 1e-4, 1e9, f">{points(top)}"))
    return bins


# --- per-agent scorecards ---------------------------------------------------------------------

def _adjustments(b: MonthBundle) -> dict[str, list[dict[str, Any]]]:
    if not has_rows(b.kpi_adjustments):
        return {}
    df = mask_frame(b.kpi_adjustments, text_cols=("detail",), nick_cols=("buyer",))
    agent_col = first_col(df, "agent_account", "agent")
    if agent_col is None:
        return {}
    out: dict[str, list[dict[str, Any]]] = {}
    for r in df.to_dicts():
        kind = str(r.get("kind") or "")
        pts = to_decimal(r.get("points"))
        signed = "—" if pts is None else (f"-{points(abs(pts))}" if kind == "deduction" else f"+{points(abs(pts))}")
        out.setdefault(str(r.get(agent_col)), []).append({
            "kind": KIND_LABELS.get(kind, kind or "—"),
            "is_deduction": kind == "deduction",
            "item": ADJUSTMENT_ITEM_LABELS.get(plain(r.get("item")), plain(r.get("item"))),
            "points": signed,
            "record": plain(r.get("record_id")),
            "detail": plain(r.get("detail")) if r.get("detail") is not None else "",
        })
    return out


def _metric_values(b: MonthBundle) -> dict[str, dict]:
    return _prev_rows(b.agent_month_metrics, "agent_account")


def _value_text(b: MonthBundle, key: str, row: dict, k: dict, metrics: dict) -> tuple[str, list[str]]:
    """What was measured for an item (formatted) and every bound it missed."""
    suggest = suggest_of(b, key)
    if suggest is not None and metrics:
        used: list[str] = []
        for g in ("优", "良", "中"):
            cond = getattr(suggest, g)
            for side in ("min", "max"):
                used += [m for m in getattr(cond, side).model_dump(exclude_none=True) if m not in used]
        have = [m for m in used if m in metrics]
        if have:
            text = " · ".join(f"{metric_label(m)} {metric(m, metrics.get(m))}" for m in have)
            grade = k.get("suggested_grade")
            return text, missed_bounds(suggest, metrics, grade)
    if key == "refund_rate":
        raw = row.get("refund_rate")
        raw = raw if raw is not None else k.get("raw_value")
        item = b.rules.items.get("refund_rate") if b.rules is not None else None
        scope = getattr(item, "scope", None)
        try:
            value = Decimal(str(raw)) if raw is not None else None
            shown = rate(float(raw), 2) if raw is not None else "—"
        except (ArithmeticError, TypeError, ValueError):
            value, shown = None, plain(raw)
        missed = []
        if item is not None and value is not None and hasattr(item, "band_for"):
            i, _band = item.band_for(value)
            if i > 0:
                bands = item.shop_bands if scope == "shop" else item.agent_bands
                missed = [f"未达最高档: 退款率 {shown} > {rate(bands[0].upper, 1)}（{points(bands[0].points)} 分档）"]
        return shown + ("（全店口径，同店所有客服相同）" if scope == "shop" else ""), missed
    raw = k.get("raw_value")
    text, missed = split_missed(humanize(plain(raw))) if raw is not None else ("", [])
    return text, missed


def split_missed(text: str) -> tuple[str, list[str]]:
    """``3 条, 按时处理 2/3 (未达优: a; 未达良: b)`` → (``3 条, 按时处理 2/3``, [未达优: a, 未达良: b])."""
    at = text.find("(未达")
    if at < 0 or not text.endswith(")"):
        return text, []
    return text[:at].rstrip(), [p.strip() for p in text[at + 1:-1].split(";") if p.strip()]


def scorecards(b: MonthBundle) -> list[dict[str, Any]]:
    """One card per payroll agent (attention order): items with value, points, missed bounds;
    the score arithmetic; adjustments; pay; change vs the previous month."""
    if not has_rows(b.payroll) or "agent" not in b.payroll.columns:
        return []
    kpi = _item_points(b)
    adj = _adjustments(b)
    metrics_of = _metric_values(b)
    prev = _prev_rows(b.previous_payroll, "agent")
    specs = item_specs(b)
    gate = pass_mark(b)
    ev_counts = _evidence_counts(b)
    cards = []
    for r in attention_order(b):
        agent = str(r.get("agent"))
        items = []
        item_sum = Decimal(0)
        complete_sum = True
        for spec in specs:
            k = kpi.get((agent, spec.key), {})
            pts = _points_of(spec.key, r, k)
            if pts is None:
                complete_sum = False
            else:
                item_sum += pts
            grade_col = PAYROLL_GRADE.get(spec.key)
            grade = r.get(grade_col) if grade_col else None
            grade = grade if grade is not None else k.get("grade")
            suggested, override = k.get("suggested_grade"), k.get("override_grade")
            value, missed = _value_text(b, spec.key, r, k, metrics_of.get(agent, {}))
            src = plain(k.get("source")) if k.get("source") is not None else ""
            head = src.split(" ", 1)[0]
            src = SOURCE_LABELS[head] + src[len(head):] if head in SOURCE_LABELS else src
            items.append({
                "label": spec.label,
                "max": points(spec.max_points) if spec.max_points is not None else "—",
                "points": points(pts),
                "pct": min(100.0, max(0.0, 100 * float(pts or 0) / float(spec.max_points)))
                       if spec.max_points else 0.0,
                "full": pts is not None and spec.max_points is not None and pts >= spec.max_points,
                "grade": plain(grade) if grade is not None else "",
                "suggested": plain(suggested) if suggested is not None else "",
                "override": plain(override) if override is not None else "",
                "overridden": override is not None and suggested is not None and str(override) != str(suggested),
                "value": value,
                "missed": missed,
                "source": src,
                "evidence": (k["evidence_n"] if "evidence_n" in k else len(id_list(k.get("evidence_ids"))))
                            if spec.key != "refund_rate" else 0,
            })
        st = str(r.get("status") or "")
        ded = to_decimal(r.get("deductions"))
        bon = to_decimal(r.get("bonuses"))
        total = to_decimal(r.get("total_score"))
        passed = as_bool(r.get("passed"))
        if st == "incomplete" or total is None:
            arithmetic = f"各项 {points(item_sum) if complete_sum else '（不全）'} − 扣分 {points(abs(ded or 0))} + 加分 {points(bon or 0)}：待补充，暂不计分"
        else:
            verdict = "≥" if passed else "<"
            arithmetic = (f"各项 {points(item_sum)} − 扣分 {points(abs(ded or 0))} + 加分 {points(bon or 0)} = "
                          f"{points(total)} {verdict} {points(gate)} {'达标' if passed else '未达标'}")
        p = prev.get(agent)
        cards.append({
            "agent": agent,
            "anchor": f"agent-{agent_anchor(agent)}",
            "label": _label({agent: str(r.get("name") or agent)}, agent),
            "role": plain(r.get("role")),
            "item_rows": items,
            "arithmetic": arithmetic,
            "deductions": points(abs(ded)) if ded is not None else "—",
            "bonuses": points(bon),
            "total": points(total),
            "total_delta": delta(total, p.get("total_score"), "high") if p else None,
            "passed": passed,
            "kpi": money(r.get("kpi_bonus")),
            "base": money(r.get("base_salary")),
            "salary": money(r.get("salary")),
            "status": STATUS_LABELS.get(st, st or "—"),
            "incomplete": st == "incomplete",
            "reason": plain(r.get("status_reason")) if r.get("status_reason") else "",
            "adjustments": adj.get(agent, []),
            "evidence": [(KIND_LABELS.get(kd, kd), n) for kd, n in ev_counts.get(agent, [])],
        })
    return cards


def _evidence_counts(b: MonthBundle) -> dict[str, list[tuple[str, int]]]:
    ev = b.evidence
    if ev is None or not {"agent_account", "kind"} <= set(columns_of(ev)):
        return {}
    out: dict[str, list[tuple[str, int]]] = {}
    counts = ev.lazy().group_by("agent_account", "kind").len().sort("agent_account", "kind").collect()
    for a, kd, n in counts.iter_rows():
        out.setdefault(str(a), []).append((str(kd), n))
    return out


# --- response times ---------------------------------------------------------------------------

def _countable_questions(questions: pl.LazyFrame) -> pl.LazyFrame:
    if "status" in columns_of(questions):
        # analytics marks questions handed to another agent 'transferred_out' (response_s null):
        # they are neither answered nor unanswered for this agent.
        questions = questions.filter(pl.col("status").is_null() | (pl.col("status") != "transferred_out"))
    return questions


def _response_bins(questions: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    rs = pl.col("response_s").cast(pl.Float64)
    expr = pl.when(rs.is_null() | rs.is_nan()).then(pl.lit(len(RESPONSE_BINS)))
    for i, (hi, _lab) in enumerate(RESPONSE_BINS[:-1]):
        expr = expr.when(rs <= hi).then(pl.lit(i))
    expr = expr.otherwise(pl.lit(len(RESPONSE_BINS) - 1))
    return (
        _countable_questions(questions.lazy()).select(pl.col("agent_account").cast(pl.String), expr.alias("bin"))
        .group_by("agent_account", "bin")
        .len()
        .sort("agent_account", "bin")
        .collect()
    )


RESPONSE_METRICS = ("questions", "reply_rate", "first_response_median_s", "avg_response_s", "p90_response_s",
                    "response_3min_rate", "slow_responses", "unreplied_buyers", "ask_answer_ratio")
TEXT_METRICS = ("polite_opening_rate", "forbidden_hits", "knowledge_gap_replies", "escalation_conversations",
                "buyer_negative_turns", "praise_candidates")


def _metric_rows(b: MonthBundle, names: dict, keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per agent of agent_month_metrics: formatted cells and ▲▼ vs the previous month."""
    m = b.agent_month_metrics
    if not (has_rows(m) and "agent_account" in m.columns):
        return []
    prev = _prev_rows(b.previous_metrics, "agent_account")
    rows = []
    for r in m.sort("agent_account").to_dicts():
        p = prev.get(str(r["agent_account"]), {})
        cells = []
        for c in keys:
            lab = METRICS.get(c)
            kind = lab.kind if lab else "text"
            cells.append({
                "v": metric(c, r.get(c)) if c in r else "—",
                "sort": r.get(c) if isinstance(r.get(c), (int, float)) else "",
                "delta": delta(r.get(c), p.get(c), lab.better if lab else "",
                               "rate" if kind == "rate" else ("count" if kind == "count" else "points"))
                         if p and c in r and kind in ("rate", "count", "seconds", "ratio") else None,
            })
        rows.append({"label": _label(names, str(r["agent_account"])), "cells": cells})
    return rows


def _daily(b: MonthBundle, names: dict) -> list[dict[str, Any]]:
    d = b.day_metrics
    if not has_rows(d) or not {"agent_account", "day"} <= set(d.columns):
        return []
    days = sorted({x for x in d["day"].to_list() if x is not None})
    labels = [str(x)[-2:].lstrip("0") for x in days]
    charts = []
    for col in ("questions", "avg_response_s", "slow_responses"):
        if col not in d.columns:
            continue
        per: dict[str, dict] = {}
        for a, day, v in d.select("agent_account", "day", col).iter_rows():
            per.setdefault(str(a), {})[day] = v
        series = [(_short(names, a), [(float(per[a][x]) if per[a].get(x) is not None else None) for x in days])
                  for a in sorted(per)]
        charts.append({"title": f"每日{metric_label(col)}" + ("（秒）" if METRICS[col].kind == "seconds" else ""),
                       "svg": svg.line_chart(labels, series, width=640, height=220, aria=f"每日{metric_label(col)}")})
    return charts


def _heatmaps(b: MonthBundle) -> list[dict[str, Any]]:
    q = b.questions
    if not has_rows(q) or not {"asked_at", "response_s"} <= set(columns_of(q)):
        return []
    have = columns_of(q)
    q = _countable_questions(q.lazy()).filter(pl.col("asked_at").is_not_null())
    slow = pl.col("is_slow").fill_null(False) if "is_slow" in have else (pl.col("response_s") > SLOW_S)
    unanswered = (pl.col("status") == "unanswered") if "status" in have else pl.col("response_s").is_null()
    maps = (("慢响应（按提问时刻）", "slow", "#e08a2e"), ("未回复（按提问时刻）", "unanswered", "#c8504b"))
    # both maps from one scan: per weekday and hour, how many questions meet each condition
    g = (q.select(pl.col("asked_at").dt.weekday().alias("wd"), pl.col("asked_at").dt.hour().alias("h"),
                  slow.fill_null(False).alias("slow"), unanswered.fill_null(False).alias("unanswered"))
         .group_by("wd", "h").agg(pl.col("slow").sum(), pl.col("unanswered").sum()).collect())
    out = []
    for title, col, color in maps:
        grid = [[0] * 24 for _ in range(7)]
        for wd, h, n in g.select("wd", "h", col).iter_rows():
            grid[int(wd) - 1][int(h)] = n
        total = sum(map(sum, grid))
        hours = [h for h in range(24) if any(grid[w][h] for w in range(7))] or list(range(24))
        lo, hi = min(hours), max(hours)
        cols = list(range(lo, hi + 1))
        out.append({"title": title, "total": total,
                    "svg": svg.heatmap(WEEKDAYS, [f"{h}" for h in cols], [[row[h] for h in cols] for row in grid],
                                       color=color, aria=title, unit=" 个")})
    return out


def response_times(b: MonthBundle) -> dict[str, Any]:
    """Metrics table (▲▼), per-agent response histograms, daily trends and the weekday×hour heatmaps."""
    names = _agent_names(b)
    charts = []
    if has_rows(b.questions) and {"agent_account", "response_s"} <= set(columns_of(b.questions)):
        counts = _response_bins(b.questions)
        per: dict[str, list[int]] = {}
        for agent, bin_, n in counts.iter_rows():
            per.setdefault(str(agent), [0] * (len(RESPONSE_BINS) + 1))[bin_] = n
        labels = [lab for _hi, lab in RESPONSE_BINS] + ["未回复"]
        colors = list(_RESPONSE_COLORS) + ["#8a8f98"]
        order = _agents(b, of_questions={str(a) for a in counts["agent_account"].drop_nulls().to_list()})
        if set(per) - set(order):  # questions without an agent (shown as "None"): the full order, as ever
            order = [a for a in _agents(b) if a in per]
        for agent in order:
            c = per[agent]
            charts.append({
                "label": _label(names, agent),
                "total": sum(c),
                "unanswered": c[-1],
                "svg": svg.bar_chart(labels, c, colors=colors, width=520, height=200,
                                     marker_x=3, marker_label=f"慢响应 >{SLOW_S}秒", y_label="问题数",
                                     aria=f"{agent} 响应时间分布"),
            })
    return {"charts": charts, "metrics": _metric_rows(b, names, RESPONSE_METRICS),
            "metric_headers": [metric_label(c) for c in RESPONSE_METRICS],
            "daily": _daily(b, names), "heatmaps": _heatmaps(b),
            "has_prev": has_rows(b.previous_metrics)}


# --- evidence ---------------------------------------------------------------------------------

def _with_speaker(shown: pl.DataFrame, messages: pl.DataFrame | None) -> pl.DataFrame:
    """Add ``speaker`` (buyer/agent/system): the cited message's sender, else by kind."""
    by_kind = pl.col("kind").replace_strict(KIND_SPEAKER, default="buyer", return_dtype=pl.String)
    keys = ["source_file", "source_sheet", "source_row"]
    if has_rows(messages) and set(keys + ["sender_role"]) <= set(messages.columns) and set(keys) <= set(shown.columns):
        roles = messages.select(*keys, pl.col("sender_role").alias("_role")).unique(keys, keep="first")
        shown = shown.join(roles, on=keys, how="left", nulls_equal=False, maintain_order="left")
        return shown.with_columns(pl.coalesce("_role", by_kind).alias("speaker")).drop("_role")
    return shown.with_columns(by_kind.alias("speaker"))


def _contexts(shown: pl.DataFrame, messages: pl.DataFrame | None) -> dict[int, list[dict[str, str]]]:
    """For each shown evidence row (``_i``), up to CONTEXT_MESSAGES masked messages of the same
    agent and buyer within CONTEXT_WINDOW_S of it, in time order."""
    need = {"agent_account", "buyer", "sent_at", "text", "sender_role"}
    if not has_rows(messages) or not need <= set(messages.columns) or "at" not in shown.columns:
        return {}
    ev = shown.select("_i", "agent_account", "buyer", "at", *[c for c in ("source_file", "source_row") if c in shown.columns])
    msgs = messages
    if "event" in msgs.columns:
        msgs = msgs.filter(pl.col("event").is_null() | (pl.col("event") == "message"))
    src_cols = [c for c in ("source_file", "source_row") if c in msgs.columns and c in ev.columns]
    m = msgs.select("agent_account", "buyer", "sent_at", "text", "sender_role",
                    *[pl.col(c).alias(f"m_{c}") for c in src_cols], *(["seq"] if "seq" in msgs.columns else []))
    j = ev.join(m, on=["agent_account", "buyer"], how="inner")
    dist = (pl.col("sent_at") - pl.col("at")).dt.total_seconds().abs()
    j = (j.filter(dist <= CONTEXT_WINDOW_S)
         .with_columns(dist.alias("_d"))
         .sort("_i", "_d", "sent_at", *(["seq"] if "seq" in m.columns else []))
         .with_columns(pl.int_range(pl.len()).over("_i").alias("_r"))
         .filter(pl.col("_r") < CONTEXT_MESSAGES)
         .sort("_i", "sent_at", *(["seq"] if "seq" in m.columns else [])))
    hit = pl.lit(False)
    if src_cols == ["source_file", "source_row"]:
        hit = (pl.col("m_source_file") == pl.col("source_file")) & (pl.col("m_source_row") == pl.col("source_row"))
    j = j.with_columns(mask_text(pl.col("text").cast(pl.String), pl.col("buyer")).alias("text"), hit.fill_null(False).alias("_hit"))
    out: dict[int, list[dict[str, str]]] = {}
    for i, at, role, text, is_hit in j.select("_i", "sent_at", "sender_role", "text", "_hit").iter_rows():
        out.setdefault(i, []).append({"at": plain(at)[11:], "who": SPEAKER_LABELS.get(str(role), plain(role)),
                                      "role": str(role), "text": plain(text) if text is not None else "", "hit": bool(is_hit)})
    return out


def evidence_tables(b: MonthBundle, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """Masked evidence of the given kinds: one table per kind, at most N rows per agent, who
    spoke, and the masked conversation around each row."""
    ev = b.evidence
    if ev is None or "kind" not in (have := columns_of(ev)) or "agent_account" not in have:
        return []
    names = _agent_names(b)
    sort_cols = ["agent_account"] + [c for c in ("at", "evidence_id") if c in have]
    part = ev.lazy().filter(pl.col("kind").is_in(list(kinds)))
    per_agent = part.group_by("kind", "agent_account").len().sort("kind", "agent_account").collect()
    if per_agent.height == 0:
        return []
    # one pass for every kind: cap, who spoke, conversations (each a scan of messages at most once)
    if b.evidence_sorted:  # already by agent, kind, time, id: rank, then sort only the shown rows
        capped = part.with_columns(rank_in_runs("agent_account", "kind").alias("_n")).filter(pl.col("_n") < EVIDENCE_ROWS_PER_AGENT).sort(["kind", *sort_cols], nulls_last=True)
    else:
        rank = pl.int_range(pl.len()).over("kind", "agent_account").alias("_n")
        capped = part.sort(["kind", *sort_cols], nulls_last=True).with_columns(rank).filter(pl.col("_n") < EVIDENCE_ROWS_PER_AGENT)
    shown = (
        capped
        .with_row_index("_i")
        .with_columns(pl.col("_i").cast(pl.Int64))
        .collect()
    )
    messages = _messages_of(shown, b.messages)
    shown = _with_speaker(shown, messages)
    ctx = _contexts(shown, messages)
    shown = mask_frame(shown)
    tables = []
    for kind in kinds:
        rows = []
        for r in shown.filter(pl.col("kind") == kind).sort("_i").to_dicts():
            src, row = r.get("source_file"), r.get("source_row")
            rows.append({
                "agent": _label(names, str(r.get("agent_account"))),
                "buyer": plain(r.get("buyer")),
                "at": plain(r.get("at")),
                "who": SPEAKER_LABELS.get(str(r.get("speaker")), plain(r.get("speaker"))),
                "excerpt": plain(r.get("excerpt")) if r.get("excerpt") is not None else "",
                "detail": plain(r.get("detail")) if r.get("detail") is not None else "",
                "source": f"{src}:{row}" if src is not None and row is not None else plain(src),
                "context": ctx.get(r["_i"], []),
            })
        if not rows:
            continue
        counts = per_agent.filter(pl.col("kind") == kind)
        tables.append({
            "kind": kind,
            "label": KIND_LABELS.get(kind, kind),
            "total": int(counts["len"].sum()),
            "shown": len(rows),
            "per_agent": [(_label(names, str(a)), n, max(0, n - EVIDENCE_ROWS_PER_AGENT))
                          for _k, a, n in counts.iter_rows()],
            "rows": rows,
        })
    return tables


def _messages_of(shown: pl.DataFrame, messages: pl.DataFrame | pl.LazyFrame | None) -> pl.DataFrame | None:
    """The messages of the shown rows' agents and buyers that the page uses: one vectorised
    (lazy) scan. Only those within the conversation window of a shown row are read (a time
    range the parquet statistics prune by: the shown rows are each agent's earliest), unless a
    shown row's cited message lies outside it (then all of them, for who spoke)."""
    if messages is None:
        return None
    have = columns_of(messages)
    if not {"agent_account", "buyer"} <= set(have):
        return messages.lazy().collect()
    theirs = messages.lazy().filter(pl.col("buyer").is_in(shown["buyer"].unique().implode())
                                    & pl.col("agent_account").is_in(shown["agent_account"].unique().implode()))
    at = shown["at"] if "at" in shown.columns else None
    if "sent_at" not in have or at is None or at.null_count() == at.len():
        return theirs.collect()
    # |sent_at − at| is compared in whole seconds (truncated): one second more keeps every row
    margin = timedelta(seconds=CONTEXT_WINDOW_S + 1)
    near = theirs.filter(pl.col("sent_at").is_between(at.min() - margin, at.max() + margin)).collect()
    keys = ["source_file", "source_sheet", "source_row"]
    if set(keys) <= set(have) and set(keys) <= set(shown.columns):  # the cited messages (who spoke)
        cited = shown.select(keys).drop_nulls().unique()
        if cited.join(near.select(keys), on=keys, how="anti").height:
            return theirs.collect()
    return near


# --- lexicon hits -----------------------------------------------------------------------------

_COURTESY = ("politeness", "polite", "praise")  # courtesy terms (亲/请/您好) say nothing wrong


def lexicon(b: MonthBundle) -> dict[str, Any]:
    """Text-quality indicators per agent, hit counts per lexicon and the most frequent problem terms."""
    names = _agent_names(b)
    out: dict[str, Any] = {"metric_headers": [metric_label(c) for c in TEXT_METRICS],
                           "metrics": _metric_rows(b, names, TEXT_METRICS),
                           "categories": [], "pivot": [], "terms": [], "terms_svg": None}
    th = b.text_hits
    if has_rows(th):
        agent_col = first_col(th, "agent_account", "agent")
        cat_col = first_col(th, "lexicon", "category", "kind", "list", "lexicon_name")
        term_col = first_col(th, "term", "hit", "matched", "word", "keyword", "pattern")
        th = th.lazy()
        if agent_col and cat_col:
            counts = th.group_by(agent_col, cat_col).len().sort(agent_col, cat_col).collect()
            cats = sorted(str(c) for c in counts[cat_col].unique().to_list() if c is not None)
            table: dict[str, dict[str, int]] = {}
            for a, c, n in counts.iter_rows():
                table.setdefault(str(a), {})[str(c)] = n
            out["categories"] = [LEXICON_LABELS.get(c, c) for c in cats]
            out["pivot"] = [
                {"label": _label(names, a), "cells": [table[a].get(c, 0) for c in cats],
                 "total": sum(table[a].values())}
                for a in sorted(table)
            ]
        if term_col:
            problems = th.filter(~pl.col(cat_col).cast(pl.String).is_in(list(_COURTESY))) if cat_col else th
            group = [cat_col, term_col] if cat_col else [term_col]
            top = problems.group_by(group).len().sort(["len", *group], descending=[True] + [False] * len(group)).head(20).collect()
            out["terms"] = [
                {"category": LEXICON_LABELS.get(plain(r[cat_col]), plain(r[cat_col])) if cat_col else "",
                 "term": plain(r[term_col]), "n": r["len"]}
                for r in top.to_dicts()
            ]
            if out["terms"]:
                out["terms_svg"] = svg.hbar_chart(
                    [f"{t['term']}（{t['category']}）" if t["category"] else t["term"] for t in out["terms"][:12]],
                    [t["n"] for t in out["terms"][:12]], color=svg.PALETTE[3], aria="高频问题用语",
                )
    return out


# --- refund reasons and conversation reasons --------------------------------------------------

def refund_reasons(b: MonthBundle) -> dict[str, Any]:
    """Refunds of the month by 买家退款原因 (listed once for the shop): count, successful, amount."""
    rf = b.refunds
    if not has_rows(rf) or "reason" not in rf.columns:
        return {"has": False}
    status_ok = (pl.col("status") == "退款成功") if "status" in rf.columns else pl.lit(False)
    amount = (
        pl.col("refund_amount").cast(pl.Decimal(18, 2), strict=False).sum()
        if "refund_amount" in rf.columns else pl.lit(None)
    )
    agg = (
        rf.with_columns(pl.col("reason").cast(pl.String).fill_null("（未填写）"))
        .group_by("reason")
        .agg(pl.len().alias("n"), status_ok.sum().alias("ok"), amount.alias("amount"))
        .sort(["n", "reason"], descending=[True, False])
    )
    rows = [
        {"reason": r["reason"], "n": r["n"], "ok": r["ok"], "amount": money(r["amount"]),
         "share": rate(r["n"] / rf.height)}
        for r in agg.to_dicts()
    ]
    top = rows[:12]
    statuses = []
    if "status" in rf.columns:
        statuses = [(plain(s), n) for s, n in rf.group_by("status").len().sort(["len", "status"],
                                                                                 descending=[True, False]).iter_rows()]
    scope = None
    if b.rules is not None and "refund_rate" in b.rules.items:
        scope = getattr(b.rules.items["refund_rate"], "scope", None)
    return {
        "has": True, "total": rf.height, "rows": rows, "statuses": statuses, "shop_scope": scope == "shop",
        "svg": svg.hbar_chart([r["reason"] for r in top], [r["n"] for r in top], aria="退款原因"),
    }


def conversation_reasons(b: MonthBundle, top_n: int = 8) -> dict[str, Any]:
    """Predicted after-sales reason per conversation: team mix and mix per agent."""
    cr = b.conversation_reasons
    if not has_rows(cr):
        return {"has": False}
    agent_col = first_col(cr, "agent_account", "agent")
    reason_col = first_col(cr, "reason", "predicted_reason", "label", "predicted")
    if agent_col is None or reason_col is None:
        return {"has": False}
    has_flag = "is_after_sales" in columns_of(cr)
    cr = cr.lazy()
    if has_flag:
        cr = cr.filter(pl.col("is_after_sales").fill_null(False))
    # no prediction = the classifier was skipped (too little labelled history) or untagged
    cr = cr.filter(pl.col(reason_col).is_not_null())
    # conversations per (agent, reason): everything below is counted from these
    pairs = (cr.select(pl.col(agent_col).cast(pl.String).alias("a"), pl.col(reason_col).cast(pl.String).alias("r"))
             .group_by("a", "r").len().collect())
    if pairs.height == 0:
        return {"has": False}
    names = _agent_names(b)
    team = pairs.group_by("r").agg(pl.col("len").sum()).sort(["len", "r"], descending=[True, False])
    reasons = team["r"].to_list()
    keep = reasons[:top_n]
    segments = keep + (["其他"] if len(reasons) > top_n else [])
    pairs = pairs.with_columns(pl.when(pl.col("r").is_in(keep)).then(pl.col("r")).otherwise(pl.lit("其他")).alias("r"))
    counts = pairs.group_by("a", "r").agg(pl.col("len").sum()).sort("a", "r")
    table: dict[str, dict[str, int]] = {}
    for a, r, n in counts.iter_rows():
        table.setdefault(str(a), {})[r] = n
    agents = sorted(table)
    rows = [(_label(names, a), [table[a].get(s, 0) for s in segments]) for a in agents]
    short_rows = [(_short(names, a), [table[a].get(s, 0) for s in segments]) for a in agents]
    return {
        "has": True,
        "total": int(pairs["len"].sum()),
        "segments": segments,
        "team_svg": svg.hbar_chart(team["r"].head(12).to_list(), team["len"].head(12).to_list(),
                                   color=svg.PALETTE[2], aria="会话原因"),
        "agent_svg": svg.stacked_hbar(short_rows, segments, aria="客服会话原因构成"),
        "rows": [{"label": lab, "cells": cells, "total": sum(cells)} for lab, cells in rows],
    }


# --- month-over-month trend -------------------------------------------------------------------

def trend(b: MonthBundle) -> dict[str, Any]:
    """Scores per agent and team pay (final rows) per month, when ``trend`` holds earlier months."""
    t = b.trend
    if not has_rows(t) or not {"month", "agent"} <= set(t.columns):
        return {"has": False}
    earlier = t.filter(pl.col("month").cast(pl.String) < b.month)
    if earlier.height == 0:
        return {"has": False}
    cols = ["month", "agent", "total_score", "salary"]
    frames = [earlier.select([pl.col(c).cast(pl.String) if c in earlier.columns else pl.lit(None, pl.String).alias(c)
                              for c in cols])]
    if has_rows(b.payroll):
        p = b.payroll
        frames.append(p.select([
            pl.lit(b.month).alias("month") if c == "month" else
            (pl.col(c).cast(pl.String) if c in p.columns else pl.lit(None, pl.String).alias(c))
            for c in cols
        ]))
    rows = pl.concat(frames).sort("month", "agent").to_dicts()
    months = sorted({r["month"] for r in rows})
    agents = sorted({r["agent"] for r in rows if r["agent"] is not None})
    names = _agent_names(b)
    score: dict[tuple[str, str], float | None] = {(r["agent"], r["month"]): points_float(r["total_score"]) for r in rows}
    pay: dict[str, Decimal] = {}
    for r in rows:
        pay[r["month"]] = pay.get(r["month"], Decimal(0)) + (to_decimal(r["salary"]) or Decimal(0))
    series = [(_short(names, a), [score.get((a, mo)) for mo in months]) for a in agents]
    gate, tp = pass_mark(b), total_points(b)
    return {
        "has": True,
        "months": months,
        "score_svg": svg.line_chart(months, series, hline=float(gate) if gate is not None else None,
                                    hline_label=f"达标线 {points(gate)}",
                                    y_max=max([float(tp or 0) + 10] + [v for _lab, ys in series for v in ys if v is not None]),
                                    aria="总分趋势"),
        "pay_svg": svg.bar_chart(months, [round(float(pay[mo])) for mo in months], y_label="工资总额(元，取整)",
                                 aria="工资总额趋势"),
        "table": [{"label": _label(names, a), "cells": [points(v) for v in ys]} for a, (_l, ys) in zip(agents, series, strict=False)],
        "pay": [money(pay[mo]) for mo in months],
    }
