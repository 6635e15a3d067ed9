"""Agent day/month response metrics on a hand-built month with hand-computed answers."""

from datetime import date

import polars as pl
import pytest

from analytics.response_metrics import agent_day_metrics, agent_month_metrics
from analytics.sessions import build_sessions
from tests.analytics.chatkit import A, B, frame, msg, ts
from tests.analytics.chatkit import resources, settings  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def metrics(settings):
    rows = [
        # day 1
        msg(A, "b1", "buyer", ts(1, "10:00:00"), "在吗"),
        msg(A, "b1", "agent", ts(1, "10:00:30"), "在的"),          # 30 s, 2 chars
        msg(A, "b2", "buyer", ts(1, "10:03:00"), "有赠品吗"),       # never answered
        msg(A, "b1", "buyer", ts(1, "10:05:00"), "能便宜吗"),
        msg(A, "b1", "agent", ts(1, "10:07:00"), "不能哦"),         # 120 s: slow, within 3 min
        msg(A, "b3", "buyer", ts(1, "02:00:00"), "退货"),
        msg(A, "b3", "agent", ts(1, "09:04:00"), "好的亲亲"),       # 240 service s: slow, not within 3 min
        # day 2
        msg(A, "b1", "buyer", ts(2, "11:00:00"), "到了吗"),
        msg(A, "b1", "agent", ts(2, "11:00:10"), "明天到"),         # 10 s
        msg(A, "b4", "buyer", ts(2, "10:00:00"), "换货"),
        msg(A, "b4", "system", ts(2, "10:01:00"), "由 小美 转交给 小王", event="transfer", transfer_to=B, system=True),
        msg(B, "b4", "agent", ts(2, "10:01:20"), "我来处理"),      # B: 20 s from the transfer
    ]
    s = build_sessions(frame(rows), settings)
    day = agent_day_metrics(s, settings)
    return day, agent_month_metrics(s, day, settings)


def row(df, agent, day=None):
    f = df.filter(pl.col("agent_account") == agent)
    if day:
        f = f.filter(pl.col("day") == day)
    assert f.height == 1
    return f.row(0, named=True)


def test_day_one(metrics):
    d = row(metrics[0], A, date(2026, 10, 1))
    assert (d["conversations"], d["consult_buyers"], d["received_buyers"], d["unreplied_buyers"]) == (3, 3, 2, 1)
    assert d["reply_rate"] == pytest.approx(2 / 3)
    assert (d["questions"], d["answered_questions"]) == (4, 3)
    assert d["avg_response_s"] == pytest.approx(130.0)
    assert d["p90_response_s"] == pytest.approx(216.0)  # linear: 120 + 0.8 * (240 - 120)
    assert d["first_response_mean_s"] == pytest.approx(135.0)
    assert d["first_response_median_s"] == pytest.approx(135.0)
    assert d["response_3min_rate"] == pytest.approx(0.5)
    assert d["slow_responses"] == 2
    assert d["ask_answer_ratio"] == pytest.approx(0.75)
    assert d["agent_chars"] == 2 + 3 + 4
    assert d["max_concurrent"] == 2  # b1 [10:00, 10:07] overlaps b2 at 10:03
    assert d["long_conversations"] == 0  # b3 spans 7 h of wall time but only 4 service minutes


def test_day_two_and_transfers(metrics):
    d = row(metrics[0], A, date(2026, 10, 2))
    assert (d["consult_buyers"], d["received_buyers"], d["unreplied_buyers"], d["transfers_out"]) == (2, 1, 0, 1)
    assert d["reply_rate"] == 1.0
    b = row(metrics[0], B, date(2026, 10, 2))
    assert (b["transfers_in"], b["questions"], b["avg_response_s"], b["buyer_msgs"]) == (1, 1, 20.0, 0)
    assert b["ask_answer_ratio"] is None


def test_month(metrics):
    m = row(metrics[1], A)
    assert (m["conversations"], m["consult_buyers"], m["received_buyers"], m["unreplied_buyers"]) == (5, 4, 3, 1)
    assert m["reply_rate"] == pytest.approx(0.75)
    assert (m["questions"], m["answered_questions"], m["slow_responses"]) == (5, 4, 2)
    assert m["avg_response_s"] == pytest.approx(100.0)
    assert m["first_response_mean_s"] == pytest.approx((30 + 240 + 10) / 3)
    assert m["first_response_median_s"] == pytest.approx(30.0)
    assert m["response_3min_rate"] == pytest.approx(3 / 5)
    assert (m["transfers_in"], m["transfers_out"], m["max_concurrent"]) == (0, 1, 2)
    assert m["agent_chars"] == 2 + 3 + 4 + 3
    assert m["ask_answer_ratio"] == pytest.approx(4 / 6)
