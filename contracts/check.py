"""Check a frame against its table's contract before it is written to the warehouse."""

from __future__ import annotations

import re

import polars as pl

from .table import POLARS_TYPES, Table


# Columns the warehouse adds to every published table (the partition key of a many-shop
# warehouse; see pipelines/publish.py): not part of any table's contract, always allowed.
WAREHOUSE_COLUMNS: dict[str, pl.DataType] = {"shop_key": pl.String()}


class ContractError(ValueError):
    """A frame does not match its table's contract (a bug in the code that computed it)."""


def problems(table: Table, frame: pl.DataFrame) -> list[str]:
    """What is wrong with ``frame`` as rows of ``table``: missing, unexpected and mistyped
    columns (empty when it matches). Column order is free."""
    want = table.schema()
    out = [f"缺少列 {c} ({t})" for c, t in want.items() if c not in frame.columns]
    for c, got in frame.schema.items():
        expected = want.get(c) or _open_type(table, c) or WAREHOUSE_COLUMNS.get(c)
        if expected is None:
            out.append(f"多出列 {c} ({got})")
        elif got != expected:
            out.append(f"列 {c} 类型为 {got}, 应为 {expected}")
    return out


def _open_type(table: Table, column: str) -> pl.DataType | None:
    for pattern, typ in table.open_cols:
        if re.match(pattern, column):
            return POLARS_TYPES[typ]
    return None


def check_table(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` if it matches ``table``; raises :class:`ContractError` naming every problem.

    A frame without rows only clears the month: it is returned as the contract's empty frame
    (every column, typed), so an empty write never shapes the warehouse table wrongly."""
    if frame.height == 0:
        return table.empty()
    found = problems(table, frame)
    if found:
        raise ContractError(f"表 {table.name} 不符合约定 (contracts): " + "; ".join(found))
    return frame


def conform(table: Table, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the contract's columns it lacks added as typed nulls, in contract order
    (columns beyond the contract kept at the end). For producers that genuinely lack some
    columns (a statistics export has no text indicators); never renames or casts."""
    schema = table.schema()
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in frame.columns]
    out = frame.with_columns(missing) if missing else frame
    return out.select([*schema, *(c for c in frame.columns if c not in schema)])
