"""contains_after_nfkc must equal NFKC-then-match on every text (it only skips the NFKC)."""

import unicodedata

import polars as pl

from analytics.textnorm import contains_after_nfkc

MARKERS = ["[自动回复]", "【自动回复】", "自动回复:", "#自动回复#"]
SYSTEM = ["请在客户端查看原始聊天记录", "系统消息", "[系统提示]", "该消息已被撤回"]


def _reference(texts: pl.Series, markers: list[str]) -> list[bool]:
    norm = [unicodedata.normalize("NFKC", m) for m in markers]
    return [t is not None and any(m in unicodedata.normalize("NFKC", t) for m in norm) for t in texts]


def test_full_width_compatibility_and_plain_variants_match_like_nfkc():
    texts = pl.Series([
        "［自动回复］您好", "自动回复：稍等", "⾃动回复:",  # full-width brackets/colon, Kangxi radical ⾃
        "＃自动回复＃", "系统消息", "普通的话", None, "", "系統消息",  # traditional 統 is not NFKC-equal
        "［系统提示］订单已发货", "该消息已被撤回", "自动回复", "请在客户端查看原始聊天记录",
    ])
    auto, system = contains_after_nfkc(texts, [unicodedata.normalize("NFKC", m) for m in MARKERS],
                                       [unicodedata.normalize("NFKC", m) for m in SYSTEM])
    assert auto.to_list() == _reference(texts, MARKERS)
    assert system.to_list() == _reference(texts, SYSTEM)
    assert auto.to_list()[:4] == [True, True, True, True] and auto[11] is False


def test_random_texts_from_a_confusable_alphabet_agree_with_the_reference():
    import random

    r = random.Random(4)
    twins = {"[": "［", "]": "］", ":": "：", "#": "＃", "自": "⾃", "统": "統", "消": "㴱"}
    noise = list("好的亲在吗 ｱ㊙⽅") + ["e\u0301", "é"]

    def variant(m: str) -> str:  # a marker with some characters swapped for look-alikes, maybe cut short
        s = "".join(twins.get(ch, ch) if r.random() < 0.3 else ch for ch in m)
        return s[: r.randint(len(s) - 1, len(s))]

    pieces = [variant(r.choice(MARKERS + SYSTEM)) if r.random() < 0.3 else r.choice(noise) for _ in range(9000)]
    texts = pl.Series(["".join(pieces[i:i + 3]) for i in range(0, 9000, 3)])
    auto, system = contains_after_nfkc(texts, [unicodedata.normalize("NFKC", m) for m in MARKERS],
                                       [unicodedata.normalize("NFKC", m) for m in SYSTEM])
    assert auto.to_list() == _reference(texts, MARKERS)
    assert system.to_list() == _reference(texts, SYSTEM)
    assert 0 < auto.sum() < len(texts)


def test_no_markers_and_empty_input():
    assert contains_after_nfkc(pl.Series(["系统消息"]), [])[0].to_list() == [False]
    assert contains_after_nfkc(pl.Series([], dtype=pl.String), ["系统消息"])[0].len() == 0
