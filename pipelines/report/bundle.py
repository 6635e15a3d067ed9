"""The month bundle the report renderers take: every frame a report shows, already loaded.

The lead assembles it from the warehouse (payroll, kpi_items, kpi_adjustments from scoring;
evidence, agent_month_metrics, questions, text_hits, conversation_reasons from analytics;
refunds from staging; trend = payroll rows of earlier months). Renderers tolerate extra
columns and ``None`` for every optional frame (the section then says 无数据).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass
class MonthBundle:
    """All frames of one shop-month needed by ``render_report`` and ``write_payroll_xlsx``.

    Required (may be empty frames): ``payroll``, ``kpi_items``, ``kpi_adjustments``,
    ``evidence``, ``agent_month_metrics``. Optional: ``questions`` (agent_account, buyer,
    asked_at, answered_at, response_s — null = unanswered), ``text_hits``,
    ``conversation_reasons``, ``refunds`` (staged refunds), ``trend`` (month, agent,
    total_score, salary of earlier months). Column shapes: docs/reports.md.
    """

    month: str
    shop: str
    payroll: pl.DataFrame | None
    kpi_items: pl.DataFrame | None
    kpi_adjustments: pl.DataFrame | None
    evidence: pl.DataFrame | None
    agent_month_metrics: pl.DataFrame | None
    questions: pl.DataFrame | None = None
    text_hits: pl.DataFrame | None = None
    conversation_reasons: pl.DataFrame | None = None
    refunds: pl.DataFrame | None = None
    trend: pl.DataFrame | None = None
    rules_version: str | None = None
    rules_hash: str | None = None
    run_id: str | None = None


def has_rows(df: pl.DataFrame | None) -> bool:
    """True when ``df`` is a frame with at least one row."""
    return df is not None and df.height > 0


def first_col(df: pl.DataFrame, *names: str) -> str | None:
    """The first of ``names`` that ``df`` has (producers name a few columns differently)."""
    for n in names:
        if n in df.columns:
            return n
    return None
