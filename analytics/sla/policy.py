"""Every clause check of the rules file in one call, plus which checks ran.

``clause_results`` returns findings (compliance schema), ``checks`` (one row per check:
已检查 / 未检查 / 已关闭, for the always-on compliance checks too), the per-staff courtesy
summary, the per-station ledger and the per-supplier claims summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from analytics.lexicon import Lexicon

from .checks import NOT_RUN, RAN, CheckRun, checks_frame
from .clauses import ticket_call_checks
from .compliance import FINDING_SCHEMA
from .courtesy import courtesy_check
from .parts_clauses import (
    PART_CHECKS,
    claims_summary,
    old_parts_processed_monthly,
    station_ledger,
    station_ledger_check,
    supplier_parts_unclaimed,
)
from .rules import RuleSet

# the compliance checks that always run when their register has rows (compliance.py)
BASE_CHECKS = (
    ("signature_before_completion", "3.3.2", "服务后用户签字", "tickets"),
    ("missing_completion", "3.3.2", "完成时间齐全", "tickets"),
    ("missing_signature", "3.3.2", "完成后有用户签字", "tickets"),
    ("body_distance_missing", "3.2.2", "车身故障填写服务半径", "tickets"),
    ("satisfaction_out_of_range", "3.2.1", "满意度评分有效", "tickets"),
    ("call_not_archived", "3.5.4", "复电复函已存档", "calls"),
    ("part_issued_unapproved", "3.6.1", "领料经批准", "requisitions"),
    ("warranty_part_no_requisition", "3.6.1", "三包换件有领料单", "tickets"),
    ("old_part_not_returned", "3.6.2/3.7.5", "旧件按期返还", "requisitions"),
    ("stock_mismatch", "3.7.1", "帐物一致", "stocktakes"),
    ("claim_open_too_long", "3.8", "二次索赔按期结案", "claims"),
)
_SOURCE_CN = {"tickets": "服务工单", "calls": "来电来函记录", "requisitions": "领料单", "stocktakes": "盘点", "claims": "二次索赔"}


@dataclass
class ClauseResults:
    findings: pl.DataFrame
    checks: pl.DataFrame
    courtesy: pl.DataFrame
    station_ledger: pl.DataFrame
    claims_summary: pl.DataFrame


def _rows(f: pl.DataFrame | None) -> int:
    return 0 if f is None else f.height


def base_check_runs(sources: dict[str, pl.DataFrame | None], base_findings: pl.DataFrame) -> list[CheckRun]:
    counts = dict(base_findings.group_by("check").len().iter_rows()) if base_findings.height else {}
    runs = []
    for cid, ref, name, src in BASE_CHECKS:
        n = _rows(sources.get(src))
        if n:
            runs.append(CheckRun(cid, ref, name, RAN, None, n, counts.get(cid, 0)))
        else:
            runs.append(CheckRun(cid, ref, name, NOT_RUN, f"没有{_SOURCE_CN[src]}数据"))
    return runs


def clause_results(
    rules: RuleSet,
    as_of: datetime,
    start: date,
    end: date,
    tickets: pl.DataFrame | None = None,
    calls: pl.DataFrame | None = None,
    requisitions: pl.DataFrame | None = None,
    returns: pl.DataFrame | None = None,
    claims: pl.DataFrame | None = None,
    station_stock: pl.DataFrame | None = None,
    lexicons: dict[str, Lexicon] | None = None,
    stocktakes: pl.DataFrame | None = None,
    base_findings: pl.DataFrame | None = None,
) -> ClauseResults:
    """All clause checks of ``rules.checks`` (see docs/sla.md, clause table)."""
    ck = rules.checks
    found, runs = ticket_call_checks(ck, as_of, tickets, calls)
    cf, crun, courtesy = courtesy_check(tickets, calls, lexicons, ck.courtesy, as_of)
    found.append(cf)
    runs.append(crun)
    for fn in PART_CHECKS:
        f, r = fn(requisitions, getattr(ck, fn.__name__), as_of, tickets=tickets)
        found.append(f)
        runs.append(r)
    f, r = old_parts_processed_monthly(returns, ck.old_parts_processed_monthly, as_of)
    found.append(f)
    runs.append(r)
    stations = station_ledger(station_stock, requisitions, start, end)
    f, r = station_ledger_check(station_stock, ck.station_ledger, as_of, req=requisitions, ledger=stations)
    found.append(f)
    runs.append(r)
    f, r = supplier_parts_unclaimed(requisitions, ck.supplier_parts_unclaimed, as_of, claims=claims)
    found.append(f)
    runs.append(r)
    summary = claims_summary(requisitions, claims, as_of, ck.supplier_parts_unclaimed.ageing_days)
    found = [x for x in found if x.height]
    findings = pl.concat(found) if found else pl.DataFrame(schema=FINDING_SCHEMA)
    base = base_check_runs({"tickets": tickets, "calls": calls, "requisitions": requisitions, "stocktakes": stocktakes, "claims": claims},
                           base_findings if base_findings is not None else pl.DataFrame(schema=FINDING_SCHEMA))
    return ClauseResults(findings, checks_frame(base + runs), courtesy, stations, summary)
