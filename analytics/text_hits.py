"""Normalised message text and the ``text_hits`` mart (lexicon hits with message references)."""

from __future__ import annotations

import polars as pl

from analytics.lexicon import Lexicon, match_lexicons
from analytics.settings import AnalyticsSettings
from analytics.textnorm import normalize_texts


def normalized_messages(messages: pl.DataFrame, settings: AnalyticsSettings) -> pl.DataFrame:
    """``messages`` (classified, see sessions) plus ``norm_text``, ``emoticons`` and ``match_role``.

    match_role: 'agent' for human agent messages (kind H), 'buyer' for buyer messages (kind B),
    null otherwise; auto-replies, system lines, recalls and transfer notices are never matched.
    """
    norm = normalize_texts(messages["text"], settings.text)
    return messages.with_columns(
        norm["norm_text"], norm["emoticons"],
        pl.when(pl.col("kind") == "H").then(pl.lit("agent"))
        .when(pl.col("kind") == "B").then(pl.lit("buyer")).alias("match_role"),
    )


def _is_row_number(idx: pl.Series) -> bool:
    """``idx`` is 0, 1, ..., n-1 (as sessions number messages)."""
    n = idx.len()
    return n == 0 or (idx.null_count() == 0 and idx[0] == 0 and idx[n - 1] == n - 1
                      and bool((idx.diff().drop_nulls() == 1).all()))


def message_columns(frame: pl.DataFrame, norm_msgs: pl.DataFrame, cols: list[str], on: str = "msg_idx") -> pl.DataFrame:
    """``frame`` plus ``cols`` of the message its ``on`` column names (null if none), like a left
    join on ``norm_msgs.msg_idx``; gathered by position when msg_idx is the row number (as built
    by sessions), so the message frame is never hashed."""
    if _is_row_number(norm_msgs["msg_idx"]):
        return frame.with_columns(pl.lit(norm_msgs[c]).gather(pl.col(on)).alias(c) for c in cols)
    return frame.join(norm_msgs.select(pl.col("msg_idx").alias(on), *cols), on=on, how="left", maintain_order="left")


TEXT_HITS_COLUMNS = ["month", "shop", "agent_account", "buyer", "conversation_id", "msg_idx",
                     "sender_role", "sent_at", "lexicon", "lexicon_version", "term", "text",
                     "source_file", "source_sheet", "source_row"]


def build_text_hits(norm_msgs: pl.DataFrame, lexicons: dict[str, Lexicon]) -> pl.DataFrame:
    """One row per (message, lexicon, term) hit, carrying the message reference."""
    hits = match_lexicons(norm_msgs.select("msg_idx", "match_role", "norm_text"), lexicons)
    versions = pl.DataFrame({"lexicon": [lx.name for lx in lexicons.values()],
                             "lexicon_version": [lx.version for lx in lexicons.values()]},
                            schema={"lexicon": pl.String, "lexicon_version": pl.String})
    ref = ["month", "shop", "agent_account", "buyer", "conversation_id", "sender_role", "sent_at", "text",
           "source_file", "source_sheet", "source_row"]
    # hits are sorted by msg_idx, lexicon, term already (match_lexicons)
    return (message_columns(hits, norm_msgs, ref).join(versions, on="lexicon", how="left", maintain_order="left")
            .select(TEXT_HITS_COLUMNS))
