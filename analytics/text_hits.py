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


TEXT_HITS_COLUMNS = ["month", "shop", "agent_account", "buyer", "conversation_id", "msg_idx",
                     "sender_role", "sent_at", "lexicon", "lexicon_version", "term", "text",
                     "source_file", "source_sheet", "source_row"]


def build_text_hits(norm_msgs: pl.DataFrame, lexicons: dict[str, Lexicon]) -> pl.DataFrame:
    """One row per (message, lexicon, term) hit, carrying the message reference."""
    hits = match_lexicons(norm_msgs.select("msg_idx", "match_role", "norm_text"), lexicons)
    versions = pl.DataFrame({"lexicon": [lx.name for lx in lexicons.values()],
                             "lexicon_version": [lx.version for lx in lexicons.values()]},
                            schema={"lexicon": pl.String, "lexicon_version": pl.String})
    ref = norm_msgs.select("msg_idx", "month", "shop", "agent_account", "buyer", "conversation_id",
                           "sender_role", "sent_at", "text", "source_file", "source_sheet", "source_row")
    return (hits.join(ref, on="msg_idx", how="left").join(versions, on="lexicon", how="left")
            .select(TEXT_HITS_COLUMNS).sort("msg_idx", "lexicon", "term"))
