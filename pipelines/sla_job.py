"""Moved to :mod:`pipelines.sla.run` (the one SLA month path); kept for existing imports."""

from pipelines.sla.run import DEFAULT_SLA_RULES, SlaOutcome, run_sla_month

__all__ = ["DEFAULT_SLA_RULES", "SlaOutcome", "run_sla_month"]
