"""The report masks (pipelines/report/mask.py ``mask_text_series`` / ``mask_frame``) run each
step only on the texts it can change (``_MAY_HOLD_PII``; the own nick where the text holds
it). They must give exactly what the plain expression chain (:func:`mask_text` on every row)
gives, on generated texts built from phones, ID cards, addresses, streets, labels, the row's
own nick and near misses — eagerly and streamed in a lazy frame."""

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.report.mask import mask_frame, mask_nick, mask_own_nick, mask_text, mask_text_series

NICKS = ["张小明三", "tb_12345", "ab", "李", "上海人", "138123", None]
FRAGMENTS = [
    "13812345678", "+86 138-1234-5678", "0571-87654321", "010 1234 5678", "110105199003071234", "44030519851231002X",
    "浙江省杭州市西湖区文三路100号", "杭州市西湖区", "重庆市渝中区", "上海浦东新区张江路88号", "巷7号", "文三路100号", "人民路 5 弄", "延边朝鲜族自治州延吉市",
    "收件人张三", "联系人：李四", "买家 tb_hacker01", "买家：王五六", "昵称ab", "买家消息 2 条", "等待 196 秒", "27138 秒",
    "123-456", "12345", "１３８１２３４５６７８", "市场", "城市", "大道", "亲", "，", " ", "-", "a", "*",
]


@st.composite
def rows(draw):
    buyer = draw(st.sampled_from(NICKS))
    parts = draw(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from([n for n in NICKS if n]),
                                    st.text(max_size=3)), max_size=6))
    text = draw(st.one_of(st.none(), st.just("".join(parts))))
    return buyer, text


def _chain(df: pl.DataFrame) -> pl.DataFrame:
    """The masks as one expression chain over every row (the reference)."""
    b = pl.col("buyer").cast(pl.String)
    return df.with_columns(mask_text(pl.col("excerpt").cast(pl.String), b).alias("excerpt"),
                           mask_own_nick(pl.col("conversation_id").cast(pl.String), b).alias("conversation_id"),
                           ).with_columns(mask_nick(b).alias("buyer"))


@settings(max_examples=300, deadline=None)
@given(st.lists(rows(), min_size=1, max_size=30))
def test_prefiltered_report_mask_equals_the_full_chain(data):
    df = pl.DataFrame({"buyer": [b for b, _t in data], "excerpt": [t for _b, t in data],
                       "conversation_id": [f"店|客服|{b}|2026-10-01" for b, _t in data]},
                      schema={"buyer": pl.String, "excerpt": pl.String, "conversation_id": pl.String})
    want = _chain(df)
    cols = dict(text_cols=("excerpt",), source_cols=("conversation_id",))
    assert mask_frame(df, **cols).equals(want)
    assert mask_frame(df.lazy(), **cols).collect(engine="streaming").equals(want)


def test_series_mask_skips_plain_text_and_still_masks():
    texts = pl.Series("t", ["在吗", "等待 196 秒 (买家消息 2 条)", None, "我是张小明三 电话13812345678", "寄到上海浦东新区张江路88号"])
    buyers = pl.Series("b", ["张小明三"] * 5)
    assert mask_text_series(texts, buyers).to_list() == [
        "在吗", "等待 196 秒 (买家消息 2 条)", None, "我是张**三 电话138****5678", "寄到上海****"]
    assert mask_text_series(texts, buyers, patterns=False).to_list()[3] == "我是张**三 电话13812345678"
