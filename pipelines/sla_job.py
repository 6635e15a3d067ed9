"""The SLA month as plain steps: ingest the SLA workbooks (shared ingest, domain 'sla'),
compute with the pure engine (analytics.sla), store results, render the reports.

Result tables (ticket_sla, sla_month, sla_compliance, sla_ledger) hold the latest run of a
month; ``sla_history_*`` tables keep every run (a rules change is a new run; old runs stay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from pipelines import warehouse
from pipelines.ingest import IngestReport, ingest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SLA_RULES = ROOT / "data" / "sla_rules.yaml"


@dataclass
class SlaOutcome:
    ingest: IngestReport
    results: object  # pipelines.sla.run.SlaResults
    run_id: str
    outputs: dict[str, Path]


def run_sla_month(month: str, inbox: Path, warehouse_path: str | Path | None = None, rules: Path | None = None, out: Path = Path("out"), now: datetime | None = None) -> SlaOutcome:
    from analytics.sla import load_rules, rules_hash
    from pipelines.sla.report import render_sla_report, write_sla_xlsx
    from pipelines.sla.run import compute_sla, previous_tickets

    started = datetime.now()
    rules_path = Path(rules) if rules else DEFAULT_SLA_RULES
    text = rules_path.read_text("utf-8")
    rs = load_rules(text)
    rep = ingest(month, inbox, warehouse_path, domain="sla")
    prev = previous_tickets(warehouse_path, month, rs.carry_over_months)  # open clocks crossing the month start
    res = compute_sla(month, rep.tables, rs, rules_hash(text), now, prev)
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
    tables = {name: frame for name, frame in res.tables().items()}
    warehouse.replace_month(warehouse_path, month, tables, run)
    for name, frame in tables.items():
        warehouse.append(warehouse_path, f"sla_history_{name}", frame.with_columns(pl.lit(run.run_id).alias("run_id")))
    month_dir = Path(out) / month
    month_dir.mkdir(parents=True, exist_ok=True)
    html = month_dir / "sla_report.html"
    tmp = html.with_name("sla_report.tmp.html")
    tmp.write_text(render_sla_report(res, month), encoding="utf-8")
    tmp.replace(html)
    xlsx = month_dir / "sla.xlsx"
    tmpx = month_dir / "sla.tmp.xlsx"
    write_sla_xlsx(res, tmpx)
    tmpx.replace(xlsx)
    return SlaOutcome(rep, res, run.run_id, {"sla_report.html": html, "sla.xlsx": xlsx})
