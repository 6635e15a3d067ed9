"""The ``evidence`` mart: one row per cited fact, in the columns of docs/marts.md.

``evidence_id`` is ``<kind>:<where>:<source_row>`` (plus ``:<term>`` for lexicon kinds), where
``<where>`` is the first 12 hex digits of the SHA-256 of ``<source_file>\x1f<source_sheet>``:
stable across runs of the same files, unique per fact, and free of file and sheet names (a
Qianniu sheet is named after the buyer, so the id must not carry it into reports).
"""

from __future__ import annotations

import hashlib

import polars as pl

from contracts import MARTS

EVIDENCE_SCHEMA = MARTS["evidence"].schema()
KINDS = ("slow_response", "unanswered", "forbidden_word", "knowledge_gap", "escalation",
         "praise_candidate", "negative_turn", "product_gap")


def evidence_rows(frame: pl.DataFrame, kind: str, detail: pl.Expr, excerpt: pl.Expr,
                  at: str = "at", term: str | None = None, excerpt_chars: int = 200) -> pl.DataFrame:
    """Shape ``frame`` (with month, agent_account, buyer, source_* and conversation_id) as evidence."""
    if kind not in KINDS:
        raise ValueError(kind)
    parts = [pl.lit(kind), source_key(frame), pl.col("source_row").cast(pl.String).fill_null("")]
    if term:
        parts.append(pl.col(term))
    return frame.select(
        pl.concat_str(parts, separator=":").alias("evidence_id"),
        "month", "agent_account", pl.lit(kind).alias("kind"), "buyer", pl.col(at).alias("at"),
        excerpt.str.slice(0, excerpt_chars).alias("excerpt"), detail.alias("detail"),
        "source_file", pl.col("source_row").cast(pl.Int64), "source_sheet", "conversation_id",
    ).cast(EVIDENCE_SCHEMA)


def where_hash(source_file: str | None, source_sheet: str | None) -> str:
    """12 hex digits of SHA-256 over file and sheet (the ``<where>`` of an evidence id)."""
    key = f"{source_file or ''}\x1f{source_sheet or ''}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


def source_key(frame: pl.DataFrame) -> pl.Expr:
    """:func:`where_hash` of each row's (source_file, source_sheet), as a literal-backed
    expression: hashed once per distinct pair, not per row."""
    pairs = frame.select(pl.col("source_file").fill_null(""), pl.col("source_sheet").fill_null("")).unique()
    mapping = {f"{f}\x1f{s}": where_hash(f, s) for f, s in pairs.iter_rows()}
    key = pl.concat_str(pl.col("source_file").fill_null(""), pl.lit("\x1f"), pl.col("source_sheet").fill_null(""))
    return key.replace_strict(mapping, default=None, return_dtype=pl.String) if mapping else pl.lit("", pl.String)


def combine(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate evidence parts, drop repeated ids, sort by month, agent, time, kind."""
    if not parts:
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    return (pl.concat([p.select(list(EVIDENCE_SCHEMA)) for p in parts])
            .unique("evidence_id", keep="first", maintain_order=True)
            .sort("month", "agent_account", "at", "kind", "evidence_id"))
