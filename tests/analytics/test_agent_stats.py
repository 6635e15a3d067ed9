"""Shops without raw chats: statistics exports become agent_month_metrics."""

import polars as pl

from analytics.agent_stats import metrics_from_agent_stats


def test_stats_map_to_metric_columns_and_roster_accounts():
    stats = pl.DataFrame(
        {
            "source": ["sycm", "sycm", "chitu"],
            "agent_nick": ["店:小美", "小王", "小王"],
            "consult_buyers": [120, 80, 81],
            "unreplied_buyers": [2, 5, 6],
            "reply_rate": [0.9833, 0.9375, 0.9],
            "avg_response_s": [21.5, 64.0, 70.0],
            "response_3min_rate": [0.97, 0.81, 0.8],
            "slow_buyers": [3, 12, 13],
        }
    )
    roster = pl.DataFrame({"agent_account": ["店:小美", "店:小王"], "name": ["王美", "王五"]})
    m = metrics_from_agent_stats(stats, roster, "2026-10")
    assert m["agent_account"].to_list() == ["店:小王", "店:小美"]
    wang = m.row(0, named=True)
    # 生意参谋 wins over 赤兔 for the same agent
    assert (wang["metrics_source"], wang["consult_buyers"], wang["avg_response_s"], wang["slow_responses"]) == ("agent_stats:sycm", 80, 64.0, 12)
    assert wang["polite_opening_rate"] is None and wang["month"] == "2026-10"


def test_unknown_nick_kept_and_empty_stats():
    stats = pl.DataFrame({"source": ["chitu"], "agent_nick": ["临时工"], "reply_rate": [1.0]})
    assert metrics_from_agent_stats(stats, None, "2026-10")["agent_account"].to_list() == ["临时工"]
    assert metrics_from_agent_stats(stats.clear(), None, "2026-10").height == 0
