"""Dedupe a table held in ordered parts (one per file), never holding all its rows at once.

Same decisions as :func:`pipelines.staging.stage.dedupe` on the parts concatenated in order
(first occurrence wins; for ``dedupe_with_occurrence`` tables the n-th repeat of a key inside
one source file is a distinct record), in two passes:

1. while the parts are written, the hash of each row's natural key is kept (8 bytes a row);
2. at the end, only rows whose hash repeats can be duplicates: their key columns are read
   back (part by part, in hash buckets of at most ``max_candidates`` rows, so even an inbox
   that is one export twice is bounded), compared exactly, and the parts that lost rows are
   filtered in place.

Where the parts live is the caller's: :class:`FrameParts` (in memory) or
:class:`FileParts` (parquet files, e.g. a :class:`pipelines.publish.MonthBuild`'s parts).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import polars as pl

from contracts.staged import TABLES, Table

MAX_CANDIDATES = 2_000_000  # candidate rows compared at once (key columns only)


def key_hashes(table: Table | str, frame: pl.DataFrame) -> pl.Series:
    """The natural-key hash of every row of a staged frame (what :func:`dedupe_parts` needs)."""
    table = TABLES[table] if isinstance(table, str) else table
    return frame.select(pl.struct(list(table.natural_key)).hash()).to_series()


def repeated(values: pl.Series) -> pl.Series:
    """Positions (ascending) of the values that occur more than once: ``is_duplicated``,
    found by sorting (a hash table over millions of hashes costs ~4x a sort of them)."""
    s = values.sort()
    twice = s.filter((s == s.shift(1)).fill_null(False))
    if not len(twice):
        return pl.Series([], dtype=pl.UInt32)
    return values.is_in(twice.unique().implode()).arg_true()


class Parts(Protocol):
    """Ordered parts of one staged table."""

    def __len__(self) -> int: ...

    def columns(self, i: int, names: list[str]) -> pl.DataFrame:
        """Every row of part ``i``, only ``names``."""

    def keep(self, i: int, mask: pl.Series) -> None:
        """Keep only the rows of part ``i`` where ``mask`` is true (order kept)."""


@dataclass
class FrameParts:
    frames: list[pl.DataFrame] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.frames)

    def columns(self, i: int, names: list[str]) -> pl.DataFrame:
        return self.frames[i].select(names)

    def keep(self, i: int, mask: pl.Series) -> None:
        self.frames[i] = self.frames[i].filter(mask)


@dataclass
class FileParts:
    paths: list[Path] = field(default_factory=list)
    compression: str = "lz4"  # of a part rewritten by :meth:`keep` (the build writes lz4)

    def __len__(self) -> int:
        return len(self.paths)

    def columns(self, i: int, names: list[str]) -> pl.DataFrame:
        return pl.read_parquet(self.paths[i], columns=names)

    def keep(self, i: int, mask: pl.Series) -> None:
        path = self.paths[i]
        tmp = path.with_name(path.name + ".tmp")
        pl.read_parquet(path).filter(mask).write_parquet(tmp, compression=self.compression)
        os.replace(tmp, path)


def dedupe_parts(
    table: Table | str, parts: Parts, hashes: list[pl.Series], max_candidates: int = MAX_CANDIDATES
) -> dict[str, int]:
    """Drop the duplicate rows of ``parts`` (``hashes[i]``: :func:`key_hashes` of part ``i``);
    returns duplicates per source file, exactly as :func:`~pipelines.staging.stage.dedupe`."""
    table = TABLES[table] if isinstance(table, str) else table
    if not len(parts):
        return {}
    key = list(table.natural_key)
    sizes = [len(h) for h in hashes]
    starts = [0]
    for n in sizes:
        starts.append(starts[-1] + n)
    all_h = pl.concat([h.cast(pl.UInt64).rename("h") for h in hashes]) if hashes else pl.Series("h", [], pl.UInt64)
    cand = repeated(all_h)  # global row numbers, ascending
    if not len(cand):
        return {}
    cand_h = all_h.gather(cand)
    del all_h
    buckets = -(-len(cand) // max_candidates)
    losers: list[pl.Series] = []  # global row numbers of dropped rows
    dropped_files: list[pl.Series] = []
    for b in range(buckets):
        rows = cand if buckets == 1 else cand.filter(cand_h % buckets == b)
        if not len(rows):
            continue
        got, dropped = _first_of_bucket(table, key, parts, starts, rows)
        losers.append(dropped)
        dropped_files.append(got)
    lost = pl.concat(losers).sort()  # a bucket holds every repeat of its keys: never empty
    files = pl.concat(dropped_files)
    per_file = dict(files.value_counts().iter_rows()) if len(files) else {}
    for i in range(len(parts)):
        lo, hi = starts[i], starts[i + 1]
        mine = lost.filter((lost >= lo) & (lost < hi))
        if len(mine):
            mask = pl.Series([], dtype=pl.Boolean).extend_constant(True, hi - lo).scatter(mine - lo, False)
            parts.keep(i, mask)
    return per_file


def _first_of_bucket(table: Table, key: list[str], parts: Parts, starts: list[int], rows: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(source file of each dropped row, global row number of each dropped row) among the
    candidate ``rows`` (ascending global numbers; every row of a key is in the same bucket)."""
    pieces = []
    for i in range(len(parts)):
        lo, hi = starts[i], starts[i + 1]
        mine = rows.filter((rows >= lo) & (rows < hi))
        if len(mine):
            pieces.append(parts.columns(i, [*key, "source_file"]).gather(mine - lo).with_columns(mine.alias("_row")))
    cand = pl.concat(pieces, how="vertical_relaxed")
    k = key
    if table.dedupe_with_occurrence:
        # rows are in file order, so int_range over a partition numbers repeats in order
        cand = cand.with_columns(pl.int_range(pl.len()).over(key + ["source_file"]).alias("_occ"))
        k = key + ["_occ"]
    lost = cand.filter(~pl.struct(k).is_first_distinct())
    return lost["source_file"], lost["_row"]
