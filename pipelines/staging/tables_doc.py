"""Render docs/tables.md from the table contracts (``python -m pipelines.staging.tables_doc``).
A test keeps the committed file in sync with the code."""

from __future__ import annotations

from contracts import HISTORY, MARTS, QUARANTINE, SCORES, SLA_HISTORY, SLA_QUARANTINE, SLA_RESULTS, STAGED, Table

HEADER = """# Warehouse tables

Generated from the contracts in `contracts/` (`staged.py`, `sla.py`, `marts.py`,
`scores.py`) by `python -m pipelines.staging.tables_doc > docs/tables.md`; do not edit by
hand. Every table a run writes is checked against its contract (`contracts.check`).

Times are naive China local time (Asia/Shanghai).
"""

STAGED_INTRO = """
# Canonical staged tables

Every staged table also has `month` ('YYYY-MM', the partition it was loaded into) and the
lineage columns `source_file`, `source_sheet` (null for CSV/text/JSON) and `source_row`
(1-based row or line as a user sees it in the file). Rows that fail a check go to
`quarantine` (KPI) or `sla_quarantine` with the reason.
"""

SECTIONS = (
    ("Quarantine", "Bad input rows, never dropped.", {t.name: t for t in (QUARANTINE, SLA_QUARANTINE)}),
    ("Chat marts", "Computed by `analytics.marts.build_chat_marts` (definitions in docs/marts.md).", MARTS),
    ("Scores and payroll", "Computed by `scoring.score_month` (docs/scoring.md).", SCORES),
    ("SLA results", "Computed by the SLA run (`pipelines.sla.job.run_sla_month`, docs/sla.md).", SLA_RESULTS),
)
HISTORIES = {**HISTORY, **SLA_HISTORY}
HISTORY_OF = {**SCORES, **SLA_RESULTS}


def _staged(t: Table) -> list[str]:
    out = [f"\n## {t.name}\n"]
    if t.doc:
        out.append(t.doc + "\n")
    key = ", ".join(t.natural_key)
    month = ", ".join(t.month_by) if t.month_by else ("rating_month = the month" if "rating_month" in t.names else "every row (snapshot)")
    out.append(f"\nNatural key (duplicates dropped, first file wins): `{key}`" + (" + occurrence within a file" if t.dedupe_with_occurrence else "") + f". In month by: {month}.\n")
    out.append("\n| column | type | 中文 | required | allowed |\n|---|---|---|---|---|\n")
    for c in t.cols:
        allowed = " / ".join(c.choices) if c.choices else (f"≥ {c.min:g}" if c.min is not None else "")
        out.append(f"| {c.name} | {c.type} | {c.label} | {'yes' if c.required else ''} | {allowed} |\n")
    return out


def _computed(t: Table) -> list[str]:
    out = [f"\n## {t.name}\n"]
    if t.doc:
        out.append(t.doc + "\n")
    out.append(f"\nKey: `{', '.join(t.natural_key)}`.\n")
    out.append("\n| column | type | 中文 |\n|---|---|---|\n")
    for c in t.cols:
        out.append(f"| {c.name} | {c.type} | {c.label} |\n")
    for pattern, typ in t.open_cols:
        out.append(f"| `{pattern}` | {typ} | (per KPI item of the rules file) |\n")
    return out


def render() -> str:
    out = [HEADER, STAGED_INTRO]
    for t in STAGED.values():
        out += _staged(t)
    for title, intro, tables in SECTIONS:
        out.append(f"\n# {title}\n\n{intro}\n")
        for t in tables.values():
            out += _computed(t)
    out.append("\n# History tables\n\nEvery run's rows, appended on publish: the columns of the table named plus `run_id`.\n\n")
    out.append("| table | keeps | extra columns |\n|---|---|---|\n")
    for t in HISTORIES.values():
        base = t.name.removeprefix("sla_history_").removesuffix("_history")
        extra = [c.name for c in t.cols if c.name not in HISTORY_OF[base].stored_names]
        out.append(f"| {t.name} | {base} | {', '.join(extra)} |\n")
    return "".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
