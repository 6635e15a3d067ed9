"""``write_evidence_exports(bundle, folder)``: the month's FULL evidence next to payroll.xlsx.

payroll.xlsx and report.html show a capped number of evidence rows per agent and kind; these
files have every row, masked like the report:

* ``evidence.parquet`` — for analysts: the evidence mart's columns (codes, not labels), with
  buyer nick, excerpt and detail masked.
* ``evidence.csv`` — for people: UTF-8 with BOM (Excel opens it right), Chinese headers and kind
  labels, and every text cell starting with ``= + - @`` (or tab/CR) prefixed with ``'`` exactly
  as payroll.csv does, so no cell is ever a formula.

Both are written with vectorised polars (no per-row Python), sorted, so re-runs give the same
bytes; the evidence the bundle holds is masked once for both files (a lazy one is streamed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import polars as pl

from .bundle import MonthBundle, columns_of, has_rows
from .fmt import FORMULA_START
from .labels import KIND_LABELS
from .mask import mask_frame

EVIDENCE_COLUMNS = ("evidence_id", "month", "agent_account", "kind", "buyer", "at", "excerpt", "detail",
                    "source_file", "source_sheet", "source_row", "conversation_id")
CSV_HEADERS = {
    "evidence_id": "证据编号", "month": "月份", "agent_account": "客服账号", "kind": "类型", "buyer": "买家(脱敏)",
    "at": "时间", "excerpt": "消息摘录(脱敏)", "detail": "说明", "source_file": "来源文件",
    "source_sheet": "来源工作表", "source_row": "来源行", "conversation_id": "会话编号",
}
ROW_GROUP_ROWS = 100_000  # fixed, so the same evidence gives the same bytes
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)
_FORMULA_RE = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_START) + "]"


def neutralise_expr(col: str) -> pl.Expr:
    """``'`` + text when it starts like a formula (same set as payroll.csv), vectorised."""
    c = pl.col(col).cast(pl.String)
    return pl.when(c.str.contains(_FORMULA_RE)).then(pl.lit("'") + c).otherwise(c).alias(col)


def masked_evidence(bundle: MonthBundle, held: bool = False) -> pl.LazyFrame | pl.DataFrame:
    """The bundle's evidence, masked, in the evidence columns, sorted (agent, kind, time, id),
    as a lazy frame (the masking runs batch by batch as it is written); ``held``: as a data
    frame, masked series by series from the calling thread (evidence held in memory)."""
    ev = bundle.evidence
    schema = {c: (pl.Datetime("us") if c == "at" else pl.Int64 if c == "source_row" else pl.String)
              for c in EVIDENCE_COLUMNS}
    if not has_rows(ev):
        return pl.DataFrame(schema=schema) if held else pl.LazyFrame(schema=schema)
    have = columns_of(ev)
    lf = ev.lazy().select([pl.col(c) if c in have else pl.lit(None, schema[c]).alias(c) for c in EVIDENCE_COLUMNS])
    if not bundle.evidence_sorted:
        lf = lf.sort(["agent_account", "kind", "at", "evidence_id"], nulls_last=True)
    return mask_frame(lf.collect() if held else lf)  # also the own nick in source_sheet / conversation_id


def csv_view(ev: FrameT) -> FrameT:
    """evidence.csv's cells of masked evidence: kind labels, formula-like text neutralised,
    Chinese headers."""
    text_cols = [c for c, t in ev.collect_schema().items() if t == pl.String]
    return ev.with_columns(pl.col("kind").replace(KIND_LABELS)).with_columns(
        [neutralise_expr(c) for c in text_cols]).rename(CSV_HEADERS)


def write_evidence_exports(bundle: MonthBundle, folder: str | Path) -> dict[str, Path]:
    """Write ``evidence.parquet`` and ``evidence.csv`` into ``folder``; returns their paths.

    Evidence held in memory (what :func:`~pipelines.report.bundle.build_month_bundle` gives) is
    masked once and both files are written from that frame; a lazy one is streamed (the parquet
    file written as the sorted evidence is masked, the CSV from it)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    pq, csv = out / "evidence.parquet", out / "evidence.csv"
    if isinstance(bundle.evidence, pl.DataFrame):
        frame = masked_evidence(bundle, held=True)
        frame.write_parquet(pq, compression="zstd", statistics=False, row_group_size=ROW_GROUP_ROWS)
        source = frame.lazy()
    else:
        masked_evidence(bundle).sink_parquet(pq, compression="zstd", statistics=False, row_group_size=ROW_GROUP_ROWS)
        source = pl.scan_parquet(pq)
    csv_view(source).sink_csv(csv, include_bom=True, datetime_format="%Y-%m-%d %H:%M:%S", line_terminator="\r\n")
    return {"evidence.parquet": pq, "evidence.csv": csv}
