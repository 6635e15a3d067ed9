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
import zipfile
from functools import cached_property
from pathlib import Path

import polars as pl

from .encoding import UndecodableFile, detect_encoding, to_utf8


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
    if b"\x00" in data or data.count(b"\r") != data.count(b"\r\n"):
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
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.name = self.path.name

    @cached_property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @cached_property
    def format(self) -> str:
        """'xlsx', 'xls', 'json', 'text' (CSV or plain text) or 'binary', by content."""
        head = self.data[:8]
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
        return detect_encoding(self.data)

    @cached_property
    def utf8(self) -> bytes:
        """The whole text as UTF-8 bytes without BOM, what ``pl.read_csv`` reads: a UTF-8
        file's own bytes (checked, not decoded), others transcoded in chunks. Raises
        :class:`UndecodableFile` for a file that does not decode as a whole."""
        return to_utf8(self.data, self.encoding)[0]

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
            dec = codecs.getincrementaldecoder("utf-8")()
            cached = self._heads[chars] = dec.decode(self.utf8[: 4 * chars])[:chars]
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
