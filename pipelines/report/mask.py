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

from collections.abc import Callable, Iterable
from typing import TypeVar

import polars as pl

# Rust-regex (no look-around): the boundary character is captured and put back; a second pass
# catches numbers that were adjacent to a previous match (the boundary was consumed).
# Every pattern captures (boundary, kept head, masked middle, kept tail, boundary) so the same
# pattern serves the report form (fixed ``****``) and the length-preserving stored form.
_MOBILE = r"(^|[^\d])((?:\+?86[- ]?)?1[3-9]\d)([- ]?\d{4}[- ]?)(\d{4})($|[^\d])"
_MOBILE_TO = "${1}${2}****${4}${5}"
_LANDLINE = r"(^|[^\d])(0\d{2,3})([- ]?\d{3,4})(\d{4})($|[^\d])"
_LANDLINE_TO = "${1}${2}-****${4}${5}"
# 18-digit resident ID: 6-digit region (first digit 1-6), birth date, 3-digit sequence, check
# digit or X. The date structure keeps 18-digit order/refund ids from matching.
_ID_CARD = (
    r"(^|[^\d])([1-6]\d{5})((?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))"
    r"(\d{3}[\dXx])($|[^\dXx])"
)
_ID_CARD_TO = "${1}${2}********${4}${5}"
_KEEP_TO = "${1}${2}\ue000${3}\ue001${4}${5}"
# Markers around a span to be starred character by character (private-use code points).
_OPEN, _CLOSE = "\ue000", "\ue001"

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
_ADDRESS = _ADDR_KEEP + "(" + _ADDR_TAIL + ")"
_ADDRESS_TO = "${1}****"
_ADDRESS_KEEP_TO = "${1}\ue000${2}\ue001"
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
    # two passes: a number adjacent to a previous match lost its boundary to it
    for _ in range(2):
        expr = expr.str.replace_all(_MOBILE, _MOBILE_TO)
    for _ in range(2):
        expr = expr.str.replace_all(_LANDLINE, _LANDLINE_TO)
    return expr


def mask_id_cards(expr: pl.Expr) -> pl.Expr:
    """Mask 18-digit ID-card numbers: region (6) and last 4 kept, birth date → ``********``."""
    for _ in range(2):
        expr = expr.str.replace_all(_ID_CARD, _ID_CARD_TO)
    return expr


def mask_addresses(expr: pl.Expr) -> pl.Expr:
    """Keep province/city of an address and replace the rest with ``****``."""
    return expr.str.replace_all(_ADDRESS, _ADDRESS_TO).str.replace_all(_STREET, "****")


# The stored (at-rest) form: same patterns, but each masked character becomes one ``*`` so a
# text keeps its length (character-count metrics do not move). ID cards go first: an ID holds
# phone-like digit runs. Two passes where a match can eat the boundary of the next one.
_STORED_STEPS = {
    "id_cards": [(_ID_CARD, _KEEP_TO)] * 2,
    "phones": [(_MOBILE, _KEEP_TO)] * 2 + [(_LANDLINE, _KEEP_TO)] * 2,
    "addresses": [(_ADDRESS, _ADDRESS_KEEP_TO), (_STREET, _OPEN + "${0}" + _CLOSE)],
}


def _star_marked(expr: pl.Expr) -> pl.Expr:
    """Replace every character between the markers with ``*`` and drop the markers."""
    head_tail = pl.element().str.split_exact(_CLOSE, 1)
    return expr.str.split(_OPEN).list.eval(
        pl.when(pl.element().str.contains(_CLOSE, literal=True))
        .then(head_tail.struct.field("field_0").str.replace_all(r"(?s).", "*") + head_tail.struct.field("field_1"))
        .otherwise(pl.element())
    ).list.join("")


# What a text must hold for a stored-mask pattern of each kind to match it (a necessary
# condition, checked with one cheap pass): an ID card (17 digits in a row) and every phone
# pattern hold a run of 4 digits; an address names a city (市/自治州) or a municipality; a
# street ends in a number + 号/弄. ``\d`` and ``\s`` are Unicode here as in the patterns.
# Our own markers are candidates too (they are dropped from any text that carries them).
_STORED_PREFILTER = {
    "id_cards": r"\d{4}",
    "phones": r"\d{4}",
    "addresses": r"市|自治州|北京|上海|天津|重庆|\d\s?[号弄]",
}


def _mask_stored_all(s: pl.Series, kinds: list[str]) -> pl.Series:
    """The stored mask of ``kinds`` applied to every text of ``s`` (no prefilter)."""
    has_marker = s.str.contains(f"[{_OPEN}{_CLOSE}]")
    if has_marker.any():  # markers are ours: drop any the input carried
        s = pl.select(pl.when(pl.lit(has_marker)).then(pl.lit(s).str.replace_all(f"[{_OPEN}{_CLOSE}]", "")).otherwise(pl.lit(s))).to_series()
    for kind in kinds:
        for pattern, to in _STORED_STEPS[kind]:
            marked = s.str.replace_all(pattern, to)
            idx = marked.str.contains(_OPEN, literal=True).arg_true()
            if len(idx):
                starred = pl.select(_star_marked(pl.lit(marked.gather(idx)))).to_series()
                s = s.scatter(idx, starred)
    return s


def mask_pii_stored(texts: pl.Series, phones: bool = True, id_cards: bool = True,
                    addresses: bool = True) -> pl.Series:
    """Length-preserving mask of ID cards, phones and addresses in a text series (the form
    the warehouse stores): ``13812345678`` → ``138****5678``, ``110105199003071234`` →
    ``110105********1234``, ``浙江省杭州市西湖区文三路100号`` → ``浙江省杭州市*********``.

    Only the texts a cheap prefilter flags (:data:`_STORED_PREFILTER`: most chat lines
    hold no digit run and no city) go through the patterns, a step at a time on
    materialised series (an expression chain would repeat its input per step); only the
    rows a pattern hit are starred."""
    s = texts.cast(pl.String)
    kinds = [k for k, on in (("id_cards", id_cards), ("phones", phones), ("addresses", addresses)) if on]
    if not len(s):
        return s.alias(texts.name)
    prefilter = "|".join(dict.fromkeys([f"[{_OPEN}{_CLOSE}]"] + [_STORED_PREFILTER[k] for k in kinds]))
    idx = s.str.contains(prefilter).fill_null(False).arg_true()
    if len(idx):
        s = s.scatter(idx, _mask_stored_all(s.gather(idx), kinds))
    return s.alias(texts.name)


def mask_known_nicks(expr: pl.Expr, nicks: Iterable[str], min_chars: int = 3) -> pl.Expr:
    """Replace every occurrence of any of ``nicks`` (of ``min_chars``+ characters: shorter
    ones would hit ordinary words) by its masked form (see :func:`mask_nick`)."""
    found = sorted({n for n in nicks if n and len(n) >= min_chars}, key=lambda n: (-len(n), n))
    if not found:
        return expr
    masked = pl.DataFrame({"n": found}).select(mask_nick(pl.col("n")).alias("n"))["n"].to_list()
    return expr.str.replace_many(found, masked, leftmost=True)


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


def mask_own_nick(expr: pl.Expr, buyer: pl.Expr) -> pl.Expr:
    """Replace the row's buyer nick (2+ characters) inside ``expr`` by its masked form."""
    own = buyer.cast(pl.String)
    replaced = expr.str.split(own).list.join(mask_nick(own))
    return (
        pl.when(own.is_not_null() & (own.str.len_chars() >= 2) & expr.is_not_null())
        .then(replaced)
        .otherwise(expr)
    )


def mask_text(expr: pl.Expr, buyer: pl.Expr | None = None) -> pl.Expr:
    """Mask free text (chat excerpt, detail): the row's buyer nick, phones, addresses, names."""
    if buyer is not None:
        expr = mask_own_nick(expr, buyer)
    return mask_labelled_names(mask_addresses(mask_phones(mask_id_cards(expr))))


def nicks_in(lines: list[str], nicks: Iterable[str] | pl.Series) -> pl.Series:
    """The distinct ``nicks`` that occur in at least one of ``lines``, by one vectorised
    literal search per nick over the lines (joined by a newline; a nick spanning two lines is
    kept, which changes nothing: it matches no line)."""
    s = nicks if isinstance(nicks, pl.Series) else pl.Series(list(nicks), dtype=pl.String)
    text = "\n".join(lines)
    return (pl.DataFrame({"n": s.cast(pl.String)}).lazy().drop_nulls().unique()
            .filter(pl.lit(text).str.contains(pl.col("n"), literal=True)).collect()["n"])


def mask_lines(lines: list[str], nicks: Iterable[str] | pl.Series = ()) -> list[str]:
    """Mask free-form output lines (console, ``kefu explain``): known buyer nicks, then
    :func:`mask_text`. Only the nicks that occur in the lines build the replacement (a month
    has hundreds of thousands of nicks, a console a few lines): the same output, since a nick
    that matches nowhere never takes part in the leftmost-longest replacement."""
    if not lines:
        return []
    t = pl.col("t")
    present = nicks_in(lines, nicks).to_list()
    return pl.DataFrame({"t": lines}, schema={"t": pl.String}).select(mask_text(mask_known_nicks(t, present)))["t"].to_list()


# A text none of the patterns of :func:`mask_text` can change holds no 6-digit run (ID cards,
# mobiles and landlines all do, their separators aside), no city or street word and no label
# of a name or nick. Only the texts this finds go through the regex chain (2% of the chat
# excerpts of a month, no evidence detail): the same result for a fraction of the work.
_MAY_HOLD_PII = (r"\d{3}[- ]?\d{3}|市|自治州|北京|上海|天津|重庆|路|街|大道|巷|弄"
                 r"|收件人|收货人|联系人|姓名|寄件人|(?:买家|昵称|旺旺|会员名)(?:[:：]|\s*[A-Za-z0-9])")


def _patch(s: pl.Series, rows: pl.Series, masked: Callable[[pl.DataFrame], pl.Series], frame: pl.DataFrame) -> pl.Series:
    """``s`` with the rows where ``rows`` is true replaced by ``masked`` of those rows of ``frame``."""
    idx = rows.fill_null(False).arg_true()
    if len(idx) == len(s):  # every row (e.g. a conversation id always names its buyer)
        return masked(frame)
    if len(idx):
        s = s.clone().scatter(idx, masked(frame[idx]))
    return s


def mask_text_series(texts: pl.Series, buyers: pl.Series | None = None, patterns: bool = True) -> pl.Series:
    """:func:`mask_text` of a materialised series (``patterns=False``: the own nick only),
    applying each step only to the rows it can change (see ``_MAY_HOLD_PII``)."""
    s = texts.cast(pl.String)
    if buyers is not None:
        b = buyers.cast(pl.String)
        frame = pl.DataFrame({"t": s, "b": b})
        own = frame.select(pl.col("t").str.contains(pl.col("b"), literal=True) & (pl.col("b").str.len_chars() >= 2)).to_series()
        s = _patch(s, own, lambda f: f.select(mask_own_nick(pl.col("t"), pl.col("b"))).to_series(), frame)
    if patterns:
        frame = pl.DataFrame({"t": s})
        s = _patch(s, s.str.contains(_MAY_HOLD_PII),
                   lambda f: f.select(mask_labelled_names(mask_addresses(mask_phones(mask_id_cards(pl.col("t")))))).to_series(), frame)
    return s.alias(texts.name)


def _masked(col: str, buyer_col: str | None, patterns: bool = True) -> pl.Expr:
    """Column ``col`` masked by :func:`mask_text_series`, batch by batch (streams in a lazy frame)."""
    if buyer_col is None:
        return pl.col(col).map_batches(lambda s: mask_text_series(s, None, patterns), return_dtype=pl.String,
                                       is_elementwise=True).alias(col)
    both = pl.struct(pl.col(col).cast(pl.String).alias("t"), pl.col(buyer_col).cast(pl.String).alias("b"))
    return both.map_batches(lambda st: mask_text_series(st.struct.field("t"), st.struct.field("b"), patterns),
                            return_dtype=pl.String, is_elementwise=True).alias(col)


FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


def mask_frame(
    df: FrameT,
    text_cols: Iterable[str] = ("excerpt", "detail", "text", "content"),
    nick_cols: Iterable[str] = ("buyer",),
    buyer_col: str = "buyer",
    source_cols: Iterable[str] = ("source_file", "source_sheet", "conversation_id"),
) -> FrameT:
    """Return ``df`` (a data frame, or a lazy frame: then masked as it streams) with every
    present text column and nick column masked.

    Text columns are masked first (they use the unmasked buyer nick of the row), then nicks.
    In ``source_cols`` only the row's own nick is masked (a Qianniu sheet is named after the
    buyer; a conversation id holds shop|agent|buyer|start). Absent columns are skipped; other
    columns are untouched.
    """
    columns = df.collect_schema().names() if isinstance(df, pl.LazyFrame) else df.columns
    buyer = buyer_col if buyer_col in columns else None
    if isinstance(df, pl.DataFrame):  # held: masked from this thread, series by series
        return _mask_held(df, [c for c in text_cols if c in columns],
                          [c for c in source_cols if c in columns] if buyer else [],
                          [c for c in nick_cols if c in columns], buyer)
    exprs = [_masked(c, buyer) for c in text_cols if c in columns]
    if buyer is not None:
        exprs += [_masked(c, buyer, patterns=False) for c in source_cols if c in columns]
    if exprs:
        df = df.with_columns(exprs)
    nick_exprs = [mask_nick(pl.col(c).cast(pl.String)).alias(c) for c in nick_cols if c in columns]
    if nick_exprs:
        df = df.with_columns(nick_exprs)
    return df


def _mask_held(df: pl.DataFrame, text_cols: list[str], source_cols: list[str], nick_cols: list[str],
               buyer: str | None) -> pl.DataFrame:
    """:func:`mask_frame` of a data frame: the same functions on the same columns, called from
    this thread on whole series instead of as a UDF inside a polars query (a UDF holds one of
    polars' pool threads for the whole masking, and queries of other threads — the report's
    aggregations beside the evidence exports — wait for it)."""
    b = df[buyer].cast(pl.String) if buyer else None
    masked = [mask_text_series(df[c], b) for c in text_cols]
    masked += [mask_text_series(df[c], b, patterns=False) for c in source_cols]
    if masked:
        df = df.with_columns(masked)
    nick_exprs = [mask_nick(pl.col(c).cast(pl.String)).alias(c) for c in nick_cols]
    return df.with_columns(nick_exprs) if nick_exprs else df
