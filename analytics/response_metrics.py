"""Per agent-day and agent-month response metrics (咨询人数, 接待人数, 首次响应, ...).

Definitions are in docs/analytics.md §Metrics; every figure is an aggregate of the
``conversations`` / ``questions`` marts or of classified messages, so it can be reproduced
from the rows behind it.
"""

from __future__ import annotations

import polars as pl

from analytics.sessions import Sessions
from analytics.settings import AnalyticsSettings

DAY = ["month", "agent_account", "day"]
MONTH = ["month", "agent_account"]


def _question_figures(q: pl.DataFrame, keys: list[str], s) -> pl.DataFrame:
    counted = q.filter(pl.col("status") != "transferred_out")
    ans = pl.col("status") == "answered"
    rs = pl.col("response_s").filter(ans)
    return counted.group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("questions"),
        ans.sum().cast(pl.Int64).alias("answered_questions"),
        rs.mean().alias("avg_response_s"),
        rs.quantile(s.p90_quantile, interpolation="linear").alias("p90_response_s"),
        (ans & (pl.col("response_s") <= s.fast_threshold_s)).sum().cast(pl.Int64).alias("answered_within_fast"),
        (ans & (pl.col("response_s") > s.slow_threshold_s)).sum().cast(pl.Int64).alias("slow_responses"),
        pl.col("response_s").filter(ans & pl.col("is_first_in_conversation")).mean().alias("first_response_mean_s"),
        pl.col("response_s").filter(ans & pl.col("is_first_in_conversation")).median().alias("first_response_median_s"),
    ).with_columns(
        (pl.col("answered_within_fast") / pl.col("questions")).alias("response_3min_rate"))


def _buyer_day_status(q: pl.DataFrame) -> pl.DataFrame:
    """One row per (month, agent, day, buyer) that asked: received / unreplied / transferred only."""
    return q.group_by(*DAY, "buyer").agg(
        (pl.col("status") == "answered").any().alias("received"),
        (pl.col("status") == "unanswered").any().alias("has_unanswered"),
    ).with_columns((~pl.col("received") & pl.col("has_unanswered")).alias("unreplied"))


def _message_figures(msgs: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    human = pl.col("kind") == "H"
    return msgs.group_by(keys).agg(
        (pl.col("kind") == "B").sum().cast(pl.Int64).alias("buyer_msgs"),
        human.sum().cast(pl.Int64).alias("agent_msgs"),
        pl.col("text").filter(human).str.len_chars().sum().cast(pl.Int64).alias("agent_chars"),
    ).with_columns(
        pl.when(pl.col("buyer_msgs") > 0).then(pl.col("agent_msgs") / pl.col("buyer_msgs")).alias("ask_answer_ratio"))


def _conversation_figures(convs: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    return convs.filter("has_dialogue").group_by(keys).agg(
        pl.len().cast(pl.Int64).alias("conversations"),
        pl.col("is_long").sum().cast(pl.Int64).alias("long_conversations"),
    )


def _transfer_figures(t: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    t = t.with_columns(pl.col("sent_at").dt.date().alias("day"))
    k = [c for c in keys if c != "agent_account"]
    outs = t.group_by(*k, pl.col("from_agent").alias("agent_account")).agg(pl.len().cast(pl.Int64).alias("transfers_out"))
    ins = t.filter(pl.col("to_agent").is_not_null()).group_by(*k, pl.col("to_agent").alias("agent_account")).agg(
        pl.len().cast(pl.Int64).alias("transfers_in"))
    return outs.join(ins, on=keys, how="full", coalesce=True)


def concurrency(convs: pl.DataFrame) -> pl.DataFrame:
    """Maximum simultaneously open conversations per (month, agent, day).

    A conversation is open on the closed interval [start_at, end_at]; at equal instants
    openings are counted before closings, so touching conversations overlap.
    """
    c = convs.filter("has_dialogue")
    ev = pl.concat([
        c.select("month", "agent_account", pl.col("start_at").alias("t"), pl.lit(1, pl.Int64).alias("d")),
        c.select("month", "agent_account", pl.col("end_at").alias("t"), pl.lit(-1, pl.Int64).alias("d")),
    ]).sort("month", "agent_account", "t", pl.col("d"), descending=[False, False, False, True])
    ev = ev.with_columns(pl.col("d").cum_sum().over("month", "agent_account").alias("open"))
    # before a closing event the count was open+1, a state that existed within this day
    level = pl.when(pl.col("d") > 0).then(pl.col("open")).otherwise(pl.col("open") + 1)
    return ev.group_by("month", "agent_account", pl.col("t").dt.date().alias("day")).agg(
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


def _assemble(parts: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    agents = pl.concat([p.select(keys) for p in parts]).unique()
    out = agents
    for p in parts:
        out = out.join(p, on=keys, how="left")
    return out.with_columns([pl.col(c).fill_null(0) for c in _INT_COLS if c in out.columns])


def agent_day_metrics(sess: Sessions, settings: AnalyticsSettings) -> pl.DataFrame:
    """One row per (month, agent_account, day) with the response metrics of that day."""
    s = settings.sessions
    q = sess.questions
    bd = _buyer_day_status(q).group_by(DAY).agg(
        pl.len().cast(pl.Int64).alias("consult_buyers"),
        pl.col("received").sum().cast(pl.Int64).alias("received_buyers"),
        pl.col("unreplied").sum().cast(pl.Int64).alias("unreplied_buyers"),
    )
    msgs = sess.messages.filter(pl.col("conv_no").is_not_null())
    parts = [
        _conversation_figures(sess.conversations, DAY), bd, _question_figures(q, DAY, s),
        _message_figures(msgs, DAY), _transfer_figures(sess.transfers, DAY), concurrency(sess.conversations),
    ]
    out = _assemble(parts, DAY).with_columns(_reply_rate())
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
    consult = q.group_by(MONTH).agg(pl.col("buyer").n_unique().cast(pl.Int64).alias("consult_buyers"))
    daily = day_metrics.group_by(MONTH).agg(
        pl.col("received_buyers").sum(), pl.col("unreplied_buyers").sum(), pl.col("max_concurrent").max())
    msgs = sess.messages.filter(pl.col("conv_no").is_not_null())
    parts = [
        _conversation_figures(sess.conversations, MONTH), consult, daily, _question_figures(q, MONTH, s),
        _message_figures(msgs, MONTH), _transfer_figures(sess.transfers, MONTH),
    ]
    out = _assemble(parts, MONTH).with_columns(_reply_rate())
    return out.select(COLUMN_ORDER).sort(MONTH)
