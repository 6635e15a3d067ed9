"""Batch-exporter JSON chat records."""

from __future__ import annotations

from polars.testing import assert_frame_equal

from pipelines.io.source import SourceFile
from pipelines.readers import get
from tests.pipelines.readers.chat_fixtures import FIXTURES, assert_sniffs, expected, write_json_single

W = "旗舰店:小王"


def test_list_of_buyer_conversations():
    (batch,) = get("chat_json").read(SourceFile(FIXTURES / "export_buyers.json"))
    assert batch.notes == ["1 个会话没有聊天内容"]
    a = {"shop": "旗舰店", "agent_account": W, "buyer": "buyer_a", "event": "message"}
    b = {"shop": "旗舰店", "agent_account": W, "buyer": "buyer_b", "event": "message"}
    want = expected(
        [
            a | dict(sender="buyer_a", sender_role="buyer", sent_at="2026-10-01 09:00:05", text="在吗", source_row=1),
            a | dict(sender=W, sender_role="agent", sent_at="2026-10-01 09:00:06", text="【自动回复】您好",
                     is_auto_reply=True, source_row=2),
            a | dict(sender="buyer_a", sender_role="buyer", sent_at="2026-10-01 09:00:30", text="[图片]", source_row=3),
            a | dict(sender=W, sender_role="agent", sent_at="2026-10-01 09:01:00", text="收到，\n马上处理", source_row=4),
            # no agent in buyer_b's conversation: the file's agent
            b | dict(sender="buyer_b", sender_role="buyer", sent_at="2026-10-02 10:00:00", text="退款呢", source_row=5),
            b | dict(sender="buyer_b", sender_role="buyer", sent_at="2026-10-02 25:00", text="人呢", source_row=6,
                     _reason=None),
        ]
    )  # fmt: skip
    assert_frame_equal(batch.frame, want)


def test_single_object_exported_from_the_agent_side(tmp_path):
    (batch,) = get("chat_json").read(SourceFile(write_json_single(tmp_path / "one.json")))
    d = {"shop": "旗舰店", "agent_account": W, "buyer": "buyer_d", "sender": "buyer_d", "sender_role": "buyer",
         "event": "message"}  # fmt: skip
    want = expected(
        [
            d | dict(sent_at="2026-10-04 11:00:00", text="发票怎么开", source_row=1),
            # a time that already carries the date is used alone
            d | dict(sent_at="2026-10-04 11:00:40", text="在吗", source_row=2),
        ]
    )
    assert_frame_equal(batch.frame, want)


def test_sniff_claims_only_json_exports(tmp_path):
    assert_sniffs(get("chat_json"), "chat_json", tmp_path)
