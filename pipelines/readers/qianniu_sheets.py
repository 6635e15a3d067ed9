"""Qianniu Excel chat export: one sheet per customer (browser-script exporters).

Columns ``客户名, 消息序号, 发送时间, 发送内容, 发送账号, 账号类型`` (账号类型 = 客户/客服),
title rows above the header allowed, plus a summary sheet ``导出汇总`` without messages
(skipped). ``消息序号`` is not used: ``seq`` is the file order (sheet order, then rows).
See docs/readers_chat.md.
"""

from __future__ import annotations

import polars as pl

from pipelines.io.headers import find_header_row, headed_frame, norm_header
from pipelines.io.source import SourceFile

from . import _chat_common as cc
from .base import Batch, MissingColumns, Reader

COLUMNS = {
    "客户名": "buyer",
    "消息序号": "_msg_no",
    "发送时间": "_sent_raw",
    "发送内容": "text",
    "发送账号": "sender",
    "账号类型": "_type",
}
EXPECTED = set(COLUMNS)
SUMMARY_SHEETS = {"导出汇总"}
ROLE_OF_TYPE = {"客户": "buyer", "买家": "buyer", "客服": "agent", "卖家": "agent", "系统": "system"}
# a header that also names the agent account is an analyst's flat table, not this export
_FLAT_MARKERS = {"客服账号", "客服", "子账号", "agent_account"}
SPEAKER = ("发送账号", "账号类型")  # at least one of them says who spoke


def missing_columns(header: set[str]) -> list[str]:
    """Required headers absent from a (normalised) header row: 发送时间, 发送内容 and one
    of 发送账号/账号类型."""
    missing = [h for h in ("发送时间", "发送内容") if h not in header]
    if not header & set(SPEAKER):
        missing.append("/".join(SPEAKER))
    return missing


class QianniuSheetsReader(Reader):
    layout = "qianniu_sheets"
    kinds = ("messages",)
    description = "千牛聊天记录Excel导出(每个客户一个工作表, 含导出汇总表)"

    def sniff(self, src: SourceFile) -> float:
        if src.format not in ("xlsx", "xls"):
            return 0.0
        sheets = src.sheets()
        best = 0.0
        for grid in sheets.values():
            idx = find_header_row(grid, EXPECTED, min_hits=4)
            if idx is None:
                continue
            header = {norm_header(v) for v in grid.row(idx) if v is not None}
            if header & _FLAT_MARKERS:
                best = max(best, 0.3)
                continue
            best = max(best, 0.95 if any(norm_header(n) in SUMMARY_SHEETS for n in sheets) else 0.9)
        return best

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        """A sheet with 3 of the 6 headers (sniff wants 4) lacking a required one."""
        if src.format not in ("xlsx", "xls"):
            return 0.0, []
        best: tuple[float, list[str]] = (0.0, [])
        for grid in src.sheets().values():
            idx = find_header_row(grid, EXPECTED, min_hits=3)
            if idx is None:
                continue
            header = {norm_header(v) for v in grid.row(idx) if v is not None}
            share = len(header & EXPECTED) / len(EXPECTED)
            if not header & _FLAT_MARKERS and share > best[0]:
                best = (share, missing_columns(header))
        return best

    def read(self, src: SourceFile) -> list[Batch]:
        notes: list[str] = []
        frames = []
        for name, grid in src.sheets().items():
            if norm_header(name) in SUMMARY_SHEETS:
                notes.append(f"跳过汇总工作表 {name}")
                continue
            body = headed_frame(grid, EXPECTED, min_hits=4)
            if body is None:
                notes.append(f"工作表 {name} 没有聊天记录表头，已跳过")
                continue
            missing = missing_columns(set(body.columns))
            if missing:
                raise MissingColumns(self.description, missing, name)
            present = {k: v for k, v in COLUMNS.items() if k in body.columns}
            body = body.select([pl.col(k).alias(v) for k, v in present.items()] + [pl.col("_row").alias("source_row")])
            for v in COLUMNS.values():
                if v not in body.columns:
                    body = body.with_columns(pl.lit(None, dtype=pl.String).alias(v))
            body = body.select(*COLUMNS.values(), "source_row")  # one column order for every sheet
            frames.append(body.with_columns(source_sheet=pl.lit(name), _sheet_name=pl.lit(name)))
        if not frames:
            return [Batch("messages", cc.finalize(_empty()), notes)]
        df = pl.concat(frames, how="vertical_relaxed")
        df = df.with_columns(
            buyer=pl.coalesce(cc.norm_account(pl.col("buyer")), pl.col("_sheet_name")),
            sender=cc.norm_account(pl.col("sender")),
            _role_hint=pl.col("_type").str.strip_chars().replace_strict(ROLE_OF_TYPE, default=None),
            _reason=pl.lit(None, dtype=pl.String),
        )
        df = cc.with_sent_at(df, "_sent_raw")
        df = cc.events_from_text(df)
        type_raw = pl.col("_type").str.strip_chars().replace("", None)
        df = cc.flag_lost_speaker(
            df,
            pl.col("sender").is_null() & pl.col("_role_hint").is_null(),
            pl.when(type_raw.is_null())
            .then(pl.lit("发言人丢失: 发送账号和账号类型都为空, 无法判断是买家还是客服"))
            .otherwise(pl.format("发言人丢失: 发送账号为空, 账号类型无法识别: '{}'", type_raw)),
        )
        # a recall/transfer notice is not said by the account type the exporter wrote
        df = df.with_columns(_role_hint=pl.when(pl.col("event") == "message").then(pl.col("_role_hint")))
        df = df.with_columns(sender=pl.when(pl.col("event") == "transfer").then(pl.lit(cc.SYSTEM_SENDER)).otherwise(pl.col("sender")))
        df = cc.resolve_roles(df)
        df = df.with_columns(
            sender=pl.coalesce(
                pl.col("sender"),
                pl.when(pl.col("sender_role") == "buyer").then(pl.col("buyer")),
                pl.when(pl.col("sender_role") == "system").then(pl.lit(cc.SYSTEM_SENDER)),
            )
        )
        df = cc.assign_agent_accounts(df, conv="_sheet_name")
        return [Batch("messages", cc.finalize(df), notes)]


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        {"agent_account": [], "event": [], "source_row": []},
        schema={"agent_account": pl.String, "event": pl.String, "source_row": pl.Int64},
    )
