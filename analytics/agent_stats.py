"""Chat metrics for shops without raw chats: the per-agent statistics exports
(生意参谋 咨询接待分析 / 赤兔 客服数据, staged table ``agent_stats``) mapped onto the
``agent_month_metrics`` columns scoring reads (docs/marts.md).

Text indicators (politeness, forbidden words, knowledge gaps) cannot be known from these
exports: they stay null, so the 售后客服素质 grade needs the supervisor's override there.
"""

from __future__ import annotations

import polars as pl

from contracts import MARTS, conform

# agent_stats column -> agent_month_metrics column (same meaning, see exports.md)
STAT_TO_METRIC = {
    "consult_buyers": "consult_buyers",
    "received_buyers": "received_buyers",
    "unreplied_buyers": "unreplied_buyers",
    "reply_rate": "reply_rate",
    "first_response_s": "first_response_mean_s",
    "avg_response_s": "avg_response_s",
    "response_3min_rate": "response_3min_rate",
    "slow_buyers": "slow_responses",
    "ask_answer_ratio": "ask_answer_ratio",
    "long_receptions": "long_conversations",
    "transfers_out": "transfers_out",
    "agent_chars": "agent_chars",
    "max_concurrent": "max_concurrent",
}


def match_accounts(nicks: pl.Series, roster: pl.DataFrame | None) -> pl.Series:
    """旺旺昵称 → roster 客服账号: an exact account ('店铺:小美') or the sub-account part
    ('小美'); unmatched nicks are kept as written."""
    if roster is None or roster.height == 0:
        return nicks.alias("agent_account")
    accounts = roster["agent_account"].to_list()
    by_sub = {a.split(":", 1)[-1]: a for a in accounts}
    lookup = pl.DataFrame({"nick": accounts + list(by_sub), "account": accounts + list(by_sub.values())}).unique("nick")
    return (
        pl.DataFrame({"nick": nicks})
        .join(lookup, on="nick", how="left", maintain_order="left")
        .select(pl.coalesce("account", "nick"))
        .to_series()
        .alias("agent_account")
    )


def metrics_from_agent_stats(stats: pl.DataFrame, roster: pl.DataFrame | None, month: str) -> pl.DataFrame:
    """One ``agent_month_metrics`` row per agent from the statistics export.

    When both sources are present for an agent, 生意参谋 (sycm) wins over 赤兔 (chitu); each
    row records its ``metrics_source``."""
    if stats.height == 0:
        return MARTS["agent_month_metrics"].empty()
    df = stats.with_columns(match_accounts(stats["agent_nick"], roster))
    df = df.sort(pl.col("source").replace_strict({"sycm": 0, "chitu": 1}, default=2), "agent_account").unique("agent_account", keep="first", maintain_order=True)
    cols = [pl.lit(month).alias("month"), "agent_account", pl.format("agent_stats:{}", "source").alias("metrics_source")]
    cols += [pl.col(src).cast(pl.Float64 if src.endswith(("rate", "_s", "ratio")) else pl.Int64).alias(dst) for src, dst in STAT_TO_METRIC.items() if src in df.columns]
    # the columns the export lacks (text indicators, questions ...) are null
    return conform(MARTS["agent_month_metrics"], df.select(cols)).sort("agent_account")
