"""One call from staged frames to every chat mart (pure: text resources come in as strings).

Wiring: the edge (``pipelines.monthly.step_analytics``) reads the settings file and the
lexicon/dictionary/catalogue files (``pipelines.resources.load_text_resources``), builds
``TextResources.from_texts(...)`` and calls
``build_chat_marts(messages, refunds, orders, roster, settings, res)``; ``out.marts`` maps
mart name → polars frame and ``out.reasons`` holds the classifier report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from analytics.evidence import combine, evidence_rows
from analytics.knowledge import knowledge_summary, parse_catalogue, product_questions
from analytics.lexicon import Lexicon, lexicon_versions, load_lexicons
from analytics.quality import escalations, quality_indicators
from analytics.reasons import ReasonReport, classify_reasons, conversation_docs
from analytics.response_metrics import agent_day_metrics, agent_month_metrics
from analytics.segment import Segmenter, parse_userdict, tokenize
from analytics.sessions import Sessions, build_sessions, question_order
from analytics.settings import AnalyticsSettings
from analytics.text_hits import build_text_hits, normalized_messages
from analytics.textnorm import normalize_terms
from analytics.topics import TOPIC_SCHEMA, discover_topics


@dataclass
class TextResources:
    """Parsed lexicons, stop words, user dictionary and product catalogue."""

    lexicons: dict[str, Lexicon]
    stopwords: frozenset[str]
    segmenter: Segmenter
    catalogue: pl.DataFrame

    @classmethod
    def from_texts(cls, settings: AnalyticsSettings, lexicon_texts: dict[str, str], stopwords_text: str,
                   userdict_text: str, products_text: str) -> "TextResources":
        """Build from file contents (names as in ``settings.text``)."""
        cfg = settings.text.opencc_config
        stop = frozenset(normalize_terms([w.strip() for w in stopwords_text.splitlines()
                                          if w.strip() and not w.strip().startswith("#")], cfg))
        return cls(load_lexicons(lexicon_texts, cfg), stop,
                   Segmenter(parse_userdict(userdict_text), settings.text.segmenter),
                   parse_catalogue(products_text, cfg))


@dataclass
class ChatMarts:
    """The marts, the classifier report and topics message, the lexicon versions, and the
    sessions (built in partitions: only merged conversations, question metric columns and
    transfers; see analytics.partition)."""

    marts: dict[str, pl.DataFrame]
    reasons: ReasonReport
    topics_message: str
    lexicons: pl.DataFrame
    sessions: Sessions = field(repr=False)


# the chat marts in the order build_chat_marts returns them
CHAT_MART_ORDER = ("conversations", "questions", "agent_day_metrics", "agent_month_metrics", "text_hits",
                   "conversation_reasons", "product_questions", "topics", "evidence")


def _ref(msgs: pl.DataFrame, prefix: str, idx_col: str) -> list[pl.Expr]:
    """The message columns of ``idx_col`` (a msg_idx, i.e. a row number of ``msgs``) by position."""
    idx = pl.col(idx_col)
    return [pl.lit(msgs[c]).gather(idx).alias(f"{prefix}{c}")
            for c in ("text", "source_file", "source_sheet", "source_row")]


def questions_mart(sess: Sessions, settings: AnalyticsSettings) -> pl.DataFrame:
    """questions with question text, response time and the answering message's reference."""
    s = settings.sessions
    m = sess.messages  # msg_idx is the row number: references are gathered, not joined
    lines = sess.questions.select("q_no", "msg_idxs").explode("msg_idxs")
    # gathered into lists, then joined as lists (much cheaper than a string join per group)
    texts = (lines.with_columns(pl.lit(m["text"]).gather(pl.col("msg_idxs")).alias("text"))
             .group_by("q_no", maintain_order=True).agg("text")
             .select("q_no", pl.col("text").list.drop_nulls().list.join(" / ").str.slice(0, s.excerpt_chars)
                     .alias("question_text")))
    tr = sess.transfers.select("transfer_id", pl.col("msg_idx").alias("transfer_msg_idx"),
                               pl.col("from_agent").alias("transferred_from"), pl.col("to_agent").alias("transferred_to"))
    q = (sess.questions
         .join(texts, on="q_no", how="left", maintain_order="left")
         .join(tr.select("transfer_id", "transfer_msg_idx", "transferred_from"), left_on="transfer_in_id",
               right_on="transfer_id", how="left", maintain_order="left")
         .join(tr.select("transfer_id", "transferred_to"), left_on="transfer_out_id", right_on="transfer_id",
               how="left", maintain_order="left")
         .with_columns(pl.coalesce("first_msg_idx", "transfer_msg_idx").alias("ref_msg_idx")))
    q = q.with_columns(*_ref(m, "", "ref_msg_idx"), *_ref(m, "answer_", "answer_msg_idx")).drop("text")
    q = q.select(
        "month", "question_id", "conversation_id", "shop", "agent_account", "buyer", "day", "asked_at",
        "last_buyer_at", "buyer_msgs", "question_text", "is_first_in_conversation", "carried_in",
        "transferred_from", "status", "transferred_to", "answered_at", "response_s", "wall_response_s",
        (pl.col("response_s") > s.slow_threshold_s).alias("is_slow"),
        (pl.col("response_s") <= s.fast_threshold_s).fill_null(False).alias("within_3min"),
        "answer_text", "ref_msg_idx", "source_file", "source_sheet", "source_row", "answer_msg_idx",
        "answer_source_file", "answer_source_sheet", "answer_source_row", "agent_no",
    )
    order = question_order(q)
    if order is None:
        return q.drop("agent_no").sort("month", "agent_account", "asked_at", "question_id")
    return q.drop("agent_no")[order]


def response_evidence(questions: pl.DataFrame, settings: AnalyticsSettings) -> list[pl.DataFrame]:
    """slow_response and unanswered evidence rows from the questions mart."""
    x = settings.sessions.excerpt_chars
    slow = questions.filter(pl.col("is_slow").fill_null(False)).rename({"asked_at": "at"})
    una = questions.filter(pl.col("status") == "unanswered").rename({"asked_at": "at"})
    return [
        evidence_rows(slow, "slow_response",
                      pl.format("等待 {} 秒 (服务时间; 实际 {} 秒), 回复: {}", pl.col("response_s").round(0).cast(pl.Int64),
                                pl.col("wall_response_s").round(0).cast(pl.Int64), pl.col("answer_text").fill_null("").str.slice(0, 40)),
                      pl.col("question_text").fill_null(""), excerpt_chars=x),
        evidence_rows(una, "unanswered", pl.format("未回复 (买家消息 {} 条)", pl.col("buyer_msgs")),
                      pl.col("question_text").fill_null(""), excerpt_chars=x),
    ]


def conversations_mart(sess: Sessions, escal: pl.DataFrame, reasons: pl.DataFrame) -> pl.DataFrame:
    """conversations with escalation outcome and predicted after-sales reason."""
    c = sess.conversations.join(
        escal.select("conversation_id", pl.col("terms").alias("escalation_terms"),
                     pl.col("outcome").alias("escalation_outcome"), "last_speaker"),
        on="conversation_id", how="left")
    c = c.join(reasons.select("conversation_id", "is_after_sales", "label", "predicted_reason", "confidence"),
               on="conversation_id", how="left")
    return c.select(
        "month", "conversation_id", "shop", "agent_account", "buyer", "day", "start_at", "end_at", "duration_s",
        "service_duration_s", "is_long", "has_dialogue", "buyer_msgs", "agent_msgs", "other_rows", "questions",
        "answered_questions", "unanswered_questions", "first_response_s", "transferred_in", "carried_in",
        "transferred_out", pl.col("escalation_terms").is_not_null().alias("escalated"), "escalation_terms",
        "escalation_outcome", "last_speaker", pl.col("is_after_sales").fill_null(False), pl.col("label").alias("refund_reason"),
        "predicted_reason", "confidence",
    ).sort("month", "agent_account", "start_at", "conversation_id")


def month_topics(docs_all: pl.DataFrame, tokens: pl.DataFrame, conversations: pl.DataFrame,
                 settings: AnalyticsSettings, res: TextResources) -> tuple[pl.DataFrame, str]:
    """(topics of each month's documents, message): ``docs_all`` (doc, conversation_id, text)
    and its ``tokens`` (doc = position in ``docs_all``)."""
    topic_frames, messages_ = [], []
    docs_all = docs_all.join(conversations.select("conversation_id", "month"),
                             on="conversation_id", maintain_order="left")
    for (mo,), docs in docs_all.group_by("month", maintain_order=True):
        ids = docs.select(pl.col("doc").alias("gdoc")).with_row_index("doc").with_columns(pl.col("doc").cast(pl.Int64))
        month_tokens = tokens.join(ids, left_on="doc", right_on="gdoc", how="inner").select(
            pl.col("doc_right").alias("doc"), "token")
        docs = docs.drop("doc").with_row_index("doc").with_columns(pl.col("doc").cast(pl.Int64))
        tf, msg = discover_topics(docs, settings, res.segmenter, res.stopwords, tokens=month_tokens)
        topic_frames.append(tf.with_columns(pl.lit(mo).alias("month")))
        messages_.append(f"{mo}: {msg}")
    topics = pl.concat(topic_frames) if topic_frames else pl.DataFrame(schema=TOPIC_SCHEMA | {"month": pl.String})
    return topics, "; ".join(messages_)


def month_with_indicators(month: pl.DataFrame, quality: pl.DataFrame, know: pl.DataFrame,
                          roster: pl.DataFrame | None) -> pl.DataFrame:
    """agent_month_metrics plus the quality and knowledge indicators and the roster's name/role."""
    month = (month.join(quality, on=["month", "agent_account"], how="left")
             .join(know, on=["month", "agent_account"], how="left"))
    fill0 = ["conversations_with_reply", "polite_openings", "forbidden_hits", "knowledge_gap_replies",
             "escalation_conversations", "buyer_negative_turns", "praise_candidates", "product_questions",
             "product_gap_questions"]
    month = month.with_columns(pl.col(c).fill_null(0) for c in fill0)
    if roster is not None and roster.height:
        month = month.join(roster.select("agent_account", "name", "role").unique("agent_account"),
                           on="agent_account", how="left").with_columns(pl.col("name").is_not_null().alias("in_roster"))
    return month


def build_chat_marts(messages: pl.DataFrame, refunds: pl.DataFrame | None, orders: pl.DataFrame | None,
                     roster: pl.DataFrame | None, settings: AnalyticsSettings, res: TextResources,
                     partitions: int | None = None) -> ChatMarts:
    """All chat marts for the staged frames. ``orders`` is accepted for future links (unused now).

    ``partitions``: process the month in that many partitions of its buyers (default: from the
    row count, :func:`analytics.partition.partition_count`); the marts are the same for any
    number (docs/analytics.md §9).
    """
    from analytics.partition import build_partitioned, partition_count, topic_sample

    k = partition_count(messages.height) if partitions is None else partitions
    if k > 1:
        return build_partitioned(messages, refunds, roster, settings, res, k)
    sess = build_sessions(messages, settings)
    norm = normalized_messages(sess.messages, settings)
    hits = build_text_hits(norm, res.lexicons)
    questions = questions_mart(sess, settings)
    day = agent_day_metrics(sess, settings)
    month = agent_month_metrics(sess, day, settings)
    quality, q_ev = quality_indicators(sess, norm, hits, roster, settings.sessions.excerpt_chars)
    pq = product_questions(sess, norm, hits, res.catalogue)
    know, k_ev = knowledge_summary(pq, norm, settings.sessions.excerpt_chars)
    # conversation documents are built and segmented once, for the classifier and the topics
    docs_all = conversation_docs(sess, norm)
    tokens = tokenize(docs_all["text"], res.segmenter, res.stopwords).with_columns(pl.col("doc").cast(pl.Int64))
    reasons, report = classify_reasons(sess, norm, refunds, settings, res.segmenter, res.stopwords,
                                       docs=docs_all, tokens=tokens)
    t = settings.text.topics
    months = sess.conversations.select("conversation_id", "month")
    topic_docs = topic_sample(docs_all.join(months, on="conversation_id", how="left", maintain_order="left"),
                              t.max_docs, t.seed, "doc").drop("month")  # doc: the first-buyer-message order
    topics, topics_message = month_topics(topic_docs, tokens, sess.conversations, settings, res)
    month = month_with_indicators(month, quality, know, roster)
    escal = escalations(sess, hits)
    evidence = combine([*response_evidence(questions, settings), q_ev, k_ev])
    marts = {
        "conversations": conversations_mart(sess, escal, reasons),
        "questions": questions,
        "agent_day_metrics": day,
        "agent_month_metrics": month,
        "text_hits": hits,
        "conversation_reasons": reasons,
        "product_questions": pq,
        "topics": topics.select("month", *TOPIC_SCHEMA),
        "evidence": evidence,
    }
    return ChatMarts(marts, report, topics_message, lexicon_versions(res.lexicons), sess)
