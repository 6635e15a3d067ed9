"""Text columns a reader declares clean (:attr:`Batch.clean`) are exactly what the stager's
``clean_text`` would make of them, so the stager takes them as they are: on messy flat chat
exports (spaces around every cell, blank and whitespace-only cells, full-width colons,
recall and transfer lines, role and read-status spellings) the declared columns are
unchanged by ``clean_text``, and staging with or without the declaration gives the same
rows, quarantine and counts, whole-file and in chunks."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal, assert_series_equal

import pipelines.io.chunks as chunks
from pipelines.io.source import SourceFile
from pipelines.readers import get
from pipelines.readers.chat_flat import CLEAN
from pipelines.staging.stage import clean_text, stage_batch
from tests.pipelines.readers.chat_fixtures import write_flat_csv

MONTH = "2026-10"
HEADER = "店铺,客服账号,买家,发送方,发送方角色,发送时间,内容,自动回复,事件,转出客服,转入客服,转交原因,已读状态"
ROWS = [
    " 旗舰店 , 旗舰店：小王 , buyer_a ,buyer_a, 买家 ,2026-10-01 09:00:05,  在吗  , 否 , 消息 ,,,, 已读 ",
    "旗舰店,旗舰店:小王,buyer_a,旗舰店：小王 ,客服,2026-10-01 09:00:06,【自动回复】您好,是,,,,,read",
    ",旗舰店 :小李, buyer_b ,  , ,2026-10-01 09:01:00,\t,,,,,, ",
    "旗舰店,旗舰店:小李,buyer_b, 旗舰店:小李 ,,2026-10-01 09:01:05,旗舰店:小李 撤回了一条消息,,,,,,",
    "旗舰店,旗舰店:小李,buyer_b,,,2026-10-01 09:02:00,由 旗舰店:小李 转交给 旗舰店：小王 原因： 专人处理 ,,,,,,",
    "旗舰店,旗舰店:小王,buyer_b,系统,system,2026-10-01 09:02:01,会话已转接,,transfer,旗舰店:小李 , 旗舰店:小王,  换人 ,",
    " ,:小赵,buyer_c,buyer_c,customer,2026/10/2 9:00,你好,n,message,,,,unread",
    "旗舰店,旗舰店:小王,buyer_c,buyer_c,火星人,2026-10-02 09:00:01,？,也许,撤回,,,,未读",
    "旗舰店,旗舰店:小王,buyer_c,,,2026-10-02 09:00:02,没有发送方,,,,,,",
]


@pytest.fixture
def messy_csv(tmp_path):
    path = tmp_path / "messy.csv"
    path.write_text(HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def _batches(path, chunk_records, monkeypatch):
    if chunk_records:
        monkeypatch.setattr(chunks, "BIG_FILE_BYTES", 0)
        monkeypatch.setattr(chunks, "CHUNK_RECORDS", chunk_records)
    src = SourceFile(path)
    assert src.chunked == bool(chunk_records)
    return list(get("chat_flat").read(src))


def _staged(batches, declared: bool):
    out = [stage_batch("messages", b.frame, MONTH, "f.csv", b.clean if declared else frozenset()) for b in batches]
    loaded = pl.concat([o[0] for o in out], how="vertical_relaxed")
    quarantine = pl.concat([o[1] for o in out], how="vertical_relaxed")
    return loaded, quarantine, [vars(o[2]) for o in out]


@pytest.mark.parametrize("chunk_records", [0, 2])
def test_declared_columns_are_clean_and_staging_them_as_they_are_changes_nothing(messy_csv, chunk_records, monkeypatch):
    batches = _batches(messy_csv, chunk_records, monkeypatch)
    assert len(batches) == 1 if not chunk_records else len(batches) > 2
    for b in batches:
        assert b.clean == CLEAN
        for c in CLEAN:
            s = b.frame.get_column(c)
            assert_series_equal(pl.select(clean_text(pl.lit(s))).to_series().alias(c), s)
    with_decl, without = _staged(batches, True), _staged(batches, False)
    for got, want in zip(with_decl, without, strict=True):
        if isinstance(got, pl.DataFrame):
            assert_frame_equal(got, want)
        else:
            assert got == want
    loaded, quarantine, _ = with_decl
    assert loaded.height and quarantine.height  # both paths of a row are compared
    assert "旗舰店:小王" in loaded["agent_account"].to_list()  # the full-width colon folded


def test_shop_and_text_are_not_declared_clean_because_they_need_the_stager(messy_csv, monkeypatch):
    """The shop split from ' :小赵'-like accounts and the texts are cleaned by the stager."""
    (b,) = _batches(messy_csv, 0, monkeypatch)
    assert not {"shop", "text"} & CLEAN
    for c in ("shop", "text"):
        s = b.frame.get_column(c)
        assert not pl.select(clean_text(pl.lit(s))).to_series().equals(s, null_equal=True)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gbk"])
def test_the_flat_fixture_stages_the_same_with_the_declaration(tmp_path, encoding, monkeypatch):
    path = write_flat_csv(tmp_path / "flat.csv", encoding)
    batches = _batches(path, 0, monkeypatch)
    with_decl, without = _staged(batches, True), _staged(batches, False)
    assert_frame_equal(with_decl[0], without[0])
    assert_frame_equal(with_decl[1], without[1])
    assert with_decl[2] == without[2]
