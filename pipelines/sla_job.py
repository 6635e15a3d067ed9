"""The SLA month as plain steps: ingest the SLA workbooks (shared ingest, domain 'sla'),
compute with the pure engine (analytics.sla), store results, render the reports — built
aside and published at once like the KPI month (:mod:`pipelines.publish`): one DuckDB
transaction for the staged SLA tables, results and history, one switch of ``<out>/<month>``.

Result tables (ticket_sla, sla_month, sla_compliance, sla_ledger) hold the latest run of a
month; ``sla_history_*`` tables keep every run (a rules change is a new run; old runs stay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines import warehouse
from pipelines.ingest import IngestReport, stage_into
from pipelines.publish import month_build

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SLA_RULES = ROOT / "data" / "sla_rules.yaml"


@dataclass
class SlaOutcome:
    ingest: IngestReport
    results: object  # pipelines.sla.run.SlaResults
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
    from analytics.sla import load_rules, rules_hash
    from pipelines.sla.report import render_sla_report, write_sla_xlsx
    from pipelines.sla.run import compute_sla, previous_tickets

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
