"""JSON from batch chat exporters: ``{user, exportTime, count, chats: [{date, time, sender,
text, imgUrl}]}`` or a JSON list of such objects (one per conversation).

``user`` is the buyer of the conversation (exporters export per buyer); the agent is the
sender written ``店铺名:子账号``. If ``user`` itself is a ``店铺名:子账号`` account (an export
made from the agent side) the buyer is the conversation's non-agent sender instead.
A chat with only ``imgUrl`` gets the text ``[图片]``. ``source_row`` = 1-based position of
the chat entry in the file (JSON lines carry no meaning: exporters often write one line).
Parsing is vectorised (``polars.read_json`` with a fixed schema, explode, unnest).
"""

from __future__ import annotations

import io
import re

import polars as pl

from pipelines.io.source import SourceFile, UnreadableFile

from . import _chat_common as cc
from .base import Batch, Reader

IMAGE_TEXT = "[图片]"
_CHAT = pl.Struct(
    {"date": pl.String, "time": pl.String, "sender": pl.String, "text": pl.String, "imgUrl": pl.String}
)
SCHEMA = {"user": pl.String, "exportTime": pl.String, "chats": pl.List(_CHAT)}
_HEAD_KEYS = re.compile(r'"chats"\s*:\s*\[')
_CHAT_KEYS = re.compile(r'"(sender|imgUrl|time|date)"\s*:')


class ChatJsonReader(Reader):
    layout = "chat_json"
    kinds = ("messages",)
    description = "批量导出工具的JSON聊天记录({user, exportTime, count, chats:[...]})"

    def sniff(self, src: SourceFile) -> float:
        if src.format != "json":
            return 0.0
        head = src.head_text(20000)
        if not _HEAD_KEYS.search(head):
            return 0.0
        keys = set(_CHAT_KEYS.findall(head))
        if "sender" in keys and ({"time", "date"} & keys):
            return 0.95 if '"user"' in head else 0.8
        return 0.3

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        """A ``chats`` list whose entries lack the speaker or the time keys."""
        if src.format != "json":
            return 0.0, []
        head = src.head_text(20000)
        keys = set(_CHAT_KEYS.findall(head)) | set(re.findall(r'"(text)"\s*:', head))
        if not _HEAD_KEYS.search(head) or not keys:
            return 0.0, []
        missing = ([] if "sender" in keys else ["sender"]) + ([] if {"time", "date"} & keys else ["date/time"])
        return 0.6, missing

    def read(self, src: SourceFile) -> list[Batch]:
        text = src.text.lstrip("\ufeff")
        try:
            obj = pl.read_json(io.BytesIO(text.encode("utf-8")), schema=SCHEMA)
        except Exception as e:  # polars raises ComputeError/SchemaError for broken JSON
            raise UnreadableFile(f"JSON聊天记录无法解析 (文件不完整或不是合法JSON): {e}") from e
        notes = []
        empty = obj.filter(pl.col("chats").list.len().fill_null(0) == 0).height
        if empty:
            notes.append(f"{empty} 个会话没有聊天内容")
        df = (
            obj.with_row_index("_conv")
            .filter(pl.col("chats").list.len().fill_null(0) > 0)
            .explode("chats")
            .unnest("chats")
            .with_row_index("source_row", offset=1)
        )
        return [Batch("messages", _messages(df), notes)]


def _messages(df: pl.DataFrame) -> pl.DataFrame:
    user = cc.norm_account(pl.col("user"))
    # date + time; a time that already holds the date is used alone
    time = pl.col("time").str.strip_chars()
    raw = pl.when(time.str.contains(r"^\d{4}").fill_null(False)).then(time).otherwise(
        pl.concat_str([pl.col("date").str.strip_chars(), time], separator=" ", ignore_nulls=True)
    )
    df = df.with_columns(
        source_row=pl.col("source_row").cast(pl.Int64),
        _user=user,
        sender=cc.norm_account(pl.col("sender")),
        text=pl.when(pl.col("text").str.strip_chars().fill_null("") != "")
        .then(pl.col("text"))
        .when(pl.col("imgUrl").str.strip_chars().fill_null("") != "")
        .then(pl.lit(IMAGE_TEXT)),
        _sent_raw=raw,
        _reason=pl.lit(None, dtype=pl.String),
    )
    df = cc.with_sent_at(df, "_sent_raw")
    df = cc.events_from_text(df)
    # a chat without sender keeps sender null: the stager quarantines it (缺少发送账号)
    user_is_agent = cc.is_sub_account(pl.col("_user"))
    # the conversation's buyer wrote as `user`, whatever shape their nick has
    df = df.with_columns(
        _role_hint=pl.when(~user_is_agent & (pl.col("sender") == pl.col("_user")) & (pl.col("event") == "message")).then(
            pl.lit("buyer")
        )
    )
    df = df.with_columns(sender=pl.when(pl.col("event") == "transfer").then(pl.lit(cc.SYSTEM_SENDER)).otherwise(pl.col("sender")))
    df = cc.resolve_roles(df)
    found = pl.when(pl.col("sender_role") == "buyer").then(pl.col("sender")).drop_nulls().first().over("_conv")
    df = df.with_columns(buyer=pl.when(user_is_agent).then(found).otherwise(pl.col("_user")))
    df = df.with_columns(
        _reason=cc.add_reason(pl.when(pl.col("buyer").is_null()).then(pl.lit("无法确定买家(会话中没有买家)")))
    )
    df = cc.assign_agent_accounts(df, conv="_conv", default=pl.when(user_is_agent).then(pl.col("_user")))
    return cc.finalize(df)
