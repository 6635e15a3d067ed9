"""Which clause checks ran: one row per check with 已检查 / 未检查 / 已关闭.

A check runs only when its input columns carry data. An old workbook without a new column
stages that column as blank on every row, so "every row blank" is read as "the column is
missing" and the check is reported 未检查 (never as passed, never as all-failing).
"""

from __future__ import annotations

from dataclasses import dataclass

from typing import TypeGuard

import polars as pl

from contracts import SLA_RESULTS

CHECK_SCHEMA = SLA_RESULTS["sla_checks"].schema(exclude=("month",))  # status: 已检查 / 未检查 / 已关闭

RAN, NOT_RUN, OFF = "已检查", "未检查", "已关闭"


@dataclass
class CheckRun:
    check: str
    policy_ref: str
    name: str
    status: str
    reason: str | None = None
    checked: int = 0
    findings: int = 0


def has_data(frame: pl.DataFrame | None, *cols: str) -> TypeGuard[pl.DataFrame]:
    """True when ``frame`` has rows and at least one of ``cols`` is filled on some row."""
    if frame is None or frame.height == 0:
        return False
    present = [c for c in cols if c in frame.columns]
    return bool(present) and frame.select(pl.any_horizontal([pl.col(c).is_not_null().any() for c in present])).item()


def missing_reason(labels: dict[str, str], what: str = "") -> str:
    cols = "、".join(labels.values())
    return f"缺少{what}数据列 {cols} (旧模板) 或全部为空, 本项未检查"


def checks_frame(runs: list[CheckRun]) -> pl.DataFrame:
    if not runs:
        return pl.DataFrame(schema=CHECK_SCHEMA)
    return pl.DataFrame([r.__dict__ for r in runs], schema=CHECK_SCHEMA)
