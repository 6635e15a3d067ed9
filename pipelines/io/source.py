"""A file in the inbox, with lazy, cached access to its bytes, text and sheets.

Readers never open files themselves: they ask a :class:`SourceFile` for ``text()``,
``csv_rows()`` or ``sheets()`` so detection and reading share one decode/parse.
Sheets are returned as *raw grids*: polars frames of strings with generic column names
(``c0``, ``c1``...), no header applied, plus a ``_row`` column holding the 1-based row
number as Excel/a text editor shows it. :func:`pipelines.io.headers.apply_header` turns a
grid into a headed frame once the header row has been found.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import os
import tempfile
import weakref
import zipfile
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import polars as pl

from . import chunks as _chunks
from . import encoding as _enc
from .ahead import ordered_map
from .chunks import Chunk, record_chunks
from .encoding import UndecodableFile, detect_encoding, to_utf8

_DETECT_BYTES = 1 << 20  # the prefix :func:`detect_encoding` looks at
PARALLEL_CHUNKS = 2  # chunks of a big CSV parsed at once (threads; 1: one after the other)


class UnreadableFile(ValueError):
    """The file cannot be read at all (corrupt, binary, wrong format)."""


def _grid(rows: list[list[str]]) -> pl.DataFrame:
    """Rows of strings (ragged allowed) → a raw grid c0..cN with ``_row``.
    Transposed with zip_longest (C speed) rather than cell by cell."""
    columns = list(itertools.zip_longest(*rows)) if rows else []
    df = pl.DataFrame({f"c{j}": list(col) for j, col in enumerate(columns)}, schema={f"c{j}": pl.String for j in range(len(columns))})
    return df.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row"))


def _polars_grid(data: bytes, sample: str, delim: str) -> pl.DataFrame | None:
    """The raw grid of a CSV via ``pl.read_csv``, or None when polars could read it
    differently from ``csv.reader``: a lone CR line break, a NUL byte; and where polars
    raises: a row wider than every row of the sample, text after a closing quote
    (``"b"c``), a stray quote opening mid-field, an unterminated quote. Everything else
    (Excel-wrapped ``="0012"``, doubled quotes, quoted line breaks, short rows, blank lines)
    parses to the same cells, tests/pipelines/io/test_source.py checks it."""
    # a lone CR: counted only when there is a CR at all (counting CRLF costs ~20 ms per 28 MB)
    if b"\x00" in data or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return None
    lines = sample.splitlines()[:200]
    width = max((len(r) for r in csv.reader(lines, delimiter=delim)), default=0)
    if width == 0:
        return None
    try:
        grid = pl.read_csv(data, has_header=False, separator=delim, quote_char='"',
                           schema={f"c{j}": pl.String for j in range(width)}, missing_columns="insert",
                           raise_if_empty=False)
    except pl.exceptions.PolarsError:
        return None
    return grid.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row"))


def sniff_delimiter(sample: str) -> str:
    """The delimiter (',', tab, ';') under which most of the first lines split into the
    same number (> 1) of fields. Counting characters alone is fooled by tab-prefixed ids."""
    lines = sample.splitlines()[:60]
    best, best_score = ",", (-1, -1)
    for d in (",", "\t", ";"):
        widths = [len(r) for r in csv.reader(lines, delimiter=d) if r]
        if not widths:
            continue
        common = max(set(widths), key=widths.count)
        score = (widths.count(common) if common > 1 else 0, common)
        if score > best_score:
            best, best_score = d, score
    return best


class SourceFile:
    """One inbox file. A big text file (:func:`SourceFile.streamed`) is never held whole:
    its hash and decode check stream it once (:attr:`scan`), sniffers read a prefix, and the
    chunked readers read it :meth:`record_chunks` at a time (UTF-8; a GBK file is
    transcoded once, block by block, to a temporary UTF-8 file deleted with this object)."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.name = self.path.name

    @cached_property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def size(self) -> int:
        return len(self.data) if "data" in self.__dict__ else self.path.stat().st_size

    def prefix(self, n: int) -> bytes:
        """The first ``n`` bytes (from disk unless the whole file is already read)."""
        if "data" in self.__dict__:
            return self.data[:n]
        cached = self.__dict__.get("_prefix", b"")
        if len(cached) < n and len(cached) < self.size:
            with open(self.path, "rb") as f:
                cached = self.__dict__["_prefix"] = f.read(max(n, 1 << 16))
        return cached[:n]

    @cached_property
    def streamed(self) -> bool:
        """A big file that is not a workbook: hashed, checked and read without holding it."""
        if self.size < _chunks.BIG_FILE_BYTES:
            return False
        return not self.prefix(8).startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0"))

    @property
    def chunked(self) -> bool:
        """Whether the chunked readers read this file in chunks: a streamed text file in an
        encoding whose line feed and quote bytes are never part of a character (not UTF-16)."""
        return self.streamed and self.format == "text" and self.encoding != "utf-16"

    @cached_property
    def sha256(self) -> str:
        if self.streamed and "data" not in self.__dict__:
            return self.scan.sha256
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def scan(self) -> "_Scan":
        """One streaming pass over a streamed file: sha256, the whole-file decode check and,
        for a non-UTF-8 file, its UTF-8 transcoding in a temporary file (started early by
        :meth:`scan_ahead`, this waits for that pass)."""
        ahead = self.__dict__.pop("_scan_ahead", None)
        if ahead is not None:
            return ahead.result()
        return self._scan()

    def scan_ahead(self, executor: Executor) -> bool:
        """Start :attr:`scan` of a streamed file in ``executor`` (another thread: hashing and
        the decode check release the GIL) while the caller reads the files before this one.
        Whether the file is a streamed one (scanned, started now or before)."""
        try:
            if not self.streamed:
                return False
        except OSError:
            return False  # reading the file itself says what is wrong, naming it
        if "scan" not in self.__dict__ and "_scan_ahead" not in self.__dict__:
            self.__dict__["_scan_ahead"] = executor.submit(self._scan)
        return True

    def _scan(self) -> "_Scan":
        try:
            enc = self.encoding
        except UndecodableFile as e:
            return _Scan(_sha256_of(self.path), self.path, 0, e)
        return _scan_file(self, enc)

    @cached_property
    def format(self) -> str:
        """'xlsx', 'xls', 'json', 'text' (CSV or plain text) or 'binary', by content."""
        head = self.prefix(8)
        if head.startswith(b"PK\x03\x04"):
            try:
                with zipfile.ZipFile(io.BytesIO(self.data)) as z:
                    if any(n.startswith("xl/") for n in z.namelist()):
                        return "xlsx"
            except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError):
                return "binary"  # damaged (or an unsupported zip variant): not a workbook we can open
            return "zip"
        if head.startswith(b"\xd0\xcf\x11\xe0"):
            return "xls"
        try:
            txt = self.head_text(2000).lstrip()  # the whole file is checked (decoded) first
        except (UndecodableFile, UnicodeError):
            return "binary"
        if "\x00" in txt:
            return "binary"
        if txt.startswith(("{", "[")):
            return "json"
        return "text"

    @cached_property
    def encoding(self) -> str:
        """'utf-8', 'utf-8-sig', 'gb18030' or 'utf-16' (from a prefix: :func:`detect_encoding`)."""
        return detect_encoding(self.prefix(_DETECT_BYTES + 1), sample=_DETECT_BYTES)

    @cached_property
    def utf8(self) -> bytes:
        """The whole text as UTF-8 bytes without BOM, what ``pl.read_csv`` reads: a UTF-8
        file's own bytes (checked, not decoded), others transcoded in chunks. Raises
        :class:`UndecodableFile` for a file that does not decode as a whole."""
        if self.streamed and "data" not in self.__dict__:
            path, offset = self.utf8_source()
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read()
        return to_utf8(self.data, self.encoding)[0]

    def utf8_source(self) -> tuple[Path, int]:
        """(UTF-8 file, byte where its text starts) of a streamed file: the file itself
        (after a BOM) or its transcoded copy. Raises :class:`UndecodableFile`."""
        scan = self.scan
        if scan.error is not None:
            raise scan.error
        return scan.utf8_path, scan.utf8_offset

    def record_chunks(self, start: int | None = None, first_records: int = 0) -> Iterator[Chunk]:
        """The UTF-8 text of a streamed file in chunks of whole records
        (:func:`pipelines.io.chunks.record_chunks`)."""
        path, offset = self.utf8_source()
        return record_chunks(path, offset, start=start, first_records=first_records)

    @cached_property
    def text(self) -> str:
        return self.utf8.decode("utf-8")

    def head_text(self, chars: int) -> str:
        """The first ``chars`` characters of the text (sniffing reads these, never the whole
        file as a ``str``)."""
        if "text" in self.__dict__:
            return self.text[:chars]
        cached = self._heads.get(chars)
        if cached is None:
            if self.streamed and "data" not in self.__dict__:
                path, offset = self.utf8_source()  # the whole file is checked first
                with open(path, "rb") as f:
                    f.seek(offset)
                    head = f.read(4 * chars)
            else:
                head = self.utf8[: 4 * chars]
            dec = codecs.getincrementaldecoder("utf-8")()
            cached = self._heads[chars] = dec.decode(head)[:chars]
        return cached

    @cached_property
    def _heads(self) -> dict[int, str]:
        return {}

    @cached_property
    def csv_grid(self) -> pl.DataFrame:
        """The file as a CSV grid (sniffs comma / tab / semicolon).

        Parsed by polars' CSV reader (~10x Python's csv module) from :attr:`utf8`; files it
        would read differently from ``csv.reader`` (see :func:`_polars_grid`) take the csv
        module path. Empty cells are null either way, as in workbooks.
        """
        sample = self.head_text(50000)
        delim = sniff_delimiter(sample)
        grid = _polars_grid(self.utf8, sample, delim)
        if grid is None:
            # newline="": a lone CR (old Mac line end, or inside a cell) is a line end, not an error
            grid = _grid(list(csv.reader(io.StringIO(self.text, newline=""), delimiter=delim)))
        return grid

    def csv_grid_chunks(self, first_records: int = 0) -> Iterator[pl.DataFrame]:
        """:attr:`csv_grid` of a streamed file in chunks of whole records: each chunk's raw
        grid, ``_row`` continuing across chunks, at least as wide as the first chunk's. A
        chunk polars would read differently from ``csv.reader`` takes the csv module path,
        as the whole file would (both give the same cells for the rest)."""
        sample = self.head_text(50000)
        delim = sniff_delimiter(sample)
        before, width = 0, None

        def parse(chunk: Chunk) -> pl.DataFrame:
            grid = _polars_grid(chunk.data, sample, delim)
            if grid is None:
                grid = _grid(list(csv.reader(io.StringIO(chunk.data.decode("utf-8"), newline=""), delimiter=delim)))
            return grid

        # chunks are parsed PARALLEL_CHUNKS at a time (each alone: rows and width are set here)
        for grid in ordered_map(parse, self.record_chunks(first_records=first_records), PARALLEL_CHUNKS):
            cols = [c for c in grid.columns if c != "_row"]
            width = len(cols) if width is None else width
            grid = grid.select(
                *cols, *(pl.lit(None, dtype=pl.String).alias(f"c{j}") for j in range(len(cols), width)),
                (pl.col("_row") + before).alias("_row"),
            )
            before += grid.height
            yield grid

    def memo(self, key, compute):
        """``compute()``, once per file and ``key``: what the sniffers of every layout read
        from a file (head rows, header cells) is worked out once. Not kept if it raises."""
        store = self.__dict__.setdefault("_memo", {})
        if key not in store:
            store[key] = compute()
        return store[key]

    def head_sheets(self, rows: int = 40) -> dict[str, pl.DataFrame]:
        """The first ``rows`` rows of every sheet, for sniffing without parsing a whole
        big CSV (workbooks are parsed once and cached anyway)."""
        return self.memo(("head_sheets", rows), lambda: self._head_sheets(rows))

    def _head_sheets(self, rows: int) -> dict[str, pl.DataFrame]:
        if self.format == "text":
            lines = self.head_text(200_000).splitlines()[:rows]
            return {"": _grid(list(csv.reader(lines, delimiter=sniff_delimiter("\n".join(lines)))))}
        return {name: g.head(rows) for name, g in self.sheets().items()}

    def sheets(self) -> dict[str, pl.DataFrame]:
        """All sheets as raw grids (xlsx via fastexcel/calamine; CSV as one sheet named '')."""
        return self._sheets

    @cached_property
    def _sheets(self) -> dict[str, pl.DataFrame]:
        fmt = self.format
        if fmt == "text":
            return {"": self.csv_grid}
        if fmt in ("xlsx", "xls"):
            return _read_workbook(self.data, self.name)
        raise UnreadableFile(f"{self.name}: 不是表格文件(格式: {fmt})")


def _read_workbook(data: bytes, name: str) -> dict[str, pl.DataFrame]:
    import fastexcel

    try:
        wb = fastexcel.read_excel(data)
    except Exception as e:  # calamine raises its own error types
        raise UnreadableFile(f"{name}: Excel文件已损坏或无法打开 ({e})") from e
    out: dict[str, pl.DataFrame] = {}
    for sheet_name in wb.sheet_names:
        try:
            sheet = wb.load_sheet(sheet_name, header_row=None, dtypes="string", skip_rows=0)
            df = sheet.to_polars()
        except Exception as e:
            raise UnreadableFile(f"{name}: 工作表 {sheet_name} 无法读取 ({e})") from e
        df = df.rename({c: f"c{j}" for j, c in enumerate(df.columns)})
        df = df.with_columns(pl.all().cast(pl.String))
        out[sheet_name] = df.with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_row"))
    return out


@dataclass
class _Scan:
    sha256: str
    utf8_path: Path
    utf8_offset: int
    error: UndecodableFile | None = None


def _scan_file(src: SourceFile, enc: str) -> _Scan:
    """Hash ``src`` and check that it decodes, block by block; a non-UTF-8 file is
    transcoded to a temporary UTF-8 file on the way (deleted when ``src`` is)."""
    h = hashlib.sha256()
    utf8 = enc in ("utf-8", "utf-8-sig")
    out, out_path = None, src.path
    if not utf8:
        fd, name = tempfile.mkstemp(prefix="kefu-utf8-", suffix=".csv")
        out, out_path = os.fdopen(fd, "wb"), Path(name)
        weakref.finalize(src, _unlink, name)
        dec = codecs.getincrementaldecoder(enc)(errors="strict")
    error, pos, carry = None, 0, b""
    skip = 3 if enc == "utf-8-sig" else 0
    try:
        with open(src.path, "rb") as f:
            while True:
                block = f.read(_enc.CHUNK)
                h.update(block)
                if error is not None:
                    if not block:
                        break
                    continue
                if utf8:
                    data = carry + block
                    if skip:
                        data, skip, pos = data[skip:], 0, skip
                    cut = len(data) if not block else _complete_utf8(data)
                    if not _enc.is_valid_utf8(data[:cut]):
                        error = _utf8_error(data[:cut], pos, enc)
                    carry, pos = data[cut:], pos + cut
                else:
                    try:
                        out.write(dec.decode(block, final=not block).encode("utf-8"))
                    except UnicodeDecodeError as e:
                        error = UndecodableFile(f"按{enc}解码失败(字节位置约{pos + e.start})")
                    pos += len(block)
                if not block:
                    break
    finally:
        if out is not None:
            out.close()
    return _Scan(h.hexdigest(), out_path, 3 if enc == "utf-8-sig" else 0, error)


def _sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_enc.CHUNK):
            h.update(block)
    return h.hexdigest()


def _complete_utf8(data: bytes) -> int:
    """The length of ``data`` without a multi-byte character cut at its end."""
    n = len(data)
    for back in range(1, min(4, n) + 1):
        b = data[n - back]
        if b < 0x80:
            return n
        if b >= 0xC0:  # a lead byte: its sequence is 2, 3 or 4 bytes long
            size = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
            return n if back >= size else n - back
    return n  # no lead byte in reach: invalid anyway, the check says so


def _utf8_error(data: bytes, pos: int, enc: str) -> UndecodableFile:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return UndecodableFile(f"按{enc}解码失败(字节位置约{pos + e.start})")
    return UndecodableFile(f"按{enc}解码失败")


def _unlink(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass
