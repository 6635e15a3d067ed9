"""Per-agent text chat export (open-platform chat-record API zips, desktop copy-outs).

A message is a header line ``<nick> <YYYY-MM-DD HH:MM:SS>`` (or ``YYYY年MM月DD日HH:MM:SS``;
the space may be missing; nick and time may sit on two lines) followed by its body lines.
``已读``/``未读`` lines are read receipts of the message above; ``X 撤回了一条消息`` is a
recall; ``由 A 转交给 B`` (+ a ``原因：...`` line) is a transfer. Blank lines are dropped
(a blank line inside a body is not kept). Text before the first header is layout.

Parsing is vectorised: every line is classified by regex in polars, records are the runs
between record-start lines (``cum_sum``), bodies are joined per record with ``group_by``.
Buyer rule: a non-agent sender is the buyer; every other row belongs to the most recent
buyer above it (rows before the first buyer message: the first buyer below). See
docs/readers_chat.md.
"""

from __future__ import annotations

import re

import polars as pl

from pipelines.io.source import SourceFile

from . import _chat_common as cc
from .base import Batch, Reader

TS = (
    r"(?:19|20)\d{2}[-/]\d{1,2}[-/]\d{1,2}\s+\d{1,2}:\d{2}:\d{2}"
    r"|(?:19|20)\d{2}年\d{1,2}月\d{1,2}日\s*\d{1,2}:\d{2}:\d{2}"
)
HEADER = rf"^(.*?)\s*({TS})$"
TS_END = rf"({TS})$"
NICK = r"^[^\s,，\t]+$"  # nicks have no spaces or commas (keeps CSV rows out)
REASON = r"^原因[：:]\s*(.*)$"
RECEIPTS = ("已读", "未读")
PRONOUN_AGENT = ("你", "您")
PRONOUN_BUYER = ("对方",)

_HEADER_RE = re.compile(HEADER)
_NICK_RE = re.compile(NICK)


def _classify(lines: list[str]) -> pl.DataFrame:
    """One row per non-blank line with its role in the layout.

    Expensive regexes run only on candidate lines (cheap literal/suffix tests first)."""
    df = pl.DataFrame({"s": pl.Series(lines, dtype=pl.String)}).with_row_index("_row", offset=1)
    df = df.with_columns(pl.col("_row").cast(pl.Int64), pl.col("s").str.strip_chars()).filter(pl.col("s") != "")
    s = pl.col("s")
    # the timestamp ends the line; the nick is what precedes it (maybe with no space)
    df = df.with_columns(_ts=s.str.extract(TS_END, 1))
    df = df.with_columns(
        _nick=pl.when(pl.col("_ts").is_not_null()).then(
            s.str.head(s.str.len_chars() - pl.col("_ts").str.len_chars()).str.strip_chars()
        )
    )
    head_text = pl.when(pl.col("_ts").is_not_null()).then(pl.col("_nick")).otherwise(s)
    tr = head_text.str.extract_groups(cc.TRANSFER_RE)
    df = cc.on_subset(
        df,
        s.str.contains("撤回了一条消息", literal=True) | s.str.contains("转交给", literal=True),
        _is_tr=head_text.str.contains(cc.TRANSFER_RE) & head_text.str.starts_with("由"),
        _rec_who=head_text.str.extract(cc.RECALL_RE, 1),
        _tf=tr.struct.field("1"),
        _tt=tr.struct.field("2"),
        _tr_reason=tr.struct.field("3"),
    )
    # a recall line names someone who writes in this file (or 你/对方): body text that
    # happens to end in 撤回了一条消息 stays a body
    nicks = pl.concat(
        [
            df.filter(pl.col("_ts").is_not_null()).get_column("_nick"),
            # two-line headers: the nick is the line above a time-only line
            df.filter((pl.col("_nick") == "").shift(-1).fill_null(False)).get_column("s"),
        ]
    ).unique()
    known = pl.concat([nicks.filter(nicks.str.contains(NICK)), pl.Series(PRONOUN_AGENT + PRONOUN_BUYER)])
    df = df.with_columns(
        _is_tr=pl.col("_is_tr").fill_null(False),
        _is_rec=(pl.col("_rec_who").is_in(known.implode()) & ~pl.col("_is_tr").fill_null(False)).fill_null(False),
    )
    special = pl.col("_is_tr") | pl.col("_is_rec")
    df = df.with_columns(
        _special=special,
        _header=(pl.col("_ts").is_not_null() & pl.col("_nick").str.contains(NICK) & ~special).fill_null(False),
        _ts_only=(pl.col("_ts").is_not_null() & (pl.col("_nick") == "")).fill_null(False),
        _receipt=s.is_in(list(RECEIPTS)),
    )
    plain = ~(pl.col("_header") | pl.col("_ts_only") | pl.col("_special") | pl.col("_receipt"))
    df = df.with_columns(_nick_line=plain & pl.col("_ts_only").shift(-1).fill_null(False))
    df = df.with_columns(
        _ts_used=pl.col("_ts_only") & pl.col("_nick_line").shift(1).fill_null(False),
        _reason_line=pl.col("_is_tr").shift(1).fill_null(False) & s.str.contains(REASON),
    )
    return df.with_columns(
        _start=pl.col("_header") | pl.col("_nick_line") | pl.col("_special"),
        _body=~(
            pl.col("_header")
            | pl.col("_nick_line")
            | pl.col("_ts_used")
            | pl.col("_special")
            | pl.col("_receipt")
            | pl.col("_reason_line")
        ),
    ).with_columns(_rec=pl.col("_start").cum_sum())


def _records(lines: pl.DataFrame) -> pl.DataFrame:
    """One row per record (message, recall, transfer), in file order.

    Records are contiguous runs of lines, so the start line carries the record's fields;
    only bodies (joined per record), receipts and reasons are gathered and joined back."""
    lines = lines.filter(pl.col("_rec") > 0)
    recs = lines.filter(pl.col("_start")).select(
        "_rec",
        event=pl.when(pl.col("_is_tr"))
        .then(pl.lit("transfer"))
        .when(pl.col("_is_rec"))
        .then(pl.lit("recall"))
        .otherwise(pl.lit("message")),
        sender=pl.when(pl.col("_is_tr"))
        .then(pl.lit(cc.SYSTEM_SENDER))
        .when(pl.col("_is_rec"))
        .then(pl.col("_rec_who"))
        .when(pl.col("_nick_line"))
        .then(pl.col("s"))
        .otherwise(pl.col("_nick")),
        _own_ts=pl.col("_ts"),
        transfer_from=pl.col("_tf"),
        transfer_to=pl.col("_tt"),
        _tr_inline=pl.col("_tr_reason"),
        source_row=pl.col("_row"),
    )
    two_line = lines.filter(pl.col("_ts_used")).select(_rec=pl.col("_rec"), _ts2=pl.col("_ts"))
    # _rec is sorted (a cum_sum): the sorted group-by path + list.join is ~10x str.join
    bodies = (
        lines.filter(pl.col("_body"))
        .select(pl.col("_rec").set_sorted(), "s")
        .group_by("_rec", maintain_order=True)
        .agg(text=pl.col("s"))
        .with_columns(pl.col("text").list.join("\n"))
    )
    receipts = (
        lines.filter(pl.col("_receipt")).group_by("_rec").agg(read_status=pl.col("s").last())
    )
    reasons = (
        lines.filter(pl.col("_reason_line"))
        .group_by("_rec")
        .agg(_tr_line=pl.col("s").first().str.extract(REASON, 1))
    )
    for extra in (two_line, bodies, receipts, reasons):
        recs = recs.join(extra, on="_rec", how="left", maintain_order="left")
    recs = recs.with_columns(
        # two-line header: the time is on the line after the nick
        _sent_raw=pl.coalesce(pl.col("_own_ts"), pl.col("_ts2")),
        text=pl.col("text").fill_null("")
    )
    # "X 2026-..." immediately followed by "X 撤回了一条消息": the header only dates the
    # notice; the notice takes its time and the empty header is not a message
    nxt_special = pl.col("event").shift(-1).is_in(["recall", "transfer"]).fill_null(False)
    nxt_untimed = pl.col("_sent_raw").shift(-1).is_null()
    empty_msg = (pl.col("event") == "message") & (pl.col("text") == "") & pl.col("read_status").is_null()
    recs = recs.with_columns(_dating=empty_msg & nxt_special & nxt_untimed)
    recs = recs.with_columns(_sent_raw=pl.col("_sent_raw").forward_fill()).filter(~pl.col("_dating"))
    return recs.with_columns(
        transfer_reason=pl.coalesce(pl.col("_tr_line"), pl.col("_tr_inline")).str.strip_chars().replace("", None),
        transfer_from=cc.norm_account(pl.col("transfer_from")),
        transfer_to=cc.norm_account(pl.col("transfer_to")),
    ).drop("_tr_line", "_tr_inline", "_dating", "_rec", "_own_ts", "_ts2")


def parse_chat_text(text: str) -> tuple[pl.DataFrame, list[str]]:
    """The messages frame (canonical columns) of one text export, and layout notes."""
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = _classify(raw_lines)
    notes = []
    pre = lines.filter(pl.col("_rec") == 0).height
    if pre:
        notes.append(f"文件开头 {pre} 行不是消息(标题等)，已跳过")
    n_receipts = lines.get_column("_receipt").sum()
    if n_receipts:
        notes.append(f"已读/未读回执 {n_receipts} 行并入上一条消息")
    df = _records(lines)
    who = pl.col("sender")
    df = df.with_columns(
        _role_hint=pl.when(who.is_in(list(PRONOUN_AGENT)))
        .then(pl.lit("agent"))
        .when(who.is_in(list(PRONOUN_BUYER)))
        .then(pl.lit("buyer")),
    ).with_columns(
        sender=pl.when(pl.col("_role_hint").is_null()).then(cc.norm_account(who)),
        _reason=pl.lit(None, dtype=pl.String),
    )
    # the stager reports an unparseable or missing time itself (once)
    df = cc.with_sent_at(df, "_sent_raw", leave_to_stager=True)
    df = cc.resolve_roles(df)
    owner = cc.file_owner(df)
    buyer_mark = pl.when((pl.col("sender_role") == "buyer") & pl.col("sender").is_not_null()).then(pl.col("sender"))
    df = df.with_columns(
        buyer=pl.coalesce(buyer_mark.forward_fill(), buyer_mark.backward_fill()),
    ).with_columns(
        sender=pl.coalesce(
            pl.col("sender"),
            pl.when(pl.col("_role_hint") == "buyer").then(pl.col("buyer")),
            pl.when(pl.col("_role_hint") == "agent").then(pl.lit(owner, dtype=pl.String)),
        ),
        _reason=cc.add_reason(pl.when(pl.col("buyer").is_null()).then(pl.lit("无法确定买家(文件中没有买家发言)"))),
    )
    df = cc.assign_agent_accounts(df, conv="buyer")
    return cc.finalize(df), notes


class ChatTextReader(Reader):
    layout = "chat_text"
    kinds = ("messages",)
    description = "旺旺/千牛文本聊天记录(每个客服账号一个文件, 昵称+时间抬头行)"

    def sniff(self, src: SourceFile) -> float:
        if src.format != "text":
            return 0.0
        lines = [ln.strip() for ln in src.head_text(60000).splitlines() if ln.strip()][:300]
        if not lines:
            return 0.0
        delimited = sum(1 for ln in lines if ln.count(",") >= 2 or ln.count("\t") >= 2)
        if delimited > len(lines) / 2:
            return 0.05  # a CSV table, not a chat text
        heads = 0
        for ln in lines:
            m = _HEADER_RE.match(ln)
            if m and (m.group(1) == "" or _NICK_RE.match(m.group(1))):
                heads += 1
        receipts = sum(1 for ln in lines if ln in RECEIPTS)
        if heads >= 2 and heads / len(lines) >= 0.1:
            return 0.95 if receipts else 0.9
        if heads == 1 and len(lines) <= 4:
            return 0.6
        return 0.1 if heads else 0.0

    def read(self, src: SourceFile) -> list[Batch]:
        frame, notes = parse_chat_text(src.text)
        return [Batch("messages", frame, notes)]
