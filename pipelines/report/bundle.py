"""The month bundle the report renderers take: every frame a report shows, already loaded.

:func:`build_month_bundle` assembles it through a ``read(table, month)`` callable (the
warehouse, or anything else that returns frames): payroll, kpi_items, kpi_adjustments,
kpi_meta from scoring; evidence, agent_month_metrics, agent_day_metrics, questions, text_hits,
conversation_reasons from analytics; refunds and messages (the context of shown evidence)
from staging; earlier months' payroll and metrics for the ▲▼ changes and the trend.
Renderers tolerate extra columns and ``None`` for every optional frame (the section then
says 无数据).

The frames that grow with the messages (:data:`BIG_TABLES`: evidence, questions, text_hits,
conversation_reasons, messages) may be polars *lazy* frames over the run's parquet parts
(``build_month_bundle(..., scan=build.scan)``): renderers then only aggregate them, or cap them
first and collect the rows they show, so the report's memory and time do not grow with the
month (docs/reports.md, "Big months").
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl

Reader = Callable[[str, str], "pl.DataFrame | None"]
Scanner = Callable[[str], "pl.LazyFrame | None"]  # the month's table, lazily (MonthBuild.scan)
Frame = pl.DataFrame | pl.LazyFrame
# tables that grow with the messages: scanned lazily when the bundle is given a scanner
BIG_TABLES = ("evidence", "questions", "text_hits", "conversation_reasons", "messages")
TREND_MONTHS = 12  # earlier months read for the trend section
# the columns of ``messages`` the report needs (who spoke, the conversation around evidence)
MESSAGE_COLS = ("shop", "agent_account", "buyer", "sender_role", "sent_at", "text", "event", "seq",
                "source_file", "source_sheet", "source_row")


@dataclass
class MonthBundle:
    """All frames of one shop-month needed by ``render_report`` and ``write_payroll_xlsx``.

    Required (may be empty frames): ``payroll``, ``kpi_items``, ``kpi_adjustments``,
    ``evidence``, ``agent_month_metrics``. Optional: ``questions`` (agent_account, buyer,
    asked_at, answered_at, response_s — null = unanswered), ``text_hits``,
    ``conversation_reasons``, ``refunds`` (staged refunds), ``trend`` (month, agent,
    total_score, salary of earlier months), ``day_metrics`` (agent_day_metrics),
    ``previous_payroll`` / ``previous_metrics`` (the month before, same warehouse),
    ``messages`` (for who spoke and the conversation around evidence), ``rules`` (the run's
    parsed :class:`scoring.rules.Rules`), ``meta`` (the kpi_meta row: pass_mark, total_points,
    kpi_pool, …). Column shapes: docs/reports.md.
    """

    month: str
    shop: str
    payroll: pl.DataFrame | None
    kpi_items: pl.DataFrame | None
    kpi_adjustments: pl.DataFrame | None
    evidence: Frame | None
    agent_month_metrics: pl.DataFrame | None
    questions: Frame | None = None
    text_hits: Frame | None = None
    conversation_reasons: Frame | None = None
    refunds: pl.DataFrame | None = None
    trend: pl.DataFrame | None = None
    rules_version: str | None = None
    rules_hash: str | None = None
    run_id: str | None = None  # kept for callers; never rendered (outputs must be byte-identical)
    day_metrics: pl.DataFrame | None = None
    previous_payroll: pl.DataFrame | None = None
    previous_metrics: pl.DataFrame | None = None
    messages: Frame | None = None
    rules: Any = None  # scoring.rules.Rules of the run, when its text could be recovered
    meta: dict | None = None
    inputs_hash: str | None = None
    # True when ``evidence`` is in :func:`evidence_order` already (build_month_bundle sorts it
    # once; renderers then only rank within groups instead of sorting the month's evidence)
    evidence_sorted: bool = False


def has_rows(df: Frame | None) -> bool:
    """True when ``df`` is a frame (or lazy frame) with at least one row."""
    if df is None:
        return False
    if isinstance(df, pl.LazyFrame):
        return df.select(pl.len()).collect().item() > 0
    return df.height > 0


def columns_of(df: Frame) -> list[str]:
    """Column names of a frame or lazy frame."""
    return df.collect_schema().names() if isinstance(df, pl.LazyFrame) else df.columns


def first_col(df: Frame, *names: str) -> str | None:
    """The first of ``names`` that ``df`` has (producers name a few columns differently)."""
    have = columns_of(df)
    for n in names:
        if n in have:
            return n
    return None


def distinct(df: Frame, col: str) -> list:
    """The distinct values of ``col`` (any order)."""
    return df.lazy().select(pl.col(col).unique()).collect()[col].to_list()


def previous_month(month: str, n: int = 1) -> str:
    """'YYYY-MM' ``n`` months before ``month``."""
    y, m = int(month[:4]), int(month[5:7])
    k = y * 12 + (m - 1) - n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def rules_of_run(meta: dict) -> Any:
    """The run's parsed rules: from ``rules_text`` in kpi_meta, else the ``rules_file`` it names
    (or the shipped default) when that file still has the stored hash; None otherwise."""
    from scoring.rules import DEFAULT_RULES_PATH, RulesError, load_rules

    want = meta.get("rules_hash")
    texts: list[str] = []
    if meta.get("rules_text"):
        texts.append(str(meta["rules_text"]))
    for p in (meta.get("rules_file"), DEFAULT_RULES_PATH):
        try:
            if p and Path(str(p)).is_file():
                texts.append(Path(str(p)).read_text("utf-8"))
        except (OSError, UnicodeDecodeError):
            continue
    for text in texts:
        try:
            rules = load_rules(text)
        except RulesError:
            continue
        if want is None or rules.hash == want:
            return rules
    return None


def _sorted(df: Frame | None, *keys: str) -> Frame | None:
    """Warehouse reads have no order: sort by the keys present, then (small frames) every column.
    Frames the renderers only aggregate are left unsorted (their outputs are sorted). A lazy
    frame (the evidence: 1.2M rows at 10M messages, keys unique) is collected and put in
    :func:`evidence_order` once (:func:`sort_evidence`), so the renderers only rank it
    (``evidence_sorted``)."""
    if isinstance(df, pl.LazyFrame):
        return sort_evidence(df.collect())
    if df is None or df.height == 0:
        return df
    present = [k for k in keys if k in df.columns]
    rest = [] if df.height > 200_000 else [  # big frames: the keys given are unique there
        c for c in df.columns if c not in present and not isinstance(df.schema[c], (pl.List, pl.Struct, pl.Array, pl.Object))]
    return df.sort(present + rest, nulls_last=True, maintain_order=True)


def content_hash(frames: list[pl.DataFrame | None]) -> str:
    """sha256 (12 hex) of the frames' sorted CSV text: equal inputs → equal hash."""
    h = hashlib.sha256()
    for df in frames:
        if df is None:
            h.update(b"<none>")
            continue
        safe = df.select([pl.col(c).cast(pl.List(pl.String)).list.join("|") if isinstance(df.schema[c], (pl.List, pl.Array))
                          else pl.col(c) for c in df.columns if not isinstance(df.schema[c], pl.Struct)]) if df.height else df
        if safe.height:  # the CSV's UTF-8 bytes, written straight to a buffer (no str round trip)
            buf = io.BytesIO()
            safe.write_csv(buf)
            h.update(buf.getvalue())
        else:
            h.update(",".join(df.columns).encode())
    return h.hexdigest()[:12]


def _shop(messages: Frame | None, refunds: pl.DataFrame | None) -> str:
    """The shop most messages (else refunds) name."""
    for df in (messages, refunds):
        if df is not None and "shop" in columns_of(df):
            lo, hi = df.lazy().select(pl.col("shop").min().alias("lo"), pl.col("shop").max().alias("hi")).collect().row(0)
            if lo is None:  # no shop named here
                continue
            if lo == hi:  # one shop (the usual month): no need to count
                return str(lo)
            counts = (df.lazy().group_by("shop").len().drop_nulls("shop")
                      .sort(["len", "shop"], descending=[True, False]).collect())
            if counts.height:
                return str(counts["shop"][0])
    return ""


def _decimal(v: object) -> Decimal | None:
    try:
        return None if v in (None, "") else Decimal(str(v))
    except InvalidOperation:
        return None


def rank_in_runs(*keys: str) -> pl.Expr:
    """Each row's position (0, 1, …) in its run of consecutive rows with equal ``keys``: in a
    frame sorted by ``keys`` its rank within its group, without a window over the frame."""
    idx = pl.int_range(pl.len(), dtype=pl.Int64)
    starts = pl.any_horizontal([idx == 0, *[pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys]])
    return idx - pl.when(starts).then(idx).forward_fill()


def evidence_order(ev: Frame) -> list[str]:
    """The order evidence is shown in: agent, kind, time, id (the id is unique)."""
    have = columns_of(ev)
    return [k for k in ("agent_account", "kind", "at", "evidence_id") if k in have]


def sort_evidence(ev: pl.DataFrame) -> pl.DataFrame:
    """``ev`` in :func:`evidence_order`, exactly as ``ev.sort(order, nulls_last=True,
    maintain_order=True)`` gives it, cheaply when ``ev`` comes in the evidence mart's own order.

    The mart is written sorted by (month, agent, time, kind, id) (``analytics.partition.
    ROW_MARTS``): each agent's rows of one kind are then already in (time, id) order, so a
    stable sort on a small integer code of (agent, kind) alone gives the shown order (a third of
    the full sort's cost at 1.2M rows). Checked, not assumed: unless every (agent, kind) group
    comes out strictly increasing in (time, id), the frame is fully sorted."""
    order = evidence_order(ev)
    if (order != ["agent_account", "kind", "at", "evidence_id"] or ev.height < 2
            or any(ev.schema[c] != pl.String for c in ("agent_account", "kind", "evidence_id"))):
        return ev.sort(order, nulls_last=True, maintain_order=True) if order else ev
    code = pl.lit(0, pl.Int64)
    for col in ("agent_account", "kind"):  # position in the sorted distinct values, nulls last
        values = ev[col].drop_nulls().unique().sort()
        code = code * (len(values) + 1) + pl.col(col).cast(pl.Enum(values)).to_physical().cast(pl.Int64).fill_null(len(values))
    grouped = ev.with_columns(code.alias("_g")).sort("_g", maintain_order=True)
    at, eid, g = pl.col("at"), pl.col("evidence_id"), pl.col("_g")
    in_order = (g != g.shift(1)).fill_null(True) | (
        (at > at.shift(1)) | ((at == at.shift(1)) & (eid > eid.shift(1)))).fill_null(False)
    if grouped.select(in_order.all()).item():
        return grouped.drop("_g")
    return ev.sort(order, nulls_last=True, maintain_order=True)


def build_month_bundle(month: str, read: Reader, scan: Scanner | None = None) -> MonthBundle | None:
    """Everything the reports of ``month`` show, read through ``read(table, month)``.

    ``read`` returns that month's rows of a warehouse table, or None when the table does not
    exist. With ``scan`` (``scan(table)``: the month's table as a lazy frame, or None), the
    :data:`BIG_TABLES` of the month are lazy frames, never read whole, except the evidence:
    sorted once (:func:`evidence_order`) and held, so the renderers only rank it. Returns
    None when the month has neither a roster nor messages nor payroll.
    """
    def get(table: str, m: str = month) -> Frame | None:
        if scan is not None and m == month and table in BIG_TABLES:
            return scan(table)
        return read(table, m)

    roster, payroll = get("roster"), get("payroll")
    msgs = get("messages")
    if roster is None and msgs is None and payroll is None:
        return None
    if msgs is not None:  # big; only joined/filtered and sorted after that, so not sorted here
        msgs = msgs.select([c for c in MESSAGE_COLS if c in columns_of(msgs)])
    refunds = get("refunds")
    meta_df = get("kpi_meta")
    meta = meta_df.row(0, named=True) if meta_df is not None and meta_df.height else {}
    rules = rules_of_run(meta) if meta else None

    history = []
    for k in range(TREND_MONTHS, 0, -1):
        m = previous_month(month, k)
        p = get("payroll", m)
        if p is not None and p.height:
            history.append(p.select([pl.lit(m).alias("month")] + [
                pl.col(c).cast(pl.String) if c in p.columns else pl.lit(None, pl.String).alias(c)
                for c in ("agent", "total_score", "salary", "status")]))
    trend = pl.concat(history) if history else None
    prev = previous_month(month)
    bundle = MonthBundle(
        month=month,
        shop=_shop(msgs, refunds),
        payroll=_sorted(payroll, "agent"),
        kpi_items=_sorted(get("kpi_items"), "agent_account", "item"),
        kpi_adjustments=_sorted(get("kpi_adjustments"), "agent_account", "kind", "item", "record_id"),
        evidence=_sorted(get("evidence"), "agent_account", "kind", "at", "evidence_id"),
        agent_month_metrics=_sorted(get("agent_month_metrics"), "agent_account"),
        # only aggregated (then sorted) by the renderers: their row order does not matter
        questions=get("questions"),
        text_hits=get("text_hits"),
        conversation_reasons=get("conversation_reasons"),
        refunds=_sorted(refunds, "refund_id", "applied_at"),
        trend=trend,
        rules_version=None if meta.get("rules_version") is None else str(meta["rules_version"]),
        rules_hash=meta.get("rules_hash"),
        day_metrics=_sorted(get("agent_day_metrics"), "agent_account", "day"),
        previous_payroll=_sorted(get("payroll", prev), "agent"),
        previous_metrics=_sorted(get("agent_month_metrics", prev), "agent_account"),
        messages=msgs,
        rules=rules,
        meta={**meta, "pass_mark": _decimal(meta.get("pass_mark")), "total_points": _decimal(meta.get("total_points")),
              "kpi_pool": _decimal(meta.get("kpi_pool"))} if meta else None,
    )
    bundle.evidence_sorted = True
    bundle.inputs_hash = meta.get("inputs_hash") or content_hash(
        [bundle.payroll, bundle.kpi_items, bundle.kpi_adjustments, bundle.agent_month_metrics,
         _evidence_ids(bundle.evidence, bundle.evidence_sorted)])
    return bundle


def _evidence_ids(ev: Frame | None, presorted: bool) -> pl.DataFrame | None:
    """The evidence ids in the order evidence is shown (the fingerprint's last part)."""
    if ev is None or "evidence_id" not in columns_of(ev):
        return None
    if not presorted:
        ev = ev.lazy().sort(evidence_order(ev), nulls_last=True, maintain_order=True)
    return ev.lazy().select("evidence_id").collect()
