"""Product and promotion knowledge: buyer questions about catalogue items answered with a
knowledge-gap reply or never answered.

The catalogue is data/products.yaml (given as text): ``products`` and ``promotions``, each a
list of ``{name, aliases}``. Names and aliases are normalised like lexicon terms and matched
(vectorised, Aho-Corasick) in the buyer messages of each question.
"""

from __future__ import annotations

import polars as pl
import yaml

from analytics.evidence import evidence_rows
from analytics.lexicon import match_terms
from analytics.sessions import Sessions
from analytics.text_hits import message_columns
from analytics.textnorm import normalize_terms


def parse_catalogue(text: str, opencc_config: str = "t2s") -> pl.DataFrame:
    """Catalogue YAML text -> frame (term, item, item_kind) with normalised terms."""
    data = yaml.safe_load(text) or {}
    rows = []
    for section, kind in (("products", "product"), ("promotions", "promotion")):
        for entry in data.get(section) or []:
            if not isinstance(entry, dict) or not entry.get("name"):
                raise ValueError(f"products.yaml {section}: 每项需要 name")
            for term in [entry["name"], *(entry.get("aliases") or [])]:
                rows.append({"term": str(term), "item": str(entry["name"]), "item_kind": kind})
    frame = pl.DataFrame(rows, schema={"term": pl.String, "item": pl.String, "item_kind": pl.String})
    frame = frame.with_columns(pl.Series("term", normalize_terms(frame["term"].to_list(), opencc_config), dtype=pl.String))
    return frame.unique("term", keep="first", maintain_order=True)


def product_questions(sess: Sessions, norm_msgs: pl.DataFrame, text_hits: pl.DataFrame,
                      catalogue: pl.DataFrame) -> pl.DataFrame:
    """One row per (question, catalogue item) a buyer asked about, with ``knowledge_gap`` flag.

    flagged when the question was never answered (status 'unanswered') or its answering
    message has a knowledge-gap hit. Transferred-out questions are the receiving agent's.
    """
    buyer = norm_msgs.filter(pl.col("match_role") == "buyer").select("msg_idx", "norm_text")
    hits = match_terms(buyer, catalogue["term"].to_list()).join(catalogue, on="term", how="inner")
    q_of_msg = sess.questions.select("question_id", "msg_idxs").explode("msg_idxs").rename({"msg_idxs": "msg_idx"})
    per_q = hits.join(q_of_msg, on="msg_idx", how="inner").group_by("question_id", "item", "item_kind").agg(
        pl.col("msg_idx").min(), pl.col("term").unique().sort().str.join("、").alias("terms"))
    gap_msgs = text_hits.filter(pl.col("lexicon") == "knowledge_gap").group_by("msg_idx").agg(
        pl.col("term").sort().str.join("、").alias("gap_terms"))
    q = sess.questions.select("question_id", "month", "agent_account", "buyer", "conversation_id",
                              "status", "answer_msg_idx", "asked_at")
    out = per_q.join(q, on="question_id", how="left").join(
        gap_msgs, left_on="answer_msg_idx", right_on="msg_idx", how="left")
    return out.with_columns(
        ((pl.col("status") == "unanswered") | pl.col("gap_terms").is_not_null()).alias("knowledge_gap"),
        pl.when(pl.col("status") == "unanswered").then(pl.lit("未回复"))
        .when(pl.col("gap_terms").is_not_null()).then(pl.format("回复含: {}", pl.col("gap_terms")))
        .alias("gap_reason"),
    ).sort("question_id", "item")


def knowledge_summary(pq: pl.DataFrame, norm_msgs: pl.DataFrame, excerpt_chars: int = 200) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per agent-month product_questions / product_gap_questions, product_gap evidence)."""
    per_q = pq.group_by("month", "agent_account", "question_id").agg(pl.col("knowledge_gap").any())
    ind = per_q.group_by("month", "agent_account").agg(
        pl.len().cast(pl.Int64).alias("product_questions"),
        pl.col("knowledge_gap").sum().cast(pl.Int64).alias("product_gap_questions"))
    flagged = message_columns(pq.filter("knowledge_gap"), norm_msgs, ["text", "source_file", "source_sheet", "source_row"])
    ev = evidence_rows(flagged, "product_gap",
                       pl.format("{} {}: {}", pl.col("item_kind").replace({"product": "商品", "promotion": "活动"}),
                                 pl.col("item"), pl.col("gap_reason")),
                       pl.col("text"), at="asked_at", term="item", excerpt_chars=excerpt_chars)
    return ind, ev
