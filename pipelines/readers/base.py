"""What a reader is, and what it hands back.

A reader recognises one export layout *by content* (``sniff``) and turns a file into one
or more :class:`Batch` es of canonical columns (see :mod:`contracts.staged`).
Readers only rename and lightly parse; casting, validation, quarantine, dedupe and month
filtering happen once, centrally, in :mod:`pipelines.staging.stage`.

Contract for ``Batch.frame``:
  * one row per *record* of the source (a message, an order, a sheet row...). Title,
    header, blank and summary rows (汇总/平均值) are layout, not records, and are not rows;
  * columns: any subset of the table's canonical names (missing ones become null),
    values as strings or already-typed; plus ``source_row`` (Int64, 1-based line/row as a
    user sees it in the file) and optionally ``source_sheet``;
  * a row the reader could not make sense of is still a row: put a Chinese reason a
    supervisor understands in column ``_reason`` (Utf8); the stager quarantines it.
``source_file`` is filled by the ingest, not by readers.

A file that has a layout's shape but lacks a column the layout needs is an error, never a
file of empty values: readers raise :class:`MissingColumns` (per sheet), and
:meth:`Reader.diagnose` says which layout an *unrecognised* file resembles and what it
lacks (a renamed or deleted header), so the ingest can fail naming both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from pipelines.io.source import SourceFile


class MissingColumns(ValueError):
    """A file (sheet) of a known layout lacks columns that layout requires.

    ``missing`` holds the export's header names (what the user looks for in the file)."""

    def __init__(self, description: str, missing: list[str], sheet: str | None = None):
        self.description, self.missing, self.sheet = description, list(missing), sheet
        where = f"（工作表 {sheet}）" if sheet else ""
        super().__init__(f"看起来是「{description}」，但缺少必需的列{where}: {'、'.join(self.missing)}（表头被改名或删除?）")


@dataclass
class Batch:
    kind: str  # canonical table name
    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)  # e.g. "跳过汇总行 2 行"
    # text columns the reader already cleaned as the stager would (stripped, "" -> null, by
    # construction for every row): the stager takes them as they are instead of again
    clean: frozenset[str] = frozenset()


class Reader:
    """Base class; subclasses set ``layout``, ``kinds`` and implement sniff/read.

    Subclasses are registered automatically by :mod:`pipelines.readers` (any module in
    that package defining a Reader subclass with a ``layout``)."""

    layout: ClassVar[str] = ""
    kinds: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    def sniff(self, src: SourceFile) -> float:
        """Confidence 0..1 that ``src`` is this layout, from its content only."""
        raise NotImplementedError

    def read(self, src: SourceFile) -> list[Batch]:
        """Raises :class:`MissingColumns` when a sheet of this layout lacks a required column."""
        raise NotImplementedError

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        """For a file no reader recognised: (how much it resembles this layout 0..1, the
        required columns it lacks, as the export names them). The registry reports a
        file resembling a layout (>= 0.5) with missing columns as broken, not unknown.
        Default: no resemblance (layouts without required columns)."""
        return 0.0, []
