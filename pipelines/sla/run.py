"""The SLA month: ``kefu sla``, the ``monthly_sla`` flow and the tests all run
:func:`run_sla_month`: ingest the SLA workbooks (shared ingest, domain 'sla'), compute with
the pure engine (:mod:`analytics.sla`, via :func:`compute_sla`), render the reports — built
aside and published at once like the KPI month (:mod:`pipelines.publish`): one DuckDB
transaction for the staged SLA tables, results and history, one switch of ``<out>/<month>``.

Result tables (ticket_sla, sla_month, sla_compliance, sla_ledger, ...; contracts in
:mod:`contracts.sla`) hold the latest run of a month; ``sla_history_*`` tables keep every
run (a rules change is a new run; old runs stay).
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
from pipelines.ingest import IngestReport
from pipelines.staging.stage import empty_quarantine, month_bounds

ROOT = Path(__file__).resolve().parents[2]
LEXICON_DIR = ROOT / "data" / "lexicons"
DEFAULT_SLA_RULES = ROOT / "data" / "sla_rules.yaml"
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
    """All SLA outputs from staged tables (no I/O but the default lexicons; used by
    :func:`run_sla_month`).

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


@dataclass
class SlaOutcome:
    ingest: IngestReport
    results: SlaResults
    run_id: str
    outputs: dict[str, Path]


def run_sla_month(
    month: str,
    inbox: Path,
    warehouse_path: str | Path | None = None,
    rules: Path | None = None,
    out: Path = Path("out"),
    now: datetime | None = None,
    replace: bool = False,
) -> SlaOutcome:
    """Read the SLA workbooks of ``inbox`` for ``month``, compute everything and publish
    the month (tables, history, sla_report.html, sla.xlsx).

    ``as_of`` is the month end, or ``now`` if that is earlier (a month in progress); breach
    warnings are computed only when ``now`` is given (as of ``now``). Clocks still open at
    the month's start are carried from the warehouse's earlier months."""
    from pipelines import warehouse
    from pipelines.ingest import stage_into
    from pipelines.publish import month_build
    from pipelines.sla.report import render_sla_report, write_sla_xlsx

    started = datetime.now()
    rules_path = Path(rules) if rules else DEFAULT_SLA_RULES
    text = rules_path.read_text("utf-8")
    rs = load_rules(text)
    with month_build(month, warehouse_path, out, "sla", f"kefu sla {month}") as build:
        rep = stage_into(build, inbox, "sla", replace=replace)
        prev = previous_tickets(build.warehouse_path, month, rs.carry_over_months)  # open clocks crossing the month start
        prev_calls = previous_tickets(build.warehouse_path, month, rs.carry_over_months, "sla_calls")
        res = compute_sla(month, rep.tables, rs, rules_hash(text), now, prev, previous_calls=prev_calls)
        res.quarantine = rep.quarantine
        res.files = [r for f in rep.files if f.status == "loaded" for r in f.rows()]
        if not res.files:
            res.notes.append(f"收件箱 {inbox} 中没有识别到服务工单/来电来函/备用件台账文件")
        if res.quarantine.height:
            res.notes.append(f"{res.quarantine.height} 行数据有误已隔离, 见隔离清单")
        run = warehouse.RunRecord(
            month,
            "sla",
            started,
            status="ok" if res.targets_met is not False else "targets_missed",
            rules_version=str(getattr(rs, "version", "")),
            rules_hash=res.rules_hash,
            message=None if res.targets_met is None else ("targets met" if res.targets_met else "targets missed"),
            details={"as_of": res.as_of, "now": now, "notes": res.notes},
        )
        tables = dict(res.tables())
        build.write_all(tables)
        for name, frame in tables.items():
            build.append(f"sla_history_{name}", frame.with_columns(pl.lit(run.run_id).alias("run_id")))
        build.log(run)
        build.output("sla_report.html").write_text(render_sla_report(res, month), encoding="utf-8")
        write_sla_xlsx(res, build.output("sla.xlsx"))
        build.publish()
    month_dir = Path(out) / month
    return SlaOutcome(rep, res, run.run_id, {"sla_report.html": month_dir / "sla_report.html", "sla.xlsx": month_dir / "sla.xlsx"})


__all__ = ["DEFAULT_SLA_RULES", "SlaOutcome", "SlaResults", "compute_sla", "previous_tickets", "run_sla_month"]
