"""The regression oracle: the bundled sample month's payroll.csv, byte for byte.

``tests/oracle/sample_2026-10_payroll.csv`` was produced by the first cut, whose numbers were
checked by hand; every change to readers, analytics, scoring or publishing must keep it."""

from pathlib import Path

from typer.testing import CliRunner

from pipelines.cli import EXIT_INCOMPLETE, app
from pipelines.monthly import SAMPLE_INBOX

ORACLE = Path(__file__).parent / "oracle" / "sample_2026-10_payroll.csv"


def test_sample_month_payroll_csv_is_byte_identical(tmp_path):
    res = CliRunner().invoke(
        app, ["run", "-m", "2026-10", "-i", str(SAMPLE_INBOX), "-w", str(tmp_path / "w.duckdb"), "-o", str(tmp_path / "out"), "--no-prefect"]
    )
    assert res.exit_code == EXIT_INCOMPLETE, res.output  # one agent has a blank 执行力 on purpose
    assert (tmp_path / "out" / "2026-10" / "payroll.csv").read_bytes() == ORACLE.read_bytes()
