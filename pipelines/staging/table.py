"""Column/table model of the canonical staged tables (see schemas.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True)
class Col:
    name: str
    type: str = "str"
    label: str = ""  # Chinese name a supervisor understands, used in quarantine reasons
    required: bool = False
    choices: tuple[str, ...] | None = None
    min: float | None = None
    # ids only: the shape a real id has (regex on the unwrapped value) and how to say it
    pattern: str | None = None
    pattern_hint: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    cols: tuple[Col, ...]
    natural_key: tuple[str, ...]
    # Column(s) deciding which month a row belongs to: a row is in month M if ANY of
    # these falls inside M (China local). None: every row belongs to the ingested month.
    month_by: tuple[str, ...] | None = None
    # Messages may legitimately repeat (a buyer sends "在吗" twice in one second): for
    # such tables the n-th occurrence of a key inside one file is distinct.
    dedupe_with_occurrence: bool = False
    doc: str = ""
    # Columns the reader must always fill; others may be absent (filled with null)
    extra: dict = field(default_factory=dict)
    # (start column, closing columns): a row started before month M whose closing columns
    # are all blank is still open at M's start and belongs to M too (SLA tickets re-exported).
    open_carry: tuple[str, tuple[str, ...]] | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.cols]

    def col(self, name: str) -> Col:
        for c in self.cols:
            if c.name == name:
                return c
        raise KeyError(name)


LINEAGE = ("source_file", "source_sheet", "source_row")

POLARS_TYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "id": pl.String(),
    "datetime": pl.Datetime("us"),
    "date": pl.Date(),
    "decimal": pl.Decimal(14, 2),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
}

DUCKDB_TYPES: dict[str, str] = {
    "str": "VARCHAR",
    "id": "VARCHAR",
    "datetime": "TIMESTAMP",
    "date": "DATE",
    "decimal": "DECIMAL(14,2)",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
}

