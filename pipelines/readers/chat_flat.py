"""Flat chat table (CSV or XLSX, one message per row) as analysts build it by hand.

Column set (Chinese or English header, case/space/underscore-insensitive; see ALIASES and
docs/readers_chat.md). Required: agent account, buyer, sender or sender role, time, text.
Title rows above the header are allowed. CSV text is handed to ``polars.read_csv`` with
every column as a string (no Python row loop); XLSX sheets come from
:meth:`SourceFile.sheets`. Every sheet with a recognised header is read, in order.
"""

from __future__ import annotations

import csv
import io
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from pipelines.io.headers import norm_header
from pipelines.io.source import SourceFile

from . import _chat_common as cc
from .base import Batch, Reader

ALIASES: dict[str, tuple[str, ...]] = {
    "shop": ("店铺", "店铺名", "店铺名称", "shop", "shop_name", "store"),
    "agent_account": ("客服账号", "客服", "子账号", "客服旺旺", "接待客服", "agent_account", "agent", "agent_nick"),
    "buyer": ("买家", "买家昵称", "买家旺旺", "买家账号", "buyer", "buyer_nick", "customer"),
    "sender": ("发送方", "发送人", "发送者", "发送账号", "发言人", "sender", "from"),
    "sender_role": ("发送方角色", "角色", "发送方类型", "sender_role", "role"),
    "sent_at": ("发送时间", "消息时间", "时间", "sent_at", "time", "timestamp", "datetime"),
    "text": ("内容", "消息内容", "发送内容", "消息", "text", "content", "message"),
    "is_auto_reply": ("自动回复", "是否自动回复", "is_auto_reply", "auto_reply"),
    "event": ("事件", "事件类型", "消息类型", "event", "event_type"),
    "transfer_from": ("转出客服", "转交人", "transfer_from"),
    "transfer_to": ("转入客服", "转交给", "transfer_to"),
    "transfer_reason": ("转交原因", "transfer_reason"),
    "read_status": ("已读状态", "已读未读", "read_status"),
}
REQUIRED = ("agent_account", "buyer", "sent_at", "text")
ROLE_VALUES = {
    "买家": "buyer", "客户": "buyer", "顾客": "buyer", "buyer": "buyer", "customer": "buyer",
    "客服": "agent", "卖家": "agent", "商家": "agent", "agent": "agent", "seller": "agent",
    "系统": "system", "system": "system",
}  # fmt: skip
EVENT_VALUES = {
    "消息": "message", "message": "message", "msg": "message",
    "撤回": "recall", "recall": "recall",
    "转交": "transfer", "转接": "transfer", "转出": "transfer", "transfer": "transfer",
}  # fmt: skip
READ_VALUES = {"已读": "已读", "未读": "未读", "read": "已读", "unread": "未读"}
TRUE_VALUES = ("是", "y", "yes", "true", "1", "√", "t")
FALSE_VALUES = ("否", "n", "no", "false", "0", "f")


def header_key(h: str | None) -> str:
    """Normalised header text for alias lookup (NFKC, no spaces/underscores, lowercase)."""
    return norm_header(h).lower().replace("_", "").replace("-", "")


_LOOKUP = {header_key(a): canon for canon, names in ALIASES.items() for a in names}


def map_header(cells) -> dict[int, str]:
    """Position -> canonical name for the recognised cells of a header row (first wins)."""
    out: dict[int, str] = {}
    for j, v in enumerate(cells):
        canon = _LOOKUP.get(header_key(v))
        if canon and canon not in out.values():
            out[j] = canon
    return out


def is_flat_header(mapping: dict[int, str]) -> bool:
    names = set(mapping.values())
    return all(r in names for r in REQUIRED) and bool({"sender", "sender_role"} & names)


_GROUPS = (("agent_account",), ("buyer",), ("sent_at",), ("text",), ("sender", "sender_role"))


def missing_columns(mapping: dict[int, str]) -> list[str]:
    """Required columns (first Chinese alias) a header mapping lacks."""
    names = set(mapping.values())
    return ["/".join(ALIASES[c][0] for c in g) for g in _GROUPS if not names & set(g)]


def _find_header(rows: list[list]) -> tuple[int, dict[int, str]] | None:
    best = None
    for i, row in enumerate(rows[:30]):
        m = map_header(row)
        if is_flat_header(m) and (best is None or len(m) > len(best[1])):
            best = (i, m)
    return best


def _delimiter(sample: str) -> str:
    return max([",", "\t", ";"], key=sample.count)


class ChatFlatReader(Reader):
    layout = "chat_flat"
    kinds = ("messages",)
    description = "一行一条消息的聊天记录表(CSV/XLSX, 中英文列名)"

    def sniff(self, src: SourceFile) -> float:
        fmt = src.format
        if fmt == "text":
            sample = src.head_text(20000)
            rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=_delimiter(sample)))[:30]
            return 0.9 if _find_header(rows) else 0.0
        if fmt in ("xlsx", "xls"):
            for grid in src.sheets().values():
                if _find_header(grid.head(30).drop("_row").rows()):
                    return 0.9
        return 0.0

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        """A header row with 4 of the 5 required column groups (one renamed or deleted)."""
        fmt = src.format
        if fmt == "text":
            sample = src.head_text(20000)
            sheets = [list(csv.reader(io.StringIO(sample, newline=""), delimiter=_delimiter(sample)))[:30]]
        elif fmt in ("xlsx", "xls"):
            sheets = [grid.head(30).drop("_row").rows() for grid in src.sheets().values()]
        else:
            return 0.0, []
        best: tuple[float, list[str]] = (0.0, [])
        for rows in sheets:
            for row in rows:
                missing = missing_columns(map_header(row))
                share = 1 - len(missing) / len(_GROUPS)
                if share >= 0.8 and share > best[0]:
                    best = (share, missing)
        return best

    def read(self, src: SourceFile) -> list[Batch] | Iterator[Batch]:
        """One batch; a big CSV (:attr:`SourceFile.chunked`) lazily, one batch a chunk."""
        if src.format == "text" and src.chunked:
            return _read_csv_chunks(src)
        notes: list[str] = []
        frames = []
        if src.format == "text":
            frames.append(_read_csv(src, notes))
        else:
            for name, grid in src.sheets().items():
                f = _read_grid(grid, name, notes)
                if f is None:
                    notes.append(f"工作表 {name} 没有聊天记录表头，已跳过")
                else:
                    frames.append(f)
        frames = [f for f in frames if f is not None]
        if not frames:
            raise ValueError(_NO_HEADER)
        df = frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
        blank = int(df.get_column("_blank").sum())
        if blank:
            notes.append(f"跳过空行 {blank} 行")
            df = df.filter(~pl.col("_blank"))
        return [Batch("messages", messages_from_flat(df), notes, CLEAN)]


def _named(df: pl.DataFrame, mapping: dict[int, str], cols: list[str]) -> pl.DataFrame:
    keep = [pl.col(cols[j]).cast(pl.String).alias(canon) for j, canon in mapping.items() if j < len(cols)]
    # read_csv already made empty cells null; a row is blank when its mapped cells are
    blank = pl.all_horizontal([pl.col(cols[j]).is_null() | (pl.col(cols[j]).str.len_bytes() == 0) for j in mapping if j < len(cols)])
    return df.select(keep + [pl.col("source_row"), blank.alias("_blank")])


_NO_HEADER = "没有找到聊天记录表头(需要: 客服账号, 买家, 发送方或发送方角色, 发送时间, 内容)"


def _csv_header(src: SourceFile, data: bytes | None = None) -> tuple[str, int, dict[int, str]] | None:
    """(delimiter, 0-based header row, header mapping) from a decoded prefix."""
    sample = src.head_text(20000)
    if data is not None and b"\r" in data and b"\n" not in data:
        sample = sample.replace("\r", "\n")
    delim = _delimiter(sample)
    found = _find_header(list(csv.reader(io.StringIO(sample, newline=""), delimiter=delim))[:30])
    return None if found is None else (delim, *found)


def _parse_csv(data: bytes, delim: str, skip: int, columns: list[str] | None) -> pl.DataFrame:
    """A CSV (or a chunk of one) as strings: from the top, ``skip`` title rows then the
    header; a later chunk (``columns``: the header's) has no header."""
    if b"\r" in data and b"\n" not in data:  # classic-Mac line ends: polars would see one line
        data = data.replace(b"\r", b"\n")
    if columns is None:
        return pl.read_csv(data, skip_rows=skip, separator=delim, infer_schema=False, truncate_ragged_lines=True)
    return pl.read_csv(data, has_header=False, separator=delim, schema=dict.fromkeys(columns, pl.String),
                       missing_columns="insert", truncate_ragged_lines=True, raise_if_empty=False)


def _read_csv(src: SourceFile, notes: list[str]) -> pl.DataFrame | None:
    """The file's UTF-8 bytes straight into ``pl.read_csv`` (a UTF-8 file is never decoded
    to a ``str``); the header is found in a decoded prefix."""
    data = src.utf8
    found = _csv_header(src, data)
    if found is None:
        return None
    delim, idx, mapping = found
    if idx:
        notes.append(f"跳过表头上方标题行 {idx} 行")
    df = _parse_csv(data, delim, idx, None)
    # Excel shows the header on row idx+1; record i (0-based) on row idx+2+i
    df = df.with_columns(pl.int_range(idx + 2, idx + 2 + pl.len(), dtype=pl.Int64).alias("source_row"))
    return _named(df, mapping, df.columns)


def _read_csv_chunks(src: SourceFile) -> Iterator[Batch]:
    """A big flat CSV as batches of about :data:`pipelines.io.chunks.CHUNK_RECORDS`
    messages, equal row for row to the one batch of the whole-file read (staged): the
    header is found once (eagerly: a file without one fails before any batch), every chunk
    is parsed with its columns, ``source_row`` and ``seq`` continue across chunks, and the
    notes (title rows, blank rows over all chunks) come with the last batch."""
    found = _csv_header(src)
    if found is None:
        raise ValueError(_NO_HEADER)
    return _flat_chunks(src, *found)


# Chunks of a big flat CSV turned into messages at once, in threads (polars releases the GIL
# while it computes); 1: one chunk after the other in the reading thread.
PARALLEL_CHUNKS = 2


@dataclass
class _ChunkMessages:
    """One chunk parsed and turned into messages on its own (:func:`_chunk_messages`)."""

    columns: list[str]
    rows: int  # records read, blank ones included
    blank: int
    body: pl.DataFrame  # the named non-blank rows (``source_row`` from 0 in the chunk)
    out: pl.DataFrame  # their messages (``source_row`` from 0, ``seq`` from 0)
    shops: cc.FileShops  # the shop names it knew (given + its own) and its open senders


def _chunk_messages(data: bytes, delim: str, idx: int, columns: list[str] | None, mapping: dict[int, str],
                    seen: frozenset[str], complete: bool) -> _ChunkMessages:
    """A chunk's messages with the file's shop names known so far (``seen``): exactly those
    of the chunks read in order whenever its ``shops.open`` is empty (every sender whose role
    depends on a shop name is a shop name it knew, so more names change no role)."""
    df = _parse_csv(data, delim, idx, columns)
    cols = list(df.columns)
    df = _named(df.with_columns(pl.int_range(0, pl.len(), dtype=pl.Int64).alias("source_row")), mapping, cols)
    n_blank = int(df.get_column("_blank").sum())
    body = df.filter(~pl.col("_blank")) if n_blank else df
    shops = cc.FileShops(seen=set(seen), complete=complete)
    return _ChunkMessages(cols, df.height, n_blank, body, messages_from_flat(body, shops), shops)


def _flat_chunks(src: SourceFile, delim: str, idx: int, mapping: dict[int, str]) -> Iterator[Batch]:
    """The batches of :func:`_read_csv_chunks`. Up to :data:`PARALLEL_CHUNKS` chunks are
    turned into messages at once (:func:`_chunk_messages`); they are taken in file order,
    and a chunk whose roles could depend on a shop name of a chunk still in flight is done
    again in order, as the one-by-one reading does."""
    shops = cc.FileShops()
    row, seq, blank, columns = idx + 2, 0, 0, None
    text_start = src.utf8_source()[1]
    chunks = src.record_chunks(first_records=idx + 2)
    pending: deque = deque()  # (chunk, future) in file order
    pool = ThreadPoolExecutor(max(1, PARALLEL_CHUNKS), thread_name_prefix="kefu-chunk")

    def submit(chunk) -> Future:
        cols = columns if chunk.offset != text_start else None
        return pool.submit(_chunk_messages, chunk.data, delim, idx, cols, mapping, frozenset(shops.seen), shops.complete)

    try:
        while True:
            # the header chunk alone first: the others are parsed with its columns
            while len(pending) < max(1, PARALLEL_CHUNKS) and (columns is not None or not pending):
                nxt = next(chunks, None)
                if nxt is None:
                    break
                pending.append((nxt, submit(nxt)))
            if not pending:
                return
            chunk, fut = pending.popleft()
            got = fut.result()
            columns = columns or got.columns
            out = got.out
            if got.shops.open and not shops.complete:
                # done again with the shop names of exactly the chunks before it
                out = messages_from_flat(got.body, shops)
                if shops.open:
                    # a role here depends on shop names of the file's later chunks: learn them
                    # all, then read this chunk again (rare: a sender with no stated role and
                    # no colon)
                    for later in [c for c, _ in pending] + list(chunks):
                        messages_from_flat(_named(_parse_csv(later.data, delim, idx, columns).with_columns(source_row=pl.lit(0, pl.Int64)), mapping, columns), shops)
                    shops.complete = True
                    for _, f in pending:
                        f.cancel()
                    pending.clear()
                    chunks = src.record_chunks(start=chunk.offset, first_records=idx + 2)
                    continue
            else:
                shops.seen |= got.shops.seen
            out = out.with_columns(pl.col("source_row") + row, pl.col("seq") + seq)
            row += got.rows
            blank += got.blank
            seq += out.height
            notes = []
            if chunk.last:
                notes = ([f"跳过表头上方标题行 {idx} 行"] if idx else []) + ([f"跳过空行 {blank} 行"] if blank else [])
            del got, fut
            yield Batch("messages", out, notes, CLEAN)
    finally:
        for _, f in pending:
            f.cancel()
        pool.shutdown(wait=True)


def _read_grid(grid: pl.DataFrame, sheet: str, notes: list[str]) -> pl.DataFrame | None:
    found = _find_header(grid.head(30).drop("_row").rows())
    if found is None:
        return None
    idx, mapping = found
    if idx:
        notes.append(f"跳过表头上方标题行 {idx} 行")
    body = grid.slice(idx + 1).rename({"_row": "source_row"})
    cols = [c for c in grid.columns if c != "_row"]
    out = _named(body, mapping, cols)
    return out.with_columns(source_sheet=pl.lit(sheet))


def _mapped(col: str, values: dict[str, str]) -> pl.Expr:
    return _mapped_expr(pl.col(col), values)


def _mapped_expr(e: pl.Expr, values: dict[str, str]) -> pl.Expr:
    return e.str.strip_chars().str.to_lowercase().replace_strict(
        {k.lower(): v for k, v in values.items()}, default=None, return_dtype=pl.String
    )


# Text columns messages_from_flat hands over stripped with blanks null, by construction
# (norm_account, strip + "" -> null, or fixed values): the stager need not clean them again
# (tests/pipelines/readers/test_clean_columns.py). Not ``shop`` (split from an account when
# not given) nor ``text``.
CLEAN = frozenset({"agent_account", "buyer", "sender", "sender_role", "event", "transfer_from", "transfer_to",
                   "transfer_reason", "read_status"})


def messages_from_flat(df: pl.DataFrame, file_shops: cc.FileShops | None = None) -> pl.DataFrame:
    """Canonical messages from a frame whose columns carry canonical names (strings).
    ``file_shops``: ``df`` is one chunk of a file (:class:`_chat_common.FileShops`)."""
    for c in ALIASES:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    role_raw = pl.col("__role_raw")
    event_raw = pl.col("event").str.strip_chars().replace("", None)
    auto_raw = pl.col("__auto_raw")
    read_raw = pl.col("read_status").str.strip_chars().replace("", None)
    roles = cc.per_values(df.get_column("sender_role").cast(pl.String), _role_hint=lambda e: _mapped_expr(e, ROLE_VALUES),
                          __role_raw=lambda e: e.str.strip_chars().replace("", None))
    df = df.with_columns(
        # few distinct values, repeated on every row: normalised once per value
        shop=cc.per_value(df.get_column("shop").cast(pl.String), lambda e: e.str.strip_chars().replace("", None)),
        agent_account=cc.per_value(df.get_column("agent_account").cast(pl.String), cc.norm_account),
        **roles,
    ).with_columns(
        buyer=cc.norm_account(pl.col("buyer")),
        sender=cc.norm_account(pl.col("sender")),
        transfer_from=cc.norm_account(pl.col("transfer_from")),
        transfer_to=cc.norm_account(pl.col("transfer_to")),
        transfer_reason=pl.col("transfer_reason").str.strip_chars().replace("", None),
        __auto_raw=pl.col("is_auto_reply").str.strip_chars().str.to_lowercase().replace("", None),
        event=pl.when(event_raw.is_null()).then(None).otherwise(
            pl.coalesce(_mapped("event", EVENT_VALUES), event_raw)
        ),
        read_status=pl.coalesce(_mapped("read_status", READ_VALUES), read_raw),
    )
    bad_role = role_raw.is_not_null() & pl.col("_role_hint").is_null()
    bad_auto = auto_raw.is_not_null() & ~auto_raw.is_in(list(TRUE_VALUES + FALSE_VALUES))
    df = df.with_columns(
        _auto_hint=pl.when(auto_raw.is_in(list(TRUE_VALUES))).then(True).when(auto_raw.is_in(list(FALSE_VALUES))).then(False),
    )
    # reason texts only for the rows that get one (polars would format every row)
    df = cc.on_subset(df, bad_role | bad_auto, _reason=pl.concat_str(
        [
            pl.when(bad_role).then(pl.format("发送方角色无法识别: '{}'", role_raw)),
            pl.when(bad_auto).then(pl.format("自动回复取值无法识别: '{}'", pl.col("is_auto_reply"))),
        ],
        separator="; ",
        ignore_nulls=True,
    ).replace("", None))
    df = cc.with_sent_at(df, "sent_at", typed=True)
    df = cc.events_from_text(df)
    # with no role column: the buyer column names the buyer, the agent column the agent
    df = df.with_columns(
        _role_hint=pl.coalesce(
            pl.col("_role_hint"),
            pl.when(pl.col("event") != "transfer").then(
                pl.when(pl.col("sender") == pl.col("buyer"))
                .then(pl.lit("buyer"))
                .when(pl.col("sender") == pl.col("agent_account"))
                .then(pl.lit("agent"))
            ),
        )
    )
    df = cc.flag_lost_speaker(
        df, pl.col("sender").is_null() & pl.col("_role_hint").is_null() & pl.col("__role_raw").is_null(), "发言人丢失: 发送方和发送方角色都为空"
    )
    df = cc.resolve_roles(df, file_shops=file_shops)
    role = pl.col("sender_role")
    df = df.with_columns(
        sender=pl.coalesce(
            pl.col("sender"),
            pl.when(role == "buyer").then(pl.col("buyer")),
            pl.when(role == "agent").then(pl.col("agent_account")),
            pl.when(role == "system").then(pl.lit(cc.SYSTEM_SENDER)),
        )
    )
    return cc.finalize(df)
