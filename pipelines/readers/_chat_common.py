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

import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import polars as pl
import yaml

from pipelines.staging.schemas import MESSAGES

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
    s = e.cast(pl.String).str.strip_chars().str.replace_all("：", ":", literal=True)
    return pl.when(s == "").then(None).otherwise(s)


def shop_of(e: pl.Expr) -> pl.Expr:
    """``店铺名:子账号`` -> ``店铺名``; an account without a colon is itself the shop."""
    return e.str.split(":").list.first()


def is_sub_account(e: pl.Expr) -> pl.Expr:
    return e.str.contains(":", literal=True).fill_null(False)


def shop_names(df: pl.DataFrame, cols: list[str]) -> list[str]:
    """Shop names appearing in any ``店铺名:子账号`` value of ``cols``."""
    vals = pl.concat([df.get_column(c).drop_nulls() for c in cols if c in df.columns] or [pl.Series([], dtype=pl.String)])
    return vals.filter(vals.str.contains(":", literal=True)).str.split(":").list.first().unique().to_list()


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


def with_sent_at(df: pl.DataFrame, raw: str, label: str = "发送时间") -> pl.DataFrame:
    """``sent_at`` = normalised ``raw``; when that fails the raw text is kept and a
    reason is added to ``_reason`` (the stager quarantines the row)."""
    norm = normalize_sent_at(pl.col(raw))
    rawc = pl.col(raw).cast(pl.String).str.strip_chars().replace("", None)
    reason = (
        pl.when(norm.is_null() & rawc.fill_null("").ne(""))
        .then(pl.format(f"{label}无法解析: '{{}}'", rawc))
        .when(rawc.fill_null("").eq(""))
        .then(pl.lit(f"缺少{label}"))
        .otherwise(None)
    )
    return df.with_columns(sent_at=pl.coalesce(norm, rawc), _reason=add_reason(reason))


def add_reason(new: pl.Expr) -> pl.Expr:
    """``_reason`` with ``new`` appended (``; `` separated); expects ``_reason`` to exist."""
    return pl.concat_str([pl.col("_reason"), new], separator="; ", ignore_nulls=True).replace("", None)


# ---------------------------------------------------------------- roles


def resolve_roles(df: pl.DataFrame, markers: ChatMarkers | None = None) -> pl.DataFrame:
    """Fill ``sender_role`` and ``is_auto_reply``.

    Input columns: ``sender``, ``text``, ``event`` and optional ``_role_hint`` (a role the
    source states: qianniu 账号类型, flat 发送方角色) and ``_auto_hint`` (Boolean).
    Rules in the module docstring."""
    markers = markers or load_chat_markers()
    shops = shop_names(df, ["sender", "agent_account", "transfer_from", "transfer_to"])
    sender = pl.col("sender")
    hint = pl.col("_role_hint") if "_role_hint" in df.columns else pl.lit(None, dtype=pl.String)
    base = (
        pl.when(hint.is_not_null())
        .then(hint)
        .when(pl.col("event") == "transfer")
        .then(pl.lit("system"))
        .when(sender.is_null() | sender.is_in(list(SYSTEM_SENDERS)))
        .then(pl.lit("system"))
        .when(is_sub_account(sender) | sender.is_in(shops))
        .then(pl.lit("agent"))
        .otherwise(pl.lit("buyer"))
    )
    text = pl.col("text").fill_null("").str.normalize("NFKC")
    has_auto = text.str.contains_any(list(markers.auto_reply)) if markers.auto_reply else pl.lit(False)
    has_sys = text.str.contains_any(list(markers.system)) if markers.system else pl.lit(False)
    is_msg = pl.col("event") == "message"
    auto = is_msg & has_auto & ~(hint == "buyer").fill_null(False) & ~has_sys
    auto_hint = pl.col("_auto_hint").fill_null(False) if "_auto_hint" in df.columns else pl.lit(False)
    return df.with_columns(
        sender_role=pl.when(is_msg & has_sys).then(pl.lit("system")).when(auto).then(pl.lit("agent")).otherwise(base),
        is_auto_reply=(auto | (auto_hint & ~(is_msg & has_sys))),
    )


# ---------------------------------------------------------------- threads


def file_owner(df: pl.DataFrame) -> str | None:
    """The agent account that speaks most in the file (first seen wins a tie)."""
    agents = df.filter((pl.col("sender_role") == "agent") & is_sub_account(pl.col("sender")))
    if agents.height == 0:
        return None
    counts = agents.group_by("sender", maintain_order=True).len()
    return counts.sort("len", descending=True, maintain_order=True).item(0, "sender")


def assign_agent_accounts(df: pl.DataFrame, conv: str) -> pl.DataFrame:
    """``agent_account`` (the thread's agent) for every row; ``conv`` groups one conversation.

    * an agent's own message or recall: the sender;
    * a transfer ``A -> B``: A (the agent handing over); later rows of the conversation
      belong to B;
    * buyer and system rows: the agent handling the conversation at that moment = the last
      agent (or transfer target) before it in the same conversation; rows before any agent
      spoke go to the first agent who speaks (or hands over) later;
    * a conversation where no agent ever speaks: the file owner (:func:`file_owner`);
      none at all -> null with a ``_reason``.
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
                pl.lit(owner, dtype=pl.String),
            )
        )
    )
    return out.with_columns(
        _reason=add_reason(pl.when(pl.col("agent_account").is_null()).then(pl.lit("无法确定客服账号(文件中没有客服发言)")))
    )


# ---------------------------------------------------------------- output

_STRING_COLS = [c.name for c in MESSAGES.cols if c.name not in ("is_auto_reply", "seq")]


def finalize(df: pl.DataFrame) -> pl.DataFrame:
    """Canonical column order and dtypes; ``shop`` from ``agent_account`` when not given;
    ``seq`` = 0-based order in the file; lineage and ``_reason`` last."""
    if "shop" not in df.columns or df.get_column("shop").null_count() == df.height:
        df = df.with_columns(shop=shop_of(pl.col("agent_account")))
    else:
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
        cols.append(pl.col(c).cast(dtype))
    cols += [pl.col("source_row").cast(pl.Int64), pl.col("source_sheet").cast(pl.String), pl.col("_reason").cast(pl.String)]
    return df.select(cols)
