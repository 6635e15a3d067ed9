"""Tiny chat fixtures shared by the test_chat_*.py modules.

Binary files (xlsx) and GBK files are written at test time into pytest's ``tmp_path``;
plain UTF-8 text fixtures live in ``fixtures/chat/``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import polars as pl

from pipelines.io.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "chat"

# ---------------------------------------------------------------- expected frames

MESSAGE_COLS = [
    "shop", "agent_account", "buyer", "sender", "sender_role", "sent_at", "text", "is_auto_reply", "event",
    "transfer_from", "transfer_to", "transfer_reason", "read_status", "seq", "source_row", "source_sheet", "_reason",
]  # fmt: skip
SCHEMA = {c: pl.String for c in MESSAGE_COLS} | {"is_auto_reply": pl.Boolean, "seq": pl.Int64, "source_row": pl.Int64}


def expected(rows: list[dict]) -> pl.DataFrame:
    """Frame in the readers' output schema; omitted keys are null, ``seq`` = position."""
    full = []
    for i, r in enumerate(rows):
        row = {c: None for c in MESSAGE_COLS} | {"is_auto_reply": False, "seq": i} | r
        full.append(row)
    return pl.DataFrame(full, schema=SCHEMA, orient="row")


# ---------------------------------------------------------------- qianniu workbook

QIANNIU_HEADER = ["客户名", "消息序号", "发送时间", "发送内容", "发送账号", "账号类型"]


def write_qianniu(path: Path) -> Path:
    """Workbook: summary sheet first, one sheet with two title rows, one without."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "导出汇总"
    ws.append(["导出账号", "旗舰店:小王"])
    ws.append(["客户数", 2])
    ws = wb.create_sheet("buyer_a")
    ws.append(["千牛聊天记录 buyer_a"])
    ws.append(["导出时间: 2026-10-31 20:00"])
    ws.append(QIANNIU_HEADER)
    ws.append(["buyer_a", 1, dt.datetime(2026, 10, 1, 9, 0, 5), "在吗", "buyer_a", "客户"])
    ws.append(["buyer_a", 2, "2026-10-01 09:00:06", "[自动回复]您好，客服马上就来", "旗舰店:小王", "客服"])
    ws.append(["buyer_a", 3, "2026年10月01日09:01:00", "请问退款\n多久到账", "buyer_a", "客户"])
    ws.append(["buyer_a", 4, "2026-10-01 09:01:30", "您好，在的", "旗舰店：小王", "客服"])
    ws.append(["buyer_a", 5, "2026-10-01 09:02:00", "由 旗舰店:小王 转交给 旗舰店:小李 原因：专人处理", None, None])
    ws.append(["buyer_a", 6, "昨天 10:00", "还在吗", "buyer_a", "客户"])
    ws = wb.create_sheet("buyer_b")
    ws.append(QIANNIU_HEADER)
    ws.append(["buyer_b", 1, "2026-10-02 10:00:00", "请在客户端查看原始聊天记录", "旗舰店:小王", "客服"])
    ws.append(["buyer_b", 2, "2026-10-02 10:00:01", "buyer_b撤回了一条消息", "buyer_b", "客户"])
    ws.append(["buyer_b", 3, "2026-10-02 10:00:09", "人呢", "buyer_b", "客户"])
    wb.save(path)
    return path


# ---------------------------------------------------------------- text exports

# Old-style export (GBK, 年月日 times, two-line header, pronoun recall, dated recall)
OLD_TEXT = """旗舰店:小李2026年10月03日08:59:59
早上好
buyer_c
2026年10月03日09:00:00
我要退货
未读
旗舰店:小李 2026年10月03日09:00:20
好的，请提供订单号
你撤回了一条消息
buyer_c 2026年10月03日09:01:00
buyer_c 撤回了一条消息
"""


def write_gbk_text(path: Path) -> Path:
    path.write_bytes(OLD_TEXT.replace("\n", "\r\n").encode("gbk"))
    return path


# ---------------------------------------------------------------- JSON exports


def write_json_single(path: Path) -> Path:
    """One conversation object exported from the agent side (``user`` is the agent)."""
    obj = {
        "user": "旗舰店:小王",
        "exportTime": "2026-10-31 20:00:00",
        "count": 2,
        "chats": [
            {"date": "2026-10-04", "time": "11:00:00", "sender": "buyer_d", "text": "发票怎么开", "imgUrl": ""},
            {"date": "2026-10-04", "time": "2026-10-04 11:00:40", "sender": "buyer_d", "text": "在吗"},
        ],
    }
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------- flat tables

FLAT_HEADER = [
    "店铺", "客服账号", "买家", "发送方", "发送方角色", "发送时间", "内容", "自动回复", "事件", "转出客服", "转入客服",
    "转交原因", "已读状态",
]  # fmt: skip
FLAT_ROWS = [
    ["旗舰店", "旗舰店:小王", "buyer_a", "buyer_a", "买家", "2026-10-01 09:00:05", "在吗\n有人吗", "", "", "", "", "", "已读"],
    ["旗舰店", "旗舰店:小王", "buyer_a", "旗舰店:小王", "客服", "2026/10/01 09:00:06", "您好", "是", "", "", "", "", ""],
    None,  # a blank row
    ["旗舰店", "旗舰店:小王", "buyer_a", "", "系统", "2026-10-01 09:02:00", "", "", "转交", "旗舰店:小王", "旗舰店:小李", "专人处理", ""],
    ["旗舰店", "旗舰店:小李", "buyer_a", "旗舰店:小李", "客服", "2026-10-01 09:03:00", "【自动回复】稍等", "", "", "", "", "", ""],
    ["旗舰店", "旗舰店:小李", "buyer_a", "", "系统", "2026-10-01 09:03:01", "[系统提示]会话已转接", "", "", "", "", "", ""],
    ["旗舰店", "旗舰店:小李", "buyer_a", "buyer_a", "买家", "昨天 10:00", "谢谢", "否", "", "", "", "", ""],
]  # fmt: skip
FLAT_TITLE = "聊天记录整理 2026年10月"


def _csv_text() -> str:
    def cell(v: str) -> str:
        return f'"{v}"' if ("\n" in v or "," in v) else v

    lines = [FLAT_TITLE, ",".join(FLAT_HEADER)]
    for r in FLAT_ROWS:
        lines.append("" if r is None else ",".join(cell(v) for v in r))
    return "\r\n".join(lines) + "\r\n"


def write_flat_csv(path: Path, encoding: str) -> Path:
    """``encoding`` 'utf-8-sig' (BOM) or 'gbk'."""
    path.write_bytes(_csv_text().encode(encoding))
    return path


def write_flat_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "聊天"
    ws.append([FLAT_TITLE])
    ws.append(FLAT_HEADER)
    for r in FLAT_ROWS:
        ws.append([] if r is None else [v if v != "" else None for v in r])
    wb.save(path)
    return path


# ---------------------------------------------------------------- other exports (must be rejected)


def write_refunds_csv(path: Path) -> Path:
    header = "订单编号,退款编号,支付宝交易号,订单付款时间,商家编码,退款完结时间,买家会员名称,买家实际支付金额,宝贝标题,买家退款金额,退款的申请时间,退款状态,买家退款原因,退款操作人"
    row = '="3012345678901234",="98765432101",2026100122001,2026-10-01 10:00:00,SKU1,2026-10-03 09:00:00,buyer_a,99.00,T恤,99.00,2026-10-02 09:00:00,退款成功,不想要了,旗舰店:小王'
    path.write_bytes(f"{header}\n{row}\n".encode("gbk"))
    return path


def write_orders_csv(path: Path) -> Path:
    header = "订单编号,买家会员名,总金额,买家实际支付金额,订单状态,订单创建时间,订单付款时间,宝贝标题,宝贝总数量,店铺名称"
    row = "3012345678901234,buyer_a,99.00,99.00,交易成功,2026-10-01 09:00:00,2026-10-01 09:01:00,T恤,1,旗舰店"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    return path


def write_attendance_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "月度汇总"
    ws.append(["钉钉考勤月度汇总 2026-10-01至2026-10-31"])
    ws.append(["姓名", "部门", "应出勤天数", "出勤天数", "迟到次数", "1", "2"])
    ws.append(["王小二", "客服部", 22, 22, 0, "正常", "休息"])
    wb.save(path)
    return path


def all_samples(tmp: Path) -> dict[str, SourceFile]:
    """One file per layout (key = the layout that must claim it; 'other:*' = no chat reader)."""
    return {
        "qianniu_sheets": SourceFile(write_qianniu(tmp / "qn.xlsx")),
        "chat_text": SourceFile(FIXTURES / "agent_xiaowang.txt"),
        "chat_text:gbk": SourceFile(write_gbk_text(tmp / "old.txt")),
        "chat_json": SourceFile(FIXTURES / "export_buyers.json"),
        "chat_json:single": SourceFile(write_json_single(tmp / "one.json")),
        "chat_flat:csv": SourceFile(write_flat_csv(tmp / "flat.csv", "utf-8-sig")),
        "chat_flat:gbk": SourceFile(write_flat_csv(tmp / "flat_gbk.csv", "gbk")),
        "chat_flat:xlsx": SourceFile(write_flat_xlsx(tmp / "flat.xlsx")),
        "other:refunds": SourceFile(write_refunds_csv(tmp / "refunds.csv")),
        "other:orders": SourceFile(write_orders_csv(tmp / "orders.csv")),
        "other:attendance": SourceFile(write_attendance_xlsx(tmp / "att.xlsx")),
    }


def assert_sniffs(reader, layout: str, tmp: Path) -> None:
    """``reader`` scores >= 0.5 exactly on the samples of ``layout``."""
    scores = {k: reader.sniff(src) for k, src in all_samples(tmp).items()}
    for key, score in scores.items():
        if key.split(":")[0] == layout:
            assert score >= 0.5, (key, scores)
        else:
            assert score < 0.5, (key, scores)
