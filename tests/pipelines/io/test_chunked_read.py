"""Big CSV exports read in chunks of records (flat chat, orders, refunds) give exactly the
staged rows, quarantine, notes and counts of the whole-file read. The size threshold is
set to 0 and the chunk to a few records, so small fixtures cross every kind of boundary:
quoted line breaks, GBK multi-byte text, title rows, blank rows, a total row at the end,
Excel-wrapped ids, a BOM."""

from __future__ import annotations

import gc
import hashlib
import random

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import pipelines.io.chunks as chunks
from pipelines.bench import inbox_for
from pipelines.ingest import stage_inbox
from pipelines.io.source import SourceFile
from pipelines.readers import get
from pipelines.staging.stage import stage_batch

MONTH = "2026-10"
ENCODINGS = ["utf-8", "utf-8-sig", "gbk"]


def _whole(path, layout):
    src = SourceFile(path)
    assert not src.chunked
    batches = get(layout).read(src)
    assert isinstance(batches, list)
    return batches


def _chunked(path, layout, records, monkeypatch):
    monkeypatch.setattr(chunks, "BIG_FILE_BYTES", 0)
    monkeypatch.setattr(chunks, "CHUNK_RECORDS", records)
    src = SourceFile(path)
    assert src.chunked
    batches = list(get(layout).read(src))
    assert "data" not in src.__dict__  # the file was never held whole
    monkeypatch.setattr(chunks, "BIG_FILE_BYTES", 16 << 20)
    return batches


def _staged(batches, kind, name="f.csv"):
    loaded, quarantined, notes = [], [], []
    for b in batches:
        assert b.kind == kind
        ok, bad, counts = stage_batch(kind, b.frame, MONTH, name)
        assert counts.balanced
        loaded.append(ok)
        quarantined.append(bad)
        notes += b.notes
    return pl.concat(loaded, how="vertical_relaxed"), pl.concat(quarantined, how="vertical_relaxed"), notes


def _assert_same(path, layout, kind, records, monkeypatch, min_batches=3):
    want = _staged(_whole(path, layout), kind)
    batches = _chunked(path, layout, records, monkeypatch)
    assert len(batches) >= min_batches
    got = _staged(batches, kind)
    assert_frame_equal(got[0], want[0])
    assert_frame_equal(got[1], want[1])
    assert got[2] == want[2]
    return want


# ---------------------------------------------------------------- flat chat CSV

FLAT_HEADER = "店铺,客服账号,买家,发送方,发送方角色,发送时间,内容"


def _flat_text(n=60, seed=3) -> str:
    rnd = random.Random(seed)
    texts = ["在吗", '"第一行\n第二行，还有""引号"""', "退款成功，买家已退货。", "【自动回复】稍等", '"由 旗舰店:小王 转交给 旗舰店:小李。原因：专人处理"',
             "旗舰店:小王 撤回了一条消息", '"换行\r\n在中间"', "尺码偏小怎么办", "=1+2"]
    lines = ["聊天记录导出 2026年10月", "导出人：主管", FLAT_HEADER]
    for i in range(n):
        if i % 17 == 5:
            lines.append("")  # a blank row
            continue
        agent = rnd.choice(["旗舰店:小王", "旗舰店:小李"])
        buyer = f"买家{rnd.randint(1, 5)}"
        who, role = (buyer, "买家") if rnd.random() < 0.5 else (agent, rnd.choice(["客服", ""]))
        t = rnd.choice(["2026-10-01 09:00:%02d" % (i % 60), "2026/10/2 9:%02d" % (i % 60), "昨天 10:00"])
        lines.append(",".join(["旗舰店", agent, buyer, who, role, t, rnd.choice(texts)]))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("records", [1, 2, 7])
def test_flat_chat_csv_in_chunks_stages_like_the_whole_file(tmp_path, encoding, records, monkeypatch):
    path = tmp_path / "flat.csv"
    path.write_bytes(_flat_text().encode(encoding))
    loaded, quarantined, notes = _assert_same(path, "chat_flat", "messages", records, monkeypatch)
    assert notes == ["跳过表头上方标题行 2 行", "跳过空行 4 行"]
    assert loaded.height > 40 and quarantined.height > 3
    # a quoted line break survives the chunking, and the row numbers are the file's
    assert loaded.filter(pl.col("text") == "第一行\n第二行，还有\"引号\"").height
    assert loaded.get_column("source_row").max() > loaded.height


def test_classic_mac_line_ends_in_one_chunk(tmp_path, monkeypatch):
    path = tmp_path / "flat.csv"
    path.write_bytes(_flat_text(12).replace('"第一行\n第二行，还有""引号"""', "x").replace('"换行\r\n在中间"', "y").replace("\n", "\r").encode("utf-8"))
    _assert_same(path, "chat_flat", "messages", 7, monkeypatch, min_batches=1)  # no line feed: one chunk


def test_a_role_decided_by_a_shop_name_of_a_later_chunk(tmp_path, monkeypatch):
    """No role column: a sender without a colon is an agent when some account of the file
    names it as a shop. 店B is only seen as a shop in the last rows, so the first chunk is
    read again once the whole file's shop names are known."""
    rows = ["店铺,客服账号,买家,发送方,发送时间,内容", "店A,店A:小王,买家1,店B,2026-10-01 09:00:00,你好",
            "店A,店A:小王,买家1,路人甲,2026-10-01 09:00:01,我也问"]
    rows += [f"店A,店A:小王,买家{i},买家{i},2026-10-01 09:01:{i:02d},在吗" for i in range(30)]
    rows += ["店B,店B:小李,买家9,店B:小李,2026-10-01 10:00:00,您好"]
    path = tmp_path / "flat.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    loaded, _, _ = _assert_same(path, "chat_flat", "messages", 2, monkeypatch)
    roles = dict(loaded.select("sender", "sender_role").unique().iter_rows())
    assert roles["店B"] == "agent" and roles["路人甲"] == "buyer"


@pytest.mark.parametrize("parallel", [1, 2, 3])
@pytest.mark.parametrize("records", [1, 2, 3])
def test_a_role_decided_by_a_shop_name_of_a_chunk_still_in_flight(tmp_path, monkeypatch, parallel, records):
    """Chunks are turned into messages several at a time, each knowing the shop names of
    the chunks finished before it: a chunk whose sender 店B became a shop in a chunk still in
    flight is done again in order, so every role is the one-by-one reading's."""
    import pipelines.readers.chat_flat as chat_flat

    rows = ["店铺,客服账号,买家,发送方,发送时间,内容"]
    rows += [f"店A,店A:小王,买家{i},买家{i},2026-10-01 09:01:{i:02d},在吗" for i in range(8)]
    rows += ["店B,店B:小李,买家9,店B:小李,2026-10-01 10:00:00,您好", "店A,店A:小王,买家1,店B,2026-10-01 10:00:01,我是店B"]
    rows += [f"店A,店A:小王,买家{i},买家{i},2026-10-01 11:01:{i:02d},在吗" for i in range(8)]
    path = tmp_path / "flat.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import threading

    calls = []  # the threads that turned rows into messages
    real = chat_flat.messages_from_flat
    monkeypatch.setattr(chat_flat, "messages_from_flat", lambda df, shops=None: calls.append(threading.current_thread().name) or real(df, shops))
    monkeypatch.setattr(chat_flat, "PARALLEL_CHUNKS", parallel)
    loaded, _, _ = _assert_same(path, "chat_flat", "messages", records, monkeypatch)
    roles = dict(loaded.select("sender", "sender_role").unique().iter_rows())
    assert roles["店B"] == "agent" and roles["买家3"] == "buyer"
    in_order = [c for c in calls if not c.startswith("kefu-chunk")]
    if records == 1:  # the whole-file read, and (in flight: 店B's row) one chunk again
        assert len(in_order) == (2 if parallel > 1 else 1)


# ---------------------------------------------------------------- orders / refunds CSV

ORDER_HEADER = "订单编号,买家会员名,总金额,买家实际支付金额,订单状态,买家留言,订单创建时间,订单付款时间,宝贝标题,宝贝总数量,店铺名称"


def _orders_text(n=40) -> str:
    lines = ["订单报表 导出时间：2026-11-01 09:00:00", ORDER_HEADER]
    for i in range(n):
        oid = [f'="30123456789012{i:05d}"', f"\t30123456789012{i:05d}", f"'30123456789012{i:05d}", f"30123456789012{i:05d}"][i % 4]
        note = ['"请尽快发货，\n谢谢"', "", "送人的", '"要""大号"""'][i % 4]
        paid = '"￥1,299.00"' if i % 5 == 0 else "99.90"
        created = "2026-10-40 12:00:00" if i == 11 else f"2026-10-{1 + i % 28:02d} 10:15:00"
        lines.append(f"{oid},买家{i},{paid},{paid},交易成功,{note},{created},2026-10-03 10:16:02,北欧实木餐桌,1,优品家居旗舰店")
        if i == 20:
            lines.append(",,,,,,,,,,")  # an empty row
    lines.append("合计,,,,,,,,,40,")  # a total row in the last chunk
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("records", [1, 3, 7])
def test_order_csv_in_chunks_stages_like_the_whole_file(tmp_path, encoding, records, monkeypatch):
    path = tmp_path / "orders.csv"
    path.write_bytes(_orders_text().encode(encoding))
    loaded, quarantined, _ = _assert_same(path, "orders_classic", "orders", records, monkeypatch)
    assert loaded.height >= 38
    # the Excel-wrapped ids were unwrapped, the total row and the bad date quarantined
    assert loaded.get_column("order_id").str.contains(r"^\d+$").all()
    assert quarantined.get_column("source_row").to_list() == [3, 14, 44]  # the file's own row numbers
    assert "'合计'" in quarantined.item(2, "reason") and "截断" in quarantined.item(0, "reason")


@pytest.mark.parametrize("odd", ['"要\r大号"', '要"大号', "要\x00大号"])
def test_a_chunk_polars_would_misread_takes_the_csv_module_path_as_the_whole_file_does(tmp_path, odd, monkeypatch):
    """A lone CR, a stray quote mid-field, a NUL: the whole file is read by ``csv.reader``;
    chunked, the chunk holding it is (the others by polars: the same cells)."""
    path = tmp_path / "orders.csv"
    head, tail = _orders_text().rsplit('"要""大号"""', 1)  # in the last rows (beyond the sniffed head)
    path.write_bytes((head + odd + tail).encode("utf-8"))
    loaded, _, _ = _assert_same(path, "orders_classic", "orders", 3, monkeypatch)
    assert loaded.height >= 38


@pytest.mark.parametrize("gbk", [False, True])
def test_generated_inbox_stages_the_same_in_chunks(tmp_path_factory, gbk, monkeypatch):
    """The bench generator's inbox (flat chat CSVs, classic/new order and refund exports
    with Excel-mangled ids, UTF-8 + BOM or GBK): every table, the quarantine, the per-file
    counts, notes and hashes equal, chunks of 7 records."""
    inbox = inbox_for(2000, seed=5, gbk=gbk, cache=tmp_path_factory.mktemp("bench"))
    r0, t0, q0 = stage_inbox(MONTH, inbox)
    monkeypatch.setattr(chunks, "BIG_FILE_BYTES", 0)
    monkeypatch.setattr(chunks, "CHUNK_RECORDS", 7)
    r1, t1, q1 = stage_inbox(MONTH, inbox)
    for kind in t0:
        assert_frame_equal(t1[kind], t0[kind])
    assert_frame_equal(q1, q0)

    def files(results):
        return [(f.file_name, f.sha256, f.encoding, f.layout, f.notes, {k: vars(c) for k, c in f.counts.items()}) for f in results]

    assert files(r1) == files(r0)
    assert t0["messages"].height > 1000 and t0["orders"].height > 1000 and t0["refunds"].height > 50


# ---------------------------------------------------------------- the source file


def test_a_streamed_file_reads_like_a_whole_one(tmp_path, monkeypatch):
    for i, enc in enumerate(ENCODINGS):
        (tmp_path / f"flat{i}.csv").write_bytes(_flat_text().encode(enc))
    (tmp_path / "orders.csv").write_bytes(_orders_text().encode("gbk"))
    want = {}
    for p in sorted(tmp_path.iterdir()):
        s = SourceFile(p)
        want[p.name] = (s.sha256, s.format, s.encoding, s.head_text(500), s.utf8)
    monkeypatch.setattr(chunks, "BIG_FILE_BYTES", 0)
    for p in sorted(tmp_path.iterdir()):
        s = SourceFile(p)
        got = (s.sha256, s.format, s.encoding, s.head_text(500))
        assert "data" not in s.__dict__
        assert got == want[p.name][:4]
        assert b"".join(c.data for c in s.record_chunks()) == want[p.name][4]


def test_gbk_is_transcoded_to_a_temporary_file_deleted_with_the_source(tmp_path, monkeypatch):
    monkeypatch.setattr(chunks, "BIG_FILE_BYTES", 0)
    p = tmp_path / "orders.csv"
    p.write_bytes(_orders_text().encode("gbk"))
    s = SourceFile(p)
    path, offset = s.utf8_source()
    assert path != p and path.read_bytes() == _orders_text().encode("utf-8") and offset == 0
    del s
    gc.collect()
    assert not path.exists()


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_streamed_file_whose_body_does_not_decode_is_binary(tmp_path, encoding, monkeypatch):
    """As the whole-file check says: the prefix (> 1 MiB here) decodes, the body does not."""
    monkeypatch.setattr(chunks, "BIG_FILE_BYTES", 0)
    p = tmp_path / "bad.csv"
    data = _flat_text(30_000).encode(encoding) + b"\xff\xff" + "尾".encode(encoding)
    p.write_bytes(data)
    assert len(data) > 1 << 20
    s = SourceFile(p)
    assert s.format == "binary"
    assert s.sha256 == hashlib.sha256(data).hexdigest()
    assert SourceFile(p).encoding == s.encoding == ("gb18030" if encoding == "gbk" else encoding)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_a_file_scanned_ahead_in_another_thread_reads_the_same(tmp_path, encoding, monkeypatch):
    """:meth:`SourceFile.scan_ahead` (the next file's hash and decode check, while ingest
    reads the one before): same hash, format, text and chunks; a body that does not decode
    is still binary; a GBK copy is still deleted with its source."""
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(chunks, "BIG_FILE_BYTES", 0)
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(_flat_text().encode(encoding))
    bad.write_bytes(_flat_text(30_000).encode(encoding) + b"\xff\xff" + "尾".encode(encoding))
    with ThreadPoolExecutor(1) as pool:
        s, b = SourceFile(good), SourceFile(bad)
        s.scan_ahead(pool)
        b.scan_ahead(pool)
        inline = SourceFile(good)
        assert (s.sha256, s.format, s.encoding, s.head_text(500)) == (inline.sha256, inline.format, inline.encoding, inline.head_text(500))
        assert [c.data for c in s.record_chunks()] == [c.data for c in inline.record_chunks()]
        assert b.format == "binary" and b.sha256 == hashlib.sha256(bad.read_bytes()).hexdigest()
        copy = s.utf8_source()[0]
    del s, inline
    gc.collect()
    assert copy == good or not copy.exists()


def test_chunks_end_at_record_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(chunks, "_BLOCK", 3)  # reads that cut records and characters
    monkeypatch.setattr(chunks, "_HEAD", 5)
    rnd = random.Random(7)
    for t in range(150):
        fields = ["a", '"x\ny"', '"q""\nz"', "中文", "", '"，\r\n"']
        data = "\n".join(rnd.choice(fields) + f",{i}" for i in range(rnd.randint(0, 30)))
        data = (data + rnd.choice(["", "\n", "\n\n"])).encode("utf-8")
        p = tmp_path / f"{t}.csv"
        p.write_bytes(data)
        for records in (1, 2, 7):
            got = list(chunks.record_chunks(p, records=records, first_records=rnd.randint(0, 3)))
            assert b"".join(c.data for c in got) == data
            assert got[-1].last and not any(c.last for c in got[:-1])
            at = 0
            for c in got:
                assert c.offset == at
                at += len(c.data)
            for c in got[:-1]:
                assert c.data.endswith(b"\n") and c.data.count(b'"') % 2 == 0


def test_an_inbox_of_big_gbk_files_holds_at_most_two_utf8_copies(tmp_path, monkeypatch):
    """The next big file is scanned (a GBK one transcoded to a temporary UTF-8 copy) while
    the one before is read: never more than two copies at once, none left afterwards."""
    import tempfile

    from pipelines.ingest import iter_inbox

    monkeypatch.setattr(chunks, "BIG_FILE_BYTES", 0)
    monkeypatch.setattr(chunks, "CHUNK_RECORDS", 5)
    inbox, scratch = tmp_path / "inbox", tmp_path / "tmp"
    inbox.mkdir()
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    for i in range(4):
        (inbox / f"flat{i}.csv").write_bytes(_flat_text(40, seed=i).encode("gbk"))
    seen = []
    for _ in iter_inbox(MONTH, inbox):
        seen.append(len(list(scratch.glob("kefu-utf8-*"))))
    gc.collect()
    assert 1 <= max(seen) <= 2 and not list(scratch.glob("kefu-utf8-*"))
