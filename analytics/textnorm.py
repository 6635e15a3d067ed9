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

from functools import lru_cache

import opencc
import polars as pl

_SEP = "\x1e"  # ASCII record separator: not in chat text, untouched by OpenCC and NFKC
_CHUNK_CHARS = 4_000_000


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

    ``settings`` is a :class:`analytics.settings.TextSettings`.
    """
    nf = pl.select(normalize_expr(pl.lit(texts))).to_series()
    simp = to_simplified(nf, settings.opencc_config)
    pattern = settings.emoticon_pattern
    return pl.DataFrame({"s": simp}).select(
        pl.col("s").str.replace_all(pattern, " ").alias("norm_text"),
        pl.col("s").str.extract_all(pattern).alias("emoticons"),
    )


def normalize_term(term: str, config: str = "t2s") -> str:
    """Normalise one lexicon term exactly like message text (used when loading lexicons)."""
    s = pl.Series([term])
    return to_simplified(pl.select(normalize_expr(pl.lit(s))).to_series(), config)[0]


@lru_cache(maxsize=1)
def _compat_sources() -> pl.DataFrame:
    """Every code point whose NFKD differs from itself, with that NFKD (polars' own Unicode
    tables, so it agrees with ``str.normalize``): columns ``ch``, ``nfkd``."""
    # no code point above U+2FA1D has a decomposition (Unicode 16: the last is in the CJK
    # compatibility ideographs supplement; planes 3-16 hold none)
    every = "\x00".join(map(chr, [*range(1, 0xD800), *range(0xE000, 0x30000)]))
    s = pl.Series("ch", [every], dtype=pl.String).str.split("\x00").explode()
    return (pl.DataFrame({"ch": s}).with_columns(pl.col("ch").str.normalize("NFKD").alias("nfkd"))
            .filter(pl.col("ch") != pl.col("nfkd")))


def _preimages(ch: str) -> list[str]:
    """Characters whose NFKD contains ``ch`` (``ch`` itself included)."""
    src = _compat_sources()
    return [ch, *src.filter(pl.col("nfkd").str.contains(ch, literal=True))["ch"].to_list()]


def _anchors(markers: list[str], sample: pl.Series) -> list[str]:
    """One anchor per marker: a character that NFKC(text) can only contain if the raw text holds
    one of its preimages. Eligible: characters without a canonical decomposition (so no
    composition can produce them). Among those, the one rarest in ``sample`` (speed only)."""
    out: set[str] = set()
    for m in markers:
        best = None
        for ch in dict.fromkeys(m):
            if pl.Series([ch]).str.normalize("NFD")[0] != ch:
                continue
            pre = _preimages(ch)
            freq = sample.str.contains_any(pre).sum() if len(sample) else 0
            if best is None or freq < best[0]:
                best = (freq, pre)
        if best is None:  # no eligible character: every text is a candidate
            return []
        out.update(best[1])
    return sorted(out)


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
    filled = texts.fill_null("")
    sample = filled.head(2_000)  # picks the rarest anchors; the result never depends on it
    anchors: set[str] = set()
    for ms in sets:
        a = _anchors(ms, sample) if ms else []
        if ms and not a:  # a marker without an eligible anchor: every text is a candidate
            anchors = set()
            break
        anchors.update(a)
    idx = filled.str.contains_any(sorted(anchors)).arg_true() if anchors else pl.int_range(n, eager=True, dtype=pl.UInt32)
    cand = filled.gather(idx).str.normalize("NFKC")
    return [none.clone().scatter(idx, cand.str.contains_any(ms)) if ms else none.clone() for ms in sets]
