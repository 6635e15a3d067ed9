"""The ``evidence`` mart: one row per cited fact, in the columns of docs/marts.md.

``evidence_id`` is ``<kind>:<source_file>:<source_sheet>:<source_row>`` (plus ``:<term>`` for
lexicon kinds): stable across runs of the same files, unique per fact, readable by a person.
"""

from __future__ import annotations

import polars as pl

EVIDENCE_SCHEMA = {
    "evidence_id": pl.String, "month": pl.String, "agent_account": pl.String, "kind": pl.String,
    "buyer": pl.String, "at": pl.Datetime("us"), "excerpt": pl.String, "detail": pl.String,
    "source_file": pl.String, "source_row": pl.Int64, "source_sheet": pl.String,
    "conversation_id": pl.String,
}
KINDS = ("slow_response", "unanswered", "forbidden_word", "knowledge_gap", "escalation",
         "praise_candidate", "negative_turn", "product_gap")


def evidence_rows(frame: pl.DataFrame, kind: str, detail: pl.Expr, excerpt: pl.Expr,
                  at: str = "at", term: str | None = None, excerpt_chars: int = 200) -> pl.DataFrame:
    """Shape ``frame`` (with month, agent_account, buyer, source_* and conversation_id) as evidence."""
    if kind not in KINDS:
        raise ValueError(kind)
    parts = [pl.lit(kind), pl.col("source_file").fill_null(""), pl.col("source_sheet").fill_null(""),
             pl.col("source_row").cast(pl.String).fill_null("")]
    if term:
        parts.append(pl.col(term))
    return frame.select(
        pl.concat_str(parts, separator=":").alias("evidence_id"),
        "month", "agent_account", pl.lit(kind).alias("kind"), "buyer", pl.col(at).alias("at"),
        excerpt.str.slice(0, excerpt_chars).alias("excerpt"), detail.alias("detail"),
        "source_file", pl.col("source_row").cast(pl.Int64), "source_sheet", "conversation_id",
    ).cast(EVIDENCE_SCHEMA)


def combine(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Concatenate evidence parts, drop repeated ids, sort by month, agent, time, kind."""
    if not parts:
        return pl.DataFrame(schema=EVIDENCE_SCHEMA)
    return (pl.concat([p.select(list(EVIDENCE_SCHEMA)) for p in parts])
            .unique("evidence_id", keep="first", maintain_order=True)
            .sort("month", "agent_account", "at", "kind", "evidence_id"))
