"""Glue for ``kefu sla`` and the ``monthly_sla`` flow: inbox → staged SLA tables → results.

Plain functions (no Prefect, no warehouse writes): the caller records the run and writes
``SlaResults.tables()`` to the warehouse (each frame carries ``month``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import polars as pl

from analytics.sla import (
    breach_warnings,
    calendar_notes,
    compliance_findings,
    evaluate,
    load_rules,
    reconcile,
    rules_hash,
    sla_month,
)
from analytics.sla.carry import (
    CALL_EVENT_COLUMNS,
    carried_ids,
    keep_month_clocks,
    merge_carried,
    own_rows,
)
from analytics.sla.policy import clause_results
from analytics.sla.rules import RuleSet
from analytics.sla.staff import apply_teams, staff_teams
from pipelines.staging.stage import empty_quarantine, month_bounds

LEXICON_DIR = Path(__file__).resolve().parents[2] / "data" / "lexicons"
SLA_LAYOUTS = ("sla_tickets", "sla_calls", "sla_parts")


@dataclass
class SlaResults:
    month: str
    as_of: datetime
    now: datetime | None
    rules: RuleSet
    rules_hash: str
    staged: dict[str, pl.DataFrame]
    quarantine: pl.DataFrame
    files: list[dict]
    ticket_sla: pl.DataFrame
    sla_month: pl.DataFrame
    compliance: pl.DataFrame
    ledger: pl.DataFrame
    warnings: pl.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    checks: pl.DataFrame | None = None  # which clause checks ran (已检查 / 未检查 / 已关闭)
    courtesy: pl.DataFrame | None = None  # per staff: text hits (3.3.5)
    station_ledger: pl.DataFrame | None = None  # per service station (3.7.6)
    claims_summary: pl.DataFrame | None = None  # per supplier (3.8)

    @property
    def overall(self) -> dict | None:
        rows = self.sla_month.filter(pl.col("level") == "all").to_dicts()
        return rows[0] if rows else None

    @property
    def targets_met(self) -> bool | None:
        """True/False for the department's three targets; None when there is no data."""
        o = self.overall
        return None if o is None else o["all_met"]

    def tables(self) -> dict[str, pl.DataFrame]:
        """Warehouse tables of this run, each with a ``month`` column."""
        m = pl.lit(self.month).alias("month")
        out = {
            "ticket_sla": self.ticket_sla.with_columns(m),
            "sla_month": self.sla_month,
            "sla_compliance": self.compliance.with_columns(m),
            "sla_ledger": self.ledger,
        }
        extra = {"sla_checks": self.checks, "sla_courtesy": self.courtesy, "sla_station_ledger": self.station_ledger,
                 "sla_claims_summary": self.claims_summary}
        out.update({k: v.with_columns(m) for k, v in extra.items() if v is not None})
        return out


def previous_tickets(warehouse_path, month: str, months_back: int, table: str = "sla_tickets") -> pl.DataFrame | None:
    """Records loaded in the ``months_back`` months before ``month`` (warehouse
    ``sla_tickets`` or ``sla_calls``, every version; :func:`analytics.sla.carry.merge_carried`
    keeps the latest). None when the warehouse has no such table yet."""
    from pipelines import warehouse

    if months_back <= 0 or not warehouse.resolve(warehouse_path).exists() or table not in warehouse.tables(warehouse_path):
        return None
    y, m = (int(x) for x in month.split("-"))
    k = y * 12 + (m - 1) - months_back
    first = f"{k // 12:04d}-{k % 12 + 1:02d}"
    return warehouse.query(f'SELECT * FROM "{table}" WHERE month >= ? AND month < ?', warehouse_path, [first, month])


def default_lexicons(rules: RuleSet) -> dict:
    """The lexicons the courtesy check names, read from data/lexicons (file names from the
    analytics text settings, as the chat analytics uses them). Unknown names are skipped
    (the check then reports them as not loaded)."""
    from analytics.lexicon import parse_lexicon
    from analytics.settings import TextSettings

    ck = rules.checks.courtesy
    files = TextSettings().lexicon_files
    return {n: _lexicon(n, files[n], parse_lexicon) for n in {*ck.staff_lexicons, *ck.customer_lexicons} if n in files}


@lru_cache(maxsize=16)
def _lexicon(name: str, file: str, parse):
    return parse(name, (LEXICON_DIR / file).read_text("utf-8"))


def _as_of(month: str, now: datetime | None) -> datetime:
    start, end = month_bounds(month)
    if now is None or now >= end:
        return end
    return max(now, start)


def read_sla_inbox(month: str, inbox: Path) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, list[dict]]:
    """Recognise the SLA workbooks in ``inbox`` (other files are left to the KPI ingest),
    stage and dedupe them with the shared ingest. Returns (tables by kind, quarantine,
    per-file accounting rows)."""
    from pipelines.ingest import SLA_KINDS, stage_inbox

    results, tables, quarantine = stage_inbox(month, Path(inbox), SLA_KINDS)
    files = [r for f in results if f.status == "loaded" for r in f.rows()]
    return tables, quarantine, files


def compute_sla(
    month: str,
    tables: dict[str, pl.DataFrame],
    rules: RuleSet,
    text_hash: str,
    now: datetime | None = None,
    previous_tickets: pl.DataFrame | None = None,
    lexicons: dict | None = None,
    previous_calls: pl.DataFrame | None = None,
) -> SlaResults:
    """All SLA outputs from staged tables (pure; used by :func:`run_sla` and tests).

    ``previous_tickets`` / ``previous_calls``: records loaded in earlier months (warehouse
    ``sla_tickets`` / ``sla_calls``); their clocks still open at the month's start are
    carried in (see analytics.sla.carry).
    ``lexicons``: for the courtesy check; default: the files under data/lexicons."""
    as_of = _as_of(month, now)
    start, end = month_bounds(month)
    cals = rules.build_calendars()
    t = merge_carried(tables.get("sla_tickets"), previous_tickets, start, end)
    c = merge_carried(tables.get("sla_calls"), previous_calls, start, end, "call_id", CALL_EVENT_COLUMNS)
    teams = staff_teams([t, c], tables.get("sla_staff"))
    t, c = apply_teams(t, teams), apply_teams(c, teams)
    carried = {"ticket": carried_ids(t, "ticket_id"), "call": carried_ids(c, "call_id")}
    ticket_sla = keep_month_clocks(evaluate(t, c, rules, as_of, cals), carried, month)
    monthly = sla_month(ticket_sla, t, month, rules.targets)
    t_own, c_all, c = own_rows(t), c, own_rows(c)  # findings belong to the month of the events
    ledger = reconcile(tables.get("sla_part_receipts"), tables.get("sla_part_requisitions"), tables.get("sla_stocktakes"), start.date(), end.date(), month)
    findings = compliance_findings(
        rules, as_of, tickets=t_own, calls=c, requisitions=tables.get("sla_part_requisitions"),
        returns=tables.get("sla_part_returns"), claims=tables.get("sla_claims"), ledger=ledger,
    )
    clauses = clause_results(
        rules, as_of, start.date(), end.date(), tickets=t_own, calls=c, requisitions=tables.get("sla_part_requisitions"),
        returns=tables.get("sla_part_returns"), claims=tables.get("sla_claims"), station_stock=tables.get("sla_station_stock"),
        lexicons=lexicons if lexicons is not None else default_lexicons(rules), stocktakes=tables.get("sla_stocktakes"),
        base_findings=findings,
    )
    if clauses.findings.height:
        findings = pl.concat([findings, clauses.findings]).sort("check", "at", "record_id", nulls_last=True)
    warn = breach_warnings(t, c_all, rules, now, cals) if now is not None else None
    notes = calendar_notes(cals)
    if t is None or t.height == 0:
        notes.append("没有服务工单数据")
    not_run = clauses.checks.filter(pl.col("status") == "未检查")
    if not_run.height:
        notes.append(f"{not_run.height} 项检查未检查(缺少数据列或没有数据), 见检查项清单")
    return SlaResults(month, as_of, now, rules, text_hash, tables, empty_quarantine(), [], ticket_sla, monthly, findings, ledger, warn, notes,
                      clauses.checks, clauses.courtesy, clauses.station_ledger, clauses.claims_summary)


def run_sla(month: str, inbox: Path, now: datetime | None, rules_text: str, previous_tickets: pl.DataFrame | None = None) -> SlaResults:
    """Read the SLA workbooks of ``inbox`` for ``month`` and compute everything.

    ``as_of`` is the month end, or ``now`` if that is earlier (a month in progress); breach
    warnings are computed only when ``now`` is given (as of ``now``)."""
    rules = load_rules(rules_text)
    tables, quarantine, files = read_sla_inbox(month, Path(inbox))
    res = compute_sla(month, tables, rules, rules_hash(rules_text), now, previous_tickets)
    res.quarantine = quarantine
    res.files = files
    if not files:
        res.notes.append(f"收件箱 {inbox} 中没有识别到服务工单/来电来函/备用件台账文件")
    if quarantine.height:
        res.notes.append(f"{quarantine.height} 行数据有误已隔离, 见隔离清单")
    return res


__all__ = ["SlaResults", "run_sla", "compute_sla", "read_sla_inbox", "previous_tickets"]
