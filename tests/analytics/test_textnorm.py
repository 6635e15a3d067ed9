import polars as pl

from tests.analytics.chatkit import resources, settings  # noqa: F401  (fixtures)
from analytics.textnorm import normalize_term, normalize_texts, to_simplified


def test_traditional_fullwidth_emoticons(settings):
    s = pl.Series(["淘寶店鋪 ＡＢＣ１２３！［微笑］好", None, "謝謝親[大哭]\n第二行", ""])
    out = normalize_texts(s, settings.text)
    assert out["norm_text"].to_list() == ["淘宝店铺 abc123! 好", None, "谢谢亲 \n第二行", ""]
    assert out["emoticons"].to_list() == [["[微笑]"], None, ["[大哭]"], []]


def test_emoticon_is_not_matched_as_word(settings):
    out = normalize_texts(pl.Series(["好的[大哭]"]), settings.text)
    assert "哭" not in out["norm_text"][0]


def test_bulk_conversion_keeps_alignment_across_chunks(monkeypatch):
    import analytics.textnorm as tn

    monkeypatch.setattr(tn, "_CHUNK_CHARS", 20)  # force many chunks
    texts = pl.Series([f"第{i}條訊息：退貨" for i in range(50)] + [None, "含\x1e分隔符"])
    out = to_simplified(texts)
    assert out.to_list()[:50] == [f"第{i}条讯息：退货" for i in range(50)]
    assert out[50] is None and out[51] == "含 分隔符"


def test_normalize_term():
    assert normalize_term("服務好") == "服务好"
    assert normalize_term("１２３１５") == "12315"
