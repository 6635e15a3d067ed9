"""Text normalisation before matching and segmentation.

Steps, in order (docs/analytics.md §Text):
1. NFKC (full-width letters, digits and punctuation -> half-width, e.g. ＡＢＣ１２３！ -> ABC123!),
2. ASCII lower-case,
3. OpenCC traditional -> simplified (``t2s``),
4. emoticon codes such as ``[微笑]`` are moved to their own list column and replaced by a
   space in the text, so ``[大哭]`` never matches the word 哭 and jieba never splits them.

OpenCC is called once per chunk of many messages joined by a separator it leaves alone, not
once per message.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
import opencc
import polars as pl

_SEP = "\x1e"  # ASCII record separator: not in chat text, untouched by OpenCC and NFKC
_CHUNK_CHARS = 4_000_000
_PREFILTER_BYTES = 4_000_000


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_simplified(texts: pl.Series, config: str = "t2s") -> pl.Series:
    """Traditional -> simplified for a whole Series (nulls stay null), chunked bulk conversion."""
    conv = _converter(config)
    filled = texts.fill_null("").str.replace_all(_SEP, " ", literal=True)
    lengths = filled.str.len_bytes().cum_sum()
    # chunk boundaries by cumulative size, so one OpenCC call handles ~4 MB
    chunk_no = (lengths // _CHUNK_CHARS).to_list() if len(filled) else []
    out: list[pl.Series] = []
    frame = pl.DataFrame({"t": filled, "c": pl.Series(chunk_no, dtype=pl.Int64)})
    for _, part in frame.group_by("c", maintain_order=True):
        joined = _SEP.join(part["t"].to_list())
        converted = conv.convert(joined).split(_SEP)
        if len(converted) != part.height:  # defensive: never silently misalign messages
            raise RuntimeError("OpenCC changed the message separator; cannot realign texts")
        out.append(pl.Series(converted, dtype=pl.String))
    result = pl.concat(out) if out else pl.Series([], dtype=pl.String)
    return pl.select(pl.when(texts.is_null()).then(None).otherwise(result)).to_series().rename(texts.name)


def normalize_expr(col: str | pl.Expr) -> pl.Expr:
    """NFKC + ASCII lower-case (the vectorised half of the normalisation)."""
    e = pl.col(col) if isinstance(col, str) else col
    return e.str.normalize("NFKC").str.to_lowercase()


def normalize_texts(texts: pl.Series, settings) -> pl.DataFrame:
    """Return ``norm_text`` (matching text) and ``emoticons`` (list of codes) for ``texts``.

    ``settings`` is a :class:`analytics.settings.TextSettings`. Each distinct text is
    normalised once, and only the steps that can change it run on it
    (:func:`normalize_distinct`); the result is that of the full steps on every text.
    """
    frame = pl.DataFrame({"t": texts.cast(pl.String)})
    distinct = frame.unique("t")
    if distinct.height == frame.height:  # nothing repeats: no mapping back
        return normalize_distinct(frame["t"], settings).drop("t")
    norm = normalize_distinct(distinct["t"], settings)
    return frame.join(norm, on="t", how="left", nulls_equal=True, maintain_order="left").select("norm_text", "emoticons")


def normalize_distinct(texts: pl.Series, settings) -> pl.DataFrame:
    """``t`` (the texts), ``norm_text`` and ``emoticons``: NFKC + lower-case only on texts
    holding a character those can change (:func:`_unicode_variable`), OpenCC only on texts
    holding a character or phrase it converts (:func:`_t2s_candidates`)."""
    t = texts.rename("t")
    nf = t
    # the prefilter tables cost ~0.2 s once per process: below this size converting is cheaper
    big = t.str.len_bytes().sum() > _PREFILTER_BYTES
    idx = (t.str.contains(_unicode_variable()).fill_null(False) if big else t.is_not_null()).arg_true()
    if idx.len():
        nf = t.clone().scatter(idx, pl.select(normalize_expr(pl.lit(t.gather(idx)))).to_series())
    config = settings.opencc_config
    idx = (_t2s_candidates(nf, config) if big else nf.is_not_null()).arg_true()
    simp = nf.clone().scatter(idx, to_simplified(nf.gather(idx), config)) if idx.len() else nf
    pattern = settings.emoticon_pattern
    return pl.DataFrame({"t": t, "s": simp}).select(
        "t",
        pl.col("s").str.replace_all(pattern, " ").alias("norm_text"),
        pl.col("s").str.extract_all(pattern).alias("emoticons"),
    )


def _ranges_class(chars: list[str], negate: bool) -> str:
    """A regex character class of ``chars`` (as code point ranges)."""
    cps = sorted(map(ord, chars))
    parts, a, b = [], cps[0], cps[0]
    for c in [*cps[1:], -1]:
        if c == b + 1:
            b = c
            continue
        parts.append(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}")
        a = b = c
    return ("[^" if negate else "[") + "".join(parts) + "]"


@lru_cache(maxsize=1)
def _unicode_variable() -> str:
    """Regex matching a character that can make ``NFKC`` + lower-case change a text.

    Its complement, the *inert* characters, are those whose NFKD and lower case are
    themselves, with canonical combining class 0, that are not a non-first character of any
    canonical decomposition (so nothing composes with them; NFKC composes canonical pairs
    only) and that are assigned in Python's Unicode tables too (so their combining class is
    known). A text made only of inert characters is unchanged: nothing decomposes, reorders,
    composes or changes case. Tables are polars' own (as ``str.normalize``), so the test
    agrees with the normalisation it skips.
    """
    cps = [0x9, 0xA, 0xD, *range(0x20, 0x7F), *range(0xA0, 0xD800), *range(0xE000, 0x30000)]
    ch = pl.Series("ch", ["\x00".join(map(chr, cps))], dtype=pl.String).str.split("\x00").explode()
    df = pl.DataFrame({"ch": ch}).with_columns(
        pl.col("ch").str.normalize("NFKD").alias("nfkd"), pl.col("ch").str.normalize("NFD").alias("nfd"),
        pl.col("ch").str.to_lowercase().alias("low"))
    tails = df["nfd"].filter(df["nfd"].str.len_chars() > 1)
    non_first = set(tails.str.slice(1).str.split("").explode().to_list())
    inert = df.filter((pl.col("nfkd") == pl.col("ch")) & (pl.col("low") == pl.col("ch"))
                      & ~pl.col("ch").is_in(sorted(non_first)))["ch"].to_list()
    inert = [c for c in inert if unicodedata.combining(c) == 0 and unicodedata.category(c) != "Cn" and c != _SEP]
    return _ranges_class(inert, negate=True)


@lru_cache(maxsize=4)
def _t2s_patterns(config: str) -> list[str] | None:
    """Every character OpenCC ``config`` changes on its own, the separator, and the
    dictionary's phrases; None when the phrases of this OpenCC version and config are not
    known (then every text is converted)."""
    from analytics.opencc_phrases import OPENCC_VERSION, T2S_PHRASE_KEYS

    if config != "t2s" or getattr(opencc, "__version__", None) != OPENCC_VERSION:
        return None
    cps = [*range(0x80, 0xD800), *range(0xE000, 0x40000)]
    converted = _converter(config).convert(_SEP.join(map(chr, cps))).split(_SEP)
    if len(converted) != len(cps):
        return None
    changed = [chr(c) for c, out in zip(cps, converted, strict=True) if out != chr(c)]
    return sorted({_SEP, *changed, *T2S_PHRASE_KEYS})


def _t2s_candidates(texts: pl.Series, config: str) -> pl.Series:
    """Texts OpenCC ``config`` can change (non-null ones; all of them without a prefilter)."""
    patterns = _t2s_patterns(config)
    if patterns is None:
        return texts.is_not_null()
    return texts.str.contains_any(patterns).fill_null(False)


def normalize_term(term: str, config: str = "t2s") -> str:
    """Normalise one lexicon term exactly like message text (used when loading lexicons)."""
    return normalize_terms([term], config)[0]


def normalize_terms(terms: list[str], config: str = "t2s") -> list[str]:
    """:func:`normalize_term` of each term, in one conversion."""
    s = pl.Series(terms, dtype=pl.String)
    return to_simplified(pl.select(normalize_expr(pl.lit(s))).to_series(), config).to_list()


@lru_cache(maxsize=1)
def _compat_sources() -> pl.DataFrame:
    """Every code point whose NFKD differs from itself, with that NFKD (polars' own Unicode
    tables, so it agrees with ``str.normalize``): columns ``ch``, ``nfkd``."""
    # no code point above U+2FA1D has a decomposition (Unicode 16: the last is in the CJK
    # compatibility ideographs supplement; planes 3-16 hold none)
    # every code point as one string (decoded from UTF-32: ~10x cheaper than joining chr()s)
    cps = np.concatenate([np.arange(1, 0xD800), np.arange(0xE000, 0x30000)]).astype("<u4")
    s = pl.Series("ch", [cps.tobytes().decode("utf-32-le")], dtype=pl.String).str.split("").explode()
    return (pl.DataFrame({"ch": s}).with_columns(pl.col("ch").str.normalize("NFKD").alias("nfkd"))
            .filter(pl.col("ch") != pl.col("nfkd")))


def _preimages(ch: str) -> list[str]:
    """Characters whose NFKD contains ``ch`` (``ch`` itself included)."""
    return list(_preimages_of(ch))


def _preimages_of(ch: str) -> tuple[str, ...]:
    return (ch, *_compat_preimages().get(ch, ()))


@lru_cache(maxsize=1)
def _compat_preimages() -> dict[str, tuple[str, ...]]:
    """Character -> the code points whose NFKD contains it (in code point order), from
    :func:`_compat_sources` in one pass (a filter of the table per character cost ~2 ms each)."""
    out: dict[str, list[str]] = {}
    src = _compat_sources()
    for ch, nfkd in zip(src["ch"].to_list(), src["nfkd"].to_list(), strict=True):
        for c in dict.fromkeys(nfkd):
            out.setdefault(c, []).append(ch)
    return {c: tuple(v) for c, v in out.items()}


def _anchors(markers: list[str], sample: pl.Series) -> list[str]:
    """One anchor per marker: a character that NFKC(text) can only contain if the raw text holds
    one of its preimages. Eligible: characters without a canonical decomposition (so no
    composition can produce them). Among those, the one whose preimages are rarest in
    ``sample`` (speed only: counted as the sum of each preimage's texts, from one pass)."""
    counts: dict[str, int] = {}
    if len(sample):
        per_char = (pl.DataFrame({"c": sample.str.split("")}).with_row_index("t").explode("c")
                    .unique().group_by("c").len())
        counts = dict(zip(per_char["c"].to_list(), per_char["len"].to_list(), strict=True))
    out: set[str] = set()
    for m in markers:
        best = None
        for ch in dict.fromkeys(m):
            if not _nfd_stable(ch):
                continue
            pre = _preimages(ch)
            freq = sum(counts.get(c, 0) for c in pre)
            if best is None or freq < best[0]:
                best = (freq, pre)
        if best is None:  # no eligible character: every text is a candidate
            return []
        out.update(best[1])
    return sorted(out)


@lru_cache(maxsize=256)
def _nfd_stable(ch: str) -> bool:
    return pl.Series([ch]).str.normalize("NFD")[0] == ch


def contains_after_nfkc(texts: pl.Series, *marker_sets: list[str]) -> list[pl.Series]:
    """For each marker set: ``NFKC(text)`` contains any of its markers (NFKC-normalised), nulls -> False.

    Same result as ``texts.str.normalize("NFKC").str.contains_any(markers)`` without normalising
    every text: a text can only match a marker if it holds a preimage of the marker's anchor
    character (:func:`_anchors`). One cheap Aho-Corasick pass finds those candidates for all
    sets at once; only they are normalised (once) and matched.
    """
    n = len(texts)
    sets = [[m for m in ms if m] for ms in marker_sets]
    none = pl.Series(texts.name, [], dtype=pl.Boolean).extend_constant(False, n)
    if n == 0 or not any(sets):
        return [none.clone() for _ in sets]
    sample = texts.head(2_000).fill_null("")  # picks the rarest anchors; the result never depends on it
    anchors: set[str] = set()
    for ms in sets:
        a = _anchors(ms, sample) if ms else []
        if ms and not a:  # a marker without an eligible anchor: every text is a candidate
            anchors = set()
            break
        anchors.update(a)
    # a null text holds no anchor (nor marker): no fill_null pass over every text
    idx = (texts.str.contains_any(sorted(anchors)).fill_null(False).arg_true() if anchors
           else texts.is_not_null().arg_true())
    cand = texts.gather(idx).str.normalize("NFKC")
    return [none.clone().scatter(idx, cand.str.contains_any(ms)) if ms else none.clone() for ms in sets]
