"""Qianniu Excel export (one sheet per customer + 导出汇总)."""

from __future__ import annotations

from tests.pipelines.readers.chat_fixtures import assert_sniffs, expected, write_qianniu
from polars.testing import assert_frame_equal

from pipelines.io.source import SourceFile
from pipelines.readers import get

W, L = "旗舰店:小王", "旗舰店:小李"


def test_reads_every_customer_sheet_and_skips_the_summary(tmp_path):
    batches = get("qianniu_sheets").read(SourceFile(write_qianniu(tmp_path / "qn.xlsx")))
    assert [b.kind for b in batches] == ["messages"]
    assert batches[0].notes == ["跳过汇总工作表 导出汇总"]
    a = {"shop": "旗舰店", "buyer": "buyer_a", "source_sheet": "buyer_a"}
    b = {"shop": "旗舰店", "buyer": "buyer_b", "source_sheet": "buyer_b"}
    want = expected(
        [
            # buyer wrote before any agent: belongs to the first agent who answers
            a | dict(agent_account=W, sender="buyer_a", sender_role="buyer", sent_at="2026-10-01 09:00:05",
                     text="在吗", event="message", source_row=4),
            a | dict(agent_account=W, sender=W, sender_role="agent", sent_at="2026-10-01 09:00:06",
                     text="[自动回复]您好，客服马上就来", is_auto_reply=True, event="message", source_row=5),
            a | dict(agent_account=W, sender="buyer_a", sender_role="buyer", sent_at="2026-10-01 09:01:00",
                     text="请问退款\n多久到账", event="message", source_row=6),
            # full-width colon folded
            a | dict(agent_account=W, sender=W, sender_role="agent", sent_at="2026-10-01 09:01:30",
                     text="您好，在的", event="message", source_row=7),
            a | dict(agent_account=W, sender="系统", sender_role="system", sent_at="2026-10-01 09:02:00",
                     event="transfer", transfer_from=W, transfer_to=L, transfer_reason="专人处理", source_row=8),
            # after the transfer the conversation is 小李's; bad time kept with a reason
            a | dict(agent_account=L, sender="buyer_a", sender_role="buyer", sent_at="昨天 10:00", text="还在吗",
                     event="message", source_row=9, _reason=None),
            # no agent in this sheet: the file's main agent (小王)
            b | dict(agent_account=W, sender=W, sender_role="system", sent_at="2026-10-02 10:00:00",
                     text="请在客户端查看原始聊天记录", event="message", source_row=2),
            b | dict(agent_account=W, sender="buyer_b", sender_role="buyer", sent_at="2026-10-02 10:00:01",
                     event="recall", source_row=3),
            b | dict(agent_account=W, sender="buyer_b", sender_role="buyer", sent_at="2026-10-02 10:00:09",
                     text="人呢", event="message", source_row=4),
        ]
    )  # fmt: skip
    assert_frame_equal(batches[0].frame, want)


def test_sniff_claims_only_the_qianniu_workbook(tmp_path):
    assert_sniffs(get("qianniu_sheets"), "qianniu_sheets", tmp_path)
