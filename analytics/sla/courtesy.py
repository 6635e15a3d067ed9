"""Courtesy (policy 3.3.5 文明用语 / 3.3.1 服务态度) over call records and service reports.

The same Chinese text checks as the chat analytics: text normalised by
:func:`analytics.textnorm.normalize_texts` (NFKC, lower-case, traditional → simplified) and
matched with :func:`analytics.lexicon.match_terms` against the versioned lexicons of
``data/lexicons``. What staff wrote (服务报告 处理情况 / 备注, 答复内容) is matched with the
staff lexicons (default ``forbidden``); what the customer said (用户意见, 来电来函 事由)
with the customer lexicons (default ``negative`` and ``escalation``) — the customer's
reaction is evidence about the staff member who served him.

Outputs: findings (check ``courtesy``, one per record and field with a hit, with the terms
and an excerpt; long digit runs masked) and a per-staff summary where a person with more
staff-lexicon hits than ``max_forbidden_per_staff`` misses.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from contracts import SLA_RESULTS

from analytics.lexicon import Lexicon, match_terms
from analytics.settings import TextSettings
from analytics.textnorm import normalize_texts

from .checks import NOT_RUN, OFF, RAN, CheckRun
from .compliance import FINDING_SCHEMA

CID, REF, NAME = "courtesy", "3.3.5/3.3.1", "文明用语与服务态度(文本检查)"

# (source, column, field label, role)
TEXT_FIELDS = (
    ("tickets", "report_text", "处理情况", "staff"),
    ("tickets", "note", "备注", "staff"),
    ("tickets", "customer_comment", "用户意见", "customer"),
    ("calls", "reply_text", "答复内容", "staff"),
    ("calls", "subject", "事由", "customer"),
)

COURTESY_SCHEMA = SLA_RESULTS["sla_courtesy"].schema(exclude=("month",))


def _texts(tickets: pl.DataFrame | None, calls: pl.DataFrame | None) -> pl.DataFrame:
    parts = []
    for source, col, label, role in TEXT_FIELDS:
        f = tickets if source == "tickets" else calls
        if f is None or f.height == 0 or col not in f.columns:
            continue
        idc = "ticket_id" if source == "tickets" else "call_id"
        at = pl.coalesce("completed_at", "received_at") if source == "tickets" else pl.col("received_at")
        parts.append(f.filter(pl.col(col).is_not_null()).select(
            pl.lit("ticket" if source == "tickets" else "call").alias("record_kind"), pl.col(idc).cast(pl.String).alias("record_id"),
            pl.col("staff").cast(pl.String), pl.col("team").cast(pl.String) if "team" in f.columns else pl.lit(None, pl.String).alias("team"),
            at.cast(pl.Datetime("us")).alias("at"), pl.lit(label).alias("field"), pl.lit(role).alias("role"), pl.col(col).cast(pl.String).alias("text")))
    if not parts:
        return pl.DataFrame(schema={"record_kind": pl.String, "record_id": pl.String, "staff": pl.String, "team": pl.String,
                                    "at": pl.Datetime("us"), "field": pl.String, "role": pl.String, "text": pl.String})
    return pl.concat(parts).with_row_index("msg_idx").with_columns(pl.col("msg_idx").cast(pl.Int64))


def _hits(texts: pl.DataFrame, role: str, lexicons: list[Lexicon]) -> pl.DataFrame:
    owners = pl.DataFrame([{"term": t, "lexicon": lx.name} for lx in lexicons for t in lx.terms], schema={"term": pl.String, "lexicon": pl.String})
    found = match_terms(texts.filter(pl.col("role") == role), sorted(set(owners["term"].to_list())))
    return found.join(owners, on="term", how="inner")


def courtesy_check(
    tickets: pl.DataFrame | None,
    calls: pl.DataFrame | None,
    lexicons: dict[str, Lexicon] | None,
    cfg,
    as_of: datetime,
    text_settings: TextSettings | None = None,
) -> tuple[pl.DataFrame, CheckRun, pl.DataFrame]:
    """(findings, check run, per-staff summary)."""
    empty = pl.DataFrame(schema=FINDING_SCHEMA), pl.DataFrame(schema=COURTESY_SCHEMA)
    if not cfg.enabled:
        return empty[0], CheckRun(CID, REF, NAME, OFF, "规则文件中已关闭"), empty[1]
    names = [*cfg.staff_lexicons, *cfg.customer_lexicons]
    missing = [n for n in names if not lexicons or n not in lexicons]
    if missing:
        return empty[0], CheckRun(CID, REF, NAME, NOT_RUN, f"未加载词库 {', '.join(missing)}, 本项未检查"), empty[1]
    lexicons = lexicons or {}  # every named lexicon is loaded (checked above)
    texts = _texts(tickets, calls)
    if texts.height == 0:
        return empty[0], CheckRun(CID, REF, NAME, NOT_RUN, "没有可检查的文字(处理情况/备注/用户意见/答复内容/事由 缺列或全部为空), 本项未检查"), empty[1]
    norm = normalize_texts(texts["text"], text_settings or TextSettings())
    texts = texts.with_columns(norm["norm_text"])
    hits = pl.concat([
        _hits(texts, "staff", [lexicons[n] for n in cfg.staff_lexicons]),
        _hits(texts, "customer", [lexicons[n] for n in cfg.customer_lexicons]),
    ]).unique(["msg_idx", "lexicon", "term"]).sort("msg_idx", "lexicon", "term")
    per_text = hits.group_by("msg_idx").agg(
        pl.len().alias("n_hits"), pl.format("{}:{}", "lexicon", "term").str.join("、").alias("terms"))
    hit_texts = texts.join(per_text, on="msg_idx", how="inner").sort("msg_idx")
    excerpt = pl.col("text").str.replace_all(r"\d{7,}", "***").str.slice(0, 60)
    who = pl.when(pl.col("role") == "staff").then(pl.lit("服务人员用语")).otherwise(pl.lit("用户反映"))
    findings = hit_texts.select(
        pl.concat_str([pl.lit(CID + ":"), "record_id", pl.lit("/"), "field"]).alias("finding_id"),
        pl.lit(CID).alias("check"), pl.lit(REF).alias("policy_ref"), "record_kind",
        pl.concat_str(["record_id", pl.lit("/"), "field"]).alias("record_id"), "staff", "at",
        pl.format("{} {} 命中 {}: 「{}」", who, pl.col("field"), pl.col("terms"), excerpt).alias("detail"),
    ).select([pl.col(c).cast(t) for c, t in FINDING_SCHEMA.items()])
    summary = _summary(texts, hits, cfg.max_forbidden_per_staff)
    return findings, CheckRun(CID, REF, NAME, RAN, None, texts.height, findings.height), summary


def _summary(texts: pl.DataFrame, hits: pl.DataFrame, max_hits: int) -> pl.DataFrame:
    h = hits.join(texts.select("msg_idx", "staff", "team", "role"), on="msg_idx")
    base = texts.group_by("staff", "team").agg(
        (pl.col("role") == "staff").sum().cast(pl.Int64).alias("staff_texts"),
        (pl.col("role") == "customer").sum().cast(pl.Int64).alias("customer_texts"))
    counts = h.group_by("staff", "team").agg(
        (pl.col("role") == "staff").sum().cast(pl.Int64).alias("staff_hits"),
        (pl.col("role") == "customer").sum().cast(pl.Int64).alias("customer_hits"))
    by_lex = h.group_by("staff", "team", "lexicon").len().sort("lexicon").group_by("staff", "team").agg(
        pl.format("{}:{}", "lexicon", "len").str.join(", ").alias("by_lexicon"))
    out = base.join(counts, on=["staff", "team"], how="left", nulls_equal=True).join(by_lex, on=["staff", "team"], how="left", nulls_equal=True)
    out = out.with_columns(pl.col("staff_hits", "customer_hits").fill_null(0))
    out = out.with_columns((pl.col("staff_hits") <= max_hits).alias("met"))
    return out.select([pl.col(c).cast(t) for c, t in COURTESY_SCHEMA.items()]).sort("staff", "team", nulls_last=True)
