"""What a reader is, and what it hands back.

A reader recognises one export layout *by content* (``sniff``) and turns a file into one
or more :class:`Batch` es of canonical columns (see :mod:`pipelines.staging.schemas`).
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
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from pipelines.io.source import SourceFile


@dataclass
class Batch:
    kind: str  # canonical table name
    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)  # e.g. "跳过汇总行 2 行"


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
        raise NotImplementedError
