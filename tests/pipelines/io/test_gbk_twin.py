"""A GB18030 inbox stages exactly like its UTF-8 twin: the chunked transcoding to UTF-8
bytes (pipelines.io.encoding.to_utf8) and the bytes-straight-to-polars readers give the
same tables, quarantine and counts. Chunks of 7 bytes cut multi-byte characters."""

import pytest
from polars.testing import assert_frame_equal

import pipelines.io.encoding as enc
from pipelines.bench import inbox_for
from pipelines.ingest import stage_inbox

MONTH = "2026-10"


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    cache = tmp_path_factory.mktemp("bench")
    return inbox_for(2000, seed=5, cache=cache), inbox_for(2000, seed=5, gbk=True, cache=cache)


def test_gbk_inbox_stages_like_its_utf8_twin(twins, monkeypatch):
    utf8, gbk = twins
    monkeypatch.setattr(enc, "CHUNK", 7)
    r_utf8, t_utf8, q_utf8 = stage_inbox(MONTH, utf8)
    r_gbk, t_gbk, q_gbk = stage_inbox(MONTH, gbk)
    assert t_utf8["messages"].height > 1000
    for kind in t_utf8:
        assert_frame_equal(t_gbk[kind], t_utf8[kind])
    assert_frame_equal(q_gbk, q_utf8)
    counts = {(f.file_name, k): vars(c) for f in r_utf8 for k, c in f.counts.items()}
    assert {(f.file_name, k): vars(c) for f in r_gbk for k, c in f.counts.items()} == counts
    encodings = {f.encoding for f in r_gbk if f.file_name.endswith(".csv")}
    assert encodings == {"gb18030"}


@pytest.mark.parametrize("text", ["退款成功，买家已退货。" * 40, "ascii only\n" * 30, "€𠀋 mixed 中文\r\n" * 25])
@pytest.mark.parametrize("codec", ["gb18030", "utf-8", "utf-8-sig"])
def test_to_utf8_equals_a_whole_decode(text, codec, monkeypatch):
    monkeypatch.setattr(enc, "CHUNK", 7)
    monkeypatch.setattr(enc, "_CHECK_CHUNK", 5)  # UTF-8 checked in pieces cut at character starts
    data = text.encode(codec)
    out, used = enc.to_utf8(data)
    assert out == text.encode("utf-8")
    assert used == enc.detect_encoding(data)


def test_to_utf8_rejects_what_decode_rejects(monkeypatch):
    monkeypatch.setattr(enc, "_CHECK_CHUNK", 5)
    bad = ("中文" * 400).encode("utf-8") + b"\xff" + "尾".encode("utf-8")
    with pytest.raises(enc.UndecodableFile) as got:
        enc.to_utf8(bad)
    with pytest.raises(enc.UndecodableFile) as want:
        enc.decode(bad)
    assert str(got.value) == str(want.value)
    assert not enc.is_valid_utf8(bad) and enc.is_valid_utf8(bad[:-4])
