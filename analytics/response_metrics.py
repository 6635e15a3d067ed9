"""Per agent-day and agent-month response metrics (咨询人数, 接待人数, 首次响应, ...).

Definitions are in docs/analytics.md §Metrics; every figure is an aggregate of the
``conversations`` / ``questions`` marts or of classified messages, so it can be reproduced
from the rows behind it.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import polars as pl

from analytics.sessions import Sessions, message_day_counts
from analytics.settings import AnalyticsSettings

DAY = ["month", "agent_account", "day"]
MONTH = ["month", "agent_account"]
# aggregations run on the integer agent number of sessions (Sessions.agents()); names are
# joined back onto the small result
DAY_K = ["agent_no", "day"]
MONTH_K = ["agent_no"]


def _question_figures(q: pl.DataFrame, keys: list[str], s) -> pl.DataFrame:
    ans = pl.col("status") == "answered"
    rs = pl.col("response_s")
    # per-row columns first, then plain aggregations (mean skips nulls; quantile and median need drop_nulls)
    counted = q.filter(pl.col("status") != "transferred_out").select(
        *keys, ans.alias("ans"), pl.when(ans).then(rs).alias("rs"),
        pl.when(ans & pl.col("is_first_in_conversation")).then(rs).alias("first_rs"),
        (ans & (rs <= s.fast_threshold_s)).alias("fast"), (ans & (rs > s.slow_threshold_s)).alias("slow"))
    return counted.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("questions"),
        pl.col("ans").sum().cast(pl.Int64).alias("answered_questions"),
        pl.col("rs").mean().alias("avg_response_s"),
        pl.col("rs").drop_nulls().quantile(s.p90_quantile, interpolation="linear").alias("p90_response_s"),
        pl.col("fast").sum().cast(pl.Int64).alias("answered_within_fast"),
        pl.col("slow").sum().cast(pl.Int64).alias("slow_responses"),
        pl.col("first_rs").mean().alias("first_response_mean_s"),
        pl.col("first_rs").drop_nulls().median().alias("first_response_median_s"),
    ).with_columns(
        (pl.col("answered_within_fast") / pl.col("questions")).alias("response_3min_rate"))


def _buyer_day_status(q: pl.DataFrame) -> pl.DataFrame:
    """One row per (agent, day, buyer) that asked: received / unreplied / transferred only."""
    return q.select(*DAY_K, "buyer", (pl.col("status") == "answered").alias("received"),
                    (pl.col("status") == "unanswered").alias("has_unanswered")).group_by(*DAY_K, "buyer").agg(
        pl.col("received").any(), pl.col("has_unanswered").any(),
    ).with_columns((~pl.col("received") & pl.col("has_unanswered")).alias("unreplied"))


def _ratio(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col("buyer_msgs") > 0).then(pl.col("agent_msgs") / pl.col("buyer_msgs")).alias("ask_answer_ratio"))


def _message_figures_day(sess: Sessions) -> pl.DataFrame:
    """B / H message counts and H characters per (agent, day of the message), with the
    ask/answer ratio: :attr:`Sessions.message_figures` if build_sessions computed them, else
    :func:`analytics.sessions.message_day_counts` with each message's agent gathered from its
    conversation (conv_no)."""
    if sess.message_figures is not None:
        return _ratio(sess.message_figures)
    agent_of = pl.lit(sess.conversations["agent_no"]).gather(pl.col("conv_no") - 1)
    return _ratio(message_day_counts(sess.messages, agent_of))


def _conversation_figures(convs: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return convs.filter("has_dialogue").group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("conversations"),
        pl.col("is_long").sum().cast(pl.Int64).alias("long_conversations"),
    )


def _transfer_figures(t: pl.DataFrame, agents: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    t = t.with_columns(pl.col("sent_at").dt.date().alias("day"))
    k = [c for c in keys if c != "agent_no"]
    outs = t.group_by("month", pl.col("from_agent").alias("agent_account"), *k).agg(
        pl.len().cast(pl.Int64).alias("transfers_out"))
    ins = t.filter(pl.col("to_agent").is_not_null()).group_by(
        "month", pl.col("to_agent").alias("agent_account"), *k).agg(pl.len().cast(pl.Int64).alias("transfers_in"))
    both = outs.join(ins, on=["month", "agent_account", *k], how="full", coalesce=True)
    return both.join(agents, on=MONTH, how="left", nulls_equal=True).drop(MONTH)


def concurrency(convs: pl.DataFrame) -> pl.DataFrame:
    """Maximum simultaneously open conversations per (agent_no, day).

    A conversation is open on the closed interval [start_at, end_at]; at equal instants
    openings are counted before closings, so touching conversations overlap.
    """
    c = convs.filter("has_dialogue").select("agent_no", "start_at", "end_at")
    if c.height == 0:
        return pl.DataFrame(schema={"agent_no": c.schema["agent_no"], "day": pl.Date, "max_concurrent": pl.Int64})
    dtype = c.schema["start_at"]
    t = pl.concat([c["start_at"], c["end_at"]]).to_physical()
    t0, span = t.min(), t.max() - t.min()  # type: ignore[operator]
    a_bits, t_bits = int(c["agent_no"].max()).bit_length(), int(span).bit_length()  # type: ignore[arg-type]
    if a_bits + t_bits + 1 > 63 or c.select(pl.all().null_count().sum()).row(0)[0]:
        return _concurrency_sorted(c)
    # events sorted on one packed integer (agent, instant, closing after opening): the running
    # count of every agent returns to 0 at its last event, so one running sum serves all agents
    key = lambda col, closing: ((pl.col("agent_no").cast(pl.Int64) * (2 ** t_bits)  # noqa: E731
                                 + (pl.col(col).to_physical() - t0)) * 2 + closing)
    keys = pl.concat([c.select(key("start_at", 0).alias("k")), c.select(key("end_at", 1).alias("k"))])["k"].sort()
    closing = (pl.col("k") % 2) == 1
    ev = pl.DataFrame({"k": keys}).with_columns(
        pl.when(closing).then(pl.lit(-1, pl.Int64)).otherwise(pl.lit(1, pl.Int64)).cum_sum().alias("open"))
    return ev.group_by(
        (pl.col("k") // (2 ** (t_bits + 1))).cast(c.schema["agent_no"]).alias("agent_no"),
        (((pl.col("k") // 2) % (2 ** t_bits)) + t0).cast(dtype).dt.date().alias("day"),
    ).agg(
        # before a closing event the count was open+1, a state that existed within this day
        pl.when(closing).then(pl.col("open") + 1).otherwise(pl.col("open")).max().cast(pl.Int64).alias("max_concurrent"))


def _concurrency_sorted(c: pl.DataFrame) -> pl.DataFrame:
    ev = pl.concat([
        c.select("agent_no", pl.col("start_at").alias("t"), pl.lit(1, pl.Int64).alias("d")),
        c.select("agent_no", pl.col("end_at").alias("t"), pl.lit(-1, pl.Int64).alias("d")),
    ]).sort("agent_no", "t", pl.col("d"), descending=[False, False, True])
    ev = ev.with_columns(pl.col("d").cum_sum().over("agent_no").alias("open"))
    # before a closing event the count was open+1, a state that existed within this day
    level = pl.when(pl.col("d") > 0).then(pl.col("open")).otherwise(pl.col("open") + 1)
    return ev.group_by("agent_no", pl.col("t").dt.date().alias("day")).agg(
        level.max().cast(pl.Int64).alias("max_concurrent"))


_INT_COLS = ["conversations", "consult_buyers", "received_buyers", "unreplied_buyers", "questions",
             "answered_questions", "slow_responses", "answered_within_fast", "long_conversations",
             "transfers_in", "transfers_out", "buyer_msgs", "agent_msgs", "agent_chars", "max_concurrent"]

COLUMN_ORDER = ["month", "agent_account", "conversations", "consult_buyers", "received_buyers",
                "unreplied_buyers", "reply_rate", "questions", "answered_questions",
                "first_response_mean_s", "first_response_median_s", "avg_response_s", "p90_response_s",
                "response_3min_rate", "slow_responses", "ask_answer_ratio", "long_conversations",
                "transfers_in", "transfers_out", "agent_chars", "max_concurrent", "buyer_msgs",
                "agent_msgs", "answered_within_fast"]


def _assemble(parts: list[pl.DataFrame], keys: list[str], agents: pl.DataFrame) -> pl.DataFrame:
    out = pl.concat([p.select(keys) for p in parts]).unique()
    for p in parts:
        out = out.join(p, on=keys, how="left")
    out = out.join(agents, on="agent_no", how="left")
    return out.with_columns([pl.col(c).fill_null(0) for c in _INT_COLS if c in out.columns])


def agent_day_metrics(sess: Sessions, settings: AnalyticsSettings,
                      message_figures: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (month, agent_account, day) with the response metrics of that day.

    ``message_figures``: :func:`_message_figures_day` if the caller has it (summed over
    partitions of the month's buyers: its counts are additive)."""
    s = settings.sessions
    q = sess.questions
    # the message-level, concurrency and buyer-level parts run while the others do
    with ThreadPoolExecutor(max_workers=1) as pool:
        msg_job = pool.submit(lambda: _message_figures_day(sess) if message_figures is None else message_figures)
        conc_job = pool.submit(concurrency, sess.conversations)
        bd_job = pool.submit(lambda: _buyer_day_status(q).group_by(DAY_K).agg(
            pl.len().cast(pl.Int64).alias("consult_buyers"),
            pl.col("received").sum().cast(pl.Int64).alias("received_buyers"),
            pl.col("unreplied").sum().cast(pl.Int64).alias("unreplied_buyers"),
        ))
        agents = sess.agents()
        conv_fig, q_fig = _conversation_figures(sess.conversations, DAY_K), _question_figures(q, DAY_K, s)
        transfer_fig = _transfer_figures(sess.transfers, agents, DAY_K)
        parts = [conv_fig, bd_job.result(), q_fig, msg_job.result(), transfer_fig, conc_job.result()]
    out = _assemble(parts, DAY_K, agents).with_columns(_reply_rate())
    return out.select("month", "agent_account", "day", *COLUMN_ORDER[2:]).sort(DAY)


def _reply_rate() -> pl.Expr:
    denom = pl.col("received_buyers") + pl.col("unreplied_buyers")
    return pl.when(denom > 0).then(pl.col("received_buyers") / denom).alias("reply_rate")


def agent_month_metrics(sess: Sessions, day_metrics: pl.DataFrame, settings: AnalyticsSettings) -> pl.DataFrame:
    """One row per (month, agent_account): response columns of docs/marts.md agent_month_metrics.

    Pools (means, medians, p90, rates) are recomputed over the month's questions, not averaged
    over days; 接待人数/未回复人数 are the sums of the daily counts; 咨询人数 is distinct buyers
    in the month; max_concurrent is the month's maximum.
    """
    s = settings.sessions
    q = sess.questions
    agents = sess.agents()
    with ThreadPoolExecutor(max_workers=1) as pool:  # the distinct buyers while the rest is computed
        consult_job = pool.submit(lambda: q.group_by(MONTH_K).agg(
            pl.col("buyer").n_unique().cast(pl.Int64).alias("consult_buyers")))
        # message counts and characters are additive over days (the day rows cover every agent)
        daily = _ratio(day_metrics.join(agents, on=MONTH, how="left", nulls_equal=True).group_by(MONTH_K).agg(
            pl.col("received_buyers").sum(), pl.col("unreplied_buyers").sum(), pl.col("max_concurrent").max(),
            pl.col("buyer_msgs", "agent_msgs", "agent_chars").sum()))
        conv_fig, q_fig = _conversation_figures(sess.conversations, MONTH_K), _question_figures(q, MONTH_K, s)
        parts = [conv_fig, consult_job.result(), daily, q_fig, _transfer_figures(sess.transfers, agents, MONTH_K)]
    out = _assemble(parts, MONTH_K, agents).with_columns(_reply_rate())
    return out.select(COLUMN_ORDER).sort(MONTH)
