"""Per-agent text chat export."""

from __future__ import annotations

from polars.testing import assert_frame_equal

from pipelines.io.source import SourceFile
from pipelines.readers import get
from pipelines.readers.chat_text import parse_chat_text
from pipelines.staging.stage import stage_batch
from tests.pipelines.readers.chat_fixtures import FIXTURES, assert_sniffs, expected, write_gbk_text

W, L = "旗舰店:小王", "旗舰店:小李"


def test_modern_export_all_line_kinds():
    (batch,) = get("chat_text").read(SourceFile(FIXTURES / "agent_xiaowang.txt"))
    assert batch.notes == ["文件开头 1 行不是消息(标题等)，已跳过", "已读/未读回执 2 行并入上一条消息"]
    a = {"shop": "旗舰店", "buyer": "buyer_a"}
    b = {"shop": "旗舰店", "buyer": "buyer_b"}
    want = expected(
        [
            # multi-line body, read receipt; buyer first -> the agent who answers later
            a | dict(agent_account=W, sender="buyer_a", sender_role="buyer", sent_at="2026-10-01 09:00:05",
                     text="在吗\n我的快递\n怎么还没到", event="message", read_status="已读", source_row=2),
            a | dict(agent_account=W, sender=W, sender_role="agent", sent_at="2026-10-01 09:00:06",
                     text="[自动回复]您好，客服马上就来", is_auto_reply=True, event="message", source_row=7),
            # nick and time without a space
            a | dict(agent_account=W, sender=W, sender_role="agent", sent_at="2026-10-01 09:01:00",
                     text="您好，我帮您查一下", event="message", read_status="未读", source_row=9),
            # untimed notices take the time of the record above
            a | dict(agent_account=W, sender="buyer_a", sender_role="buyer", sent_at="2026-10-01 09:01:00",
                     event="recall", source_row=12),
            a | dict(agent_account=W, sender="系统", sender_role="system", sent_at="2026-10-01 09:01:00",
                     event="transfer", transfer_from=W, transfer_to=L, transfer_reason="专人处理物流", source_row=13),
            # nick and time on two lines
            a | dict(agent_account=L, sender=L, sender_role="agent", sent_at="2026-10-01 09:03:00",
                     text="您好，我是物流专员", event="message", source_row=15),
            # old 年月日 time; no agent spoke to buyer_b: the file owner (most messages)
            b | dict(agent_account=W, sender="buyer_b", sender_role="buyer", sent_at="2026-10-02 10:00:00",
                     text="退款什么时候到", event="message", source_row=18),
            b | dict(agent_account=W, sender=W, sender_role="system", sent_at="2026-10-02 10:00:30",
                     text="请在客户端查看原始聊天记录", event="message", source_row=21),
            # an impossible time is kept raw: the stager quarantines it (see the staging test below)
            b | dict(agent_account=W, sender="buyer_b", sender_role="buyer", sent_at="2026-13-40 25:00:00",
                     text="谢谢", event="message", source_row=23),
        ]
    )  # fmt: skip
    assert_frame_equal(batch.frame, want)


def test_old_gbk_export(tmp_path):
    src = SourceFile(write_gbk_text(tmp_path / "old.txt"))
    (batch,) = get("chat_text").read(src)
    assert src.encoding == "gb18030"
    c = {"shop": "旗舰店", "buyer": "buyer_c", "agent_account": L}
    want = expected(
        [
            # agent first: the thread's buyer is the next buyer seen
            c | dict(sender=L, sender_role="agent", sent_at="2026-10-03 08:59:59", text="早上好", event="message",
                     source_row=1),
            c | dict(sender="buyer_c", sender_role="buyer", sent_at="2026-10-03 09:00:00", text="我要退货",
                     event="message", read_status="未读", source_row=3),
            c | dict(sender=L, sender_role="agent", sent_at="2026-10-03 09:00:20", text="好的，请提供订单号",
                     event="message", source_row=7),
            # "你" = the file's agent
            c | dict(sender=L, sender_role="agent", sent_at="2026-10-03 09:00:20", event="recall", source_row=9),
            # an empty header right above a recall only dates it
            c | dict(sender="buyer_c", sender_role="buyer", sent_at="2026-10-03 09:01:00", event="recall",
                     source_row=11),
        ]
    )  # fmt: skip
    assert_frame_equal(batch.frame, want)


def test_body_line_ending_in_a_time_with_spaces_stays_body_and_unknown_recaller_is_text():
    text = "buyer_e 2026-10-05 08:00:00\n我 在 2026-10-01 10:00:00 下的单\n小明撤回了一条消息\n"
    frame, notes = parse_chat_text(text)
    assert notes == []
    assert frame.select("sender", "text", "event", "agent_account").rows() == [
        ("buyer_e", "我 在 2026-10-01 10:00:00 下的单\n小明撤回了一条消息", "message", None)
    ]
    assert frame.item(0, "_reason") == "无法确定客服账号(文件中没有客服发言)"


def test_sniff_claims_only_text_exports(tmp_path):
    assert_sniffs(get("chat_text"), "chat_text", tmp_path)


def test_two_line_header_only_dating_a_recall():
    text = "旗舰店:阿杰\n2026-10-11 20:03:39\n旗舰店:阿杰 撤回了一条消息\nbuyer_f 2026-10-11 20:04:00\n好\n"
    frame, _ = parse_chat_text(text)
    assert frame.select("sender", "sender_role", "sent_at", "event", "buyer", "agent_account", "source_row").rows() == [
        ("旗舰店:阿杰", "agent", "2026-10-11 20:03:39", "recall", "buyer_f", "旗舰店:阿杰", 3),
        ("buyer_f", "buyer", "2026-10-11 20:04:00", "message", "buyer_f", "旗舰店:阿杰", 4),
    ]


def test_recalls_in_a_two_line_header_file_name_nicks_known_from_those_headers():
    # every header is two-line: the recallers are known only from two-line headers, and
    # the buyer's recall comes before any header naming the agent
    text = (
        "buyer_g\n2026年10月12日 09:00:00\n在吗\n"
        "buyer_g 撤回了一条消息\n"
        "旗舰店:小周\n2026-10-12 09:00:30\n您好\n已读\n"
        "旗舰店:小周 撤回了一条消息\n"
        "buyer_g\n2026-10-12 09:01:00\n好的\n"
    )
    frame, notes = parse_chat_text(text)
    assert notes == ["已读/未读回执 1 行并入上一条消息"]
    assert frame.select("sender", "sender_role", "sent_at", "event", "text", "read_status", "source_row").rows() == [
        ("buyer_g", "buyer", "2026-10-12 09:00:00", "message", "在吗", None, 1),
        ("buyer_g", "buyer", "2026-10-12 09:00:00", "recall", None, None, 4),
        ("旗舰店:小周", "agent", "2026-10-12 09:00:30", "message", "您好", "已读", 5),
        ("旗舰店:小周", "agent", "2026-10-12 09:00:30", "recall", None, None, 9),
        ("buyer_g", "buyer", "2026-10-12 09:01:00", "message", "好的", None, 10),
    ]
    assert frame["agent_account"].unique().to_list() == ["旗舰店:小周"]


def test_unparseable_time_is_quarantined_with_its_reason_once():
    text = "旗舰店:小王 2026-10-11 20:00:00\n好\nbuyer_x 2026-13-40 25:00:00\n谢谢\n"
    frame, _ = parse_chat_text(text)
    assert frame.select("sent_at", "_reason").rows() == [("2026-10-11 20:00:00", None), ("2026-13-40 25:00:00", None)]
    loaded, quarantine, counts = stage_batch("messages", frame, "2026-10", "x.txt")
    assert (counts.loaded, counts.quarantined) == (1, 1)
    assert quarantine.select("source_row", "reason").rows() == [(3, "发送时间无法解析: '2026-13-40 25:00:00'")]


def test_leave_to_stager_keeps_a_reason_only_where_the_stager_would_load_the_row():
    import polars as pl

    from pipelines.readers._chat_common import with_sent_at

    df = pl.DataFrame({"raw": ["2026/10/3 9:05", "2026-10-03", "昨天", None], "_reason": [None] * 4},
                      schema={"raw": pl.String, "_reason": pl.String})
    out = with_sent_at(df, "raw", leave_to_stager=True)
    assert out.select("sent_at", "_reason").rows() == [
        ("2026-10-03 09:05:00", None),
        ("2026-10-03", "发送时间无法解析: '2026-10-03'"),  # a bare date: the stager would load midnight
        ("昨天", None),  # the stager says 发送时间无法解析 itself
        (None, None),  # ... and 缺少发送时间
    ]
