"""Service-SLA engine (policy 篇2 售后服务管理考核办法): rules, calendars, deadlines,
monthly targets, compliance checks, ledger reconciliation and breach warnings.

Pure functions over polars frames; no file paths, no warehouse, no Prefect.
"""

from .calendars import CalendarError, TwentyFourSeven, WorkingHours
from .compliance import compliance_findings
from .deadlines import deadline_status
from .engine import calendar_notes, evaluate
from .ledger import reconcile
from .monthly import sla_month
from .rules import RuleSet, RulesError, load_rules, rules_hash
from .warnings import breach_warnings

__all__ = [
    "CalendarError",
    "RuleSet",
    "RulesError",
    "TwentyFourSeven",
    "WorkingHours",
    "breach_warnings",
    "calendar_notes",
    "compliance_findings",
    "deadline_status",
    "evaluate",
    "load_rules",
    "reconcile",
    "rules_hash",
    "sla_month",
]
