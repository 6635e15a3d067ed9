"""Quality indicators, product-knowledge gaps and evidence on a hand-built month."""

import polars as pl
import pytest

from analytics.marts import build_chat_marts
from tests.analytics.chatkit import A, B, frame, msg, ts
from tests.analytics.chatkit import resources, settings  # noqa: F401  (fixtures)

ROSTER = pl.DataFrame({"agent_account": [A, B], "name": ["王美玲", "李雅琴"], "role": ["普通售后客服"] * 2})


@pytest.fixture(scope="module")
def out(settings, resources):
    rows = [
        # c1 (A): polite opening, knowledge-gap answer to a product question, escalation answered
        msg(A, "b1", "buyer", ts(3, "10:00:00"), "記憶棉枕頭有異味正常嗎"),       # traditional product mention
        msg(A, "b1", "agent", ts(3, "10:00:20"), "亲，您好，这个我不清楚，我问一下同事"),
        msg(A, "b1", "buyer", ts(3, "10:01:00"), "太差了，再不处理我就投诉"),
        msg(A, "b1", "agent", ts(3, "10:01:30"), "抱歉亲，马上给您处理"),
        msg(A, "b1", "buyer", ts(3, "10:02:00"), "谢谢亲，服务好"),                  # praise following the agent
        # c2 (A): blunt opening with forbidden words; promotion question never answered
        msg(A, "b2", "buyer", ts(3, "11:00:00"), "满减怎么算"),
        msg(A, "b2", "agent", ts(3, "11:00:10"), "不知道，自己看"),
        msg(A, "b2", "buyer", ts(3, "11:00:40"), "优惠券在哪领"),
        # c3 (B): buyer praises 李雅琴 by name in a later burst, auto-reply in between
        msg(B, "b3", "buyer", ts(3, "12:00:00"), "在吗"),
        msg(B, "b3", "agent", ts(3, "12:00:01"), "[自动回复]您好", auto=True),
        msg(B, "b3", "buyer", ts(3, "12:00:05"), "李雅琴很耐心"),                    # names the agent
        msg(B, "b3", "agent", ts(3, "12:00:30"), "感谢"),
    ]
    return build_chat_marts(frame(rows), None, None, ROSTER, settings, resources)


def test_quality_columns(out):
    m = out.marts["agent_month_metrics"]
    a = m.filter(pl.col("agent_account") == A).row(0, named=True)
    assert a["polite_opening_rate"] == pytest.approx(0.5)  # c1 polite, c2 "不知道，自己看" not
    assert a["forbidden_hits"] == 2
    assert a["knowledge_gap_replies"] == 1
    assert a["escalation_conversations"] == 1
    assert a["buyer_negative_turns"] == 1
    assert a["praise_candidates"] == 1
    assert (a["product_questions"], a["product_gap_questions"]) == (3, 2)  # 满减 was answered (bluntly)
    assert a["name"] == "王美玲" and a["in_roster"]
    b = m.filter(pl.col("agent_account") == B).row(0, named=True)
    assert (b["praise_candidates"], b["polite_opening_rate"], b["forbidden_hits"]) == (1, 1.0, 0)


def test_evidence_rows(out):
    ev = out.marts["evidence"]
    kinds = ev.group_by("kind").len().sort("kind").rows()
    assert kinds == [("escalation", 1), ("forbidden_word", 2), ("knowledge_gap", 1), ("negative_turn", 1),
                     ("praise_candidate", 2), ("product_gap", 2), ("unanswered", 2)]  # b1 closing thanks is a question too
    esc = ev.filter(pl.col("kind") == "escalation").row(0, named=True)
    assert esc["detail"] == "命中: 投诉; 结局: 已回复(用时30秒); 最后发言: 买家"
    assert esc["source_row"] == 3 and esc["excerpt"] == "太差了，再不处理我就投诉"
    assert set(ev.filter(pl.col("kind") == "forbidden_word")["evidence_id"]) == {
        "forbidden_word:98e049b6f36b:7:不知道", "forbidden_word:98e049b6f36b:7:自己看"}  # sha256("chat.txt\x1f")[:12]
    pg = ev.filter(pl.col("kind") == "product_gap").sort("source_row")
    assert pg["detail"].to_list() == ["商品 记忆棉枕头护颈椎单人: 回复含: 不清楚、我问一下", "活动 优惠券: 未回复"]
    praise = ev.filter(pl.col("kind") == "praise_candidate").sort("source_row")["detail"].to_list()
    assert praise == ["命中: 服务好、谢谢亲 (紧随客服回复, 需主管确认)", "命中: 耐心 (点名客服, 需主管确认)"]
    assert ev["evidence_id"].is_unique().all()


def test_text_hits_keep_message_refs(out):
    th = out.marts["text_hits"]
    row = th.filter(pl.col("term") == "投诉").row(0, named=True)
    assert (row["source_file"], row["source_row"], row["sender_role"], row["lexicon_version"]) == ("chat.txt", 3, "buyer", "2026.10-1")
    # the auto-reply "您好" is never a politeness hit
    assert th.filter(pl.col("agent_account") == B, pl.col("lexicon") == "politeness")["term"].to_list() == ["感谢"]


def test_conversations_mart(out):
    c = out.marts["conversations"].filter(pl.col("buyer") == "b1").row(0, named=True)
    assert c["escalated"] and c["escalation_outcome"] == "已回复(用时30秒)" and c["is_after_sales"] is False
    q = out.marts["questions"].filter(pl.col("buyer") == "b1").sort("asked_at")
    assert q["answer_text"].to_list()[:2] == ["亲，您好，这个我不清楚，我问一下同事", "抱歉亲，马上给您处理"]
    assert q["answer_source_row"].to_list()[:2] == [2, 4]
