"""The stored-mask prefilter (pipelines/report/mask.py ``_STORED_PREFILTER``) never skips a
text the full patterns would change: the prefiltered mask equals the mask applied to every
text, on generated texts built from phones, ID cards, addresses, streets and near misses."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.report.mask import _OPEN, _CLOSE, _mask_stored_all, mask_pii_stored

FRAGMENTS = [
    "13812345678", "+86 138-1234-5678", "86138 1234 5678", "0571-87654321", "010 1234 5678", "057187654321",
    "110105199003071234", "11010519900307123X", "3012345678901234567", "2026100622001000963503316912",
    "浙江省杭州市西湖区文三路100号", "上海浦东新区张江路88号", "北京", "重庆市渝中区", "延边朝鲜族自治州延吉市",
    "文三路100号", "人民路 5 弄", "88号", "3号楼", "市场", "城市", "自治区", "１３８１２３４５６７８", "١٢٣٤",
    "1234", "123", "9:00-23:00", "订单", "亲", "，", " ", "\t", "-", "X", _OPEN, _CLOSE, "a", "Z9",
]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(texts, st.none()), min_size=1, max_size=30), st.booleans(), st.booleans(), st.booleans())
def test_prefiltered_mask_equals_the_full_mask(rows, phones, id_cards, addresses):
    s = pl.Series("t", rows, dtype=pl.String)
    kinds = [k for k, on in (("id_cards", id_cards), ("phones", phones), ("addresses", addresses)) if on]
    full = _mask_stored_all(s, kinds)
    got = mask_pii_stored(s, phones=phones, id_cards=id_cards, addresses=addresses)
    assert got.to_list() == full.to_list()
    assert got.name == "t"


def test_prefilter_skips_plain_chat_lines_and_still_masks_pii():
    s = pl.Series("text", ["在吗", "亲，工作时间9:00-23:00", None, "电话13812345678", "寄到上海浦东新区张江路88号", "ok" + _OPEN])
    assert mask_pii_stored(s).to_list() == [
        "在吗", "亲，工作时间9:00-23:00", None, "电话138****5678", "寄到上海**********", "ok",
    ]
