"""Masking of buyers' phones, addresses, names and nicks: exact outputs."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.report.mask import mask_frame, mask_known_nicks, mask_lines, mask_nick, mask_text, nicks_in


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


def test_mask_lines_uses_only_the_nicks_in_the_lines_with_the_same_output() -> None:
    lines = ["  chat.xlsx/tb_alice99 第3行: 日期无法识别", "  chat.xlsx/小美好 第4行: 买家tb_alice 电话13812345678", "无昵称"]
    nicks = ["tb_alice", "tb_alice99", "小美好", "tb_bob", "never_there", None, "tb_alice"]
    # overlapping nicks: the longest wins where both match; a nick absent from every line is dropped
    assert sorted(nicks_in(lines, nicks).to_list()) == ["tb_alice", "tb_alice99", "小美好"]
    assert mask_lines(lines, nicks) == [
        "  chat.xlsx/t**9 第3行: 日期无法识别",
        "  chat.xlsx/小**好 第4行: 买家t**e 电话138****5678",
        "无昵称",
    ]
    assert mask_lines(lines, pl.Series(nicks)) == mask_lines(lines, nicks)  # a Series of nicks too
    assert mask_lines(["没有昵称的行"], ["tb_bob"]) == ["没有昵称的行"]
    assert mask_lines([], nicks) == []


def test_mask_lines_equals_masking_with_every_nick() -> None:
    import random

    rnd = random.Random(13)
    alphabet = "ab_1小美"
    nicks = sorted({"".join(rnd.choices(alphabet, k=rnd.randint(1, 6))) for _ in range(400)})
    lines = ["".join(rnd.choices(alphabet + " 号", k=rnd.randint(0, 40))) for _ in range(60)]
    everyone = pl.DataFrame({"t": lines}).select(mask_text(mask_known_nicks(pl.col("t"), nicks)))["t"].to_list()
    assert mask_lines(lines, nicks) == everyone
    assert len(nicks_in(lines, nicks)) < len(nicks)  # the case is not trivial: some nicks are absent


def test_a_held_frame_is_masked_as_a_lazy_one_is() -> None:
    df = pl.DataFrame({
        "buyer": ["tb_alice99", "张小明三", None, "ab"],
        "excerpt": ["我是tb_alice99 电话13812345678", "收件人张三 浙江省杭州市西湖区文三路100号", "买家 tb_x01 好", None],
        "detail": ["张小明三说", None, "座机0571-87654321", "ab ab"],
        "source_sheet": ["tb_alice99", "Sheet1", None, "ab"],
        "conversation_id": ["店|店:a|tb_alice99|2026", "店|店:a|张小明三|2026", None, "店|ab|ab|1"],
        "kind": ["slow_response"] * 4,
    })
    held = mask_frame(df)
    assert held.equals(mask_frame(df.lazy()).collect())
    assert held["conversation_id"].to_list() == ["店|店:a|t**9|2026", "店|店:a|张**三|2026", None, "店|a*|a*|1"]
    assert held["excerpt"][0] == "我是t**9 电话138****5678" and held["buyer"].to_list() == ["t**9", "张**三", None, "a*"]
