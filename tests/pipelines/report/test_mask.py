"""Masking of buyers' phones, addresses, names and nicks: exact outputs."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.report.mask import mask_frame, mask_nick, mask_text


def _text(s: str) -> str:
    return pl.select(mask_text(pl.lit(s)).alias("t"))["t"][0]


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("电话13812345678", "电话138****5678"),
        ("13812345678", "138****5678"),
        ("13812345678,13912345678", "138****5678,139****5678"),  # adjacent: second pass
        ("138-1234-5678 谢谢", "138****5678 谢谢"),
        ("+86 13812345678", "+86 138****5678"),
        ("8613812345678", "86138****5678"),
        ("订单号 3456789013812345678 谢谢", "订单号 3456789013812345678 谢谢"),  # part of an id
        ("12812345678", "12812345678"),  # 12x is not a mobile prefix
        ("座机0571-87654321", "座机0571-****4321"),
        ("010 12345678", "010-****5678"),
    ],
)
def test_phones(raw: str, masked: str) -> None:
    assert _text(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("我住在浙江省杭州市西湖区文三路100号", "我住在浙江省杭州市****"),
        ("寄到北京市朝阳区建国路1号院3栋201室，谢谢", "寄到北京市****，谢谢"),
        ("上海浦东新区张江路88号", "上海****"),
        ("广东省深圳市南山区科技园南区", "广东省深圳市****"),
        ("地址:文三路100号", "地址:****"),
        ("我在超市买的东西在路上", "我在超市买的东西在路上"),  # no address: untouched
        ("这个城市很好", "这个城市很好"),
    ],
)
def test_addresses(raw: str, masked: str) -> None:
    assert _text(raw) == masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("收件人张三", "收件人张**"),
        ("收货人：李四四 13800001111", "收货人：李** 138****1111"),
        ("买家 tb_hacker01 差评", "买家 t**1 差评"),
        ("昵称：张小明三 好", "昵称：张**三 好"),
        ("买家：张三", "买家：张*"),
        ("买家表扬服务耐心", "买家表扬服务耐心"),  # not a nick (no colon before Chinese text)
    ],
)
def test_labelled_names_and_nicks(raw: str, masked: str) -> None:
    assert _text(raw) == masked


def test_nicks() -> None:
    nicks = ["张小明三", "tb_12345", "abc", "ab", "a", "", None]
    out = pl.DataFrame({"b": nicks}).select(mask_nick(pl.col("b")).alias("b"))["b"].to_list()
    assert out == ["张**三", "t**5", "a**c", "a*", "a*", "", None]


def test_mask_frame_masks_own_buyer_nick_in_text_and_keeps_other_columns() -> None:
    df = pl.DataFrame({
        "buyer": ["tb_12345", "张三", None],
        "excerpt": ["我是tb_12345, 电话13812345678", "张三在此", "=1+1"],
        "detail": ["等待 5 秒", None, "x"],
        "source_row": [1, 2, 3],
    })
    out = mask_frame(df)
    assert out.to_dict(as_series=False) == {
        "buyer": ["t**5", "张*", None],
        "excerpt": ["我是t**5, 电话138****5678", "张*在此", "=1+1"],
        "detail": ["等待 5 秒", None, "x"],
        "source_row": [1, 2, 3],
    }


def test_masking_is_idempotent() -> None:
    once = _text("浙江省杭州市西湖区文三路100号 13812345678 收件人张三")
    assert once == "浙江省杭州市**** 138****5678 收件人张**"
    assert _text(once) == once
