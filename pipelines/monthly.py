"""One month, end to end, as plain functions: ingest → chat analytics → scoring → reports.

Every step takes the run's :class:`pipelines.publish.MonthBuild`: it reads the tables it
needs from it (this run's, else the warehouse's committed month), calls the pure package
(analytics/, scoring/), and writes its tables and files into the build. Nothing is visible
until :func:`run_month` publishes the build: one DuckDB transaction for every table and one
atomic switch of ``<out>/<month>/``, under the warehouse lock (docs/reliability.md). The
Prefect flow (:mod:`pipelines.flows`) wires these same steps as tasks.

The tables each step reads and writes are declared in :data:`STEPS` (a test runs the month
and checks every access against the declaration): ingest writes the staged tables; analytics
reads them and writes the chat marts; scoring reads both and writes the score tables and
payroll (+ payroll.csv); the report reads those and writes report.html, payroll.xlsx and the
evidence exports.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from pipelines import warehouse
from pipelines.completeness import last_load
from pipelines.ingest import KPI_KINDS, IngestReport, stage_into
from pipelines.memory import release_freed_memory
from pipelines.publish import MonthBuild, failure_log, month_build, pause_point

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SETTINGS = ROOT / "data" / "settings.yaml"
SAMPLE_INBOX = ROOT / "data" / "sample" / "2026-10"
DATA_DIR = ROOT / "data"  # lexicons, dictionary, catalogue (pipelines.resources)

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


@dataclass(frozen=True)
class StepTables:
    """What a step may read from the build and write (replace) or append to."""

    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    appends: frozenset[str] = frozenset()


def _steps() -> dict[str, StepTables]:
    staged = frozenset(KPI_KINDS) | {"quarantine"}
    marts = frozenset(CHAT_MARTS) | {"lexicon_versions"}
    scores = frozenset(SCORING_TABLES)
    return {
        "ingest": StepTables(writes=staged),
        "analytics": StepTables(reads=frozenset({"messages", "agent_stats", "refunds", "orders", "roster"}), writes=marts),
        "score": StepTables(reads=staged | marts, writes=scores, appends=frozenset({"payroll_history"})),
        "report": StepTables(reads=staged | marts | scores),
    }


STEPS: dict[str, StepTables] = _steps()


class MonthNotLoaded(RuntimeError):
    """The month has no data in the warehouse for what was asked (a user error)."""


@dataclass
class MonthJob:
    """Where one month's inputs and outputs live."""

    month: str
    inbox: Path | None = None
    warehouse: Path | None = None
    out: Path = Path("out")
    rules: Path | None = None
    settings: Path = DEFAULT_SETTINGS
    allow_missing: frozenset[str] = frozenset()  # required kinds the user accepts missing
    replace: bool = False  # accept any difference from the month's last load
    lock_timeout: float | None = None  # seconds to wait for another run (None: KEFU_LOCK_TIMEOUT)
    shop: str = ""  # the shop's key in a many-shop warehouse (kefu run --shops); "" for one shop
    dask_address: str | None = None  # run the analytics partitions on this Dask cluster (pipelines.dask_map)
    partitions: int | None = None  # buyer partitions of the chat analytics (None: from the month's size)

    def __post_init__(self):
        from scoring import DEFAULT_RULES_PATH

        self.rules = Path(self.rules) if self.rules else Path(DEFAULT_RULES_PATH)
        self.out = Path(self.out)
        self.inbox = Path(self.inbox) if self.inbox else None
        self.warehouse = warehouse.resolve(self.warehouse)

    @property
    def month_dir(self) -> Path:
        """The published folder of the month (a symlink to the last published run)."""
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


# --- step 1


def step_ingest(job: MonthJob, build: MonthBuild) -> IngestReport:
    """Stage the inbox into the build (raises pipelines.ingest.IngestError on unreadable or
    incomplete input)."""
    if job.inbox is None:
        raise ValueError("no inbox given")
    build.step = "ingest"
    return stage_into(build, job.inbox, "kpi", set(job.allow_missing), job.replace)


# --- step 2


def step_analytics(job: MonthJob, build: MonthBuild) -> AnalyticsSummary:
    """Chat marts from the staged messages/refunds/orders/roster of the month.

    A month below :data:`analytics.partition.ONE_PIECE_BELOW` messages is built in one piece,
    in memory; a bigger one (or any with ``job.partitions`` > 1) in partitions of its buyers,
    one in memory at a time, its row marts written as ordered parts (pipelines.chat_parts)."""
    from analytics.marts import build_chat_marts
    from analytics.partition import partition_count
    from analytics.settings import AnalyticsSettings
    from pipelines.chat_parts import text_resources

    build.step = "analytics"
    started = datetime.now()
    settings = AnalyticsSettings.from_yaml_text(job.settings.read_text("utf-8"))
    resources = text_resources(settings, str(DATA_DIR))
    if "messages" not in build.replaced and last_load(job.warehouse, job.month, "kpi", job.shop)[0] is None:
        raise MonthNotLoaded(f"{job.month} 尚未导入 (先运行 kefu ingest 或 kefu run --inbox)")  # tables exist for other months only
    scan = build.scan("messages")
    if scan is None:
        raise MonthNotLoaded(f"{job.month} 尚未导入 (先运行 kefu ingest 或 kefu run --inbox)")
    n_messages = scan.select(pl.len()).collect().item()
    stats = build.read("agent_stats")
    if n_messages == 0 and stats is not None and stats.height:
        return _analytics_from_stats(job, build, stats, started)
    k = job.partitions or partition_count(n_messages)
    if k > 1 and n_messages:
        return _analytics_in_parts(job, build, settings, k, started)
    messages = build.read("messages")
    out = build_chat_marts(messages, build.read("refunds"), build.read("orders"), build.read("roster"), settings, resources,
                           partitions=1)
    del messages
    marts = {name: out.marts[name] for name in CHAT_MARTS if name in out.marts}
    marts["lexicon_versions"] = out.lexicons
    run = warehouse.RunRecord(
        job.month,
        "analytics",
        started,
        message=out.reasons.message,
        details={"topics": out.topics_message, "rows": {k: v.height for k, v in marts.items()}},
    )
    build.write_all(marts)
    build.log(run)
    pause_point("analytics-built")
    return AnalyticsSummary(run.run_id, {k: v.height for k, v in marts.items()}, out.reasons.message, out.topics_message)


def _analytics_in_parts(job: MonthJob, build: MonthBuild, settings, k: int, started: datetime) -> AnalyticsSummary:
    """step_analytics for a month built in ``k`` buyer partitions (pipelines.chat_parts), on
    ``job.dask_address`` if given."""
    from analytics.lexicon import lexicon_versions
    from pipelines.chat_parts import chat_marts_in_parts, text_resources
    from pipelines.dask_map import partition_map

    with partition_map(job.dask_address, partitions=k) as map_:
        out = chat_marts_in_parts(build, k, build.read("refunds"), build.read("roster"), settings, DATA_DIR, map_)
    small = dict(out.small_marts)
    small["lexicon_versions"] = lexicon_versions(text_resources(settings, str(DATA_DIR)).lexicons)
    rows = {name: out.rows[name] if name in out.rows else small[name].height for name in (*CHAT_MARTS, "lexicon_versions")}
    run = warehouse.RunRecord(job.month, "analytics", started, message=out.reasons.message,
                              details={"topics": out.topics_message, "rows": rows, "partitions": k})
    build.write_all(small)
    build.log(run)
    pause_point("analytics-built")
    return AnalyticsSummary(run.run_id, rows, out.reasons.message, out.topics_message)


def _analytics_from_stats(job: MonthJob, build: MonthBuild, stats: pl.DataFrame, started: datetime) -> AnalyticsSummary:
    """No raw chats this month: agent_month_metrics come from the 生意参谋/赤兔 statistics."""
    from analytics.agent_stats import metrics_from_agent_stats

    metrics = metrics_from_agent_stats(stats, build.read("roster"), job.month)
    message = "本月没有聊天记录: 客服指标取自 生意参谋/赤兔 统计导出 (无文本指标, 客服素质需主管评定)"
    run = warehouse.RunRecord(job.month, "analytics", started, message=message, details={"source": "agent_stats"})
    marts = {"agent_month_metrics": metrics}
    for name in CHAT_MARTS:
        if name != "agent_month_metrics":
            marts[name] = pl.DataFrame({"month": pl.Series([], dtype=pl.String)})
    build.write_all(marts)  # also clears chat marts of an earlier run
    build.log(run)
    pause_point("analytics-built")
    return AnalyticsSummary(run.run_id, {"agent_month_metrics": metrics.height}, message, "")


# --- step 3


def scoring_inputs(build: MonthBuild, conversations: bool = True):
    """What scoring reads; of the big tables (evidence, conversations, orders) only the
    columns it uses (scoring.inputs), scanned from the build's parquet parts; the
    conversations only if ``conversations`` (scoring.inputs.reads_conversations)."""
    from scoring import ScoringInputs
    from scoring.inputs import CONVERSATION_COLUMNS, EVIDENCE_COLUMNS, ORDER_COLUMNS

    _read = build.read

    def narrow(table: str, columns) -> pl.DataFrame | None:
        lf = build.scan(table)
        if lf is None:
            return None
        have = lf.collect_schema().names()
        return lf.select([c for c in columns if c in have]).collect()

    roster = _read("roster")
    return ScoringInputs(
        roster=roster if roster is not None else pl.DataFrame(),
        ratings=_read("ratings"),
        agent_month_metrics=_read("agent_month_metrics"),
        evidence=narrow("evidence", EVIDENCE_COLUMNS),
        refunds=_read("refunds"),
        orders=narrow("orders", ORDER_COLUMNS),
        complaints=_read("complaints"),
        reviews=_read("reviews"),
        attendance=_read("attendance"),
        attendance_summary=_read("attendance_summary"),
        conversations=narrow("conversations", CONVERSATION_COLUMNS) if conversations else None,
        quarantine=_read("quarantine"),
    )


def read_rules_text(path: Path) -> str:
    """The rules file's text; RulesError (a user error, exit 3) if missing or not UTF-8."""
    from scoring import RulesError

    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise RulesError([f"规则文件不存在: {path}"]) from None
    except UnicodeDecodeError as e:
        raise RulesError([f"规则文件 {path} 不是 UTF-8 编码 (第 {e.start} 字节附近); 请另存为 UTF-8"]) from None
    except OSError as e:
        raise RulesError([f"无法读取规则文件 {path}: {e}"]) from None


def step_score(job: MonthJob, build: MonthBuild) -> ScoreSummary:
    """Score the month with ``job.rules``: kpi tables, payroll (+ history) and ``payroll.csv``
    (UTF-8 with BOM) into the build. Raises scoring.RulesError / ScoringInputError."""
    from scoring import load_rules, payroll_csv_text, reconcile, score_month
    from scoring.inputs import reads_conversations

    build.step = "score"
    started = datetime.now()
    rules = load_rules(read_rules_text(job.rules))
    res = score_month(scoring_inputs(build, reads_conversations(rules)), rules, job.month)
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
    build.output("payroll.csv").write_text(payroll_csv_text(res.payroll), encoding="utf-8-sig")
    build.write_all(tables)
    build.append("payroll_history", history)
    build.log(run)
    pause_point("score-built")
    csv_path = job.month_dir / "payroll.csv"
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


def load_scoring_result(job: MonthJob, build: MonthBuild | None = None):
    """Rebuild the month's ScoringResult from the build or the warehouse (for explain)."""
    from scoring import ScoringResult

    _read = build.read if build is not None else _committed(job)
    meta = _read("kpi_meta")
    if meta is None or meta.height == 0:
        raise MonthNotLoaded(f"{job.month} 还没有评分结果 (先运行 kefu run)")
    m = meta.row(0, named=True)
    return ScoringResult(
        month=job.month,
        rules_version=m["rules_version"],
        rules_hash=m["rules_hash"],
        kpi_items=_read("kpi_items"),
        kpi_adjustments=_read("kpi_adjustments"),
        payroll=_read("payroll"),
        evidence=_read("kpi_evidence"),
        pass_mark=Decimal(m["pass_mark"]),
        total_points=Decimal(m["total_points"]),
        kpi_pool=Decimal(m["kpi_pool"]),
        cap_kpi_bonus=bool(m["cap_kpi_bonus"]),
        warnings=json.loads(m["warnings"] or "[]"),
    )


# --- step 4


def month_bundle(job: MonthJob, build: MonthBuild | None = None):
    """What the month's reports show: this run's tables (else the committed ones) and the
    committed earlier months for trends (pipelines.report.bundle)."""
    from pipelines.report.bundle import build_month_bundle

    if build is not None:  # the big marts lazily, over the build's parquet parts
        return build_month_bundle(job.month, build.read_other_month, scan=build.scan)
    committed = _committed(job)
    return build_month_bundle(job.month, lambda table, month: committed(table) if month == job.month else _committed(MonthJob(month, warehouse=job.warehouse, shop=job.shop))(table))


def step_report(job: MonthJob, build: MonthBuild) -> dict[str, Path]:
    """Render report.html and payroll.xlsx into the build; returns where they will be
    once published."""
    from pipelines.report import write_evidence_exports, write_payroll_xlsx, write_report

    build.step = "report"
    bundle = month_bundle(job, build)
    if bundle is None:
        raise MonthNotLoaded(f"{job.month} 没有数据 (先运行 kefu run)")
    # the full evidence exports (polars, mostly off the GIL) are written beside the page and
    # the workbook (mostly Python): the two cores work at once
    with ThreadPoolExecutor(1) as pool:
        exporting = pool.submit(write_evidence_exports, bundle, build.outputs)
        write_report(bundle, build.output("report.html"))
        write_payroll_xlsx(bundle, build.output("payroll.xlsx"))
        exports = exporting.result()
    names = ["report.html", "payroll.xlsx", "payroll.csv", *sorted(Path(p).name for p in exports.values())]
    return {name: job.month_dir / name for name in names}


@dataclass
class MonthOutcome:
    job: MonthJob
    ingest: IngestReport | None
    analytics: AnalyticsSummary
    score: ScoreSummary
    outputs: dict[str, Path]


def open_month(job: MonthJob, what: str = ""):
    """The run's build under the warehouse lock (see :func:`pipelines.publish.month_build`)."""
    return month_build(job.month, job.warehouse, job.out, "kpi", what or f"kefu run {job.month}", job.lock_timeout, job.shop)


def run_month(job: MonthJob, on_step=None) -> MonthOutcome:
    """All four steps in order, then one publish, without Prefect (the flow runs the same
    functions). ``on_step(name)`` is called before each step (the CLI's progress bar)."""
    tick = on_step or (lambda name: None)
    started = datetime.now()
    if job.dask_address:
        from pipelines.dask_map import check_cluster

        check_cluster(job.dask_address)
    try:
        with open_month(job) as build:
            rep = None
            if job.inbox is not None:
                tick("导入 ingest")
                rep = step_ingest(job, build)
                release_freed_memory()  # what a step freed goes back before the next starts (pipelines/memory.py)
            tick("聊天分析 analytics")
            ana = step_analytics(job, build)
            release_freed_memory()
            tick("评分 scoring")
            sc = step_score(job, build)
            release_freed_memory()
            tick("报表 reports")
            outs = step_report(job, build)
            release_freed_memory()
            tick("发布 publish")
            build.publish()
            tick("完成 done")
    except Exception as e:
        failure_log(job.warehouse, {"month": job.month, "step": "run", "started_at": started, "error": f"{type(e).__name__}: {e}"})
        raise
    return MonthOutcome(job, rep, ana, sc, outs)


def report_month(job: MonthJob) -> dict[str, Path]:
    """``kefu report``: re-render the month's files from the warehouse (no recomputation)
    and publish them as a new run of the month's folder."""
    from scoring import payroll_csv_text

    with open_month(job, f"kefu report {job.month}") as build:
        pay = build.read("payroll")
        if pay is None or pay.height == 0:
            raise MonthNotLoaded(f"{job.month} 还没有评分结果 (先运行 kefu run)")
        outs = step_report(job, build)
        build.output("payroll.csv").write_text(payroll_csv_text(pay), encoding="utf-8-sig")
        build.log(warehouse.RunRecord(job.month, "report", datetime.now(), message="re-rendered"))
        build.publish()
    return outs


def _committed(job: MonthJob):
    def read(table: str) -> pl.DataFrame | None:
        try:
            return warehouse.read(table, month=job.month, path=job.warehouse, shop=job.shop)
        except KeyError:
            return None

    return read
