"""Inputs of a scoring run: the staged tables and marts scoring reads, as polars frames.

Staged tables follow ``pipelines/staging/schemas.py``; marts follow ``docs/marts.md``.
A frame may be ``None`` (no data of that kind) or lack optional columns: :func:`normalise`
adds them as nulls so scoring code can rely on every column it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

import polars as pl

from pipelines.staging.schemas import POLARS_TYPES, TABLES

# Mart columns scoring reads (analytics may add more; extra columns are kept and ignored).
METRIC_COLUMNS: dict[str, pl.DataType] = {
    "month": pl.String(),
    "agent_account": pl.String(),
    "consult_buyers": pl.Int64(),
    "unreplied_buyers": pl.Int64(),
    "reply_rate": pl.Float64(),
    "first_response_mean_s": pl.Float64(),
    "avg_response_s": pl.Float64(),
    "p90_response_s": pl.Float64(),
    "response_3min_rate": pl.Float64(),
    "slow_responses": pl.Int64(),
    "polite_opening_rate": pl.Float64(),
    "forbidden_hits": pl.Int64(),
    "knowledge_gap_replies": pl.Int64(),
    "escalation_conversations": pl.Int64(),
    "praise_candidates": pl.Int64(),
}
EVIDENCE_COLUMNS: dict[str, pl.DataType] = {
    "evidence_id": pl.String(),
    "month": pl.String(),
    "agent_account": pl.String(),
    "kind": pl.String(),
    "buyer": pl.String(),
    "at": pl.Datetime("us"),
    "excerpt": pl.String(),
    "detail": pl.String(),
}
# Only needed for refund_rate scope=agent (attribution by the buyer's last conversation).
# start_at/end_at (analytics mart names) are accepted too; rows with is_after_sales == False
# (when the mart has that column) are not after-sales conversations and are skipped.
CONVERSATION_COLUMNS: dict[str, pl.DataType] = {
    "month": pl.String(),
    "agent_account": pl.String(),
    "buyer": pl.String(),
    "started_at": pl.Datetime("us"),
    "ended_at": pl.Datetime("us"),
    "conversation_id": pl.String(),
}

# The warehouse quarantine table (bad input rows, see pipelines/staging/stage.py). ``raw``
# holds the row's canonical values as JSON (``agent_account`` for supervisor rows).
QUARANTINE_COLUMNS: dict[str, pl.DataType] = {
    "kind": pl.String(),
    "source_file": pl.String(),
    "source_sheet": pl.String(),
    "source_row": pl.Int64(),
    "reason": pl.String(),
    "raw": pl.String(),
    "month": pl.String(),
}
# Supervisor-workbook tables whose quarantined rows block the pay of the agents they name
SUPERVISOR_KINDS: dict[str, str] = {"roster": "客服名单", "ratings": "主管评分", "complaints": "投诉维权", "reviews": "评价"}


class ScoringInputError(ValueError):
    """Supervisor data out of the rules' range (e.g. a complaint deduction of 25).

    ``problems`` lists one message per bad record, naming the record."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("评分输入有误 (invalid scoring input):\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class ScoringInputs:
    """Everything one month's scoring reads. ``roster`` is required; the rest may be None."""

    roster: pl.DataFrame
    ratings: pl.DataFrame | None = None
    agent_month_metrics: pl.DataFrame | None = None
    evidence: pl.DataFrame | None = None
    refunds: pl.DataFrame | None = None
    orders: pl.DataFrame | None = None
    complaints: pl.DataFrame | None = None
    reviews: pl.DataFrame | None = None
    attendance: pl.DataFrame | None = None
    attendance_summary: pl.DataFrame | None = None
    conversations: pl.DataFrame | None = None
    # quarantined input rows of the month; supervisor rows among them make agents incomplete
    quarantine: pl.DataFrame | None = None


@dataclass(frozen=True)
class ScoringFrames:
    """:class:`ScoringInputs` after :func:`normalise`: every frame present (empty when there
    was no data) with every column scoring reads, typed. KPI items read these."""

    roster: pl.DataFrame
    ratings: pl.DataFrame
    agent_month_metrics: pl.DataFrame
    evidence: pl.DataFrame
    refunds: pl.DataFrame
    orders: pl.DataFrame
    complaints: pl.DataFrame
    reviews: pl.DataFrame
    attendance: pl.DataFrame
    attendance_summary: pl.DataFrame
    conversations: pl.DataFrame
    quarantine: pl.DataFrame


_MARTS = {
    "agent_month_metrics": METRIC_COLUMNS,
    "evidence": EVIDENCE_COLUMNS,
    "conversations": CONVERSATION_COLUMNS,
    "quarantine": QUARANTINE_COLUMNS,
}


def _schema_for(name: str) -> dict[str, pl.DataType]:
    if name in _MARTS:
        return _MARTS[name]
    table = TABLES[name]
    return {c.name: POLARS_TYPES[c.type] for c in table.cols}


def _conform(df: pl.DataFrame | None, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    if df is None:
        return pl.DataFrame(schema=schema)
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in df.columns]
    if missing:
        df = df.with_columns(missing)
    casts = {c: t for c, t in schema.items() if df.schema[c] != t}
    return df.cast(casts) if casts else df  # type: ignore[arg-type]


def _conversations_aliases(df: pl.DataFrame | None) -> pl.DataFrame | None:
    # the analytics conversations mart names them start_at / end_at
    if df is None:
        return None
    renames = {a: b for a, b in (("start_at", "started_at"), ("end_at", "ended_at")) if a in df.columns and b not in df.columns}
    return df.rename(renames) if renames else df


def normalise(inputs: ScoringInputs) -> ScoringInputs:
    """Return inputs with every frame present and every column scoring reads, typed."""
    inputs = ScoringInputs(**{**inputs.__dict__, "conversations": _conversations_aliases(inputs.conversations)})
    out = {f.name: _conform(getattr(inputs, f.name), _schema_for(f.name)) for f in fields(inputs)}
    return ScoringInputs(**out)


def scoring_frames(inputs: ScoringInputs) -> ScoringFrames:
    """:func:`normalise` typed as :class:`ScoringFrames` (every frame present)."""
    return ScoringFrames(**normalise(inputs).__dict__)


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """``[start, end)`` of a 'YYYY-MM' month as naive China-local datetimes."""
    y, m = (int(x) for x in month.split("-"))
    start = datetime(y, m, 1)
    end = datetime(y + (m == 12), m % 12 + 1, 1)
    return start, end


def month_days(month: str) -> tuple[date, date, int]:
    """First day, last day and number of days of the month."""
    start, end = month_bounds(month)
    last = date.fromordinal(end.date().toordinal() - 1)
    return start.date(), last, last.day


def in_month(col: str, month: str) -> pl.Expr:
    """Expression: datetime column ``col`` falls inside ``month`` (China local)."""
    start, end = month_bounds(month)
    return (pl.col(col) >= start) & (pl.col(col) < end)


def supervisor_quarantine(quarantine: pl.DataFrame, month: str) -> pl.DataFrame:
    """The quarantined supervisor-workbook rows of ``month``: ``agent_account`` (the account
    the row names, null when it names none) and ``reason`` (Chinese: sheet, file, row and
    why it was quarantined), in file order. See docs/scoring.md (quarantined supervisor rows)."""
    q = quarantine.filter(pl.col("kind").is_in(list(SUPERVISOR_KINDS)))
    if "month" in q.columns:
        q = q.filter(pl.col("month").is_null() | (pl.col("month") == month))
    account = (
        pl.col("raw").str.json_path_match("$.agent_account").str.strip_chars().str.replace_all("：", ":", literal=True)
    )
    where = pl.concat_str(
        [
            pl.lit("文件 "), pl.col("source_file").fill_null("?"),
            pl.when(pl.col("source_sheet").is_not_null()).then(pl.format(" 工作表 {}", pl.col("source_sheet"))).otherwise(pl.lit("")),
            pl.lit(" 第 "), pl.col("source_row").cast(pl.String).fill_null("?"), pl.lit(" 行"),
        ]
    )  # fmt: skip
    sheet = pl.col("kind").replace_strict(SUPERVISOR_KINDS, default=pl.col("kind"))
    return q.sort("source_file", "source_sheet", "source_row", nulls_last=True).select(
        agent_account=pl.when(account != "").then(account),
        reason=pl.format("主管填报表{}的一行被隔离({}: {}), 扣分/评分无法计入", sheet, where, pl.col("reason")),
    )
