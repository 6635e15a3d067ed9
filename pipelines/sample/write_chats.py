"""Write generated messages in the four chat layouts (see docs/readers_chat.md).

* ``qianniu_xlsx``: one sheet per customer + a ``导出汇总`` sheet; two downloads sharing
  some customer sheets (overlapping exports = duplicate messages);
* ``chat_text``: one file per agent account, header styles and encodings vary by file;
* ``chat_json``: ``{user, exportTime, count, chats}`` per buyer (the last file a list);
* ``chat_flat``: the bulk, one message per row, split in two CSVs whose time ranges overlap.

Text and CSV bodies are built with polars string expressions (no per-message loop).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import xlsxwriter

from .catalog import SHOP
from .summary import SampleFile

DT = "%Y-%m-%d %H:%M:%S"
ROLE_CN = {"buyer": "买家", "agent": "客服", "system": "系统"}
FIXED_CREATED = datetime(2026, 1, 1)  # xlsx metadata date: keeps workbooks byte-stable


def new_workbook(path: Path, export_at: datetime) -> xlsxwriter.Workbook:
    """An xlsxwriter workbook with fixed metadata (deterministic bytes for a given content)."""
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"created": export_at, "author": "", "title": ""})
    return wb


def _sheet_name(nick: str, used: set[str]) -> str:
    name = "".join(ch for ch in nick if ch not in "[]:*?/\\")[:31] or "客户"
    base, i = name, 1
    while name in used:
        i += 1
        name = f"{base[:28]}_{i}"
    used.add(name)
    return name


def flat_rows(msgs: pl.DataFrame) -> pl.DataFrame:
    """Messages in the flat layout's columns (+ ``_t``, the timestamp, for splitting)."""
    return msgs.sort("sent_at", "msg_id").select(
        pl.col("shop").alias("店铺"),
        pl.col("agent_account").alias("客服账号"),
        pl.col("buyer").alias("买家"),
        pl.col("sender").alias("发送方"),
        pl.col("sender_role").replace_strict(ROLE_CN).alias("发送方角色"),
        pl.col("sent_at").dt.strftime(DT).alias("发送时间"),
        pl.col("text").alias("内容"),
        pl.col("sent_at").alias("_t"),
    )


FLAT_COLUMNS = ("店铺", "客服账号", "买家", "发送方", "发送方角色", "发送时间", "内容")


def write_flat(chunks: Iterable[pl.DataFrame], out: Path, names: tuple[str, str], split_at: datetime,
               overlap: timedelta, bad_rows: pl.DataFrame) -> tuple[list[SampleFile], int]:
    """Two flat CSVs: part 1 = before ``split_at + overlap``, part 2 = from ``split_at``.
    Messages in [split_at, split_at+overlap) are in both. ``chunks`` are message frames
    written one after another (bulk volumes stream through without being held at once);
    ``bad_rows`` (flat column shape) end part 2. Returns files and the duplicate count."""
    rows, dup = [0, 0], 0
    with open(out / names[0], "wb") as f1, open(out / names[1], "wb") as f2:
        f1.write(codecs.BOM_UTF8)
        for fh in (f1, f2):
            pl.DataFrame(schema={c: pl.String for c in FLAT_COLUMNS}).write_csv(fh)
        for msgs in chunks:
            df = flat_rows(msgs)
            p1 = df.filter(pl.col("_t") < split_at + overlap).drop("_t")
            p2 = df.filter(pl.col("_t") >= split_at).drop("_t")
            dup += df.filter((pl.col("_t") >= split_at) & (pl.col("_t") < split_at + overlap)).height
            p1.write_csv(f1, include_header=False)
            p2.write_csv(f2, include_header=False)
            rows[0] += p1.height
            rows[1] += p2.height
        bad_rows.select(FLAT_COLUMNS).write_csv(f2, include_header=False)
        rows[1] += bad_rows.height
    return [
        SampleFile(names[0], "chat_flat", "utf-8-sig", {"messages": rows[0]}),
        SampleFile(names[1], "chat_flat", "utf-8", {"messages": rows[1]}),
    ], dup


def _text_block(df: pl.DataFrame, style: str) -> pl.Expr:
    """One text block (header + body [+ receipt]) per record, as a polars expression."""
    ts_dash = pl.col("sent_at").dt.strftime(DT)
    ts_cn = pl.col("sent_at").dt.strftime("%Y年%m月%d日%H:%M:%S")
    if style == "dash":
        head = pl.format("{} {}", "sender_out", ts_dash)
    elif style == "cn_nospace":
        head = pl.concat_str([pl.col("sender_out"), ts_cn])
    elif style == "two_line":
        head = pl.format("{}\n{}", "sender_out", ts_dash)
    else:  # mixed: old and new headers in one file
        head = pl.when(pl.col("msg_id") % 3 == 0).then(pl.format("{} {}", "sender_out", ts_cn)).otherwise(
            pl.format("{} {}", "sender_out", ts_dash)
        )
    body = (
        pl.when(pl.col("event") == "transfer")
        .then(pl.format("{}\n原因：{}", "notice", "transfer_reason"))
        .otherwise(pl.coalesce("notice", "text"))
    )
    receipt = pl.when(pl.col("read_status").is_not_null() & (pl.col("event") == "message")).then(
        pl.concat_str([pl.lit("\n"), pl.col("read_status")])
    ).otherwise(pl.lit(""))
    return pl.concat_str([head, pl.lit("\n"), body, receipt])


TEXT_STYLES = ("dash", "cn_nospace", "two_line", "mixed")


def write_text(msgs: pl.DataFrame, out: Path, accounts: list[str], names: list[str]) -> list[SampleFile]:
    """One file per agent account that has text-layout chats. Agents 1, 5, 9.. write the
    old GBK style with ``YYYY年MM月DD日HH:MM:SS`` headers and no space."""
    files = []
    for i, acc in enumerate(accounts):
        part = msgs.filter(pl.col("agent_account") == acc)
        if part.height == 0:
            continue
        style = TEXT_STYLES[i % len(TEXT_STYLES)]
        enc = "gbk" if style == "cn_nospace" else "utf-8"
        # blocks per buyer (first contact order), chronological inside
        first = part.group_by("buyer").agg(pl.col("sent_at").min().alias("_first"), pl.col("msg_id").min().alias("_m"))
        part = part.join(first, on="buyer").sort("_first", "_m", "sent_at", "msg_id")
        part = part.with_columns(sender_out=pl.col("speaker"))
        text = "\n".join(part.select(_text_block(part, style).alias("b")).get_column("b").to_list())
        preface = f"导出账号：{acc}\n" if i % 2 == 0 else ""
        data = (preface + text + "\n").replace("\n", "\r\n" if enc == "gbk" else "\n").encode(enc)
        (out / names[i]).write_bytes(data)
        rows = {"messages": part.height}
        files.append(SampleFile(names[i], "chat_text", enc, rows))
    return files


def write_json(msgs: pl.DataFrame, out: Path, names: list[str], export_at: datetime) -> list[SampleFile]:
    """One JSON per buyer; the last file holds the remaining buyers as a JSON list.
    ``[图片]`` messages carry an ``imgUrl`` and an empty text, as exporters write them."""
    buyers = msgs.group_by("buyer").agg(pl.col("msg_id").min()).sort("msg_id").get_column("buyer").to_list()
    if not buyers:
        return []
    groups = [[b] for b in buyers[: max(1, len(buyers) - 3)]]
    if len(buyers) > len(groups):
        groups.append(buyers[len(groups):])
    files = []
    exp = export_at.strftime(DT)
    for gi, group in enumerate(groups):
        objs = []
        for b in group:
            part = msgs.filter(pl.col("buyer") == b).sort("sent_at", "msg_id")
            img = pl.col("text") == "[图片]"
            chats = part.select(
                date=pl.col("sent_at").dt.strftime("%Y-%m-%d"),
                time=pl.col("sent_at").dt.strftime("%H:%M:%S"),
                sender=pl.col("sender"),
                text=pl.when(img).then(pl.lit("")).otherwise(pl.col("text")),
                imgUrl=pl.when(img).then(pl.format("https://img.alicdn.com/imgextra/i4/{}.jpg", pl.col("msg_id"))).otherwise(pl.lit("")),
            ).to_dicts()
            objs.append({"user": b, "exportTime": exp, "count": len(chats), "chats": chats})
        payload = objs[0] if len(objs) == 1 else objs
        name = names[gi]
        (out / name).write_text(json.dumps(payload, ensure_ascii=False, indent=None if gi % 2 else 1), encoding="utf-8")
        files.append(SampleFile(name, "chat_json", "utf-8", {"messages": sum(o["count"] for o in objs)}))
    return files


def write_qianniu(msgs: pl.DataFrame, out: Path, names: tuple[str, str], export_at: datetime) -> tuple[list[SampleFile], int]:
    """Two Qianniu exports (sheet per customer). Two customers are in both files; the
    second file writes 发送时间 as real Excel date cells. Returns files and duplicates."""
    buyers = msgs.group_by("buyer").agg(pl.col("msg_id").min()).sort("msg_id").get_column("buyer").to_list()
    half = len(buyers) // 2
    shared = buyers[half - 2 : half] if half >= 2 else []
    sets = (buyers[:half], shared + buyers[half:])
    files, dup = [], 0
    for fi, (name, group) in enumerate(zip(names, sets, strict=False)):
        wb = new_workbook(out / name, export_at)
        bold = wb.add_format({"bold": True})
        dt_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        summary = wb.add_worksheet("导出汇总")
        summary.write_row(0, 0, ["序号", "客户名", "消息条数", "导出时间", "导出账号"], bold)
        used: set[str] = {"导出汇总"}
        total = 0
        for bi, b in enumerate(group):
            part = msgs.filter(pl.col("buyer") == b).sort("sent_at", "msg_id")
            ws = wb.add_worksheet(_sheet_name(b, used))
            ws.write_row(0, 0, ["客户名", "消息序号", "发送时间", "发送内容", "发送账号", "账号类型"], bold)
            rows = part.select(
                "buyer", "sent_at", "text", "sender",
                pl.when(pl.col("sender_role") == "buyer").then(pl.lit("客户")).otherwise(pl.lit("客服")).alias("t"),
            ).rows()
            for r, (buyer, sent, text, sender, typ) in enumerate(rows, start=1):
                ws.write_string(r, 0, buyer)
                ws.write_number(r, 1, r)
                if fi == 1:
                    ws.write_datetime(r, 2, sent, dt_fmt)
                else:
                    ws.write_string(r, 2, sent.strftime(DT))
                ws.write_string(r, 3, text)
                ws.write_string(r, 4, sender)
                ws.write_string(r, 5, typ)
            agent = part.filter(pl.col("sender_role") == "agent").get_column("sender").first() or f"{SHOP}"
            summary.write_row(bi + 1, 0, [bi + 1, b, len(rows), export_at.strftime(DT), agent])
            total += len(rows)
            if fi == 1 and b in shared:
                dup += len(rows)
        wb.close()
        files.append(SampleFile(name, "qianniu_sheets", "xlsx", {"messages": total}))
    return files, dup
