"""Hand-built conversations with known answers for every session rule."""

import polars as pl
import pytest

from analytics.sessions import build_sessions, service_clock
from analytics.settings import AnalyticsSettings
from tests.analytics.chatkit import A, B, C, frame, msg, ts
from tests.analytics.chatkit import resources, settings  # noqa: F401  (fixtures)


def q_of(settings, rows):
    s = build_sessions(frame(rows), settings)
    return s, s.questions.sort("asked_at", "agent_account")


def test_burst_is_one_question_timed_from_first_message(settings):
    s, q = q_of(settings, [
        msg(A, "b", "buyer", ts(1, "10:00:00"), "在吗"),
        msg(A, "b", "buyer", ts(1, "10:00:20"), "这个有货吗"),
        msg(A, "b", "buyer", ts(1, "10:00:40"), "急"),
        msg(A, "b", "agent", ts(1, "10:01:10"), "有的亲"),
        msg(A, "b", "agent", ts(1, "10:01:20"), "今天发"),
    ])
    assert q.height == 1
    assert q.row(0, named=True)["buyer_msgs"] == 3
    assert q["response_s"].to_list() == [70.0]
    assert q["status"].to_list() == ["answered"]


def test_auto_reply_system_and_recall_never_answer(settings):
    s, q = q_of(settings, [
        msg(A, "b", "buyer", ts(1, "10:00:00"), "在吗"),
        msg(A, "b", "agent", ts(1, "10:00:01"), "[自动回复]您好,欢迎光临", auto=False),  # marker in text only
        msg(A, "b", "agent", ts(1, "10:00:02"), "亲在的", auto=True),  # flagged auto-reply
        msg(A, "b", "system", ts(1, "10:00:03"), "请在客户端查看原始聊天记录", system=True),
        msg(A, "b", "agent", ts(1, "10:00:04"), "小美 撤回了一条消息", event="recall"),
        msg(A, "b", "buyer", ts(1, "10:00:30"), "人呢"),  # same run: neutral rows are transparent
        msg(A, "b", "agent", ts(1, "10:02:00"), "您好,在的"),
    ])
    assert q.height == 1
    assert q["buyer_msgs"].to_list() == [2]
    assert q["response_s"].to_list() == [120.0]
    assert s.conversations["agent_msgs"].to_list() == [1]


def test_never_answered_and_agent_message_before_question_does_not_answer(settings):
    s, q = q_of(settings, [
        msg(A, "b", "agent", ts(1, "10:00:00"), "亲,您的订单已发货"),
        msg(A, "b", "buyer", ts(1, "10:00:00"), "好的,什么时候到"),  # same second, later in file
    ])
    assert q["status"].to_list() == ["unanswered"]
    assert q["response_s"].to_list() == [None]


def test_ties_keep_file_order(settings):
    # buyer then agent in the same second (file order): answered in 0 s
    s, q = q_of(settings, [
        msg(A, "b", "buyer", ts(1, "10:00:00"), "在吗"),
        msg(A, "b", "agent", ts(1, "10:00:00"), "在的"),
        msg(A, "b", "buyer", ts(1, "10:00:00"), "发什么快递"),
        msg(A, "b", "agent", ts(1, "10:00:05"), "中通"),
    ])
    assert q["response_s"].to_list() == [0.0, 5.0]
    assert q["buyer_msgs"].to_list() == [1, 1]


def test_thirty_minute_silence_splits_conversations(settings):
    s, q = q_of(settings, [
        msg(A, "b", "buyer", ts(1, "10:00:00"), "在吗"),
        msg(A, "b", "buyer", ts(1, "10:29:59"), "在吗??"),  # 29:59 later: same conversation, same question
        msg(A, "b", "agent", ts(1, "10:59:59"), "在的"),  # exactly 30:00 later: new conversation
    ])
    assert s.conversations.height == 2
    assert q["status"].to_list() == ["unanswered"]
    assert q["buyer_msgs"].to_list() == [2]


def test_off_hours_question_answered_next_morning(settings):
    s, q = q_of(settings, [
        msg(A, "b", "buyer", ts(1, "02:00:00"), "还能退吗"),
        msg(A, "b", "agent", ts(1, "09:01:00"), "可以的亲"),
    ])
    assert s.conversations.height == 1  # only 60 s of service time passed
    assert q["response_s"].to_list() == [60.0]
    assert q["wall_response_s"].to_list() == [25260.0]


def test_service_clock_across_midnight_and_custom_windows():
    st = AnalyticsSettings.model_validate({"sessions": {"service_hours": ["08:00-12:00", "13:00-23:00"]}})
    df = pl.DataFrame({"a": [ts(1, "23:59:00"), ts(1, "11:59:00"), ts(1, "22:59:00")],
                       "b": [ts(2, "08:00:30"), ts(1, "13:00:30"), ts(2, "08:00:30")]})
    w = df.select((service_clock(pl.col("b"), st.sessions.windows) - service_clock(pl.col("a"), st.sessions.windows)).alias("w"))
    assert w["w"].to_list() == [30.0, 90.0, 90.0]


def test_transfer_moves_question_to_b_and_starts_clock_at_transfer(settings):
    s, q = q_of(settings, [
        msg(A, "b", "buyer", ts(1, "10:00:00"), "我要退货"),
        msg(A, "b", "system", ts(1, "10:02:00"), "由 小美 转交给 小王", event="transfer",
            transfer_from=A, transfer_to="小王", system=True),  # nick resolved to B's account
        msg(B, "b", "agent", ts(1, "10:02:45"), "亲,我来帮您处理"),
    ])
    qa = q.filter(pl.col("agent_account") == A).row(0, named=True)
    qb = q.filter(pl.col("agent_account") == B).row(0, named=True)
    assert qa["status"] == "transferred_out" and qa["response_s"] is None
    assert qb["status"] == "answered" and qb["carried_in"] and qb["response_s"] == 45.0
    assert s.transfers.select("from_agent", "to_agent").row(0) == (A, B)


def test_transfer_without_pending_question_carries_nothing_and_chains(settings):
    s, q = q_of(settings, [
        msg(A, "x", "buyer", ts(1, "10:00:00"), "在吗"),
        msg(A, "x", "agent", ts(1, "10:00:10"), "在的"),
        msg(A, "x", "system", ts(1, "10:01:00"), "由 小美 转交给 小王", event="transfer", transfer_to=B, system=True),
        # chain: y's question goes A -> B -> C; C answers 30 s after the second transfer
        msg(A, "y", "buyer", ts(1, "11:00:00"), "发票怎么开"),
        msg(A, "y", "system", ts(1, "11:01:00"), "转交", event="transfer", transfer_to=B, system=True),
        msg(B, "y", "system", ts(1, "11:02:00"), "转交", event="transfer", transfer_to=C, system=True),
        msg(C, "y", "agent", ts(1, "11:02:30"), "亲,这边给您开"),
    ])
    x = q.filter(pl.col("buyer") == "x")
    assert x["agent_account"].to_list() == [A] and x["status"].to_list() == ["answered"]
    y = q.filter(pl.col("buyer") == "y").sort("asked_at")
    assert y.select("agent_account", "status").rows() == [
        (A, "transferred_out"), (B, "transferred_out"), (C, "answered")]
    assert y["response_s"].to_list()[-1] == 30.0


def test_duplicate_transfer_notice_in_both_files_counts_once(settings):
    rows = [
        msg(A, "b", "buyer", ts(1, "10:00:00"), "退款"),
        msg(A, "b", "system", ts(1, "10:01:00"), "由 小美 转交给 小王", event="transfer", transfer_to=B, system=True),
        msg(B, "b", "system", ts(1, "10:01:00"), "由 小美 转交给 小王", event="transfer", transfer_from=A,
            transfer_to=B, system=True),
        msg(B, "b", "agent", ts(1, "10:01:20"), "好的"),
    ]
    s = build_sessions(frame(rows), settings)
    assert s.transfers.height == 1
    assert s.questions.filter(pl.col("agent_account") == B)["response_s"].to_list() == [20.0]


def test_long_conversation_and_ids_are_stable(settings):
    rows = [msg(A, "b", "buyer", ts(1, f"10:{m:02d}:00"), "还有问题") for m in range(0, 40, 10)]
    rows.append(msg(A, "b", "agent", ts(1, "10:31:00"), "好的"))
    s = build_sessions(frame(rows), settings)
    c = s.conversations.row(0, named=True)
    assert c["duration_s"] == 31 * 60 and c["is_long"]
    assert c["conversation_id"] == "优品家居旗舰店|优品家居旗舰店:小美|b|20261001100000"


def test_invalid_service_hours_rejected():
    with pytest.raises(ValueError):
        AnalyticsSettings.model_validate({"sessions": {"service_hours": ["22:00-02:00"]}})
    with pytest.raises(ValueError):
        AnalyticsSettings.model_validate({"sessions": {"service_hours": ["09:00-12:00", "11:00-13:00"]}})
