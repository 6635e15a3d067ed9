"""Supervisor reports: ``report.html`` (render_report / write_report) and ``payroll.xlsx``.

Inputs are one :class:`MonthBundle` of polars frames; buyer data is masked (``mask``) and
every data string escaped. See docs/reports.md.
"""

from .bundle import MonthBundle
from .excel import write_payroll_xlsx
from .html import render_report, write_report

__all__ = ["MonthBundle", "render_report", "write_report", "write_payroll_xlsx"]
