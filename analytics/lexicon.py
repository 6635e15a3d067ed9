"""Versioned lexicons and vectorised matching (Aho-Corasick inside polars ``str.extract_many``).

A lexicon file is UTF-8 text, one term per line; ``#`` starts a comment. Header comments of
the form ``# key: value`` carry metadata; ``version``, ``applies_to`` (agent | buyer) and
``provenance`` are required. Terms are normalised exactly like message text
(:mod:`analytics.textnorm`), so traditional or full-width entries still match.

A *hit* is one distinct term of one lexicon found in one message (a term repeated in a
message counts once). Lexicons are matched only against the sender role they apply to:
a buyer writing 不知道 is not a forbidden-word hit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from analytics.textnorm import normalize_terms

ROLES = ("agent", "buyer")
_META = re.compile(r"^#\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")


@dataclass(frozen=True)
class Lexicon:
    name: str
    version: str
    applies_to: str
    provenance: str
    terms: tuple[str, ...]  # normalised, unique, in file order


def parse_lexicon(name: str, text: str, opencc_config: str = "t2s") -> Lexicon:
    """Parse one lexicon file's text. Raises ValueError on missing metadata or no terms."""
    meta: dict[str, str] = {}
    raw_terms: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            m = _META.match(line)
            if m:
                meta[m.group(1).lower()] = m.group(2)
            continue
        raw_terms.append(line.split("\t")[0].strip())
    terms = [t for t in dict.fromkeys(normalize_terms(raw_terms, opencc_config)) if t]
    missing = [k for k in ("version", "applies_to", "provenance") if not meta.get(k)]
    if missing:
        raise ValueError(f"词库 {name} 缺少表头: {', '.join(missing)}")
    if meta["applies_to"] not in ROLES:
        raise ValueError(f"词库 {name} applies_to 应为 agent 或 buyer: {meta['applies_to']!r}")
    if not terms:
        raise ValueError(f"词库 {name} 没有词条")
    return Lexicon(name, meta["version"], meta["applies_to"], meta["provenance"], tuple(terms))


def load_lexicons(texts: dict[str, str], opencc_config: str = "t2s") -> dict[str, Lexicon]:
    """Parse several lexicon texts given as ``{name: file text}``."""
    return {name: parse_lexicon(name, t, opencc_config) for name, t in texts.items()}


def lexicon_versions(lexicons: dict[str, Lexicon]) -> pl.DataFrame:
    """One row per lexicon: name, version, applies_to, provenance, term count (for run output)."""
    return pl.DataFrame(
        [
            {"lexicon": lx.name, "version": lx.version, "applies_to": lx.applies_to,
             "provenance": lx.provenance, "terms": len(lx.terms)}
            for lx in lexicons.values()
        ],
        schema={"lexicon": pl.String, "version": pl.String, "applies_to": pl.String,
                "provenance": pl.String, "terms": pl.Int64},
    )


HIT_SCHEMA = pl.Schema({"msg_idx": pl.Int64(), "lexicon": pl.String(), "term": pl.String()})


def match_terms(frame: pl.DataFrame, terms: list[str], text_col: str = "norm_text") -> pl.DataFrame:
    """Distinct (msg_idx, term) pairs where ``term`` occurs in ``text_col`` (overlaps included)."""
    if not terms or frame.height == 0:
        return pl.DataFrame(schema={"msg_idx": pl.Int64, "term": pl.String})
    found = pl.col(text_col).str.extract_many(terms, overlapping=True)
    if _strictly_increasing(frame["msg_idx"]):  # one row per message: dedupe inside each message's list
        return frame.select("msg_idx", found.list.unique(maintain_order=True).alias("term")).explode("term").drop_nulls("term")
    return frame.select("msg_idx", found.alias("term")).explode("term").drop_nulls("term").unique(maintain_order=True)


def _strictly_increasing(idx: pl.Series) -> bool:
    return idx.null_count() == 0 and bool((idx.diff().drop_nulls() > 0).all())


def match_lexicons(messages: pl.DataFrame, lexicons: dict[str, Lexicon]) -> pl.DataFrame:
    """Lexicon hits for ``messages`` (columns msg_idx, match_role, norm_text).

    ``match_role`` is 'agent' for human agent messages, 'buyer' for buyer messages and null
    for anything that must never be matched (auto-replies, system lines, recalls).
    Returns one row per (msg_idx, lexicon, term), sorted by msg_idx, lexicon, term.
    """
    # (lexicon, term) pairs numbered in sorted order: hits are sorted on two integers
    owners = pl.DataFrame(
        [{"term": t, "lexicon": lx.name, "role": lx.applies_to} for lx in lexicons.values() for t in lx.terms],
        schema={"term": pl.String, "lexicon": pl.String, "role": pl.String},
    ).unique(["lexicon", "term"]).sort("lexicon", "term").with_row_index("owner")
    parts = []
    for role in ROLES:
        own = owners.filter(pl.col("role") == role)
        terms = sorted(set(own["term"].to_list()))
        if not terms:
            continue
        found = match_terms(messages.filter(pl.col("match_role") == role), terms)
        parts.append(found.join(own.select("term", "lexicon", "owner"), on="term", how="inner"))
    if not parts:
        return pl.DataFrame(schema=HIT_SCHEMA)
    return pl.concat(parts).sort("msg_idx", "owner").select(HIT_SCHEMA.keys()).cast(HIT_SCHEMA)
