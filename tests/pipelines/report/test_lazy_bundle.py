"""A bundle whose big marts are lazy frames (``build_month_bundle(..., scan=...)``, what
``kefu run`` / ``kefu report`` use) gives the same files as one of plain frames, whatever
order the marts' rows arrive in (partition-major parts, warehouse reads)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines import warehouse
from pipelines.report import build_month_bundle, write_evidence_exports, write_payroll_xlsx, write_report
from pipelines.report.bundle import BIG_TABLES, content_hash


def _outputs(bundle, folder: Path) -> dict[str, bytes]:
    write_report(bundle, folder / "report.html")
    write_payroll_xlsx(bundle, folder / "payroll.xlsx")
    write_evidence_exports(bundle, folder)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_lazy_big_marts_give_the_same_files(sample_month, tmp_path: Path) -> None:
    job = sample_month

    def read(table: str, month: str) -> pl.DataFrame | None:
        try:
            return warehouse.read(table, month=month, path=job.warehouse, shop=job.shop)
        except (KeyError, ValueError):
            return None

    scanned: list[str] = []

    def scan(table: str) -> pl.LazyFrame | None:  # rows reversed: no order to rely on
        scanned.append(table)
        df = read(table, job.month)
        return None if df is None else df.reverse().lazy()

    eager = build_month_bundle(job.month, read)
    lazy = build_month_bundle(job.month, read, scan=scan)
    assert eager is not None and lazy is not None
    assert sorted(set(scanned)) == sorted(BIG_TABLES)
    assert isinstance(lazy.questions, pl.LazyFrame) and isinstance(lazy.messages, pl.LazyFrame)
    assert lazy.evidence_sorted and lazy.inputs_hash == eager.inputs_hash
    # the fingerprint is the hash of the five frames in turn, the evidence ids in the shown order
    ids = eager.evidence.select("evidence_id")
    assert eager.inputs_hash == content_hash([eager.payroll, eager.kpi_items, eager.kpi_adjustments,
                                              eager.agent_month_metrics, ids])
    assert eager.inputs_hash != content_hash([eager.payroll, eager.kpi_items, eager.kpi_adjustments,
                                              eager.agent_month_metrics, ids.reverse()])
    a, b = tmp_path / "eager", tmp_path / "lazy"
    a.mkdir(), b.mkdir()
    files_a, files_b = _outputs(eager, a), _outputs(lazy, b)
    assert files_a.keys() == files_b.keys() == {"report.html", "payroll.xlsx", "evidence.csv", "evidence.parquet"}
    for name in ("report.html", "payroll.xlsx", "evidence.csv"):
        assert files_a[name] == files_b[name], name
    ev = pl.read_parquet(b / "evidence.parquet")
    assert ev.equals(pl.read_parquet(a / "evidence.parquet")) and ev.height > 0
    assert "证据" in files_b["report.html"].decode()
