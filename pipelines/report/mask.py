"""Mask buyers' personal data before it is shown in a report (vectorised polars expressions).

Rules (documented in docs/reports.md):

* mobile numbers ``1[3-9]`` + 9 digits (optionally ``+86``/``86`` and ``-``/space separators)
  → first 3 + ``****`` + last 4: ``13812345678`` → ``138****5678``. A number that is part of a
  longer digit run (an order id) is left alone.
* landlines ``0`` + 2–3 digit area code + 7–8 digits → area code + ``-****`` + last 4:
  ``0571-87654321`` → ``0571-****4321``.
* addresses: province/city kept, everything after → ``****``:
  ``浙江省杭州市西湖区文三路100号`` → ``浙江省杭州市****``; ``上海浦东新区…`` → ``上海****``.
  A street with a house number but no city (``文三路100号``) → ``****``.
* a name after 收件人/收货人/联系人/姓名/寄件人 → first character + ``**``; a nick after
  买家/昵称/旺旺/会员名 (ASCII nick, or a Chinese nick after a colon) → first + ``**`` + last.
* buyer nicks: first + ``**`` + last character (``张小明三`` → ``张**三``); nicks of 1–2
  characters → first character + ``*``.
* inside a text, the row's own buyer nick (2+ characters) is replaced by its masked form.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

# Rust-regex (no look-around): the boundary character is captured and put back; a second pass
# catches numbers that were adjacent to a previous match (the boundary was consumed).
_MOBILE = r"(^|[^\d])((?:\+?86[- ]?)?1[3-9]\d)[- ]?\d{4}[- ]?(\d{4})($|[^\d])"
_MOBILE_TO = "${1}${2}****${3}${4}"
_LANDLINE = r"(^|[^\d])(0\d{2,3})[- ]?\d{3,4}(\d{4})($|[^\d])"
_LANDLINE_TO = "${1}${2}-****${3}${4}"

_ADDR_SUFFIX = "区|县|镇|乡|街道|路|街|巷|弄|村|号|栋|幢|室|单元|楼|层|大厦|小区|苑|园|座"
_ADDR_KEEP = (
    r"((?:\p{Han}{2,7}?(?:省|自治区)\s?)?"
    r"(?:\p{Han}{2,7}?(?:市|自治州)|北京|上海|天津|重庆))"
)
# What follows the city must look like an address: a district/county, or a number + 号/室...
_ADDR_TAIL = (
    r"\s?(?:\p{Han}{1,6}?(?:区|县|旗)|[\p{Han}A-Za-z]{0,12}?\d+\s?(?:号|栋|幢|室|单元|弄|楼|层))"
    rf"(?:\s?[\p{{Han}}A-Za-z0-9\-#]{{0,12}}?(?:{_ADDR_SUFFIX}))*"
    r"[\p{Han}A-Za-z0-9\-#]*"
)
_ADDRESS = _ADDR_KEEP + _ADDR_TAIL
_ADDRESS_TO = "${1}****"
_STREET = (
    r"\p{Han}{1,8}?(?:路|街|大道|巷|弄)\s?\d+\s?(?:号|弄)"
    r"[\p{Han}A-Za-z0-9\-#]*"
)
_LABELLED_NAME = r"(收件人|收货人|联系人|姓名|寄件人)([:：\s]*)(\p{Han})\p{Han}{1,3}"
_LABELLED_NAME_TO = "${1}${2}${3}**"
# A nick written after 买家/昵称/旺旺/会员名 in free text (adjustment details, notes): ASCII-ish
# nicks need no separator; a Chinese nick needs a colon (else "买家表扬…" would be taken).
_NICK_LABEL = r"(买家|昵称|旺旺|会员名)"
_LABELLED_NICKS = (  # (pattern, replacement): 3+ chars → first**last, 2 chars → first*
    (_NICK_LABEL + r"([:：]?\s*)([A-Za-z0-9])[A-Za-z0-9_\-]+([A-Za-z0-9_])", "${1}${2}${3}**${4}"),
    (_NICK_LABEL + r"([:：]?\s*)([A-Za-z0-9])[A-Za-z0-9_\-]($|[^A-Za-z0-9_\-*])", "${1}${2}${3}*${4}"),
    (_NICK_LABEL + r"([:：]\s*)(\p{Han})\p{Han}+(\p{Han})", "${1}${2}${3}**${4}"),
    (_NICK_LABEL + r"([:：]\s*)(\p{Han})\p{Han}($|[^\p{Han}*])", "${1}${2}${3}*${4}"),
)


def mask_phones(expr: pl.Expr) -> pl.Expr:
    """Mask mobile and landline numbers in a string expression."""
    for _ in range(2):
        expr = expr.str.replace_all(_MOBILE, _MOBILE_TO)
    for _ in range(2):
        expr = expr.str.replace_all(_LANDLINE, _LANDLINE_TO)
    return expr


def mask_addresses(expr: pl.Expr) -> pl.Expr:
    """Keep province/city of an address and replace the rest with ``****``."""
    return expr.str.replace_all(_ADDRESS, _ADDRESS_TO).str.replace_all(_STREET, "****")


def mask_labelled_names(expr: pl.Expr) -> pl.Expr:
    """Mask a name after 收件人/收货人/联系人/姓名/寄件人 and a nick after 买家/昵称/旺旺/会员名."""
    expr = expr.str.replace_all(_LABELLED_NAME, _LABELLED_NAME_TO)
    for pattern, to in _LABELLED_NICKS:
        expr = expr.str.replace_all(pattern, to)
    return expr


def mask_nick(expr: pl.Expr) -> pl.Expr:
    """Mask a buyer nick: first + ``**`` + last char; 1–2 chars → first char + ``*``."""
    n = expr.str.len_chars()
    first = expr.str.slice(0, 1)
    last = expr.str.slice(-1, 1)
    return (
        pl.when(expr.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(n == 0)
        .then(expr)
        .when(n <= 2)
        .then(first + pl.lit("*"))
        .otherwise(first + pl.lit("**") + last)
    )


def mask_text(expr: pl.Expr, buyer: pl.Expr | None = None) -> pl.Expr:
    """Mask free text (chat excerpt, detail): the row's buyer nick, phones, addresses, names."""
    if buyer is not None:
        own = buyer.cast(pl.String)
        replaced = expr.str.split(own).list.join(mask_nick(own))
        expr = (
            pl.when(own.is_not_null() & (own.str.len_chars() >= 2) & expr.is_not_null())
            .then(replaced)
            .otherwise(expr)
        )
    return mask_labelled_names(mask_addresses(mask_phones(expr)))


def mask_frame(
    df: pl.DataFrame,
    text_cols: Iterable[str] = ("excerpt", "detail", "text", "content"),
    nick_cols: Iterable[str] = ("buyer",),
    buyer_col: str = "buyer",
) -> pl.DataFrame:
    """Return ``df`` with every present text column and nick column masked.

    Text columns are masked first (they use the unmasked buyer nick of the row), then nicks.
    Absent columns are skipped; other columns are untouched.
    """
    has_buyer = buyer_col in df.columns
    buyer = pl.col(buyer_col).cast(pl.String) if has_buyer else None
    exprs = [
        mask_text(pl.col(c).cast(pl.String), buyer).alias(c) for c in text_cols if c in df.columns
    ]
    if exprs:
        df = df.with_columns(exprs)
    nick_exprs = [mask_nick(pl.col(c).cast(pl.String)).alias(c) for c in nick_cols if c in df.columns]
    if nick_exprs:
        df = df.with_columns(nick_exprs)
    return df
