"""Run the SLA month the way ``kefu sla`` does (:func:`pipelines.sla.run.run_sla_month`), in
a warehouse and out folder of its own, and hand back its results."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from pipelines.sla.run import SlaResults, run_sla_month

_WORK = Path(tempfile.mkdtemp(prefix="kefu-sla-tests-"))
atexit.register(shutil.rmtree, _WORK, ignore_errors=True)


def run_sla(month: str, inbox: Path, now: datetime | None = None, rules_text: str | None = None) -> SlaResults:
    """The production SLA run on ``inbox`` in a fresh warehouse (nothing carried from other
    calls); ``rules_text`` replaces data/sla_rules.yaml when given."""
    work = Path(tempfile.mkdtemp(dir=_WORK))
    rules = None
    if rules_text is not None:
        rules = work / "sla_rules.yaml"
        rules.write_text(rules_text, encoding="utf-8")
    return run_sla_month(month, Path(inbox), work / "w.duckdb", rules, work / "out", now).results
