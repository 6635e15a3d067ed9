"""Pure KPI scoring and payroll: rules file model, KPI items, adjustments, pay (Decimal).

Entry points: :func:`scoring.rules.load_rules`, :func:`score_month`, :func:`explain`,
:func:`payroll_csv_text`, :func:`reconcile`.
"""

from scoring.complaints import handled_within_deadline
from scoring.explain import ExplainRow, explain
from scoring.inputs import ScoringInputError, ScoringInputs
from scoring.payroll import PAYROLL_COLUMNS, Reconciliation, payroll_csv_text, reconcile
from scoring.rules import DEFAULT_RULES_PATH, Rules, RulesError, load_rules
from scoring.score import ScoringResult, score_month

__all__ = [
    "DEFAULT_RULES_PATH",
    "ExplainRow",
    "PAYROLL_COLUMNS",
    "Reconciliation",
    "Rules",
    "RulesError",
    "ScoringInputError",
    "ScoringInputs",
    "ScoringResult",
    "explain",
    "handled_within_deadline",
    "load_rules",
    "payroll_csv_text",
    "reconcile",
    "score_month",
]
