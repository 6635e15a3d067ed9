"""Render docs/tables.md from the canonical schemas (``python -m pipelines.staging.tables_doc``).
A test keeps the committed file in sync with the code."""

from __future__ import annotations


from contracts.staged import TABLES

HEADER = """# Canonical staged tables

Generated from `pipelines/staging/schemas.py` and `pipelines/staging/sla_schemas.py` by
`python -m pipelines.staging.tables_doc > docs/tables.md`; do not edit by hand.

Every table also has `month` ('YYYY-MM', the partition it was loaded into) and the lineage
columns `source_file`, `source_sheet` (null for CSV/text/JSON) and `source_row` (1-based row
or line as a user sees it in the file). Times are naive China local time (Asia/Shanghai).
Rows that fail a check go to `quarantine` (KPI) or `sla_quarantine` with the reason.
"""


def render() -> str:
    out = [HEADER]
    for t in TABLES.values():
        out.append(f"\n## {t.name}\n")
        if t.doc:
            out.append(t.doc + "\n")
        key = ", ".join(t.natural_key)
        month = ", ".join(t.month_by) if t.month_by else ("rating_month = the month" if "rating_month" in t.names else "every row (snapshot)")
        out.append(f"\nNatural key (duplicates dropped, first file wins): `{key}`" + (" + occurrence within a file" if t.dedupe_with_occurrence else "") + f". In month by: {month}.\n")
        out.append("\n| column | type | 中文 | required | allowed |\n|---|---|---|---|---|\n")
        for c in t.cols:
            allowed = " / ".join(c.choices) if c.choices else (f"≥ {c.min:g}" if c.min is not None else "")
            out.append(f"| {c.name} | {c.type} | {c.label} | {'yes' if c.required else ''} | {allowed} |\n")
    return "".join(out)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
