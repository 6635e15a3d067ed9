"""Per-agent statistics readers: 生意参谋 咨询接待分析 and 赤兔 客服数据."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.io.source import SourceFile
from pipelines.readers import get
from pipelines.readers._table_common import fraction, seconds

FIX = Path(__file__).parent / "fixtures" / "tables"
SYCM = FIX / "stats_sycm__data_info.xlsx"
CHITU = FIX / "stats_chitu__basic.csv"


def _read(layout: str, path: Path):
    (batch,) = get(layout).read(SourceFile(path))
    assert batch.kind == "agent_stats"
    return batch


def test_sycm_sheet_data_info():
    b = _read("stats_sycm", SYCM)
    assert b.notes == ["跳过汇总/平均行 2 行（工作表 数据信息）"]
    r1, r2 = b.frame.to_dicts()
    assert r1 == {
        "source": "sycm", "agent_nick": "优品家居旗舰店:小美", "consult_buyers": "120", "received_buyers": "118",
        "unreplied_buyers": "2", "reply_rate": "0.9833", "first_response_s": "65",  # Excel time cell 00:01:05
        "avg_response_s": "12.5", "response_3min_rate": "0.9512", "slow_buyers": "3", "ask_answer_ratio": "1.25",
        "group_name": "售后组", "source_row": 4, "source_sheet": "数据信息",
    }
    assert (r2["consult_buyers"], r2["avg_response_s"], r2["response_3min_rate"], r2["reply_rate"], r2["first_response_s"]) == (
        "1020", None, "0.9", "1", "8")  # '1,020'; '-' = no value; 0.9 already a fraction; '100%'


def test_chitu_csv():
    b = _read("stats_chitu", CHITU)
    assert b.notes == ["跳过汇总/平均行 2 行"]
    f = b.frame
    assert f["agent_nick"].to_list() == ["优品家居旗舰店:小美", "优品家居旗舰店:小王"]
    assert f["source_row"].to_list() == [3, 4]
    r1, r2 = f.to_dicts()
    assert (r1["consult_buyers"], r1["received_buyers"], r1["transfers_out"], r1["agent_chars"], r1["max_concurrent"]) == (
        "320", "315", "4", "56000", "8")
    assert (r1["reply_rate"], r1["first_response_s"], r1["avg_response_s"], r1["slow_buyers"], r1["long_receptions"]) == (
        "0.9844", "18.5", "42", "12", "3")
    assert (r2["first_response_s"], r2["avg_response_s"], r2["reply_rate"]) == ("65", "35", "0.9643")
    assert set(f["source"]) == {"chitu"}


def test_summary_rows_and_bad_value_reach_staging(tmp_path):
    stage = pytest.importorskip("pipelines.staging.stage")
    p = tmp_path / "chitu.csv"
    p.write_text(
        "客服,聊天人数,接待人数,转出人数,客服字数,最大同时聊天数,回复率,首次响应(秒),平均响应(秒)\n"
        "店:甲,10,9,0,100,2,90%,5,6\n"
        "店:乙,很多,9,0,100,2,90%,5,6\n"
        "平均值,10,9,0,100,2,90%,5,6\n",
        encoding="utf-8",
    )
    b = _read("stats_chitu", p)
    assert b.frame["consult_buyers"].to_list() == ["10", "很多"]  # unparseable kept raw
    loaded, quarantine, counts = stage.stage_batch("agent_stats", b.frame, "2026-10", p.name)
    assert (counts.rows_read, counts.loaded, counts.quarantined) == (2, 1, 1)
    assert loaded["reply_rate"].to_list() == [0.9] and loaded["first_response_s"].to_list() == [5.0]
    assert "咨询人数" in quarantine["reason"][0]


def test_percent_header_means_percent(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("客服,聊天人数,接待人数,客服字数,最大同时聊天数,回复率(%)\n店:甲,10,9,100,2,97.5\n", encoding="utf-8")
    assert _read("stats_chitu", p).frame["reply_rate"].to_list() == ["0.975"]


@pytest.mark.parametrize(
    "raw,expected",
    [("95.12%", "0.9512"), ("100%", "1"), ("0.5", "0.5"), (" 3.5 % ", "0.035"), ("-", None), ("", None), ("abc", "abc")],
)
def test_fraction(raw, expected):
    assert pl.DataFrame({"v": [raw]}).select(fraction(pl.col("v"))).item() == expected


@pytest.mark.parametrize(
    "raw,expected",
    [("12.5", "12.5"), ("00:01:05", "65"), ("1:02:03", "3723"), ("01:05", "65"), ("1899-12-31 00:02:00", "120"),
     ("1分5秒", "65"), ("30秒", "30"), ("1小时", "3600"), ("--", None), ("很快", "很快")],
)
def test_seconds(raw, expected):
    assert pl.DataFrame({"v": [raw]}).select(seconds(pl.col("v"))).item() == expected
