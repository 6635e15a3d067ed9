"""Flat one-message-per-row chat tables (CSV UTF-8-BOM, CSV GBK, XLSX)."""

from __future__ import annotations

from datetime import datetime

from polars.testing import assert_frame_equal

from pipelines.io.source import SourceFile
from pipelines.readers import get
from tests.pipelines.readers.chat_fixtures import (
    assert_sniffs,
    expected,
    write_flat_csv,
    write_flat_xlsx,
)

W, L = "旗舰店:小王", "旗舰店:小李"
A = {"shop": "旗舰店", "buyer": "buyer_a"}
WANT = expected(
    [
        A | dict(agent_account=W, sender="buyer_a", sender_role="buyer", sent_at="2026-10-01 09:00:05",
                 text="在吗\n有人吗", event="message", read_status="已读", source_row=3),
        A | dict(agent_account=W, sender=W, sender_role="agent", sent_at="2026-10-01 09:00:06", text="您好",
                 is_auto_reply=True, event="message", source_row=4),
        # row 5 is blank
        A | dict(agent_account=W, sender="系统", sender_role="system", sent_at="2026-10-01 09:02:00",
                 event="transfer", transfer_from=W, transfer_to=L, transfer_reason="专人处理", source_row=6),
        A | dict(agent_account=L, sender=L, sender_role="agent", sent_at="2026-10-01 09:03:00", text="【自动回复】稍等",
                 is_auto_reply=True, event="message", source_row=7),
        A | dict(agent_account=L, sender="系统", sender_role="system", sent_at="2026-10-01 09:03:01",
                 text="[系统提示]会话已转接", event="message", source_row=8),
        A | dict(agent_account=L, sender="buyer_a", sender_role="buyer", sent_at="昨天 10:00", text="谢谢",
                 event="message", source_row=9, _reason=None),
    ]
)  # fmt: skip
NOTES = ["跳过表头上方标题行 1 行", "跳过空行 1 行"]


def _read(path):
    (batch,) = get("chat_flat").read(SourceFile(path))
    return batch


def test_utf8_bom_csv(tmp_path):
    batch = _read(write_flat_csv(tmp_path / "flat.csv", "utf-8-sig"))
    assert batch.notes == NOTES
    assert_frame_equal(batch.frame, WANT)


def test_unparseable_time_is_quarantined_once_after_staging(tmp_path):
    from pipelines.staging.stage import stage_batch

    batch = _read(write_flat_csv(tmp_path / "flat.csv", "utf-8-sig"))
    _, quarantine, counts = stage_batch("messages", batch.frame, "2026-10", "flat.csv")
    assert quarantine.select("source_row", "reason").rows() == [(9, "发送时间无法解析: '昨天 10:00'")]
    assert counts.balanced


def test_gbk_csv_and_xlsx_give_the_same_frame(tmp_path):
    gbk = _read(write_flat_csv(tmp_path / "flat_gbk.csv", "gbk"))
    xlsx = _read(write_flat_xlsx(tmp_path / "flat.xlsx"))
    assert gbk.notes == xlsx.notes == NOTES
    assert_frame_equal(gbk.frame, WANT)
    assert xlsx.frame.get_column("source_sheet").unique().to_list() == ["聊天"]
    assert_frame_equal(xlsx.frame.drop("source_sheet"), WANT.drop("source_sheet"))


def test_english_headers_without_role_column(tmp_path):
    p = tmp_path / "en.csv"
    p.write_text(
        "Agent_Account,Buyer,Sender,Sent At,Text,Role\n"
        "旗舰店:小王,buyer_x,buyer_x,2026-10-05 08:00:00,hi,\n"
        "旗舰店:小王,buyer_x,旗舰店:小王,2026-10-05 08:00:30,hello,\n"
        "旗舰店:小王,buyer_x,buyer_x,2026-10-05 08:01:00,ok,主管\n",
        encoding="utf-8",
    )
    frame = _read(p).frame
    # every time normalised: sent_at is handed typed (the stager need not parse it again)
    assert frame.select("shop", "sender", "sender_role", "sent_at", "source_row", "_reason").rows() == [
        ("旗舰店", "buyer_x", "buyer", datetime(2026, 10, 5, 8, 0, 0), 2, None),
        ("旗舰店", W, "agent", datetime(2026, 10, 5, 8, 0, 30), 3, None),
        # an unknown role is a reason; the role still follows from the sender
        ("旗舰店", "buyer_x", "buyer", datetime(2026, 10, 5, 8, 1, 0), 4, "发送方角色无法识别: '主管'"),
    ]


def test_sniff_claims_only_flat_tables(tmp_path):
    assert_sniffs(get("chat_flat"), "chat_flat", tmp_path)


def test_typed_times_stage_as_their_text_would(tmp_path):
    """A flat file whose times all normalise hands sent_at typed; staging it gives the same
    loaded rows, quarantine (reason and raw JSON) and counts as the text form."""
    import polars as pl

    from pipelines.staging.stage import stage_batch

    p = tmp_path / "en.csv"
    p.write_text(
        "Agent_Account,Buyer,Sender,Sent At,Text,Role\n"
        "旗舰店:小王,buyer_x,buyer_x,2026-10-05 08:00:00,hi 13812345678,\n"
        "旗舰店:小王,buyer_x,旗舰店:小王,2026-10-05 08:00:30,hello,\n"
        "旗舰店:小王,buyer_x,buyer_x,2026-10-05 08:01:00,ok,主管\n"
        "旗舰店:小王,buyer_x,buyer_x,,no time,\n"
        "旗舰店:小王,buyer_x,buyer_x,2026/10/6 9:00,odd spelling,\n",
        encoding="utf-8",
    )
    frame = _read(p).frame
    assert frame.schema["sent_at"] == pl.Datetime("us")
    as_text = frame.with_columns(pl.col("sent_at").dt.to_string("%Y-%m-%d %H:%M:%S"))
    typed = stage_batch("messages", frame, "2026-10", "en.csv")
    text = stage_batch("messages", as_text, "2026-10", "en.csv")
    assert_frame_equal(typed[0], text[0])
    assert_frame_equal(typed[1], text[1])
    assert typed[2] == text[2]
    assert typed[1].select("source_row", "reason").rows() == [(4, "发送方角色无法识别: '主管'"), (5, "缺少发送时间")]
    assert '"sent_at":"2026-10-05 08:01:00"' in typed[1]["raw"][0]
    assert typed[0]["text"].to_list() == ["hi 138****5678", "hello", "odd spelling"]
