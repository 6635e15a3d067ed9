"""rjieba segments exactly like jieba (user dictionary loaded in both) on cleaned text."""

import random

import polars as pl
import pytest

from analytics.segment import Segmenter, clean_for_segmentation, parse_userdict, tokenize
from tests.analytics.chatkit import ROOT
from tests.analytics.chatkit import resources, settings  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def userdict():
    return parse_userdict((ROOT / "data" / "jieba_userdict.txt").read_text("utf-8"))


def test_rjieba_equals_jieba_on_random_sample(userdict):
    rng = random.Random(7)
    words = [w.word for w in userdict] + ["我要", "退货", "这个", "质量", "不好", "怎么", "回事", "亲", "物流",
                                          "什么时候", "发货", "订单", "颜色", "尺寸", "ab", "x1", "2026", "还没到"]
    chars = "的了吗我你他好是在有么这那个们货发退款枕头被子收纳箱满减券"
    docs = ["".join(rng.choice(words) if rng.random() < 0.5 else rng.choice(chars) for _ in range(rng.randint(1, 30)))
            for _ in range(400)]
    clean = pl.select(clean_for_segmentation(pl.lit(pl.Series(docs)))).to_series().to_list()
    r, j = Segmenter(userdict, "rjieba"), Segmenter(userdict, "jieba")
    for text in clean:  # per-document loop is fine in a test
        assert r.cut(text) == j.cut(text)
    assert r.cut("\n".join(clean)) == j.cut("\n".join(clean))


def test_user_dictionary_is_used(userdict):
    seg = Segmenter(userdict)
    assert seg.cut("支持七天无理由吗运费险呢") == ["支持", "七天无理由", "吗", "运费险", "呢"]


def test_tokenize_maps_tokens_back_to_documents(userdict, monkeypatch):
    import analytics.segment as sg

    monkeypatch.setattr(sg, "_CHUNK_BYTES", 16)  # several chunks
    toks = tokenize(pl.Series(["我要仅退款！", None, "", "订单号123456789012345678到了吗", "小二介入"]),
                    Segmenter(userdict), frozenset({"吗"}))
    assert toks.rows() == [(0, "我要"), (0, "仅退款"), (3, "订单号"), (3, "到"), (3, "了"), (4, "小二介入")]


def test_userdict_requires_frequency():
    with pytest.raises(ValueError, match="词频"):
        parse_userdict("七天无理由\n")
