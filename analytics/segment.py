"""Chinese word segmentation with a versioned user dictionary (jieba or rjieba).

rjieba (a Rust port of jieba) is ~13x faster here. Both engines segment identically on
text made only of Han characters, ASCII lower-case letters, digits and single spaces, which
is exactly what :func:`clean_for_segmentation` produces (punctuation carries nothing for
TF-IDF; the engines differ on some ASCII punctuation such as ``a-b_c``). tests/analytics/
test_segment.py proves identical output on a random sample with the user dictionary loaded.

rjieba has no ``load_userdict``; both engines get the same entries through ``add_word`` with
the explicit frequency from the dictionary file (a missing frequency would be guessed
differently by the two engines, so the file must give one).

Segmentation is done per *chunk* of many documents joined by a newline (one engine call per
~2 MB), never per message; tokens are mapped back to documents by counting newline tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

_CLEAN = r"[^\p{Han}a-z0-9]+"
_CHUNK_BYTES = 2_000_000


@dataclass(frozen=True)
class UserWord:
    word: str
    freq: int
    tag: str | None


def parse_userdict(text: str) -> list[UserWord]:
    """Parse a jieba user dictionary (``word freq [tag]`` per line, ``#`` comments).

    The frequency is required (see module docstring); a line without one is a ValueError.
    """
    words = []
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) < 2 or not parts[1].isdigit():
            raise ValueError(f"用户词典第 {n} 行需要 '词 词频 [词性]': {raw!r}")
        words.append(UserWord(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else None))
    return words


class Segmenter:
    """A jieba or rjieba tokenizer with the user dictionary loaded."""

    _tk: Any
    _cut: Callable[[str], list[str]]

    def __init__(self, userdict: list[UserWord], engine: str = "rjieba"):
        self.engine = engine
        if engine == "rjieba":
            import rjieba

            self._tk = rjieba.Jieba()
            for w in userdict:
                self._tk.add_word(w.word, w.freq, w.tag)
            self._cut = self._tk.cut
        elif engine == "jieba":
            import jieba

            jieba.setLogLevel(60)
            self._tk = jieba.Tokenizer()
            for w in userdict:
                self._tk.add_word(w.word, w.freq, w.tag)
            self._cut = lambda text: list(self._tk.cut(text))
        else:
            raise ValueError(f"unknown segmenter {engine!r}")

    def cut(self, text: str) -> list[str]:
        """Segment one string (tokens include whitespace, like jieba)."""
        return self._cut(text)


def clean_for_segmentation(expr: pl.Expr) -> pl.Expr:
    """Keep Han characters, a-z and digits; every other run becomes one space (input is normalised)."""
    return expr.fill_null("").str.replace_all(_CLEAN, " ").str.strip_chars()


def tokenize(docs: pl.Series, seg: Segmenter, stopwords: frozenset[str] = frozenset(),
             min_len: int = 1) -> pl.DataFrame:
    """Tokens of each document: columns ``doc`` (position in ``docs``), ``token``.

    ``docs`` holds normalised text (see :mod:`analytics.textnorm`). Stop words, tokens shorter
    than ``min_len`` and pure digits longer than 6 (order numbers) are dropped.

    Both engines segment each run of kept characters on its own (they split the text at any
    other character first), and the cleaned text is such runs separated by single spaces: so
    each distinct run is segmented once and a document's tokens are its runs' tokens in order
    (a month's documents repeat the same phrases: ~10k distinct runs in 130k documents).
    """
    clean = pl.select(clean_for_segmentation(pl.lit(docs))).to_series()
    runs = pl.DataFrame({"run": clean.str.split(" ")}).with_row_index("doc").explode("run")
    distinct = runs.filter(pl.col("run") != "").unique("run", maintain_order=True)["run"]
    keep = (
        (pl.col("token").str.strip_chars() != "")
        & (pl.col("token").str.len_chars() >= min_len)
        & ~pl.col("token").is_in(list(stopwords))
        & ~pl.col("token").str.contains(r"^\d{7,}$")
    )
    # the filter is per token: applied once per distinct run's tokens, before the expansion
    per_run = (_cut_each(distinct, seg).filter(keep).group_by("i", maintain_order=True).agg("token")
               .with_columns(pl.lit(distinct).gather(pl.col("i")).alias("run")))
    return (runs.join(per_run.select("run", "token"), on="run", how="inner", maintain_order="left")
            .explode("token").select(pl.col("doc").cast(pl.Int64), "token"))


def _cut_each(texts: pl.Series, seg: Segmenter) -> pl.DataFrame:
    """Tokens of each of ``texts`` (none empty, none holding a newline): columns ``i``
    (position in ``texts``), ``token``; one engine call per chunk of ~2 MB, texts joined by
    newlines and tokens mapped back by counting newline tokens."""
    sizes = (texts.str.len_bytes() + 1).cum_sum()
    chunk = (sizes // _CHUNK_BYTES) if len(texts) else pl.Series([], dtype=pl.Int64)
    frame = pl.DataFrame({"t": texts, "c": chunk}).with_row_index("i")
    out = [pl.DataFrame(schema={"i": pl.Int64, "token": pl.String})]
    for _, part in frame.group_by("c", maintain_order=True):
        first = part["i"][0]
        toks = pl.Series("token", seg.cut("\n".join(part["t"].to_list()) + "\n"), dtype=pl.String)
        is_sep = toks == "\n"
        i = (is_sep.cum_sum() - is_sep.cast(pl.UInt32)).cast(pl.Int64) + first
        out.append(pl.DataFrame({"i": i, "token": toks}).filter(~is_sep))
    return pl.concat(out)
