"""Vectorised lexicon matching equals a plain per-message Python reference."""

import random

import polars as pl
import pytest

from analytics.lexicon import load_lexicons, match_lexicons, parse_lexicon
from tests.analytics.chatkit import resources, settings  # noqa: F401  (fixtures)
from analytics.textnorm import normalize_texts

HEADER = "# version: t1\n# applies_to: {}\n# provenance: test\n"


def reference(texts, roles, lexicons):
    """Per-message, per-term substring check: the obviously-correct slow version."""
    out = set()
    for i, (t, r) in enumerate(zip(texts, roles)):
        if t is None or r is None:
            continue
        for lx in lexicons.values():
            if lx.applies_to == r:
                out |= {(i, lx.name, term) for term in lx.terms if term in t}
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_reference_on_random_sample(seed, resources, settings):
    rng = random.Random(seed)
    lex = resources.lexicons
    all_terms = [t for lx in lex.values() for t in lx.terms]
    filler = list("的了我你好是在有么这那个们货发退款亲啊吧呢") + ["，", "。", " ", "!", "[微笑]", "谢谢", "不"]
    texts, roles = [], []
    for _ in range(600):
        parts = [rng.choice(all_terms) if rng.random() < 0.25 else rng.choice(filler) for _ in range(rng.randint(0, 12))]
        texts.append(None if rng.random() < 0.03 else "".join(parts))
        roles.append(rng.choice(["agent", "buyer", None]))
    norm = normalize_texts(pl.Series(texts, dtype=pl.String), settings.text)["norm_text"]
    frame = pl.DataFrame({"msg_idx": range(len(texts)), "match_role": roles, "norm_text": norm},
                         schema={"msg_idx": pl.Int64, "match_role": pl.String, "norm_text": pl.String})
    got = set(match_lexicons(frame, lex).iter_rows())
    want = reference(norm.to_list(), roles, lex)
    assert got == want
    assert len(want) > 100  # the sample really exercises the lexicons


def test_traditional_input_matches_simplified_lexicon(resources, settings):
    texts = pl.Series(["我要投訴，服務態度太差", "謝謝親，服務好", "不知道，自己看"])
    norm = normalize_texts(texts, settings.text)["norm_text"]
    frame = pl.DataFrame({"msg_idx": [0, 1, 2], "match_role": ["buyer", "buyer", "agent"], "norm_text": norm})
    hits = match_lexicons(frame, resources.lexicons)
    assert set(hits.iter_rows()) == {
        (0, "escalation", "投诉"), (0, "negative", "太差"), (1, "praise", "谢谢亲"), (1, "praise", "服务好"),
        (2, "forbidden", "不知道"), (2, "forbidden", "自己看"),
    }


def test_traditional_lexicon_entries_are_normalised():
    lx = parse_lexicon("x", HEADER.format("buyer") + "投訴\n服務好\n投訴\n")
    assert lx.terms == ("投诉", "服务好")


def test_role_filter_and_overlaps():
    lex = load_lexicons({"a": HEADER.format("agent") + "亲\n谢谢亲\n", "b": HEADER.format("buyer") + "谢谢亲\n"})
    frame = pl.DataFrame({"msg_idx": [0, 1, 2], "match_role": ["agent", "buyer", None],
                          "norm_text": ["谢谢亲亲", "谢谢亲", "谢谢亲"]})
    assert match_lexicons(frame, lex).rows() == [(0, "a", "亲"), (0, "a", "谢谢亲"), (1, "b", "谢谢亲")]


def test_bad_headers():
    with pytest.raises(ValueError, match="provenance"):
        parse_lexicon("x", "# version: 1\n# applies_to: agent\n亲\n")
    with pytest.raises(ValueError, match="applies_to"):
        parse_lexicon("x", "# version: 1\n# applies_to: boss\n# provenance: p\n亲\n")
    with pytest.raises(ValueError, match="没有词条"):
        parse_lexicon("x", HEADER.format("agent"))


def test_shipped_lexicons_have_headers(resources):
    assert set(resources.lexicons) == {"politeness", "forbidden", "knowledge_gap", "escalation", "praise", "negative"}
    for lx in resources.lexicons.values():
        assert lx.version == "2026.10-1" and lx.provenance
