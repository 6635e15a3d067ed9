"""Column/table model of every warehouse table (staged tables, marts, scores, SLA results)."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True)
class Col:
    name: str
    type: str = "str"
    label: str = ""  # Chinese name a supervisor understands (quarantine reasons, reports, docs)
    required: bool = False
    choices: tuple[str, ...] | None = None
    min: float | None = None
    # ids only: the shape a real id has (regex on the unwrapped value) and how to say it
    pattern: str | None = None
    pattern_hint: str = ""


# What a table is: staged from the inbox (readers → stage), computed (a mart, a score, an SLA
# result), or a history table (every run's rows, appended).
LAYERS = ("staged", "quarantine", "mart", "score", "sla_result", "history")


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
    layer: str = "staged"
    # Columns beyond ``cols`` a table may carry, by name pattern: (regex, type). The payroll's
    # per-item columns follow the run's rules file (``<item>_pts``, ``<item>_grade``).
    open_cols: tuple[tuple[str, str], ...] = ()

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.cols]

    def col(self, name: str) -> Col:
        for c in self.cols:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def stored_names(self) -> list[str]:
        """Every column of the warehouse table: a staged table's columns plus lineage and
        ``month``; a computed table's columns as listed (``month`` among them)."""
        if self.layer == "staged":
            return [*self.names, *LINEAGE, "month"]
        return self.names

    def schema(self, exclude: tuple[str, ...] = ()) -> pl.Schema:
        """Polars dtype of every stored column (see :attr:`stored_names`), in order, without
        ``exclude`` (e.g. ``month`` for a producer whose caller adds it)."""
        types = {c.name: POLARS_TYPES[c.type] for c in self.cols}
        types.update(LINEAGE_TYPES)
        types["month"] = pl.String()
        return pl.Schema({n: types[n] for n in self.stored_names if n not in exclude})

    def empty(self) -> pl.DataFrame:
        """A frame with no rows and every stored column."""
        return pl.DataFrame(schema=self.schema())

    def labels(self) -> dict[str, str]:
        """Column → Chinese label, for the columns that have one."""
        out = {c.name: c.label for c in self.cols if c.label}
        if self.layer == "staged":
            out.update(LINEAGE_LABELS)
        return out


def computed(name: str, cols: str, key: tuple[str, ...], doc: str, layer: str, open_cols: tuple[tuple[str, str], ...] = ()) -> Table:
    """A computed table from ``"column:type:中文, ..."`` (type defaults to str, label to none)."""
    out = []
    for spec in cols.split(","):
        col, typ, label = (spec.strip().split(":") + ["", ""])[:3]
        out.append(Col(col, typ or "str", label))
    return Table(name, tuple(out), natural_key=key, doc=doc, layer=layer, open_cols=open_cols)


def history_of(table: Table, name: str, extra: tuple[Col, ...] = ()) -> Table:
    """The history table ``name`` keeping every run's rows of ``table`` (its stored columns,
    ``run_id`` and ``extra``)."""
    cols = tuple(Col(n, _type_of(table, n), table.labels().get(n, "")) for n in table.stored_names)
    return Table(
        name,
        (*cols, Col("run_id", "str", "运行编号"), *extra),
        (*table.natural_key, "run_id"),
        doc=f"Every run's rows of `{table.name}` (appended on publish; the run's `run_id`).",
        layer="history",
        open_cols=table.open_cols,
    )


def _type_of(table: Table, name: str) -> str:
    for c in table.cols:
        if c.name == name:
            return c.type
    return {"source_row": "int"}.get(name, "str")


LINEAGE = ("source_file", "source_sheet", "source_row")
LINEAGE_TYPES: dict[str, pl.DataType] = {"source_file": pl.String(), "source_sheet": pl.String(), "source_row": pl.Int64()}
LINEAGE_LABELS = {"source_file": "文件", "source_sheet": "工作表", "source_row": "行"}

POLARS_TYPES: dict[str, pl.DataType] = {
    "str": pl.String(),
    "id": pl.String(),
    "datetime": pl.Datetime("us"),
    "date": pl.Date(),
    "decimal": pl.Decimal(14, 2),  # money
    "points": pl.Decimal(10, 2),  # KPI points
    "fraction": pl.Decimal(12, 6),  # exact rates (refund rate)
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "str_list": pl.List(pl.String()),
}

DUCKDB_TYPES: dict[str, str] = {
    "str": "VARCHAR",
    "id": "VARCHAR",
    "datetime": "TIMESTAMP",
    "date": "DATE",
    "decimal": "DECIMAL(14,2)",
    "points": "DECIMAL(10,2)",
    "fraction": "DECIMAL(12,6)",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "str_list": "VARCHAR[]",
}
