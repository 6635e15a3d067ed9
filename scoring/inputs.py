"""Inputs of a scoring run: the staged tables and marts scoring reads, as polars frames.

Every frame follows its contract (:mod:`contracts`: staged tables, marts, quarantine). A
frame may be ``None`` (no data of that kind) or lack optional columns: :func:`normalise`
adds them as nulls so scoring code can rely on every column it reads.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime

import polars as pl

from contracts import MARTS, QUARANTINE, STAGED


def _columns(table: str, names: tuple[str, ...]) -> dict[str, pl.DataType]:
    schema = MARTS[table].schema()
    return {n: schema[n] for n in names}


# Mart columns scoring reads (the marts have more; extra columns are kept and ignored).
METRIC_COLUMNS = _columns(
    "agent_month_metrics",
    (
        "month", "agent_account", "consult_buyers", "unreplied_buyers", "reply_rate", "first_response_mean_s",
        "avg_response_s", "p90_response_s", "response_3min_rate", "slow_responses", "polite_opening_rate",
        "forbidden_hits", "knowledge_gap_replies", "escalation_conversations", "praise_candidates",
    ),
)  # fmt: skip
EVIDENCE_COLUMNS = _columns("evidence", ("evidence_id", "month", "agent_account", "kind", "buyer", "at", "excerpt", "detail"))
# Only needed for refund_rate scope=agent (attribution by the buyer's last conversation);
# rows with is_after_sales == False are not after-sales conversations and are skipped.
CONVERSATION_COLUMNS = _columns(
    "conversations", ("month", "agent_account", "buyer", "start_at", "end_at", "conversation_id", "is_after_sales")
)
def reads_conversations(rules) -> bool:
    """Whether scoring with ``rules`` (scoring.rules.Rules) reads the month's conversations:
    only the refund rate with ``scope: agent`` does (a big month's conversations are ~200 MB
    at 10M messages; without that item they are not read at all)."""
    item = rules.items.get("refund_rate")
    return getattr(item, "scope", None) == "agent"


# Staged orders: only the shop refund rate reads them (the month's paid orders, order_id by
# paid_at); a big month's orders are read with these columns alone.
ORDER_COLUMNS: dict[str, pl.DataType] = {c: t for c, t in STAGED["orders"].schema().items() if c in ("order_id", "paid_at")}
# The warehouse quarantine table (bad input rows). ``raw`` holds the row's canonical values
# as JSON (``agent_account`` for supervisor rows).
QUARANTINE_COLUMNS: dict[str, pl.DataType] = QUARANTINE.schema()
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
    "orders": ORDER_COLUMNS,
}


def _schema_for(name: str) -> dict[str, pl.DataType]:
    if name in _MARTS:
        return _MARTS[name]
    table = STAGED[name]
    return {c: t for c, t in table.schema().items() if c in table.names}


def _conform(df: pl.DataFrame | None, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    if df is None:
        return pl.DataFrame(schema=schema)
    missing = [pl.lit(None, dtype=t).alias(c) for c, t in schema.items() if c not in df.columns]
    if missing:
        df = df.with_columns(missing)
    casts = {c: t for c, t in schema.items() if df.schema[c] != t}
    return df.cast(casts) if casts else df  # type: ignore[arg-type]


def normalise(inputs: ScoringInputs) -> ScoringInputs:
    """Return inputs with every frame present and every column scoring reads, typed."""
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
