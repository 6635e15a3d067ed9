"""Realistic sample month generator: after-sales exports in the real layouts.

``generate(month, out, agents=8, seed=0, messages=None) -> SampleSummary`` — see
docs/sample.md. ``python -m pipelines.sample --month 2026-10 --out DIR`` runs it.
"""

from .month import build_month, generate
from .summary import SampleFile, SampleSummary

__all__ = ["generate", "build_month", "SampleFile", "SampleSummary"]
