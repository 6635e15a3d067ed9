"""Per agent-month communication quality indicators, each with evidence rows.

Inputs are the sessions, the normalised messages and the ``text_hits`` mart. Definitions
(docs/analytics.md §Quality):
* polite_opening_rate = conversations whose first human agent message has a politeness hit /
  conversations with at least one human agent message;
* forbidden_hits = distinct (message, term) forbidden-lexicon hits in human agent messages;
* knowledge_gap_replies = human agent messages with >= 1 knowledge-gap hit;
* escalation_conversations = conversations with >= 1 buyer escalation hit; the evidence says
  how it ended (status of the question holding the first threat, and who spoke last);
* buyer_negative_turns = questions (buyer turns) with >= 1 negative hit in their messages;
* praise_candidates = buyer messages with a praise hit that name the agent (sub-account nick
  or roster name in the text) or directly follow a human agent message of the conversation.
"""

from __future__ import annotations

import polars as pl

from analytics.evidence import evidence_rows
from analytics.sessions import Sessions
from analytics.text_hits import message_columns

MONTH = ["month", "agent_account"]


def _hits(text_hits: pl.DataFrame, lexicon: str) -> pl.DataFrame:
    return text_hits.filter(pl.col("lexicon") == lexicon)


def _terms_per_msg(hits: pl.DataFrame) -> pl.DataFrame:
    return hits.group_by("msg_idx").agg(pl.col("term").sort().str.join("、").alias("terms"))


def escalations(sess: Sessions, text_hits: pl.DataFrame) -> pl.DataFrame:
    """One row per escalated conversation: first threat message, terms, outcome, last speaker."""
    esc = _hits(text_hits, "escalation")
    if esc.height == 0:
        return pl.DataFrame(schema={"conversation_id": pl.String, "msg_idx": pl.Int64, "terms": pl.String,
                                    "outcome": pl.String, "last_speaker": pl.String})
    first = esc.group_by("conversation_id").agg(pl.col("msg_idx").min(), pl.col("term").unique().sort().str.join("、").alias("terms"))
    q_of_msg = sess.questions.select("question_id", "status", "response_s", pl.col("msg_idxs")).explode("msg_idxs").rename({"msg_idxs": "msg_idx"})
    last = (sess.rows.filter(pl.col("kind").is_in(["B", "H"]))
            .group_by("conv_no").agg(pl.col("kind").last().alias("last_kind"))
            .join(sess.conversations.select("conv_no", "conversation_id"), on="conv_no"))
    out = first.join(q_of_msg, on="msg_idx", how="left").join(last.drop("conv_no"), on="conversation_id", how="left")
    return out.select(
        "conversation_id", "msg_idx", "terms",
        pl.when(pl.col("status") == "answered").then(pl.format("已回复(用时{}秒)", pl.col("response_s").round(0).cast(pl.Int64)))
        .when(pl.col("status") == "transferred_out").then(pl.lit("已转交"))
        .otherwise(pl.lit("未回复")).alias("outcome"),
        pl.when(pl.col("last_kind") == "H").then(pl.lit("客服")).otherwise(pl.lit("买家")).alias("last_speaker"),
    )


def praise_candidates(sess: Sessions, norm_msgs: pl.DataFrame, text_hits: pl.DataFrame,
                      roster: pl.DataFrame | None) -> pl.DataFrame:
    """Buyer praise messages naming or directly following the agent (msg_idx, terms, why)."""
    praise = _terms_per_msg(_hits(text_hits, "praise"))
    if praise.height == 0:
        return pl.DataFrame(schema={"msg_idx": pl.Int64, "terms": pl.String, "why": pl.String})
    rel = sess.rows.filter(pl.col("kind").is_in(["B", "H"]))
    prev = rel.with_columns(
        pl.when(pl.col("conv_no") == pl.col("conv_no").shift(1)).then(pl.col("kind").shift(1)).alias("prev_kind")
    ).select("msg_idx", "prev_kind")
    m = message_columns(praise, norm_msgs, ["agent_account", "norm_text"])
    m = m.join(prev, on="msg_idx", how="left").with_columns(
        pl.col("agent_account").str.split(":").list.last().str.to_lowercase().alias("nick"))
    if roster is not None and roster.height:
        m = m.join(roster.select("agent_account", pl.col("name").alias("roster_name")).unique("agent_account"),
                   on="agent_account", how="left")
    else:
        m = m.with_columns(pl.lit(None, pl.String).alias("roster_name"))
    names = (pl.col("norm_text").str.contains(pl.col("nick"), literal=True).fill_null(False)
             | pl.col("norm_text").str.contains(pl.col("roster_name").fill_null("\x00"), literal=True).fill_null(False))
    follows = pl.col("prev_kind") == "H"
    return m.filter(names | follows.fill_null(False)).select(
        "msg_idx", "terms",
        pl.when(names).then(pl.lit("点名客服")).otherwise(pl.lit("紧随客服回复")).alias("why"))


def negative_turns(sess: Sessions, text_hits: pl.DataFrame) -> pl.DataFrame:
    """Questions with a negative hit: question_id, first negative msg_idx, terms."""
    neg = _hits(text_hits, "negative")
    q_of_msg = sess.questions.select("question_id", "msg_idxs").explode("msg_idxs").rename({"msg_idxs": "msg_idx"})
    return (neg.join(q_of_msg, on="msg_idx", how="inner")
            .group_by("question_id").agg(pl.col("msg_idx").min(), pl.col("term").unique().sort().str.join("、").alias("terms")))


def quality_indicators(sess: Sessions, norm_msgs: pl.DataFrame, text_hits: pl.DataFrame,
                       roster: pl.DataFrame | None, excerpt_chars: int = 200) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per agent-month indicators, evidence rows) — see module docstring for definitions."""
    ref_cols = ["month", "agent_account", "buyer", "conversation_id", "sent_at", "text", "source_file",
                "source_sheet", "source_row"]

    def ref(frame: pl.DataFrame) -> pl.DataFrame:
        return message_columns(frame, norm_msgs, ref_cols)
    convs = sess.conversations.filter(pl.col("first_agent_msg_idx").is_not_null())
    polite_msgs = _hits(text_hits, "politeness").select("msg_idx").unique()
    polite = convs.join(polite_msgs.with_columns(pl.lit(True).alias("polite")),
                        left_on="first_agent_msg_idx", right_on="msg_idx", how="left").group_by(MONTH).agg(
        pl.len().cast(pl.Int64).alias("conversations_with_reply"),
        pl.col("polite").fill_null(False).sum().cast(pl.Int64).alias("polite_openings"),
    ).with_columns((pl.col("polite_openings") / pl.col("conversations_with_reply")).alias("polite_opening_rate"))

    forb = _hits(text_hits, "forbidden")
    gap = _terms_per_msg(_hits(text_hits, "knowledge_gap"))
    esc = escalations(sess, text_hits)
    neg = negative_turns(sess, text_hits)
    praise = praise_candidates(sess, norm_msgs, text_hits, roster)

    def count(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return message_columns(frame.select("msg_idx"), norm_msgs, MONTH).group_by(MONTH).agg(
            pl.len().cast(pl.Int64).alias(name))

    parts = [polite, count(forb, "forbidden_hits"), count(gap, "knowledge_gap_replies"),
             count(esc, "escalation_conversations"), count(neg, "buyer_negative_turns"),
             count(praise, "praise_candidates")]
    keys = pl.concat([p.select(MONTH) for p in parts]).unique()
    ind = keys
    for p in parts:
        ind = ind.join(p, on=MONTH, how="left")
    ind = ind.with_columns(pl.col(c).fill_null(0) for c in
                           ["conversations_with_reply", "polite_openings", "forbidden_hits", "knowledge_gap_replies",
                            "escalation_conversations", "buyer_negative_turns", "praise_candidates"])

    x = excerpt_chars
    ev = [
        evidence_rows(ref(forb), "forbidden_word",
                      pl.format("命中: {}", pl.col("term")), pl.col("text"), at="sent_at", term="term", excerpt_chars=x),
        evidence_rows(ref(gap), "knowledge_gap",
                      pl.format("命中: {}", pl.col("terms")), pl.col("text"), at="sent_at", excerpt_chars=x),
        evidence_rows(ref(esc.drop("conversation_id")), "escalation",
                      pl.format("命中: {}; 结局: {}; 最后发言: {}", pl.col("terms"), pl.col("outcome"), pl.col("last_speaker")),
                      pl.col("text"), at="sent_at", excerpt_chars=x),
        evidence_rows(ref(neg), "negative_turn",
                      pl.format("命中: {}", pl.col("terms")), pl.col("text"), at="sent_at", excerpt_chars=x),
        evidence_rows(ref(praise), "praise_candidate",
                      pl.format("命中: {} ({}, 需主管确认)", pl.col("terms"), pl.col("why")), pl.col("text"),
                      at="sent_at", excerpt_chars=x),
    ]
    return ind.sort(MONTH), pl.concat(ev)
