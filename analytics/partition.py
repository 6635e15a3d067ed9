"""Chat marts computed in partitions of the month's buyers, merged exactly (issue 13, memory).

Everything a rule relates stays inside one buyer: a thread is (month, shop, agent, buyer), a
transfer moves a question between two agents' threads of the same buyer, refunds link to a
buyer's conversations, and 咨询人数 counts distinct buyers. So the per-thread work (sessions,
normalised text, lexicon hits, questions, quality signals, product questions, evidence,
refund links, documents) runs on ``hash(buyer) % k`` partitions (:func:`partition_marts`, one
at a time, or on a cluster), and:

* row-level marts are final per partition (message references mapped back to the month's
  row numbers); put together they are sorted by their total orders (:data:`ROW_MARTS`);
* aggregates are merged from counts and sums, never from partial rates or means: the
  response-time means/medians/p90 are recomputed over the merged questions' metric columns,
  taken in the one-piece build's row order (thread order) so even the float sums are the same
  (:func:`merge_metrics`);
* the reason classifier is fitted on the labelled conversations only (:func:`fit_labelled`:
  its vocabulary, idf and fits never see other documents), then each partition's
  after-sales conversations are tagged (:func:`finish_partition`), which gives the same
  predictions as tagging them all at once;
* topics run on a fixed, seeded sample of at most ``topics.max_docs`` documents per month
  (:func:`topic_sample`, the same in the one-piece build), gathered from the partitions.

Definitions are unchanged (docs/analytics.md); tests/analytics/test_partitions.py checks that
any number of partitions gives the same frames. :func:`build_partitioned` runs it all in
memory; ``pipelines.chat_parts`` runs it over files, one partition in memory at a time.
"""

from __future__ import annotations

import polars as pl

from analytics.evidence import combine
from analytics.knowledge import knowledge_summary, product_questions
from analytics.quality import escalations, quality_indicators
from analytics.reasons import (MonthRefunds, ReasonModel, ReasonReport, conversation_docs, fit_reasons, link_refunds,
                               prepare_refunds, reasons_base, tag_reasons)
from analytics.response_metrics import _message_figures_day, _ratio, agent_day_metrics, agent_month_metrics
from analytics.segment import tokenize
from analytics.sessions import THREAD, Sessions, build_sessions
from analytics.settings import AnalyticsSettings
from analytics.stable_hash import stable_hash
from analytics.text_hits import build_text_hits, normalized_messages

PARTITION_ROWS = 125_000  # messages per partition (the working set of one is ~100 MB)
MAX_PARTITIONS = 128  # 16M messages; beyond, partitions grow (streamed, one at a time)
ONE_PIECE_BELOW = 250_000

# the staged message columns the chat marts read (others, e.g. sender, read_status, are unused)
MESSAGE_COLUMNS = ["month", "shop", "agent_account", "buyer", "sender_role", "sent_at", "text", "is_auto_reply",
                   "event", "transfer_from", "transfer_to", "transfer_reason", "seq", "source_file", "source_sheet",
                   "source_row"]

# row-level marts and their total orders (every key is unique: the sort is the same in any engine)
ROW_MARTS: dict[str, list[str]] = {
    "conversations": ["month", "agent_account", "start_at", "conversation_id"],
    "questions": ["month", "agent_account", "asked_at", "question_id"],
    "text_hits": ["msg_idx", "lexicon", "term"],
    "conversation_reasons": ["conversation_id"],
    "product_questions": ["question_id", "item"],
    "evidence": ["month", "agent_account", "at", "kind", "evidence_id"],
}
# the row marts a partition finishes before the classifier, and those it finishes after
FIRST_PASS_MARTS = ("questions", "text_hits", "product_questions", "evidence")
SECOND_PASS_MARTS = ("conversations", "conversation_reasons")

_QUALITY_COUNTS = ["conversations_with_reply", "polite_openings", "forbidden_hits", "knowledge_gap_replies",
                   "escalation_conversations", "buyer_negative_turns", "praise_candidates"]
# the merge's whole-month columns: threads by integer codes (part, thread_no; the strings once per
# thread in ``threads``), so the month's questions and conversations hold no strings but the status
_CONV_METRICS = ["start_at", "end_at", "day", "has_dialogue", "is_long"]
_Q_METRICS = ["day", "status", "response_s", "is_first_in_conversation"]
_PART_THREAD = ["part", "thread_no"]


def partition_count(rows: int) -> int:
    """How many buyer partitions a month of ``rows`` messages is built in (1: one piece)."""
    if rows < ONE_PIECE_BELOW:
        return 1
    return min(MAX_PARTITIONS, -(-rows // PARTITION_ROWS))


def partition_of(k: int) -> pl.Expr:
    """The partition (0..k-1) of each message: a hash of its buyer."""
    return (pl.col("buyer").hash(seed=0) % k).cast(pl.UInt32)


def _to_month_idx(frame: pl.DataFrame, global_idx: pl.Series, cols: list[str]) -> pl.DataFrame:
    """Map partition row numbers in ``cols`` back to the month's row numbers."""
    return frame.with_columns(pl.lit(global_idx).gather(pl.col(c)).alias(c) for c in cols)


def topic_sample(docs: pl.DataFrame, max_docs: int, seed: int, order: str) -> pl.DataFrame:
    """The documents topic discovery sees: per month (column ``month``) all of them up to
    ``max_docs``, else the ``max_docs`` with the smallest seeded hash of their conversation_id
    (column ``topic_key`` if present), ties by ``order`` (the document's place in the month's
    order): a fixed sample, whatever the partitions. Row order is kept, ``topic_key`` dropped."""
    counts = docs.group_by("month").len()
    if counts.height == 0 or counts["len"].cast(pl.Int64).max() <= max_docs:  # type: ignore[operator]
        return docs.drop("topic_key", strict=False)
    if "topic_key" not in docs.columns:
        docs = docs.with_columns(topic_key(docs, seed))
    chosen = (docs.select("month", "topic_key", order).sort("month", "topic_key", order)
              .group_by("month", maintain_order=True).head(max_docs).select("month", order))
    return docs.join(chosen, on=["month", order], how="semi", nulls_equal=True, maintain_order="left").drop("topic_key")


def topic_key(docs: pl.DataFrame, seed: int) -> pl.Series:
    """The seeded hash of each document's conversation_id that orders the topic sample
    (:func:`analytics.stable_hash.stable_hash`: the same with any library version)."""
    return stable_hash(docs["conversation_id"], seed).alias("topic_key")


def partition_marts(msgs: pl.DataFrame, global_idx: pl.Series, accounts: pl.DataFrame, refunds: MonthRefunds | None,
                    roster: pl.DataFrame | None, settings: AnalyticsSettings, res) -> dict[str, pl.DataFrame]:
    """Everything one partition of the month's buyers contributes (pure).

    ``msgs``: the partition's staged messages in month order; ``global_idx``: each row's
    number in the month (msg_idx of the outputs); ``accounts``: the month's distinct (shop,
    agent_account) (transfer names resolve against all of them); ``refunds``: the month's
    refunds prepared once for every partition (:func:`analytics.reasons.prepare_refunds`);
    ``res``: TextResources.

    Returns frames by name:

    * final row marts: questions, text_hits, product_questions, evidence;
    * finished by :func:`finish_partition` once the classifier is fitted: conversations
      (sessions' columns), escal (escalations), reasons_base (:func:`analytics.reasons.reasons_base`,
      text kept for after-sales conversations only), topic_docs;
    * small, merged over partitions: q_metrics, conv_metrics (metric columns by thread code:
      part = the partition's first month row number, thread_no), threads (their strings, one
      row per thread), transfers, agents, msg_fig (:func:`merge_metrics`), quality, know (:func:`merge_indicators`), labelled (the
      labelled documents, :func:`fit_labelled`), topic_keys (month, topic_key, first_b: the
      month row number of the first buyer message) of this partition's topic candidates,
      topic_docs (those candidates with their text, for :func:`finish_partition`).
    """
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
    docs = conversation_docs(sess, norm)
    base = reasons_base(sess.conversations, docs, link_refunds(sess, norm, refunds, settings), settings)
    # the one-piece document order is that of each conversation's first buyer message
    first_b = (norm.filter((pl.col("kind") == "B") & pl.col("conversation_id").is_not_null())
               .group_by("conversation_id", maintain_order=True).agg(pl.col("msg_idx").first().alias("first_b")))
    t = settings.text.topics
    topic_docs = _to_month_idx(
        docs.drop("doc").join(first_b, on="conversation_id", how="left", maintain_order="left")
        .join(sess.conversations.select("conversation_id", "month"), on="conversation_id", how="left", maintain_order="left"),
        global_idx, ["first_b"])
    topic_docs = topic_sample(topic_docs, t.max_docs, t.seed, "first_b")  # this partition's candidates
    convs = sess.conversations.drop("conv_no", "agent_no", "first_agent_msg_idx", "first_buyer_msg_idx")
    # a partition is named by its first month row number (partitions hold disjoint rows)
    assert sess.threads is not None  # build_sessions numbers the threads
    threads = sess.threads.select(pl.lit(global_idx[0] if global_idx.len() else 0, pl.Int64).alias("part"),
                                  pl.col("thread_no").cast(pl.Int64), *THREAD)
    return {
        "questions": _to_month_idx(questions, global_idx, ["ref_msg_idx", "answer_msg_idx"]),
        "text_hits": _to_month_idx(hits, global_idx, ["msg_idx"]),
        "product_questions": _to_month_idx(pq, global_idx, ["msg_idx", "answer_msg_idx"]),
        "evidence": combine([*response_evidence(questions, settings), q_ev, k_ev]),
        "conversations": convs,
        "escal": escalations(sess, hits).drop("msg_idx"),
        "reasons_base": base.with_columns(pl.when("is_after_sales").then(pl.col("text")).alias("text")),
        "q_metrics": _thread_coded(sess.questions, threads, _Q_METRICS),
        "conv_metrics": _thread_coded(convs, threads, _CONV_METRICS),
        "threads": threads.select(*_PART_THREAD, *THREAD),
        "transfers": sess.transfers.drop("transfer_id", "msg_idx"),
        "agents": agents.drop("agent_no"),
        "msg_fig": msg_fig,
        "quality": quality,
        "know": know,
        "labelled": base.filter(pl.col("label").is_not_null()).select("conversation_id", "label", "text"),
        "topic_docs": topic_docs,
        "topic_keys": topic_docs.select("month", topic_key(topic_docs, t.seed), "first_b"),
    }


def _thread_coded(frame: pl.DataFrame, threads: pl.DataFrame, cols: list[str]) -> pl.DataFrame:
    """``cols`` of ``frame`` (rows with THREAD columns) behind their thread's (part, thread_no)."""
    return (frame.select(*THREAD, *cols).join(threads, on=THREAD, how="left", nulls_equal=True, maintain_order="left")
            .select(*_PART_THREAD, *cols))


def _numbered_agents(agents: pl.DataFrame) -> pl.DataFrame:
    return (agents.unique().sort("month", "agent_account", nulls_last=True)
            .with_row_index("agent_no").with_columns(pl.col("agent_no").cast(pl.UInt32)))


def merge_metrics(q_metrics: pl.DataFrame, conv_metrics: pl.DataFrame, msg_fig: pl.DataFrame,
                  transfers: pl.DataFrame, agents: pl.DataFrame, threads: pl.DataFrame,
                  settings: AnalyticsSettings) -> tuple[pl.DataFrame, pl.DataFrame, Sessions]:
    """(agent_day_metrics, agent_month_metrics, the merged sessions they were computed from)
    from the partitions' q_metrics, conv_metrics, msg_fig, transfers, agents and threads,
    concatenated. The merged questions and conversations carry integer keys only: the thread's
    place in the month's thread order (``g``), ``agent_no`` and a ``buyer`` number."""
    agents = _numbered_agents(agents)
    key = ["month", "agent_account"]
    # each thread lies in one partition; its place in the month is its rank among all threads
    # (the one-piece questions are in thread order), its buyer a number (a buyer is in one partition)
    threads = (threads.sort(THREAD, nulls_last=True, maintain_order=True)
               .with_row_index("g").with_columns(pl.col("buyer").rank("dense").alias("buyer"))
               .join(agents, on=key, how="left", nulls_equal=True, maintain_order="left")
               .select(*_PART_THREAD, "g", "agent_no", "buyer"))

    def in_thread_order(frame: pl.DataFrame, *then: str) -> pl.DataFrame:
        return (frame.join(threads, on=_PART_THREAD, how="left", maintain_order="left")
                .sort("g", *then, nulls_last=True, maintain_order=True).drop(_PART_THREAD))

    q = in_thread_order(q_metrics)
    convs = in_thread_order(conv_metrics, "start_at")
    msg_fig = _ratio(msg_fig.join(agents, on=key, how="left", nulls_equal=True, maintain_order="left")
                     .group_by("agent_no", "day")
                     .agg(pl.col("buyer_msgs", "agent_msgs", "agent_chars").sum()))
    sess = Sessions(rows=pl.DataFrame(), messages=pl.DataFrame(), conversations=convs, questions=q,
                    transfers=transfers, threads=agents)
    day = agent_day_metrics(sess, settings, message_figures=msg_fig)
    return day, agent_month_metrics(sess, day, settings), sess


def merge_indicators(month: pl.DataFrame, quality: pl.DataFrame, know: pl.DataFrame,
                     roster: pl.DataFrame | None) -> pl.DataFrame:
    """agent_month_metrics with the partitions' quality and knowledge counts summed (the
    polite-opening rate recomputed from the sums) and the roster's name/role."""
    from analytics.marts import month_with_indicators

    key = ["month", "agent_account"]
    quality = (quality.group_by(key).agg(pl.col(_QUALITY_COUNTS).sum())
               .with_columns((pl.col("polite_openings") / pl.col("conversations_with_reply")).alias("polite_opening_rate"))
               .with_columns(pl.when(pl.col("conversations_with_reply") > 0).then(pl.col("polite_opening_rate")))
               .select(quality.columns).sort(key))
    know = know.group_by(key).agg(pl.col("product_questions", "product_gap_questions").sum())
    return month_with_indicators(month, quality, know, roster)


def fit_labelled(labelled: pl.DataFrame, settings: AnalyticsSettings, res) -> tuple[ReasonModel, ReasonReport]:
    """The reason classifier fitted on the partitions' labelled documents, concatenated."""
    return fit_reasons(labelled, None, settings, res.segmenter, res.stopwords)


def finish_partition(part: dict[str, pl.DataFrame], model: ReasonModel, topic_choice: pl.Series,
                     res) -> dict[str, pl.DataFrame]:
    """A partition's conversations and conversation_reasons rows, from its conversations,
    escal and reasons_base (:func:`partition_marts`) and the fitted ``model``; and its
    documents of the month's topic sample (``topic_choice``: their first_b, :func:`merge_small`)."""
    from analytics.marts import conversations_mart

    base = part["reasons_base"]
    tokens = None
    if model.fitted is not None:  # only after-sales conversations are tagged: only their text is segmented
        base = base.with_row_index("_row").with_columns(
            pl.when(pl.col("doc").is_not_null()).then(pl.col("_row").cast(pl.Int64)).alias("doc")).drop("_row")
        tokens = tokenize(base["text"], res.segmenter, res.stopwords)
    reasons = tag_reasons(base, model, tokens)
    sess = Sessions(rows=pl.DataFrame(), messages=pl.DataFrame(), conversations=part["conversations"],
                    questions=pl.DataFrame(), transfers=pl.DataFrame())
    return {"conversations": conversations_mart(sess, part["escal"], reasons), "conversation_reasons": reasons,
            "topic_docs": part["topic_docs"].filter(pl.col("first_b").is_in(topic_choice.implode()))}


def month_topics_of(topic_docs: pl.DataFrame, settings: AnalyticsSettings, res) -> tuple[pl.DataFrame, str]:
    """(topics mart, message) of the sampled documents the partitions returned
    (:func:`finish_partition`), concatenated: put in the one-piece order (first buyer message)
    and segmented."""
    from analytics.marts import month_topics
    from analytics.topics import TOPIC_SCHEMA

    docs = topic_docs.sort("first_b").with_row_index("doc").with_columns(pl.col("doc").cast(pl.Int64))
    tokens = tokenize(docs["text"], res.segmenter, res.stopwords).with_columns(pl.col("doc").cast(pl.Int64))
    topics, message = month_topics(docs.select("doc", "conversation_id", "text"), tokens,
                                   docs.select("conversation_id", "month"), settings, res)
    return topics.select("month", *TOPIC_SCHEMA), message


# the small frames of partition_marts, concatenated over partitions before the merge
SMALL = ("q_metrics", "conv_metrics", "threads", "transfers", "agents", "msg_fig", "quality", "know", "labelled",
         "topic_keys")


def merge_small(small: dict[str, pl.DataFrame], roster: pl.DataFrame | None, settings: AnalyticsSettings,
                res) -> tuple[dict[str, pl.DataFrame], ReasonModel, ReasonReport, pl.Series, Sessions]:
    """(agent_day_metrics + agent_month_metrics marts, reason model, its report, the topic
    sample's first_b, merged sessions) from the partitions' small frames (:data:`SMALL`),
    concatenated."""
    day, month, sess = merge_metrics(small["q_metrics"], small["conv_metrics"], small["msg_fig"],
                                     small["transfers"], small["agents"], small["threads"], settings)
    month = merge_indicators(month, small["quality"], small["know"], roster)
    model, report = fit_labelled(small["labelled"], settings, res)
    t = settings.text.topics
    choice = topic_sample(small["topic_keys"], t.max_docs, t.seed, "first_b")["first_b"]
    return {"agent_day_metrics": day, "agent_month_metrics": month}, model, report, choice, sess


def concat_parts(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Partitions' frames of one kind as one frame (no rechunk: the caller sorts or merges)."""
    return pl.concat(frames, how="vertical_relaxed", rechunk=False)


def build_partitioned(messages: pl.DataFrame, refunds: pl.DataFrame | None, roster: pl.DataFrame | None,
                      settings: AnalyticsSettings, res, k: int):
    """:func:`analytics.marts.build_chat_marts` in ``k`` partitions of the month's buyers, in memory."""
    from analytics.lexicon import lexicon_versions
    from analytics.marts import CHAT_MART_ORDER, ChatMarts

    part_of = messages.select(partition_of(k).alias("p"))["p"]
    accounts = messages.select("shop", "agent_account").unique()
    month_refunds = prepare_refunds(refunds)
    parts = []
    for i in range(k):
        global_idx = (part_of == i).arg_true().cast(pl.Int64)
        if global_idx.len():
            parts.append(partition_marts(messages[global_idx], global_idx, accounts, month_refunds, roster, settings, res))
    small = {name: concat_parts([p.pop(name) for p in parts]) for name in SMALL}
    marts, model, report, choice, sess = merge_small(small, roster, settings, res)
    rows: dict[str, list[pl.DataFrame]] = {name: [] for name in ROW_MARTS}
    topic_docs = []
    for p in parts:
        for name in FIRST_PASS_MARTS:
            rows[name].append(p[name])
        done = finish_partition(p, model, choice, res)
        topic_docs.append(done.pop("topic_docs"))
        for name, frame in done.items():
            rows[name].append(frame)
    marts["topics"], topics_message = month_topics_of(concat_parts(topic_docs), settings, res)
    for name, key in ROW_MARTS.items():
        marts[name] = concat_parts(rows.pop(name)).sort(key)
    marts = {name: marts[name] for name in CHAT_MART_ORDER}
    return ChatMarts(marts, report, topics_message, lexicon_versions(res.lexicons), sess)
