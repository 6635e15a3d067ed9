"""One month, end to end, as plain functions: ingest → chat analytics → scoring → reports.

Each step reads what it needs from the warehouse, calls the pure package (analytics/,
scoring/), writes its tables for the month atomically and logs a run. The Prefect flow
(:mod:`pipelines.flows`) wires these same steps as tasks; the CLI calls them directly or
through the flow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines import warehouse
from pipelines.ingest import IngestReport, ingest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS = ROOT / "data" / "settings.yaml"
SAMPLE_INBOX = ROOT / "data" / "sample" / "2026-10"

CHAT_MARTS = (
    "conversations",
    "questions",
    "agent_day_metrics",
    "agent_month_metrics",
    "text_hits",
    "conversation_reasons",
    "product_questions",
    "topics",
    "evidence",
)
SCORING_TABLES = ("kpi_items", "kpi_adjustments", "payroll", "kpi_evidence", "kpi_meta")


@dataclass
class MonthJob:
    """Where one month's inputs and outputs live."""

    month: str
    inbox: Path | None = None
    warehouse: Path | None = None
    out: Path = Path("out")
    rules: Path | None = None
    settings: Path = DEFAULT_SETTINGS

    def __post_init__(self):
        from scoring import DEFAULT_RULES_PATH

        self.rules = Path(self.rules) if self.rules else Path(DEFAULT_RULES_PATH)
        self.out = Path(self.out)
        self.inbox = Path(self.inbox) if self.inbox else None

    @property
    def month_dir(self) -> Path:
        return self.out / self.month


@dataclass
class AnalyticsSummary:
    run_id: str
    rows: dict[str, int]
    reasons_message: str
    topics_message: str


@dataclass
class ScoreSummary:
    run_id: str
    rules_version: str
    rules_hash: str
    agents: int
    incomplete: list[dict]
    warnings: list[str]
    payroll_csv: Path
    totals: dict[str, Decimal] = field(default_factory=dict)

    @property
    def is_complete(self) -> bool:
        return not self.incomplete


def previous_month(now: datetime) -> str:
    """'YYYY-MM' of the month before ``now`` (the monthly batch scores last month)."""
    y, m = now.year, now.month - 1
    if m == 0:
        y, m = y - 1, 12
    return f"{y:04d}-{m:02d}"


def _read(job: MonthJob, table: str) -> pl.DataFrame | None:
    try:
        return warehouse.read(table, month=job.month, path=job.warehouse)
    except KeyError:
        return None


# --- step 1


def step_ingest(job: MonthJob) -> IngestReport:
    """Load the inbox (raises pipelines.ingest.IngestError on unreadable input)."""
    if job.inbox is None:
        raise ValueError("no inbox given")
    return ingest(job.month, job.inbox, job.warehouse)


# --- step 2


def step_analytics(job: MonthJob) -> AnalyticsSummary:
    """Chat marts from the staged messages/refunds/orders/roster of the month."""
    from analytics.marts import build_chat_marts
    from analytics.settings import AnalyticsSettings
    from pipelines.resources import load_text_resources

    started = datetime.now()
    settings = AnalyticsSettings.from_yaml_text(job.settings.read_text("utf-8"))
    resources = load_text_resources(settings)
    messages = _read(job, "messages")
    if messages is None:
        raise RuntimeError(f"{job.month} 尚未导入 (先运行 kefu ingest)")
    stats = _read(job, "agent_stats")
    if messages.height == 0 and stats is not None and stats.height:
        return _analytics_from_stats(job, stats, started)
    out = build_chat_marts(messages, _read(job, "refunds"), _read(job, "orders"), _read(job, "roster"), settings, resources)
    marts = {name: out.marts[name] for name in CHAT_MARTS if name in out.marts}
    marts["lexicon_versions"] = out.lexicons
    run = warehouse.RunRecord(
        job.month,
        "analytics",
        started,
        message=out.reasons.message,
        details={"topics": out.topics_message, "rows": {k: v.height for k, v in marts.items()}},
    )
    warehouse.replace_month(job.warehouse, job.month, marts, run)
    return AnalyticsSummary(run.run_id, {k: v.height for k, v in marts.items()}, out.reasons.message, out.topics_message)


def _analytics_from_stats(job: MonthJob, stats: pl.DataFrame, started: datetime) -> AnalyticsSummary:
    """No raw chats this month: agent_month_metrics come from the 生意参谋/赤兔 statistics."""
    from analytics.agent_stats import metrics_from_agent_stats

    metrics = metrics_from_agent_stats(stats, _read(job, "roster"), job.month)
    message = "本月没有聊天记录: 客服指标取自 生意参谋/赤兔 统计导出 (无文本指标, 客服素质需主管评定)"
    run = warehouse.RunRecord(job.month, "analytics", started, message=message, details={"source": "agent_stats"})
    marts = {"agent_month_metrics": metrics}
    for name in CHAT_MARTS:
        if name != "agent_month_metrics":
            marts[name] = pl.DataFrame({"month": pl.Series([], dtype=pl.String)})
    warehouse.replace_month(job.warehouse, job.month, marts, run)  # also clears chat marts of an earlier run
    return AnalyticsSummary(run.run_id, {"agent_month_metrics": metrics.height}, message, "")


# --- step 3


def scoring_inputs(job: MonthJob):
    from scoring import ScoringInputs

    roster = _read(job, "roster")
    return ScoringInputs(
        roster=roster if roster is not None else pl.DataFrame(),
        ratings=_read(job, "ratings"),
        agent_month_metrics=_read(job, "agent_month_metrics"),
        evidence=_read(job, "evidence"),
        refunds=_read(job, "refunds"),
        orders=_read(job, "orders"),
        complaints=_read(job, "complaints"),
        reviews=_read(job, "reviews"),
        attendance=_read(job, "attendance"),
        attendance_summary=_read(job, "attendance_summary"),
        conversations=_read(job, "conversations"),
    )


def step_score(job: MonthJob) -> ScoreSummary:
    """Score the month with ``job.rules``; store kpi tables, payroll (+ history) and
    write ``payroll.csv`` (UTF-8 with BOM). Raises scoring.RulesError / ScoringInputError."""
    from scoring import load_rules, payroll_csv_text, reconcile, score_month

    started = datetime.now()
    rules = load_rules(job.rules.read_text("utf-8"))
    res = score_month(scoring_inputs(job), rules, job.month)
    rec = reconcile(res.payroll)
    if not rec.ok:  # pragma: no cover - guarded by scoring tests
        raise AssertionError(f"payroll does not reconcile: {rec}")
    meta = pl.DataFrame(
        {
            "rules_version": [str(res.rules_version)],
            "rules_hash": [res.rules_hash],
            "rules_file": [str(job.rules)],
            "pass_mark": [str(res.pass_mark)],
            "total_points": [str(res.total_points)],
            "kpi_pool": [str(res.kpi_pool)],
            "cap_kpi_bonus": [res.cap_kpi_bonus],
            "warnings": [json.dumps(res.warnings, ensure_ascii=False)],
        }
    )
    status = "ok" if res.is_complete else "incomplete"
    run = warehouse.RunRecord(
        job.month,
        "score",
        started,
        status=status,
        rules_version=str(res.rules_version),
        rules_hash=res.rules_hash,
        message=f"{res.payroll.height} agents, {res.incomplete.height} incomplete",
        details={"rules_file": str(job.rules), "warnings": res.warnings},
    )
    history = res.payroll.with_columns(pl.lit(run.run_id).alias("run_id"), pl.lit(res.rules_hash).alias("rules_hash"))
    tables = {
        "kpi_items": res.kpi_items,
        "kpi_adjustments": res.kpi_adjustments,
        "payroll": res.payroll,
        "kpi_evidence": res.evidence,
        "kpi_meta": meta,
    }
    job.month_dir.mkdir(parents=True, exist_ok=True)
    csv_path = job.month_dir / "payroll.csv"
    tmp = csv_path.with_suffix(".csv.tmp")
    tmp.write_text(payroll_csv_text(res.payroll), encoding="utf-8-sig")
    warehouse.replace_month(job.warehouse, job.month, tables, run)
    warehouse.append(job.warehouse, "payroll_history", history)
    tmp.replace(csv_path)  # the CSV appears only once the warehouse has the same numbers
    return ScoreSummary(
        run.run_id,
        str(res.rules_version),
        res.rules_hash,
        res.payroll.height,
        res.incomplete.to_dicts(),
        res.warnings,
        csv_path,
        {"base": rec.base_total, "kpi_bonus": rec.kpi_total, "salary": rec.salary_total},
    )


def load_scoring_result(job: MonthJob):
    """Rebuild the month's ScoringResult from the warehouse (for explain and re-rendering)."""
    from scoring import ScoringResult

    meta = _read(job, "kpi_meta")
    if meta is None or meta.height == 0:
        raise RuntimeError(f"{job.month} 还没有评分结果 (先运行 kefu run)")
    m = meta.row(0, named=True)
    return ScoringResult(
        month=job.month,
        rules_version=m["rules_version"],
        rules_hash=m["rules_hash"],
        kpi_items=_read(job, "kpi_items"),
        kpi_adjustments=_read(job, "kpi_adjustments"),
        payroll=_read(job, "payroll"),
        evidence=_read(job, "kpi_evidence"),
        pass_mark=Decimal(m["pass_mark"]),
        total_points=Decimal(m["total_points"]),
        kpi_pool=Decimal(m["kpi_pool"]),
        cap_kpi_bonus=bool(m["cap_kpi_bonus"]),
        warnings=json.loads(m["warnings"] or "[]"),
    )


# --- step 4


def month_bundle(job: MonthJob):
    from pipelines.report.bundle import build_month_bundle

    return build_month_bundle(job.month, lambda table, month: _read(MonthJob(month, warehouse=job.warehouse), table))


def step_report(job: MonthJob) -> dict[str, Path]:
    """Render report.html and payroll.xlsx for the month from the warehouse."""
    from pipelines.report import write_payroll_xlsx, write_report

    bundle = month_bundle(job)
    if bundle is None:
        raise RuntimeError(f"{job.month} 没有数据 (先运行 kefu run)")
    job.month_dir.mkdir(parents=True, exist_ok=True)
    html_path = job.month_dir / "report.html"
    xlsx_path = job.month_dir / "payroll.xlsx"
    for final, writer in ((html_path, write_report), (xlsx_path, write_payroll_xlsx)):
        tmp = final.with_name(final.stem + ".tmp" + final.suffix)
        writer(bundle, tmp)
        tmp.replace(final)
    return {"report.html": html_path, "payroll.xlsx": xlsx_path, "payroll.csv": job.month_dir / "payroll.csv"}


@dataclass
class MonthOutcome:
    job: MonthJob
    ingest: IngestReport | None
    analytics: AnalyticsSummary
    score: ScoreSummary
    outputs: dict[str, Path]


def run_month(job: MonthJob, on_step=None) -> MonthOutcome:
    """All four steps in order, without Prefect (the flow runs the same functions).
    ``on_step(name)`` is called before each step (the CLI drives a progress bar with it)."""
    tick = on_step or (lambda name: None)
    rep = None
    if job.inbox is not None:
        tick("导入 ingest")
        rep = step_ingest(job)
    tick("聊天分析 analytics")
    ana = step_analytics(job)
    tick("评分 scoring")
    sc = step_score(job)
    tick("报表 reports")
    outs = step_report(job)
    tick("完成 done")
    return MonthOutcome(job, rep, ana, sc, outs)
