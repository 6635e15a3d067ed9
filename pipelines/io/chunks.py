"""A big CSV export read in chunks of whole records, so reading it takes memory for one
chunk, not for the file (issue 13: peak memory must not grow with the month).

A chunk ends after a line feed that lies outside quotes: the number of ``"`` before it is
even (RFC 4180: a quote inside a quoted field is doubled, so it keeps the parity). Chunk
boundaries are found on the UTF-8 bytes (:meth:`SourceFile.utf8_source`), where a line feed
or a quote byte never occurs inside a multi-byte character. A file whose quoting is not
well formed (a stray quote) makes polars raise on the chunk that holds it; the readers
then read that chunk the way the whole-file read falls back (see ``_table_common``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Records per chunk (~70 MB of a flat chat export; tests set a handful). Each chunk costs
# ~15 ms of fixed work in the readers and staging (dozens of polars calls), so fewer, bigger
# chunks are cheaper: 100,000 records take 0.17 CPU s per million less than 50,000.
CHUNK_RECORDS = 100_000
# Text files from this size on are read in chunks by the readers that can (flat chat,
# orders, refunds); smaller files keep the whole-file path.
BIG_FILE_BYTES = 16 << 20
_BLOCK = 8 << 20  # bytes read from disk at a time while looking for a boundary
_HEAD = 1 << 20  # bytes looked at to estimate the bytes a record takes


@dataclass
class Chunk:
    data: bytes  # UTF-8, whole records (the first chunk starts at the file's first byte, BOM cut)
    offset: int  # where ``data`` starts in the UTF-8 source
    last: bool  # nothing follows


def _record_end(buf: bytes, pos: int) -> int:
    """Just after the first line feed at or after ``pos`` that lies outside quotes (an
    even number of ``"`` before it in ``buf``), or -1 when ``buf`` holds none."""
    quotes = buf.count(b'"', 0, pos)
    while True:
        nl = buf.find(b"\n", pos)
        if nl < 0:
            return -1
        quotes += buf.count(b'"', pos, nl)
        if not quotes & 1:
            return nl + 1
        pos = nl + 1


def record_chunks(path: Path, offset: int = 0, start: int | None = None, records: int | None = None,
                  first_records: int = 0) -> Iterator[Chunk]:
    """Chunks of whole records of the UTF-8 file ``path``, whose text starts at byte
    ``offset`` (after a BOM), beginning at byte ``start`` (a record boundary; default the
    text start). Each chunk holds about ``records`` records (estimated from the bytes the
    first lines take) and the first at least ``first_records`` records (so title rows,
    the header and the rows a header search scans are in it)."""
    records = records or CHUNK_RECORDS
    start = offset if start is None else start
    with open(path, "rb") as f:
        head = f.read(_HEAD)
        target = max(1, records * max(1, len(head) // max(1, head.count(b"\n"))))
        f.seek(start)
        buf, eof, at = b"", False, start

        def read_more(n: int) -> None:
            nonlocal buf, eof
            block = f.read(max(n, _BLOCK)) if not eof else b""
            eof = eof or not block
            buf += block

        def end_from(pos: int) -> int:  # the record end at or after pos, reading as needed
            while len(buf) <= pos and not eof:
                read_more(pos + 1 - len(buf))
            while True:
                end = _record_end(buf, pos) if pos < len(buf) else -1
                if end >= 0 or eof:
                    return end if end >= 0 else len(buf)
                read_more(_BLOCK)

        first = start == offset
        while True:
            end = 0
            for _ in range(first_records if first else 0):
                end = end_from(end)
                if end >= len(buf) and eof:
                    break
            end = end_from(max(end, target)) if end < target else end
            chunk, buf = buf[:end], buf[end:]
            if not buf:
                read_more(_BLOCK)
            last = eof and not buf
            yield Chunk(chunk, at, last)
            if last:
                return
            at += len(chunk)
            first = False
