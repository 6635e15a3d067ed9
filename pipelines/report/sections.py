"""Build the report's sections (plain dicts of display strings + inline SVG) from a MonthBundle.

Aggregation is done in polars; Python only iterates over small per-agent/per-bin results.
Every buyer-facing string (buyer, excerpt, detail) goes through ``mask.mask_frame`` here; the
template escapes everything (autoescape), SVG helpers escape their labels.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl

from . import svg
from .bundle import MonthBundle, first_col, has_rows
from .fmt import (
    ADJUSTMENT_ITEM_LABELS,
    KIND_LABELS,
    LEXICON_LABELS,
    STATUS_LABELS,
    as_bool,
    id_list,
    money,
    plain,
    points,
    points_float,
    rate,
    seconds,
    to_decimal,
)
from .mask import mask_frame

EVIDENCE_ROWS_PER_AGENT = 30  # per kind and agent in the HTML; the xlsx 证据 sheet has them all
GATE_SCORE = 91  # 70% × 130 in the default rules; only used to place the marker on the histogram

# (key, label, max points, payroll points column, payroll grade column, aliases in kpi_items.item)
ITEMS: tuple[tuple[str, str, int, str, str | None, tuple[str, ...]], ...] = (
    ("quality", "售后客服素质", 20, "quality_pts", "quality_grade", ("quality", "售后客服素质", "客服素质")),
    ("refund_rate", "退款率", 30, "refund_pts", None, ("refund_rate", "refund", "退款率")),
    (
        "complaints", "投诉/维权/举报/退款纠纷处理", 20, "complaint_pts", "complaint_grade",
        ("complaints", "complaint", "投诉/维权/举报/退款纠纷处理", "投诉处理"),
    ),
    ("cooperation", "配合度", 20, "cooperation_pts", None, ("cooperation", "配合度")),
    ("execution", "执行力", 20, "execution_pts", None, ("execution", "执行力")),
    ("attendance", "出勤率", 20, "attendance_pts", None, ("attendance", "出勤率")),
)
_ALIAS = {a: key for key, *_rest, aliases in ITEMS for a in aliases}
_ITEM_LABEL = {key: label for key, label, *_rest in ITEMS}


def item_label(item: object) -> str:
    """Chinese label of a kpi item key (``quality`` → 售后客服素质); unknown items unchanged."""
    s = plain(item)
    return _ITEM_LABEL.get(_ALIAS.get(s, s), s)

SCORE_BINS = ((0, 60, "<60"), (60, 70, "60–70"), (70, 80, "70–80"), (80, 91, "80–91"),
              (91, 100, "91–100"), (100, 110, "100–110"), (110, 120, "110–120"),
              (120, 130.0001, "120–130"), (130.0001, 1e9, ">130"))
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


def _agents(b: MonthBundle) -> list[str]:
    """Agents in payroll order (by account), then any agent only found in analytics frames."""
    seen: list[str] = []
    if has_rows(b.payroll) and "agent" in b.payroll.columns:
        seen = sorted({str(a) for a in b.payroll["agent"].to_list() if a is not None})
    for df in (b.agent_month_metrics, b.questions, b.evidence, b.conversation_reasons):
        if has_rows(df) and "agent_account" in df.columns:
            extra = {str(a) for a in df["agent_account"].unique().to_list() if a is not None}
            seen += sorted(extra - set(seen))
    return seen


# --- team summary -----------------------------------------------------------------------------

def summary(b: MonthBundle) -> dict[str, Any]:
    """Team cards, payroll table and the score distribution histogram."""
    if not has_rows(b.payroll):
        return {"has": False}
    rows = b.payroll.to_dicts()
    total_salary = sum((to_decimal(r.get("salary")) or Decimal(0) for r in rows), Decimal(0))
    total_base = sum((to_decimal(r.get("base_salary")) or Decimal(0) for r in rows), Decimal(0))
    total_kpi = sum((to_decimal(r.get("kpi_bonus")) or Decimal(0) for r in rows), Decimal(0))
    scores = [points_float(r.get("total_score")) for r in rows]
    scored = [s for s in scores if s is not None]
    passed = sum(1 for r in rows if as_bool(r.get("passed")) is True)
    incomplete = sum(1 for r in rows if str(r.get("status") or "") == "incomplete")
    counts = [sum(1 for s in scored if lo <= s < hi) for lo, hi, _ in SCORE_BINS]
    colors = ["#c8504b" if hi <= GATE_SCORE else "#3b6fd8" for _lo, hi, _ in SCORE_BINS]
    table = []
    for r in sorted(rows, key=lambda r: str(r.get("agent") or "")):
        st = str(r.get("status") or "")
        table.append({
            "agent": plain(r.get("agent")),
            "name": plain(r.get("name")),
            "role": plain(r.get("role")),
            "total": points(r.get("total_score")),
            "total_v": points_float(r.get("total_score")) or 0,
            "passed": {True: "达标", False: "未达标"}.get(as_bool(r.get("passed")), "—"),
            "passed_ok": as_bool(r.get("passed")) is True,
            "base": money(r.get("base_salary")),
            "kpi": money(r.get("kpi_bonus")),
            "salary": money(r.get("salary")),
            "salary_v": float(to_decimal(r.get("salary")) or 0),
            "status": STATUS_LABELS.get(st, st or "—"),
            "incomplete": st == "incomplete",
            "reason": plain(r.get("status_reason")) if r.get("status_reason") else "",
        })
    return {
        "has": True,
        "headcount": len(rows),
        "salary_total": money(total_salary),
        "base_total": money(total_base),
        "kpi_total": money(total_kpi),
        "passed": passed,
        "incomplete": incomplete,
        "avg_score": points(sum(scored) / len(scored)) if scored else "—",
        "histogram": svg.bar_chart(
            [lab for *_x, lab in SCORE_BINS], counts, colors=colors, marker_x=4,
            marker_label=f"达标线 {GATE_SCORE}", y_label="人数", aria="总分分布",
        ),
        "table": table,
    }


# --- per-agent scorecards ---------------------------------------------------------------------

def _kpi_lookup(b: MonthBundle) -> dict[tuple[str, str], dict[str, Any]]:
    if not has_rows(b.kpi_items):
        return {}
    df = b.kpi_items
    agent_col = first_col(df, "agent_account", "agent")
    if agent_col is None or "item" not in df.columns:
        return {}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in df.to_dicts():
        item = str(r.get("item"))
        out[(str(r.get(agent_col)), _ALIAS.get(item, item))] = r
    return out


def _adjustments(b: MonthBundle) -> dict[str, list[dict[str, str]]]:
    if not has_rows(b.kpi_adjustments):
        return {}
    df = mask_frame(b.kpi_adjustments, text_cols=("detail",), nick_cols=("buyer",))
    agent_col = first_col(df, "agent_account", "agent")
    if agent_col is None:
        return {}
    out: dict[str, list[dict[str, str]]] = {}
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


def scorecards(b: MonthBundle) -> list[dict[str, Any]]:
    """One card per payroll agent: the six items, grades suggested vs final, adjustments, pay."""
    if not has_rows(b.payroll) or "agent" not in b.payroll.columns:
        return []
    kpi = _kpi_lookup(b)
    adj = _adjustments(b)
    cards = []
    for idx, r in enumerate(sorted(b.payroll.to_dicts(), key=lambda r: str(r.get("agent") or ""))):
        agent = str(r.get("agent"))
        items = []
        for key, label, max_pts, pts_col, grade_col, _aliases in ITEMS:
            k = kpi.get((agent, key), {})
            grade = r.get(grade_col) if grade_col else None
            grade = grade if grade is not None else k.get("grade")
            suggested, override = k.get("suggested_grade"), k.get("override_grade")
            raw = r.get("refund_rate") if key == "refund_rate" else k.get("raw_value")
            if key == "refund_rate" and raw is None:
                raw = k.get("raw_value")
            pts = r.get(pts_col) if pts_col in r else k.get("points")
            if pts is None:
                pts = k.get("points")
            ev = id_list(k.get("evidence_ids"))
            items.append({
                "label": label,
                "max": max_pts,
                "points": points(pts),
                "pct": min(100.0, max(0.0, 100 * (points_float(pts) or 0) / max_pts)),
                "grade": plain(grade) if grade is not None else "",
                "suggested": plain(suggested) if suggested is not None else "",
                "override": plain(override) if override is not None else "",
                "overridden": override is not None and suggested is not None and str(override) != str(suggested),
                "raw": rate(raw, 2) if key == "refund_rate" and isinstance(raw, (int, float, Decimal)) else
                       (plain(raw) if raw is not None else ""),
                "source": plain(k.get("source")) if k.get("source") is not None else "",
                "rule": plain(k.get("rule")) if k.get("rule") is not None else "",
                "evidence": len(ev),
            })
        known = {key for key, *_ in ITEMS}
        extra = sorted(it for (a, it) in kpi if a == agent and it not in known)
        for it in extra:
            k = kpi[(agent, it)]
            items.append({
                "label": plain(k.get("label") or it), "max": "", "points": points(k.get("points")), "pct": 0,
                "grade": plain(k.get("grade")) if k.get("grade") is not None else "",
                "suggested": plain(k.get("suggested_grade")) if k.get("suggested_grade") else "",
                "override": plain(k.get("override_grade")) if k.get("override_grade") else "",
                "overridden": False, "raw": plain(k.get("raw_value")) if k.get("raw_value") is not None else "",
                "source": plain(k.get("source")) if k.get("source") else "",
                "rule": plain(k.get("rule")) if k.get("rule") else "",
                "evidence": len(id_list(k.get("evidence_ids"))),
            })
        st = str(r.get("status") or "")
        cards.append({
            "agent": agent,
            "anchor": f"agent-{idx + 1}",
            "label": _label({agent: str(r.get("name") or agent)}, agent),
            "role": plain(r.get("role")),
            "item_rows": items,
            "deductions": points(r.get("deductions")),
            "bonuses": points(r.get("bonuses")),
            "total": points(r.get("total_score")),
            "passed": as_bool(r.get("passed")),
            "kpi": money(r.get("kpi_bonus")),
            "base": money(r.get("base_salary")),
            "salary": money(r.get("salary")),
            "status": STATUS_LABELS.get(st, st or "—"),
            "incomplete": st == "incomplete",
            "reason": plain(r.get("status_reason")) if r.get("status_reason") else "",
            "adjustments": adj.get(agent, []),
        })
    return cards


# --- response times ---------------------------------------------------------------------------

def _response_bins(questions: pl.DataFrame) -> pl.DataFrame:
    rs = pl.col("response_s").cast(pl.Float64)
    expr = pl.when(rs.is_null() | rs.is_nan()).then(pl.lit(len(RESPONSE_BINS)))
    for i, (hi, _lab) in enumerate(RESPONSE_BINS[:-1]):
        expr = expr.when(rs <= hi).then(pl.lit(i))
    expr = expr.otherwise(pl.lit(len(RESPONSE_BINS) - 1))
    if "status" in questions.columns:
        # analytics marks questions handed to another agent 'transferred_out' (response_s null):
        # they are neither answered nor unanswered for this agent.
        questions = questions.filter(pl.col("status").is_null() | (pl.col("status") != "transferred_out"))
    return (
        questions.select(pl.col("agent_account").cast(pl.String), expr.alias("bin"))
        .group_by("agent_account", "bin")
        .len()
    )


_METRIC_COLS = (
    ("questions", "问题数", plain), ("answered_questions", "已回答", plain),
    ("reply_rate", "回复率", rate), ("first_response_median_s", "首次响应中位", seconds),
    ("avg_response_s", "平均响应", seconds), ("p90_response_s", "P90 响应", seconds),
    ("response_3min_rate", "3分钟回复率", rate), ("slow_responses", "慢响应数", plain),
    ("unreplied_buyers", "未回复人数", plain),
)


def response_times(b: MonthBundle) -> dict[str, Any]:
    """Per-agent histogram of question response times (+ unanswered) and the metrics table."""
    names = _agent_names(b)
    charts = []
    if has_rows(b.questions) and {"agent_account", "response_s"} <= set(b.questions.columns):
        counts = _response_bins(b.questions)
        per: dict[str, list[int]] = {}
        for agent, bin_, n in counts.iter_rows():
            per.setdefault(str(agent), [0] * (len(RESPONSE_BINS) + 1))[bin_] = n
        labels = [lab for _hi, lab in RESPONSE_BINS] + ["未回复"]
        colors = list(_RESPONSE_COLORS) + ["#8a8f98"]
        for agent in [a for a in _agents(b) if a in per]:
            c = per[agent]
            charts.append({
                "label": _label(names, agent),
                "total": sum(c),
                "unanswered": c[-1],
                "svg": svg.bar_chart(labels, c, colors=colors, width=520, height=200,
                                     marker_x=3, marker_label="慢响应 >100秒", y_label="问题数",
                                     aria=f"{agent} 响应时间分布"),
            })
    metrics = _metric_rows(b, names, _METRIC_COLS)
    return {"charts": charts, "metrics": metrics, "metric_headers": [h for _c, h, _f in _METRIC_COLS]}


# --- evidence ---------------------------------------------------------------------------------

def _evidence_rows(df: pl.DataFrame, names: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for r in df.to_dicts():
        src = r.get("source_file")
        row = r.get("source_row")
        out.append({
            "agent": _label(names, str(r.get("agent_account"))),
            "buyer": plain(r.get("buyer")),
            "at": plain(r.get("at")),
            "excerpt": plain(r.get("excerpt")) if r.get("excerpt") is not None else "",
            "detail": plain(r.get("detail")) if r.get("detail") is not None else "",
            "source": f"{src}:{row}" if src is not None and row is not None else plain(src),
            "id": plain(r.get("evidence_id")),
        })
    return out


def evidence_tables(b: MonthBundle, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    """Masked evidence of the given kinds: one table per kind, at most N rows per agent."""
    ev = b.evidence
    if not has_rows(ev) or "kind" not in ev.columns or "agent_account" not in ev.columns:
        return []
    names = _agent_names(b)
    sort_cols = ["agent_account"] + (["at"] if "at" in ev.columns else [])
    tables = []
    for kind in kinds:
        part = ev.filter(pl.col("kind") == kind)
        if part.height == 0:
            continue
        per_agent = part.group_by("agent_account").len().sort("agent_account")
        shown = (
            part.sort(sort_cols, nulls_last=True)
            .with_columns(pl.int_range(pl.len()).over("agent_account").alias("_n"))
            .filter(pl.col("_n") < EVIDENCE_ROWS_PER_AGENT)
        )
        shown = mask_frame(shown)
        tables.append({
            "kind": kind,
            "label": KIND_LABELS.get(kind, kind),
            "total": part.height,
            "shown": shown.height,
            "per_agent": [(_label(names, str(a)), n) for a, n in per_agent.iter_rows()],
            "rows": _evidence_rows(shown, names),
        })
    return tables


# --- lexicon hits -----------------------------------------------------------------------------

_TEXT_METRICS = (
    ("polite_opening_rate", "礼貌开场率", rate), ("forbidden_hits", "禁用语命中", plain),
    ("knowledge_gap_replies", "知识盲区回复", plain), ("escalation_conversations", "升级威胁会话", plain),
    ("buyer_negative_turns", "买家负面", plain), ("praise_candidates", "表扬候选", plain),
)


def _metric_rows(b: MonthBundle, names: dict, columns) -> list[dict[str, Any]]:
    """One row per agent of agent_month_metrics: label and formatted ``columns`` cells."""
    m = b.agent_month_metrics
    if not (has_rows(m) and "agent_account" in m.columns):
        return []
    return [
        {"label": _label(names, str(r["agent_account"])), "cells": [f(r.get(c)) if c in r else "—" for c, _h, f in columns]}
        for r in m.sort("agent_account").to_dicts()
    ]


def lexicon(b: MonthBundle) -> dict[str, Any]:
    """Text-quality indicators per agent, hit counts per lexicon and the most frequent terms."""
    names = _agent_names(b)
    metrics = _metric_rows(b, names, _TEXT_METRICS)
    out: dict[str, Any] = {"metric_headers": [h for _c, h, _f in _TEXT_METRICS], "metrics": metrics,
                           "categories": [], "pivot": [], "terms": [], "terms_svg": None}
    th = b.text_hits
    if has_rows(th):
        agent_col = first_col(th, "agent_account", "agent")
        cat_col = first_col(th, "lexicon", "category", "kind", "list", "lexicon_name")
        term_col = first_col(th, "term", "hit", "matched", "word", "keyword", "pattern")
        if agent_col and cat_col:
            counts = th.group_by(agent_col, cat_col).len()
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
            group = [cat_col, term_col] if cat_col else [term_col]
            top = th.group_by(group).len().sort(["len", *group], descending=[True] + [False] * len(group)).head(20)
            out["terms"] = [
                {"category": LEXICON_LABELS.get(plain(r[cat_col]), plain(r[cat_col])) if cat_col else "",
                 "term": plain(r[term_col]), "n": r["len"]}
                for r in top.to_dicts()
            ]
            if out["terms"]:
                out["terms_svg"] = svg.hbar_chart(
                    [t["term"] for t in out["terms"][:12]],
                    [t["n"] for t in out["terms"][:12]], color=svg.PALETTE[1], aria="高频命中词",
                )
    return out


# --- refund reasons and conversation reasons --------------------------------------------------

def refund_reasons(b: MonthBundle) -> dict[str, Any]:
    """Refunds of the month by 买家退款原因: count, successful count, refunded amount."""
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
    return {
        "has": True, "total": rf.height, "rows": rows, "statuses": statuses,
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
    if "is_after_sales" in cr.columns:
        cr = cr.filter(pl.col("is_after_sales").fill_null(False))
    # no prediction = the classifier was skipped (too little labelled history) or untagged
    cr = cr.filter(pl.col(reason_col).is_not_null())
    if cr.height == 0:
        return {"has": False}
    names = _agent_names(b)
    df = cr.select(pl.col(agent_col).cast(pl.String).alias("a"), pl.col(reason_col).cast(pl.String).alias("r"))
    team = df.group_by("r").len().sort(["len", "r"], descending=[True, False])
    reasons = team["r"].to_list()
    keep = reasons[:top_n]
    segments = keep + (["其他"] if len(reasons) > top_n else [])
    df = df.with_columns(pl.when(pl.col("r").is_in(keep)).then(pl.col("r")).otherwise(pl.lit("其他")).alias("r"))
    counts = df.group_by("a", "r").len()
    table: dict[str, dict[str, int]] = {}
    for a, r, n in counts.iter_rows():
        table.setdefault(str(a), {})[r] = n
    agents = sorted(table)
    rows = [(_label(names, a), [table[a].get(s, 0) for s in segments]) for a in agents]
    return {
        "has": True,
        "total": cr.height,
        "segments": segments,
        "team_svg": svg.hbar_chart(team["r"].head(12).to_list(), team["len"].head(12).to_list(),
                                   color=svg.PALETTE[2], aria="会话原因"),
        "agent_svg": svg.stacked_hbar(rows, segments, aria="客服会话原因构成"),
        "rows": [{"label": lab, "cells": cells, "total": sum(cells)} for lab, cells in rows],
    }


# --- month-over-month trend -------------------------------------------------------------------

def trend(b: MonthBundle) -> dict[str, Any]:
    """Scores per agent and team pay per month, when ``trend`` holds months before ``b.month``."""
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
    rows = pl.concat(frames).to_dicts()
    months = sorted({r["month"] for r in rows})
    agents = sorted({r["agent"] for r in rows if r["agent"] is not None})
    names = _agent_names(b)
    score: dict[tuple[str, str], float | None] = {(r["agent"], r["month"]): points_float(r["total_score"]) for r in rows}
    pay: dict[str, Decimal] = {}
    for r in rows:
        pay[r["month"]] = pay.get(r["month"], Decimal(0)) + (to_decimal(r["salary"]) or Decimal(0))
    series = [(_label(names, a), [score.get((a, mo)) for mo in months]) for a in agents]
    return {
        "has": True,
        "months": months,
        "score_svg": svg.line_chart(months, series, hline=GATE_SCORE, hline_label=f"达标线 {GATE_SCORE}",
                                    y_max=max([140.0] + [v for _lab, ys in series for v in ys if v is not None]),
                                    aria="总分趋势"),
        "pay_svg": svg.bar_chart(months, [round(float(pay[mo])) for mo in months], y_label="工资总额(元，取整)",
                                 aria="工资总额趋势"),
        "table": [{"label": lab, "cells": [points(v) for v in ys]} for lab, ys in series],
        "pay": [money(pay[mo]) for mo in months],
    }
