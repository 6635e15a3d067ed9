"""Shared logic of the chat-record readers (table ``messages``).

Private module (leading underscore): the registry does not look for readers here.

What is decided here, once for every chat layout:
  * accounts: ``店铺名:子账号`` (a full-width ``：`` is folded to ``:``); the shop is the
    part before the colon; an account without a colon is a main account = the shop;
  * roles: a sender with a colon, or equal to a shop name seen in the file, is an agent;
    ``系统``/``系统消息``/``系统提示`` or no sender is the system; anyone else is a buyer.
    Then the markers of ``data/settings.yaml`` ``chat_markers`` apply (NFKC, substring):
    a system marker makes the row ``system``; an auto-reply marker makes it
    ``agent`` + ``is_auto_reply`` unless the source said explicitly it was the buyer;
  * threads: which agent account a row belongs to (:func:`assign_agent_accounts`);
  * timestamps: many spellings -> ``YYYY-MM-DD HH:MM:SS`` (:func:`normalize_sent_at`);
  * the output frame: canonical columns, ``seq`` (0-based order of the record in the
    file), ``source_row``, ``source_sheet``, ``_reason`` (:func:`finalize`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from contracts.staged import MESSAGES
from pipelines.staging.stage import parse_datetime

SETTINGS_PATH = Path(__file__).resolve().parents[2] / "data" / "settings.yaml"

DEFAULT_AUTO_REPLY = ("[自动回复]", "【自动回复】")
DEFAULT_SYSTEM = ("请在客户端查看原始聊天记录",)
SYSTEM_SENDERS = ("系统", "系统消息", "系统提示", "system")
SYSTEM_SENDER = "系统"  # sender written for transfer notices and sender-less system lines

# Date/time spellings seen in exports: 2026-10-01 09:00:05, 2026/10/1 9:00, 2026.10.01,
# 2026年10月01日09:00:05, 2026年10月1日 9时0分5秒, ISO with T, trailing fractions.
_TS_RE = (
    r"^\s*((?:19|20)\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*[T\s]?\s*"
    r"(\d{1,2})\s*[:：时]\s*(\d{1,2})\s*(?:[:：分]\s*(\d{1,2})\s*秒?)?(?:[.,]\d+)?\s*$"
)
_EXCEL_SERIAL_RE = r"^\d{5}(?:\.\d+)?$"


@dataclass(frozen=True)
class ChatMarkers:
    """NFKC-normalised marker substrings."""

    auto_reply: tuple[str, ...]
    system: tuple[str, ...]


def _nfkc(items) -> tuple[str, ...]:
    return tuple(unicodedata.normalize("NFKC", str(s)) for s in items if str(s).strip())


@cache
def load_chat_markers(path: str | None = None) -> ChatMarkers:
    """Markers from ``chat_markers`` of the settings file (default ``data/settings.yaml``).

    Missing file or section -> built-in defaults, so readers work in a bare checkout."""
    p = Path(path) if path else SETTINGS_PATH
    section = {}
    if p.exists():
        section = (yaml.safe_load(p.read_text(encoding="utf-8")) or {}).get("chat_markers") or {}
    return ChatMarkers(
        auto_reply=_nfkc(section.get("auto_reply") or DEFAULT_AUTO_REPLY),
        system=_nfkc(section.get("system") or DEFAULT_SYSTEM),
    )


# ---------------------------------------------------------------- accounts


def norm_account(e: pl.Expr) -> pl.Expr:
    """Strip, fold the full-width colon; empty -> null."""
    return e.cast(pl.String).str.strip_chars().str.replace_all("：", ":", literal=True).replace("", None)


def per_value(s: pl.Series, fn) -> pl.Series:
    """``fn`` (expression → expression, null for null) worked out once per distinct value
    of ``s`` and mapped back: for the columns an export repeats on every row (shop,
    agent account, role), hashing beats string work on every row."""
    return per_values(s, v=fn)["v"]


def per_values(s: pl.Series, **fns) -> dict[str, pl.Series]:
    """:func:`per_value` of several functions of the same column, hashing its rows once."""
    values = s.drop_nulls().unique()
    done = pl.DataFrame({"v": values}).select(fn(pl.col("v")).alias(name) for name, fn in fns.items())
    if len(fns) == 1:
        out = done.to_series()
        return {out.name: s.replace_strict(values, out, default=None, return_dtype=out.dtype)}
    at = s.replace_strict(values, pl.int_range(len(values), dtype=pl.UInt32, eager=True), default=None, return_dtype=pl.UInt32)
    return {name: done.get_column(name).gather(at) for name in fns}


def shop_of(e: pl.Expr) -> pl.Expr:
    """``店铺名:子账号`` -> ``店铺名``; an account without a colon is itself the shop."""
    return e.str.split(":").list.first()


def is_sub_account(e: pl.Expr) -> pl.Expr:
    return e.str.contains(":", literal=True).fill_null(False)


def shop_names(df: pl.DataFrame, cols: list[str]) -> list[str]:
    """Shop names appearing in any ``店铺名:子账号`` value of ``cols``."""
    # the values holding a colon first: far fewer to hash than every sender
    parts = [s.filter(s.str.contains(":", literal=True)).unique() for s in (df.get_column(c) for c in cols if c in df.columns)]
    vals = pl.concat(parts or [pl.Series([], dtype=pl.String)]).unique()
    return vals.str.split(":").list.first().unique().to_list()


# ---------------------------------------------------------------- timestamps


def normalize_sent_at(e: pl.Expr) -> pl.Expr:
    """A timestamp in any accepted spelling -> ``YYYY-MM-DD HH:MM:SS`` string, else null.

    Also accepts an Excel serial number (days since 1899-12-30) left as text by a sheet."""
    s = e.cast(pl.String).str.strip_chars()
    g = s.str.extract_groups(_TS_RE)

    def part(i: int) -> pl.Expr:
        return g.struct.field(str(i)).fill_null("0").str.zfill(2)

    text_ts = pl.format("{}-{}-{} {}:{}:{}", g.struct.field("1"), part(2), part(3), part(4), part(5), part(6))
    serial = (
        pl.datetime(1899, 12, 30)
        + pl.duration(seconds=(s.cast(pl.Float64, strict=False) * 86400).round(0).cast(pl.Int64))
    ).dt.strftime("%Y-%m-%d %H:%M:%S")
    return (
        pl.when(g.struct.field("1").is_not_null())
        .then(text_ts)
        .when(s.str.contains(_EXCEL_SERIAL_RE).fill_null(False))
        .then(serial)
        .otherwise(None)
    )


def on_subset(df: pl.DataFrame, mask: pl.Expr, **exprs: pl.Expr) -> pl.DataFrame:
    """Add columns computed only on the rows where ``mask`` holds (null elsewhere).

    polars evaluates both branches of ``when/then`` on every row; costly string work
    needed by few rows (odd timestamp spellings, marker candidates) is done here instead
    and scattered back by position (no join)."""
    sel = df.select(mask.fill_null(False)).to_series()
    # filter only the columns the expressions read (filtering a wide frame costs per column)
    needed = sorted({n for e in exprs.values() for n in e.meta.root_names()})
    sub = (df.select(needed) if needed else df).filter(sel).select(*(e.alias(k) for k, e in exprs.items()))
    idx = sel.arg_true()
    cols = []
    for k in exprs:
        full = pl.repeat(None, df.height, dtype=sub.schema[k], eager=True).alias(k)
        if len(idx):
            full = full.scatter(idx, sub.get_column(k))
        cols.append(full)
    return df.with_columns(cols)


_FMT = "%Y-%m-%d %H:%M:%S"


def with_sent_at(df: pl.DataFrame, raw: str, label: str = "发送时间", leave_to_stager: bool = True, typed: bool = False) -> pl.DataFrame:
    """``sent_at`` = normalised ``raw``; when that fails the raw text is kept and a
    reason is added to ``_reason`` (the stager quarantines the row).

    ``leave_to_stager``: add no reason where the stager reports the same problem itself
    (missing time: ``缺少…``; a raw text it cannot parse either: ``…无法解析: '…'``), so
    the quarantine reason appears once. A raw text only the stager would accept (e.g. a
    bare date) still gets the reader's reason, so the row is quarantined all the same.

    ``typed``: when every present time normalised, ``sent_at`` is handed as a Datetime (the
    stager takes it as it is instead of parsing the text again); else it is text as above.

    The common ``YYYY-MM-DD HH:MM:SS`` spelling is parsed directly; only the other rows
    go through the regex of :func:`normalize_sent_at`."""
    ts_raw = df.get_column(raw).cast(pl.String).str.strip_chars().replace("", None)
    dt = ts_raw.str.to_datetime(_FMT, strict=False, time_unit="us", cache=False)  # times are nearly all distinct
    odd = (dt.is_null() & ts_raw.is_not_null()).arg_true()
    slow = None
    if len(odd):  # the other spellings, by position (few rows)
        slow = pl.select(normalize_sent_at(pl.lit(ts_raw.gather(odd)))).to_series()
        # 2026-13-40 has the right shape but is no time: treat it as unparseable too
        slow_dt = slow.str.to_datetime(_FMT, strict=False, time_unit="us")
        slow = slow.zip_with(slow_dt.is_not_null(), pl.Series([None], dtype=pl.String))
        dt = dt.scatter(odd, slow_dt)
    failed = (dt.is_null() & ts_raw.is_not_null()).arg_true()
    raw_failed = ts_raw.gather(failed)
    reason = pl.Series([], dtype=pl.String).extend_constant(None, len(ts_raw))
    if leave_to_stager:
        # on rows the reader rejects, would the stager accept the raw text? (then say why here)
        stager_ok = pl.select(parse_datetime(pl.lit(raw_failed)).is_not_null()).to_series()
        say = failed.filter(stager_ok)
        if len(say):
            reason = reason.scatter(say, f"{label}无法解析: '" + raw_failed.filter(stager_ok) + "'")
    else:
        if ts_raw.null_count():
            reason = reason.scatter(ts_raw.is_null().arg_true(), f"缺少{label}")
        if len(failed):
            reason = reason.scatter(failed, f"{label}无法解析: '" + raw_failed + "'")
    if typed and not len(failed):
        sent_at = dt
    else:
        sent_at = dt.dt.to_string(_FMT)
        if slow is not None:
            sent_at = sent_at.scatter(odd, slow)  # the normalised text itself
        if len(failed):
            sent_at = sent_at.scatter(failed, raw_failed)
    return df.with_columns(sent_at=sent_at, _reason=add_reason(pl.lit(reason)))


def add_reason(new: pl.Expr) -> pl.Expr:
    """``_reason`` with ``new`` appended (``; `` separated); expects ``_reason`` to exist."""
    return pl.concat_str([pl.col("_reason"), new], separator="; ", ignore_nulls=True).replace("", None)


# ---------------------------------------------------------------- roles


@dataclass
class FileShops:
    """The shop names of a file read in chunks (:func:`shop_names` of the whole file is
    what a role depends on): ``seen`` grows chunk by chunk; ``complete`` once it holds every
    chunk's. ``open``: senders of the last chunk whose role depends on a shop name not seen
    yet (a sender without a colon, no stated role): the reader must learn the whole file's
    shop names before handing that chunk on."""

    seen: set[str] = field(default_factory=set)
    complete: bool = False
    open: set[str] = field(default_factory=set)


_SHOP_COLS = ["sender", "agent_account", "transfer_from", "transfer_to"]


def resolve_roles(df: pl.DataFrame, markers: ChatMarkers | None = None, file_shops: FileShops | None = None) -> pl.DataFrame:
    """Fill ``sender_role`` and ``is_auto_reply``.

    Input columns: ``sender``, ``text``, ``event`` and optional ``_role_hint`` (a role the
    source states: qianniu 账号类型, flat 发送方角色) and ``_auto_hint`` (Boolean).
    Rules in the module docstring. ``file_shops``: ``df`` is one chunk of a file (see
    :class:`FileShops`)."""
    markers = markers or load_chat_markers()
    shops = shop_names(df, _SHOP_COLS)
    sender = pl.col("sender")
    hint = pl.col("_role_hint") if "_role_hint" in df.columns else pl.lit(None, dtype=pl.String)
    if file_shops is not None:
        file_shops.seen.update(shops)
        shops = sorted(file_shops.seen)
        if not file_shops.complete:  # rows whose role the base rule takes from the shop names
            by_shop = (
                ~(pl.col("event") == "transfer").fill_null(False) & hint.is_null() & sender.is_not_null()
                & ~sender.is_in(list(SYSTEM_SENDERS)) & ~is_sub_account(sender)
            )
            undecided = df.select(sender.filter(by_shop).unique()).to_series().to_list()
            file_shops.open = set(undecided) - file_shops.seen
    base = (
        pl.when(pl.col("event") == "transfer")
        .then(pl.lit("system"))
        .when(hint.is_not_null())
        .then(hint)
        .when(sender.is_null() | sender.is_in(list(SYSTEM_SENDERS)))
        .then(pl.lit("system"))
        .when(is_sub_account(sender) | sender.is_in(shops))
        .then(pl.lit("agent"))
        .otherwise(pl.lit("buyer"))
    )
    df = df.with_columns(__base=base)
    # NFKC only where a marker's core (its longest word-character run) occurs
    cores = sorted({_core(m) for m in markers.auto_reply + markers.system if _core(m)})
    # a regex alternation of literals (SIMD prefilter) is ~3x contains_any here
    cand = pl.col("text").str.contains("|".join(re.escape(c) for c in cores)).fill_null(False) if cores else pl.lit(True)
    nf = pl.col("text").fill_null("").str.normalize("NFKC")
    df = on_subset(
        df,
        cand,
        __auto=nf.str.contains_any(list(markers.auto_reply)) if markers.auto_reply else pl.lit(False),
        __sys=nf.str.contains_any(list(markers.system)) if markers.system else pl.lit(False),
    )
    has_auto, has_sys = pl.col("__auto").fill_null(False), pl.col("__sys").fill_null(False)
    is_msg = pl.col("event") == "message"
    df = df.with_columns(__auto=is_msg & has_auto & ~(hint == "buyer").fill_null(False) & ~has_sys, __sys=is_msg & has_sys)
    auto_hint = pl.col("_auto_hint").fill_null(False) if "_auto_hint" in df.columns else pl.lit(False)
    return df.with_columns(
        sender_role=pl.when(pl.col("__sys")).then(pl.lit("system")).when(pl.col("__auto")).then(pl.lit("agent")).otherwise(pl.col("__base")),
        is_auto_reply=pl.col("__auto") | (auto_hint & ~pl.col("__sys")),
    ).drop("__base", "__auto", "__sys")


def _core(marker: str) -> str:
    runs = re.findall(r"\w+", marker)
    return max(runs, key=len) if runs else ""


def flag_lost_speaker(df: pl.DataFrame, lost: pl.Expr, reason: pl.Expr | str) -> pl.DataFrame:
    """Add ``reason`` to ``_reason`` on the ``lost`` rows — a message or recall whose file
    no longer says who spoke — unless it is a transfer or its text carries a system marker
    (a notice needs no speaker). Such a row must be quarantined, not turned into a system
    line: a buyer question or an agent reply would silently leave the response times.
    Expects ``text``, ``event`` and ``_reason``."""
    markers = load_chat_markers()
    cand = lost.fill_null(False) & (pl.col("event") != "transfer")
    sysmark = pl.col("text").fill_null("").str.normalize("NFKC").str.contains_any(list(markers.system)) if markers.system else pl.lit(False)
    df = on_subset(df, cand, __lost=~sysmark)
    why = pl.lit(reason) if isinstance(reason, str) else reason
    return df.with_columns(_reason=add_reason(pl.when(pl.col("__lost").fill_null(False)).then(why))).drop("__lost")


# ---------------------------------------------------------------- threads


def file_owner(df: pl.DataFrame) -> str | None:
    """The agent account that speaks most in the file (first seen wins a tie)."""
    agents = df.filter((pl.col("sender_role") == "agent") & is_sub_account(pl.col("sender")))
    if agents.height == 0:
        return None
    counts = agents.group_by("sender", maintain_order=True).len()
    return counts.sort("len", descending=True, maintain_order=True).item(0, "sender")


def assign_agent_accounts(df: pl.DataFrame, conv: str, default: pl.Expr | None = None) -> pl.DataFrame:
    """``agent_account`` (the thread's agent) for every row; ``conv`` groups one conversation.

    * an agent's own message or recall: the sender;
    * a transfer ``A -> B``: A (the agent handing over); later rows of the conversation
      belong to B;
    * buyer and system rows: the agent handling the conversation at that moment = the last
      agent (or transfer target) before it in the same conversation; rows before any agent
      spoke go to the first agent who speaks (or hands over) later;
    * a conversation where no agent ever speaks: ``default`` (an expression, e.g. an
      account the source names for the conversation), else the file owner
      (:func:`file_owner`); none at all -> null with a ``_reason``.
    """
    owner = file_owner(df)
    agent_row = (pl.col("sender_role") == "agent") & pl.col("sender").is_not_null()
    transfer = pl.col("event") == "transfer"
    after = pl.when(agent_row).then(pl.col("sender")).when(transfer).then(pl.col("transfer_to"))
    before = pl.when(agent_row).then(pl.col("sender")).when(transfer).then(pl.col("transfer_from"))
    out = df.with_columns(
        agent_account=pl.when(agent_row)
        .then(pl.col("sender"))
        .when(transfer & pl.col("transfer_from").is_not_null())
        .then(pl.col("transfer_from"))
        .otherwise(
            pl.coalesce(
                after.forward_fill().over(conv),
                before.backward_fill().over(conv),
                default if default is not None else pl.lit(None, dtype=pl.String),
                pl.lit(owner, dtype=pl.String),
            )
        )
    )
    return out.with_columns(
        sender=pl.when(pl.col("sender").is_null() & (pl.col("sender_role") == "agent"))
        .then(pl.col("agent_account"))
        .otherwise(pl.col("sender")),
        _reason=add_reason(pl.when(pl.col("agent_account").is_null()).then(pl.lit("无法确定客服账号(文件中没有客服发言)")))
    )


# ---------------------------------------------------------------- output

_STRING_COLS = [c.name for c in MESSAGES.cols if c.name not in ("is_auto_reply", "seq")]


def finalize(df: pl.DataFrame) -> pl.DataFrame:
    """Canonical column order and dtypes; ``shop`` from ``agent_account`` when not given;
    ``seq`` = 0-based order in the file; lineage and ``_reason`` last."""
    if "shop" not in df.columns or df.get_column("shop").null_count() == df.height:
        df = df.with_columns(shop=shop_of(pl.col("agent_account")))
    elif df.get_column("shop").null_count():
        df = df.with_columns(shop=pl.coalesce(pl.col("shop"), shop_of(pl.col("agent_account"))))
    for c in _STRING_COLS + ["source_sheet", "_reason"]:
        if c not in df.columns:
            df = df.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    if "is_auto_reply" not in df.columns:
        df = df.with_columns(is_auto_reply=pl.lit(False))
    df = df.with_columns(
        # a read receipt belongs to a message, never to a notice
        read_status=pl.when(pl.col("event") == "message").then(pl.col("read_status")),
        text=pl.col("text").cast(pl.String).replace("", None),
    )
    df = df.with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64))
    cols = []
    for c in MESSAGES.names:
        dtype = {"is_auto_reply": pl.Boolean, "seq": pl.Int64}.get(c, pl.String)
        if c == "sent_at" and df.schema[c].is_temporal():
            dtype = df.schema[c]  # typed by with_sent_at(typed=True)
        cols.append(pl.col(c).cast(dtype))
    cols += [pl.col("source_row").cast(pl.Int64), pl.col("source_sheet").cast(pl.String), pl.col("_reason").cast(pl.String)]
    return df.select(cols)


# ---------------------------------------------------------------- recall / transfer notices

RECALL_RE = r"^\s*(.*?)\s*撤回了一条消息[。.!！]?\s*$"
TRANSFER_RE = r"(?s)^\s*由\s*(\S+?)\s*转交给\s*(\S+?)\s*[。.,，]?\s*(?:原因[：:]\s*(.*?))?\s*$"
_PRONOUNS = ("你", "您", "对方", "")


def events_from_text(df: pl.DataFrame) -> pl.DataFrame:
    """For row-per-message layouts: a text ``X 撤回了一条消息`` is a recall by X (X = 你/对方
    keeps the row's sender); ``由 A 转交给 B`` (optionally ``原因：...`` in the same cell)
    is a transfer notice. Other rows are ``message`` unless ``event`` is already set."""
    text = pl.col("text").fill_null("")
    tr = text.str.extract_groups(TRANSFER_RE)
    df = on_subset(
        df,
        text.str.contains("撤回了一条消息|转交给"),  # one pass: an alternation of literals
        __rec_who=text.str.extract(RECALL_RE, 1),
        __is_rec=text.str.contains(RECALL_RE),
        __is_tr=text.str.contains(TRANSFER_RE),
        __tf=tr.struct.field("1"),
        __tt=tr.struct.field("2"),
        __tr_reason=tr.struct.field("3"),
    )
    rec = pl.col("__rec_who")
    tr_from, tr_to, tr_reason = pl.col("__tf"), pl.col("__tt"), pl.col("__tr_reason")
    is_rec = pl.col("__is_rec").fill_null(False)
    is_tr = pl.col("__is_tr").fill_null(False)
    ev = pl.col("event") if "event" in df.columns else pl.lit(None, dtype=pl.String)
    new_event = pl.when(is_tr).then(pl.lit("transfer")).when(is_rec).then(pl.lit("recall")).otherwise(pl.lit("message"))

    def given(name: str) -> pl.Expr:
        return pl.col(name) if name in df.columns else pl.lit(None, dtype=pl.String)

    out = df.with_columns(
        event=pl.coalesce(ev, new_event),
        transfer_from=pl.coalesce(given("transfer_from"), pl.when(is_tr).then(norm_account(tr_from))),
        transfer_to=pl.coalesce(given("transfer_to"), pl.when(is_tr).then(norm_account(tr_to))),
        transfer_reason=pl.coalesce(
            given("transfer_reason"), pl.when(is_tr).then(tr_reason.str.strip_chars().replace("", None))
        ),
        sender=pl.when(is_rec & ~is_tr & ~rec.is_in(list(_PRONOUNS))).then(norm_account(rec)).otherwise(pl.col("sender")),
    )
    # the notice line is not a message text; keep it out of word counts
    return out.with_columns(text=pl.when(pl.col("event") == "message").then(pl.col("text"))).drop(
        "__rec_who", "__is_rec", "__is_tr", "__tf", "__tt", "__tr_reason"
    )
