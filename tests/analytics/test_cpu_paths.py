"""The cheap code paths of issue 13 (analytics CPU) give exactly what the plain computation gives.

Each test compares a shortcut with the straightforward reference on a generated set built to
hit the shortcut's edge cases (prefiltered normalisation, packed sort keys, per-run
segmentation, integer-keyed count matrices and hit sorting).
"""

from __future__ import annotations

import random
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

import analytics.textnorm as tn
from analytics.settings import TextSettings
from tests.analytics.chatkit import resources, settings  # noqa: F401  (fixtures)

# traditional characters and phrases (回覆 and 捏坏 change only as phrases), full-width and
# compatibility forms, upper case (Latin, Greek final sigma, Cyrillic), combining marks that
# compose (e + U+0301) or reorder, Hangul jamo, emoji, emoticon codes, the OpenCC chunk
# separator, controls, characters beyond the BMP and plain simplified text
_PIECES = [
    "淘寶", "謝謝", "回覆", "答覆", "捏坏", "毛坏", "坏了", "乾隆", "乾淨", "什麼", "著", "後",
    "ＡＢＣ", "１２３", "！", "，", "：", "［微笑］", "[大哭]", "[OK]", "［ｏｋ］", "㈱", "㍿", "ｶﾞ", "⾃",
    "ΣΑΣ", "ΟΔΟΣ", "ПРИВЕТ", "Straße", "İ", "e\u0301", "a\u0323\u0302", "q\u0302\u0323", "é", "Å", "Å",
    "\u1100\u1161", "\u1100\u1161\u11a8", "가\u11a8", "😀", "👍🏽", "🇨🇳", "\x1e", "\t", "\n", "\x00", "\x7f",
    "𠀀", "𪚥", "\U00030000", "好的", "亲", "退款", "快递", "abc", "x1", " ", "", "丶",
]


def _tricky_texts(n: int, seed: int) -> list[str | None]:
    rng = random.Random(seed)
    texts: list[str | None] = []
    for _ in range(n):
        if rng.random() < 0.03:
            texts.append(None)
            continue
        texts.append("".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 6))))
    return texts + texts[: n // 3]  # repeats, as in a real month


def _full_normalisation(texts: pl.Series, text_settings: TextSettings) -> pl.DataFrame:
    """The definition: NFKC, lower case, OpenCC on every text, then the emoticons."""
    simp = tn.to_simplified(pl.select(tn.normalize_expr(pl.lit(texts))).to_series(), text_settings.opencc_config)
    return pl.DataFrame({"s": simp}).select(
        pl.col("s").str.replace_all(text_settings.emoticon_pattern, " ").alias("norm_text"),
        pl.col("s").str.extract_all(text_settings.emoticon_pattern).alias("emoticons"))


@pytest.mark.parametrize("prefilter_bytes", [0, 10**12])  # prefilter tables used / not used
def test_prefiltered_normalisation_equals_the_full_one(monkeypatch, prefilter_bytes):
    monkeypatch.setattr(tn, "_PREFILTER_BYTES", prefilter_bytes)
    texts = pl.Series("text", _tricky_texts(3000, seed=13), dtype=pl.String)
    text_settings = TextSettings()
    out = tn.normalize_texts(texts, text_settings)
    assert out.equals(_full_normalisation(texts, text_settings), null_equal=True)
    assert out.schema == _full_normalisation(texts, text_settings).schema
    # the set reached every branch: converted, full-width folded, untouched, null
    assert {"谢谢", "回复", "捏坯"} <= {w for t in out["norm_text"].drop_nulls() for w in ("谢谢", "回复", "捏坯") if w in t}


def test_prefilter_sends_only_changing_texts_through_the_conversions():
    text_settings = TextSettings()
    texts = pl.Series(["好的亲", "回覆", "淘寶", "ＡＢＣ", "abc😀", "坏了", "e\u0301"])
    variable = texts.str.contains(tn._unicode_variable()).to_list()
    assert variable == [False, False, False, True, False, False, True]
    assert tn._t2s_candidates(texts, text_settings.opencc_config).to_list() == [False, True, True, False, False, False, False]


def test_every_character_left_out_of_the_prefilter_is_unchanged_by_the_steps():
    """The prefilter's inert characters really are inert, one by one and in pairs."""
    rng = random.Random(5)
    inert_re = tn._unicode_variable()
    sample = pl.Series([chr(c) for c in rng.sample(range(0x20, 0x30000), 40000) if not 0xD800 <= c < 0xE000])
    inert = sample.filter(~sample.str.contains(inert_re) & ~tn._t2s_candidates(sample, "t2s"))
    pairs = pl.Series([a + b for a, b in zip(inert.sample(5000, seed=1, with_replacement=True),
                                             inert.sample(5000, seed=2, with_replacement=True), strict=True)])
    for s in (inert, pairs):
        assert tn.to_simplified(pl.select(tn.normalize_expr(pl.lit(s))).to_series()).equals(s)


def test_unknown_opencc_version_converts_every_text(monkeypatch):
    monkeypatch.setattr(tn.opencc, "__version__", "0.0.0", raising=False)
    tn._t2s_patterns.cache_clear()
    try:
        assert tn._t2s_candidates(pl.Series(["好的", None]), "t2s").to_list() == [True, False]
    finally:
        tn._t2s_patterns.cache_clear()


def test_the_stored_phrase_keys_are_those_of_the_installed_opencc(tmp_path):
    import opencc

    from analytics.opencc_phrases import OPENCC_VERSION, T2S_PHRASE_KEYS

    tool = Path(opencc.__file__).parent / "clib" / "bin" / "opencc_dict"
    share = Path(opencc.__file__).parent / "clib" / "share" / "opencc"
    if opencc.__version__ != OPENCC_VERSION or not tool.exists():
        pytest.skip("another OpenCC build: the prefilter is off there")
    out = tmp_path / "TSPhrases.txt"
    subprocess.run([str(tool), "-i", str(share / "TSPhrases.ocd2"), "-o", str(out), "-f", "ocd2", "-t", "text"],
                   check=True, capture_output=True)
    keys = {line.split("\t")[0] for line in out.read_text("utf-8").splitlines() if line}
    assert keys == set(T2S_PHRASE_KEYS)


def test_normalize_terms_is_normalize_term_of_each():
    terms = ["服務好", "ＡＢＣ", "回覆", "", "謝謝親"]
    assert tn.normalize_terms(terms) == [tn.normalize_term(t) for t in terms] == ["服务好", "abc", "回复", "", "谢谢亲"]


def test_question_order_equals_the_string_sort():
    from analytics.sessions import question_order

    rng = random.Random(2)
    agents = sorted(["店:小美", "店:阿杰", "店:Bob", "另一店:小美"])
    rows = []
    for _ in range(3000):
        a = rng.randrange(len(agents))
        rows.append({"month": "2026-10", "agent_account": agents[a], "agent_no": a,
                     "asked_at": datetime(2026, 10, 1) + timedelta(seconds=rng.randrange(50)),  # many ties
                     "question_id": f"{agents[a]}|买家{rng.randrange(30)}|{rng.randrange(9)}#{rng.randrange(1, 4)}"})
    q = pl.DataFrame(rows).unique("question_id").with_columns(pl.col("agent_no").cast(pl.UInt32))
    order = question_order(q)
    assert order is not None
    assert q[order].equals(q.sort("month", "agent_account", "asked_at", "question_id"))
    assert question_order(q.with_columns(pl.lit(None, pl.String).alias("month"))) is None


def test_tokenize_equals_segmenting_each_document_whole(resources):  # noqa: F811
    from analytics.segment import clean_for_segmentation, tokenize

    rng = random.Random(11)
    words = ["退款", "快递", "还没到", "亲", "我要", "退货", "七天无理由", "运费险", "ab", "x1", "2026", "12345678901",
             "质量", "不好", "的", "了", "吗", "  ", "，", "!", "\n", "［", "a-b_c"]
    docs = pl.Series(["".join(rng.choice(words) for _ in range(rng.randint(0, 25))) for _ in range(600)]
                     + [None, "", "   ", "！！"])
    stop = resources.stopwords
    out = tokenize(docs, resources.segmenter, stop, min_len=1)
    clean = pl.select(clean_for_segmentation(pl.lit(docs))).to_series().to_list()
    expected = [(d, t) for d, text in enumerate(clean) for t in resources.segmenter.cut(text)
                if t.strip() and t not in stop and not (t.isdigit() and t.isascii() and len(t) >= 7)]
    assert list(zip(out["doc"].to_list(), out["token"].to_list(), strict=True)) == expected
    assert out.schema == pl.Schema({"doc": pl.Int64, "token": pl.String})
    assert tokenize(pl.Series([], dtype=pl.String), resources.segmenter).height == 0


def test_count_matrix_with_repeated_documents_fills_one_row_per_request():
    from analytics.vectorize import build_vocabulary, count_matrix

    tokens = pl.DataFrame({"doc": [0, 0, 1, 2, 2, 2], "token": ["退款", "快递", "快递", "退款", "退款", "破损"]})
    vocab = build_vocabulary(tokens, [0, 1, 2])
    assert count_matrix(tokens, [2, 0, 2], vocab).toarray().tolist() == [[0, 1, 2], [1, 0, 1], [0, 1, 2]]
    assert count_matrix(tokens, [1, 9], vocab).toarray().tolist() == [[1, 0, 0], [0, 0, 0]]
    assert count_matrix(tokens, [0], vocab.clear()).shape == (1, 0)
    # sparse document numbers take the hash lookup instead of the lookup array: same matrix
    far = tokens.with_columns(pl.col("doc") * 10**9)
    assert count_matrix(far, [2 * 10**9, 0, 10**9], vocab).toarray().tolist() == [[0, 1, 2], [1, 0, 1], [1, 0, 0]]


def test_match_terms_counts_a_repeated_term_once_per_message_in_either_path():
    from analytics.lexicon import match_terms

    frame = pl.DataFrame({"msg_idx": [0, 3, 5], "norm_text": ["亲亲亲 谢谢亲", "不知道 不知道吧", None]})
    expected = [(0, "亲"), (0, "谢谢"), (3, "不知道")]
    got = match_terms(frame, ["亲", "谢谢", "不知道"])
    assert list(got.iter_rows()) == expected
    shuffled = match_terms(frame.reverse(), ["亲", "谢谢", "不知道"])  # not in msg_idx order: global dedupe
    assert sorted(shuffled.iter_rows()) == expected


def test_message_columns_by_position_equals_the_join():
    from analytics.text_hits import message_columns

    norm = pl.DataFrame({"msg_idx": [0, 1, 2, 3], "text": ["a", None, "c", "d"], "source_row": [5, 6, 7, 8]})
    frame = pl.DataFrame({"msg_idx": [3, 0, None, 3], "x": [1, 2, 3, 4]})
    by_pos = message_columns(frame, norm, ["text", "source_row"])
    joined = message_columns(frame, norm.reverse(), ["text", "source_row"])  # not row numbers: a join
    assert by_pos.equals(joined)
    assert by_pos["text"].to_list() == ["d", "a", None, "d"]


def test_thread_numbers_equal_numbering_the_sorted_distinct_strings():
    from analytics.sessions import THREAD, _thread_numbers

    rng = random.Random(8)
    pick = lambda xs: rng.choice(xs)  # noqa: E731
    frame = lambda n, agents: pl.DataFrame(  # noqa: E731
        [{"month": pick(["2026-10", "2026-09"]), "shop": pick(["店A", "店B", None]), "agent_account": pick(agents),
          "buyer": pick(["买家1", "买家2", "b", "B", "买家10", None, ""])} for _ in range(n)],
        schema={c: pl.String for c in THREAD})
    msgs = frame(2000, ["店A:小美", "店A:阿杰", "店B:小美", None])
    extra = frame(50, ["店A:新来的", "店A:小美"])  # a transfer to an account no message has
    threads, nos = _thread_numbers([msgs, extra])
    expected = pl.concat([msgs, extra]).unique().sort(THREAD, nulls_last=True).with_row_index("thread_no")
    assert threads.equals(expected)
    for f, no in zip([msgs, extra], nos, strict=True):
        joined = f.join(expected, on=THREAD, how="left", nulls_equal=True, maintain_order="left")["thread_no"]
        assert no.cast(pl.UInt32).equals(joined, check_names=False)
