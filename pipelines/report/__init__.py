"""Supervisor reports: ``report.html`` (render_report / write_report), ``payroll.xlsx``
(write_payroll_xlsx) and the full evidence (write_evidence_exports: evidence.parquet/.csv).

Inputs are one :class:`MonthBundle` of polars frames (``build_month_bundle(month, read)``);
buyer data is masked (``mask``) and every data string escaped. See docs/reports.md.
"""

from .bundle import MonthBundle, build_month_bundle
from .excel import write_payroll_xlsx
from .exports import write_evidence_exports
from .html import render_report, write_report

__all__ = ["MonthBundle", "build_month_bundle", "render_report", "write_report", "write_payroll_xlsx",
           "write_evidence_exports"]
