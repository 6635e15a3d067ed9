"""Chat marts computed in partitions of the month's buyers, merged exactly (issue 13, memory).

Everything a rule relates stays inside one buyer: a thread is (month, shop, agent, buyer), a
transfer moves a question between two agents' threads of the same buyer, refunds link to a
buyer's conversations, and 咨询人数 counts distinct buyers. So the per-thread work (sessions,
normalised text, lexicon hits, questions, quality signals, product questions, evidence,
refund links, documents) runs on ``hash(buyer) % k`` partitions, one at a time, and:

* row-level marts are concatenated (message references mapped back to the month's row
  numbers) and sorted by the same total orders as the one-piece build;
* aggregates are merged from counts and sums, never from partial rates or means: the
  response-time means/medians/p90 are recomputed over the merged questions, taken in the
  one-piece build's row order (thread order) so even the float sums are the same;
* only what needs the whole month is built globally: the (shop, agent_account) table that
  transfer names resolve against, per-agent concurrency (from the conversations), the
  classifier and topics (from the merged documents, tokenised once, in the one-piece order).

Definitions are unchanged (docs/analytics.md); tests/analytics/test_partitions.py checks that
any number of partitions gives the same frames.
"""

from __future__ import annotations

import polars as pl

from analytics.evidence import KINDS, combine
from analytics.knowledge import knowledge_summary, product_questions
from analytics.lexicon import lexicon_versions
from analytics.quality import escalations, quality_indicators
from analytics.reasons import classify_reasons, conversation_docs, link_refunds
from analytics.response_metrics import _message_figures_day, _ratio, agent_day_metrics, agent_month_metrics
from analytics.segment import tokenize
from analytics.sessions import THREAD, Sessions, build_sessions
from analytics.settings import AnalyticsSettings
from analytics.text_hits import build_text_hits, normalized_messages
from analytics.topics import TOPIC_SCHEMA

PARTITION_ROWS = 125_000  # messages per partition (the working set of one is ~100 MB)
MAX_PARTITIONS = 16
ONE_PIECE_BELOW = 250_000

_QUALITY_COUNTS = ["conversations_with_reply", "polite_openings", "forbidden_hits", "knowledge_gap_replies",
                   "escalation_conversations", "buyer_negative_turns", "praise_candidates"]


def partition_count(rows: int) -> int:
    """How many buyer partitions a month of ``rows`` messages is built in (1: one piece)."""
    if rows < ONE_PIECE_BELOW:
        return 1
    return min(MAX_PARTITIONS, -(-rows // PARTITION_ROWS))


def _to_month_idx(frame: pl.DataFrame, global_idx: pl.Series, cols: list[str]) -> pl.DataFrame:
    """Map partition row numbers in ``cols`` back to the month's row numbers."""
    return frame.with_columns(pl.lit(global_idx).gather(pl.col(c)).alias(c) for c in cols)


def _partition(msgs: pl.DataFrame, global_idx: pl.Series, accounts: pl.DataFrame, refunds, roster,
               settings: AnalyticsSettings, res) -> dict[str, pl.DataFrame]:
    from analytics.marts import questions_mart, response_evidence

    x = settings.sessions.excerpt_chars
    sess = build_sessions(msgs, settings, accounts)
    norm = normalized_messages(sess.messages, settings)
    hits = build_text_hits(norm, res.lexicons)
    questions = questions_mart(sess, settings)
    agents = sess.agents()
    msg_fig = _message_figures_day(sess).join(agents, on="agent_no", how="left").drop("agent_no")
    quality, q_ev = quality_indicators(sess, norm, hits, roster, x)
    pq = product_questions(sess, norm, hits, res.catalogue)
    know, k_ev = knowledge_summary(pq, norm, x)
    docs = conversation_docs(sess, norm).drop("doc")
    # the one-piece document order is that of each conversation's first buyer message
    first_b = (norm.filter((pl.col("kind") == "B") & pl.col("conversation_id").is_not_null())
               .group_by("conversation_id", maintain_order=True).agg(pl.col("msg_idx").first().alias("first_b")))
    docs = _to_month_idx(docs.join(first_b, on="conversation_id", how="left", maintain_order="left"),
                         global_idx, ["first_b"])
    sess_q = sess.questions.select(*THREAD, "day", "status", "response_s", "is_first_in_conversation")
    return {
        "questions": _to_month_idx(questions, global_idx, ["ref_msg_idx", "answer_msg_idx"]),
        "text_hits": _to_month_idx(hits, global_idx, ["msg_idx"]),
        "product_questions": _to_month_idx(pq, global_idx, ["msg_idx", "answer_msg_idx"]),
        "conversations": sess.conversations.drop("conv_no", "agent_no", "first_agent_msg_idx", "first_buyer_msg_idx"),
        "q_metrics": sess_q,
        "transfers": sess.transfers.drop("transfer_id", "msg_idx"),
        "agents": agents.drop("agent_no"),
        "msg_fig": msg_fig,
        "quality": quality,
        "know": know,
        "escal": escalations(sess, hits).drop("msg_idx"),
        "links": link_refunds(sess, norm, refunds, settings),
        "docs": docs,
        "ev_response": pl.concat(response_evidence(questions, settings)),
        "ev_quality": q_ev,
        "ev_knowledge": k_ev,
    }


def _numbered_agents(agents: pl.DataFrame) -> pl.DataFrame:
    return (agents.unique().sort("month", "agent_account", nulls_last=True)
            .with_row_index("agent_no").with_columns(pl.col("agent_no").cast(pl.UInt32)))


def _merged_metrics(p: dict[str, pl.DataFrame], settings: AnalyticsSettings) -> tuple[pl.DataFrame, pl.DataFrame, Sessions]:
    """(agent_day_metrics, agent_month_metrics, the merged sessions they were computed from)."""
    agents = _numbered_agents(p["agents"])
    key = ["month", "agent_account"]

    def numbered(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.join(agents, on=key, how="left", nulls_equal=True, maintain_order="left")

    # the one-piece questions are in thread order; each thread lies in one partition
    q = numbered(p["q_metrics"].sort(THREAD, nulls_last=True, maintain_order=True))
    convs = numbered(p["conversations"].sort([*THREAD, "start_at"], nulls_last=True, maintain_order=True))
    msg_fig = _ratio(numbered(p["msg_fig"]).group_by("agent_no", "day")
                     .agg(pl.col("buyer_msgs", "agent_msgs", "agent_chars").sum()))
    sess = Sessions(rows=pl.DataFrame(), messages=pl.DataFrame(), conversations=convs, questions=q,
                    transfers=p["transfers"], threads=agents)
    day = agent_day_metrics(sess, settings, message_figures=msg_fig)
    return day, agent_month_metrics(sess, day, settings), sess


def _merged_quality(frame: pl.DataFrame) -> pl.DataFrame:
    key = ["month", "agent_account"]
    return (frame.group_by(key).agg(pl.col(_QUALITY_COUNTS).sum())
            .with_columns((pl.col("polite_openings") / pl.col("conversations_with_reply")).alias("polite_opening_rate"))
            .with_columns(pl.when(pl.col("conversations_with_reply") > 0).then(pl.col("polite_opening_rate")))
            .select(frame.columns).sort(key))


def build_partitioned(messages: pl.DataFrame, refunds: pl.DataFrame | None, roster: pl.DataFrame | None,
                      settings: AnalyticsSettings, res, k: int):
    """:func:`analytics.marts.build_chat_marts` in ``k`` partitions of the month's buyers."""
    from analytics.marts import ChatMarts, conversations_mart, month_topics, month_with_indicators

    part_of = messages.select((pl.col("buyer").hash(seed=0) % k).alias("p"))["p"]
    accounts = messages.select("shop", "agent_account").unique()
    pieces: dict[str, list[pl.DataFrame]] = {}
    for i in range(k):
        global_idx = (part_of == i).arg_true().cast(pl.Int64)
        if global_idx.len() == 0:
            continue
        out = _partition(messages[global_idx], global_idx, accounts, refunds, roster, settings, res)
        for name, frame in out.items():
            pieces.setdefault(name, []).append(frame)
        del out
    # no rechunk: each merged frame is copied once, by its final sort, and its pieces are freed
    p = {name: pl.concat(pieces.pop(name), how="vertical_relaxed", rechunk=False) for name in list(pieces)}
    rows = {"questions": p.pop("questions").sort("month", "agent_account", "asked_at", "question_id"),
            "text_hits": p.pop("text_hits").sort("msg_idx", "lexicon", "term"),
            "product_questions": p.pop("product_questions").sort("question_id", "item")}

    day, month, sess = _merged_metrics(p, settings)
    # documents in the one-piece order, tokenised once (classifier and topics share them)
    docs_all = (p.pop("docs").sort("first_b").drop("first_b")
                .with_row_index("doc").with_columns(pl.col("doc").cast(pl.Int64)).select("doc", "conversation_id", "text"))
    tokens = tokenize(docs_all["text"], res.segmenter, res.stopwords).with_columns(pl.col("doc").cast(pl.Int64))
    reasons, report = classify_reasons(sess, None, refunds, settings, res.segmenter, res.stopwords,
                                       docs=docs_all, tokens=tokens, links=p.pop("links"))
    topics, topics_message = month_topics(docs_all, tokens, sess.conversations, settings, res)

    know = p["know"].group_by("month", "agent_account").agg(pl.col("product_questions", "product_gap_questions").sum())
    month = month_with_indicators(month, _merged_quality(p["quality"]), know, roster)
    kind_rank = pl.col("kind").replace_strict({kd: i for i, kd in enumerate(KINDS)}, return_dtype=pl.Int32)
    ev_quality = p.pop("ev_quality").sort(kind_rank, maintain_order=True)
    ev_response = p.pop("ev_response").sort(kind_rank, maintain_order=True)
    marts = {
        "conversations": conversations_mart(sess, p.pop("escal"), reasons),
        "questions": rows["questions"],
        "agent_day_metrics": day,
        "agent_month_metrics": month,
        "text_hits": rows["text_hits"],
        "conversation_reasons": reasons,
        "product_questions": rows["product_questions"],
        "topics": topics.select("month", *TOPIC_SCHEMA),
        "evidence": combine([ev_response, ev_quality, p.pop("ev_knowledge")]),
    }
    return ChatMarts(marts, report, topics_message, lexicon_versions(res.lexicons), sess)
