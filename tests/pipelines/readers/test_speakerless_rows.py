"""A chat row that lost its speaker is quarantined, not turned into a system line (a buyer
question or agent reply would silently leave the response times) — issue 9 item 3."""

from __future__ import annotations

import json

import openpyxl
import polars as pl

from pipelines.ingest import stage_inbox

HEADER = ["客户名", "消息序号", "发送时间", "发送内容", "发送账号", "账号类型"]


def qianniu(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "导出汇总"
    ws.append(["导出账号", "店:小王"])
    ws = wb.create_sheet("buyer_a")
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)


def test_qianniu_row_without_sender_and_type_is_quarantined(tmp_path):
    qianniu(tmp_path / "in" / "qn.xlsx", [
        ["buyer_a", 1, "2026-10-01 09:00:00", "在吗", "buyer_a", "客户"],
        ["buyer_a", 2, "2026-10-01 09:00:30", "您好", "店:小王", "客服"],
        ["buyer_a", 3, "2026-10-01 09:01:00", "退款什么时候到", None, None],       # lost speaker
        ["buyer_a", 4, "2026-10-01 09:01:10", "好的", None, "怪人"],               # unknown type, no sender
        ["buyer_a", 5, "2026-10-01 09:02:00", "请在客户端查看原始聊天记录", None, None],  # a system notice
        ["buyer_a", 6, "2026-10-01 09:03:00", "由 店:小王 转交给 店:小李", None, None],   # a transfer notice
        ["buyer_a", 7, "2026-10-01 09:04:00", "亲，三天内到账", None, "客服"],      # type says who: kept
    ])  # fmt: skip
    results, tables, q = stage_inbox("2026-10", tmp_path / "in")
    reasons = dict(zip(q["source_row"], q["reason"]))
    assert reasons == {
        4: "发言人丢失: 发送账号和账号类型都为空, 无法判断是买家还是客服",
        5: "发言人丢失: 发送账号为空, 账号类型无法识别: '怪人'",
    }
    assert q["source_sheet"].to_list() == ["buyer_a", "buyer_a"]
    m = tables["messages"].sort("source_row")
    assert m["source_row"].to_list() == [2, 3, 6, 7, 8]
    assert m["sender_role"].to_list() == ["buyer", "agent", "system", "system", "agent"]
    c = results[0].counts["messages"]
    assert c.balanced and (c.rows_read, c.loaded, c.quarantined) == (7, 5, 2)


def test_json_chat_without_sender_is_quarantined_not_a_system_line(tmp_path):
    chats = [
        {"date": "2026-10-01", "time": "09:00:00", "sender": "b1", "text": "在吗"},
        {"date": "2026-10-01", "time": "09:00:30", "sender": "店:小王", "text": "在的"},
        {"date": "2026-10-01", "time": "09:01:00", "text": "发货了吗"},
    ]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c.json").write_text(json.dumps({"user": "b1", "exportTime": "x", "chats": chats}, ensure_ascii=False), "utf-8")
    results, tables, q = stage_inbox("2026-10", tmp_path / "in")
    assert q.select("source_row", "reason").rows() == [(3, "缺少发送账号")]
    assert tables["messages"].height == 2 and results[0].counts["messages"].balanced


def test_flat_row_without_sender_and_role_is_quarantined(tmp_path):
    text = (
        "客服账号,买家,发送方,发送方角色,发送时间,内容\n"
        "店:小王,b1,b1,买家,2026-10-01 09:00:00,在吗\n"
        "店:小王,b1,,,2026-10-01 09:00:10,还在吗\n"
        "店:小王,b1,,客服,2026-10-01 09:00:20,在的\n"
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f.csv").write_text(text, "utf-8")
    results, tables, q = stage_inbox("2026-10", tmp_path / "in")
    assert q.select("source_row", "reason").rows() == [(3, "发言人丢失: 发送方和发送方角色都为空")]
    assert tables["messages"].filter(pl.col("source_row") == 4)["sender"].to_list() == ["店:小王"]
    assert results[0].counts["messages"].balanced
