"""Every warehouse table's contract, once: names, polars dtypes, keys and the Chinese label
of each column users see. Pure (no I/O, no pipelines imports).

Layers (see docs/architecture.md): staged tables (:mod:`contracts.staged`, SLA inputs in
:mod:`contracts.sla`) and their quarantine, chat marts (:mod:`contracts.marts`), score
tables and payroll (:mod:`contracts.scores`), SLA results (:mod:`contracts.sla`), and the
history tables keeping every run.

``check(table, frame)`` is called for every table a run writes (``pipelines.publish``).
"""

from __future__ import annotations

import polars as pl

from .check import ContractError, check_table, conform, problems
from .marts import MARTS
from .scores import HISTORY, SCORES
from .sla import SLA_HISTORY, SLA_RESULTS, SLA_TABLES
from .staged import QUARANTINE, SLA_QUARANTINE
from .staged import TABLES as STAGED
from .table import DUCKDB_TYPES, LINEAGE, POLARS_TYPES, Col, Table

TABLES: dict[str, Table] = {
    **STAGED,
    QUARANTINE.name: QUARANTINE,
    SLA_QUARANTINE.name: SLA_QUARANTINE,
    **MARTS,
    **SCORES,
    **HISTORY,
    **SLA_RESULTS,
    **SLA_HISTORY,
}

__all__ = [
    "Col", "Table", "TABLES", "STAGED", "MARTS", "SCORES", "SLA_TABLES", "SLA_RESULTS", "HISTORY", "SLA_HISTORY",
    "QUARANTINE", "SLA_QUARANTINE", "LINEAGE", "POLARS_TYPES", "DUCKDB_TYPES", "ContractError", "check", "conform", "contract",
    "problems",
]


def contract(table: str) -> Table:
    """The contract of warehouse table ``table``; :class:`ContractError` if there is none."""
    try:
        return TABLES[table]
    except KeyError:
        raise ContractError(f"表 {table} 没有约定 (contracts): 新表先在 contracts/ 中声明") from None


def check(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` checked against the contract of ``table`` (see :func:`contracts.check.check_table`)."""
    return check_table(contract(table), frame)
