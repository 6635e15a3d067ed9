"""`kefu`: the command-line entry point (typer + rich).

Exit codes (docs/cli.md):
  0  ok
  1  unexpected error (a bug: please report it with the traceback)
  2  wrong command-line usage (e.g. a month not written YYYY-MM)
  3  input error: a file could not be read, the inbox is incomplete, the rules file is
     missing or invalid; nothing was written
  4  payroll incomplete: supervisor input missing for some agents (see status_reason)
  5  SLA targets missed (kefu sla)
  6  the warehouse is busy: another run held it longer than the lock timeout; nothing written

Every value printed through rich is escaped (a cell holding ``[/bold]`` prints as text).
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

EXIT_OK, EXIT_INPUT, EXIT_INCOMPLETE, EXIT_SLA_MISSED, EXIT_BUSY = 0, 3, 4, 5, 6
MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def esc(value) -> str:
    """A value as rich text, never as markup."""
    return escape("" if value is None else str(value))


def check_month(value: str) -> str:
    if value is None or not MONTH_RE.match(value):
        raise typer.BadParameter(f"{value!r} 不是月份; 请写成 YYYY-MM, 例如 2026-10")
    return value


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every error a user can cause into one clear line and an exit code (no traceback)."""
    from pipelines.ingest import IngestError
    from pipelines.lock import WarehouseBusy
    from analytics.sla.rules import RulesError as SlaRulesError
    from pipelines.dask_map import DaskUnavailable
    from pipelines.monthly import MonthNotLoaded
    from scoring import RulesError, ScoringInputError

    try:
        yield
    except IngestError as e:
        console.print(f"[red]导入失败, 数据仓库和输出目录都未改动:[/] {esc(e)}")
        raise typer.Exit(EXIT_INPUT) from None
    except (RulesError, ScoringInputError, SlaRulesError) as e:
        console.print(f"[red]规则或主管填报有误, 数据仓库和输出目录都未改动:[/] {esc(e)}")
        raise typer.Exit(EXIT_INPUT) from None
    except UnicodeDecodeError as e:
        console.print(f"[red]文件不是 UTF-8 编码, 未做任何改动:[/] {esc(e)}")
        raise typer.Exit(EXIT_INPUT) from None
    except WarehouseBusy as e:
        console.print(f"[red]{esc(e)}[/]")
        raise typer.Exit(EXIT_BUSY) from None
    except (MonthNotLoaded, FileNotFoundError, DaskUnavailable) as e:
        console.print(f"[red]{esc(e)}[/]")
        raise typer.Exit(EXIT_INPUT) from None
    except OSError as e:  # permissions, a full disk, a warehouse opened by another program
        console.print(f"[red]文件系统错误, 本次运行未发布:[/] {esc(e)}")
        raise typer.Exit(EXIT_INPUT) from None

app = typer.Typer(
    help="kefu-kpi: 淘宝/天猫售后客服 月度指标、KPI考核与工资 (Taobao after-sales KPI and payroll).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console(width=None if Console().is_terminal else 160)

MonthOpt = typer.Option(..., "--month", "-m", help="考核月份 YYYY-MM, 例如 2026-10", callback=check_month)
AllowMissingOpt = typer.Option(None, "--allow-missing", help="明确接受缺少某种数据: chats, orders, refunds, attendance, workbook (可重复)")
ReplaceOpt = typer.Option(False, "--replace", help="接受与本月上次导入的差异 (少了文件或种类)")
LockTimeoutOpt = typer.Option(None, "--lock-timeout", help="另一个运行占用数据仓库时最多等待秒数 (默认 KEFU_LOCK_TIMEOUT 或 600)")
WarehouseOpt = typer.Option(None, "--warehouse", "-w", help="DuckDB 数据仓库文件 (默认 data/warehouse.duckdb)")


def _buyer_nicks(report) -> set[str]:
    """Buyer nicks the console must not print: the staged buyers and the sheet names of
    per-buyer chat workbooks."""
    nicks: set[str] = report.buyer_nicks()  # the big kinds are not in report.tables (streamed)
    per_buyer = {f.file_name for f in report.files if f.layout == "qianniu_sheets"}
    q = report.quarantine
    if q.height:
        nicks |= {s for f, s in zip(q["source_file"], q["source_sheet"], strict=True) if f in per_buyer and s}
    return nicks


def print_accounting(report) -> None:
    from pipelines.report.mask import mask_lines

    t = Table(title=f"{report.month} 导入明细 (run {report.run_id})", show_lines=False)
    for col in ("文件", "格式", "表", "编码", "读入", "入库", "隔离", "非本月", "重复", "备注"):
        t.add_column(col, justify="right" if col in ("读入", "入库", "隔离", "非本月", "重复") else "left")
    for row in report.accounting().iter_rows(named=True):
        t.add_row(
            esc(row["file_name"]), esc(row["layout"] or "-"), esc(row["kind"] or "-"), esc(row["encoding"] or "-"),
            str(row["rows_read"]), str(row["loaded"]), str(row["quarantined"]), str(row["out_of_month"]),
            str(row["duplicates"]), esc((row["notes"] or "")[:60]),
        )
    console.print(t)
    for line in report.diff.lines() if report.diff is not None else []:
        console.print(esc(line))
    if report.unrecognised:
        console.print(f"[yellow]未识别的文件 {len(report.unrecognised)} 个:[/] " + esc(", ".join(f.file_name for f in report.unrecognised)))
    if report.quarantine.height:
        q = report.quarantine
        console.print(f"[yellow]隔离 {q.height} 行[/] (详见仓库表 quarantine):")
        lines = []
        for r in q.head(20).iter_rows(named=True):
            sheet = f"/{r['source_sheet']}" if r["source_sheet"] else ""
            lines.append(f"  {r['source_file']}{sheet} 第{r['source_row']}行: {r['reason']}")
        for line in mask_lines(lines, _buyer_nicks(report)):  # a Qianniu sheet is named after its buyer
            console.print(esc(line))
        if q.height > 20:
            console.print(f"  ... 另有 {q.height - 20} 行")
    if report.unknown_agents:
        console.print("[yellow]客服名单中没有的客服账号:[/] " + esc(", ".join(report.unknown_agents)))
    if report.unknown_attendance_names:
        console.print("[yellow]考勤中无法对应到客服名单的姓名:[/] " + esc(", ".join(report.unknown_attendance_names)))


@app.command()
def ingest(
    month: str = MonthOpt,
    inbox: Path = typer.Option(..., "--inbox", "-i", help="本月导出文件所在目录 (文件名随意, 按内容识别)"),
    warehouse: Optional[Path] = WarehouseOpt,
    allow_missing: Optional[list[str]] = AllowMissingOpt,
    replace: bool = ReplaceOpt,
) -> None:
    """导入一个月的导出文件到数据仓库, 打印每个文件的行数核对 (读入 = 入库 + 隔离 + 非本月 + 重复)。"""
    from pipelines.ingest import ingest as run_ingest

    allow = _allow(allow_missing)
    with user_errors():
        report = run_ingest(month, inbox, warehouse, allow_missing=allow, replace=replace)
    print_accounting(report)


def _allow(names: list[str] | None) -> set[str]:
    from pipelines.completeness import normalise_allow

    try:
        return normalise_allow(names)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--allow-missing") from None


@app.command()
def sample(
    out: Path = typer.Option(..., "--out", "-o", help="输出目录"),
    month: str = typer.Option("2026-10", "--month", "-m", help="月份 YYYY-MM"),
    agents: int = typer.Option(8, "--agents", help="客服人数"),
    seed: int = typer.Option(42, "--seed", help="随机种子 (相同种子生成相同文件)"),
    messages: Optional[int] = typer.Option(None, "--messages", help="聊天消息条数 (用于压力测试, 可到 1000 万)"),
    sla: bool = typer.Option(False, "--sla", help="生成售后服务工单样例 (SLA 模块)"),
    template: bool = typer.Option(False, "--template", help="只写出空白的主管填报表模板 (及 SLA 模板)"),
) -> None:
    """生成一个逼真的样例月份 (真实导出格式, 混合编码, 含坏行与重复导出)。"""
    out.mkdir(parents=True, exist_ok=True)
    if template:
        from pipelines.sla.templates import write_sla_templates
        from pipelines.templates import write_supervisor_template

        p = write_supervisor_template(out / "主管填报表模板.xlsx")
        write_sla_templates(out)
        console.print(esc(f"模板已写出: {p} 以及 SLA 模板 → {out}"))
        return
    if sla:
        from pipelines.sla.sample import generate_sla

        res = generate_sla(month, out, seed)
        console.print(esc(f"SLA 样例已写出到 {out}: {res}"))
        return
    from pipelines.sample import generate

    summary = generate(month, out, agents=agents, seed=seed, messages=messages)
    t = Table(title=esc(f"样例 {month} → {out}"))
    for col in ("文件", "格式", "编码", "行数"):
        t.add_column(col)
    for f in summary.files:
        t.add_row(esc(f.name), esc(f.layout), esc(f.encoding), esc(", ".join(f"{k} {v}" for k, v in f.rows.items())))
    console.print(t)


def _job(month, inbox, warehouse, rules, out, allow_missing=(), replace=False, lock_timeout=None, dask_address=None, partitions=None):
    from pipelines.monthly import MonthJob

    return MonthJob(
        month, inbox=inbox, warehouse=warehouse, rules=rules, out=out,
        allow_missing=frozenset(allow_missing or ()), replace=replace, lock_timeout=lock_timeout,
        dask_address=dask_address, partitions=partitions,
    )


def print_outcome(outcome) -> None:

    sc, ana = outcome.score, outcome.analytics
    console.print(f"[bold]{esc(ana.reasons_message)}[/]")
    pay = _pay_table(outcome.job)
    console.print(pay)
    for w in sc.warnings:
        console.print(f"[yellow]提示:[/] {esc(w)}")
    if sc.incomplete:
        console.print(f"[red]{len(sc.incomplete)} 人工资未定稿 (缺主管填报):[/]")
        for r in sc.incomplete:
            console.print(esc(f"  {r['agent']} {r.get('name') or ''}: {r['status_reason']}"))
    console.print(esc(f"规则版本 {sc.rules_version} (hash {sc.rules_hash[:12]}), 评分 run {sc.run_id}"))
    for name, path in outcome.outputs.items():
        console.print(esc(f"{name}: {path.absolute()}"))


def _pay_table(job) -> Table:
    """The payroll as the report shows it: Chinese verdicts (达标/未达标, 已定稿/待补充)."""
    from pipelines import warehouse as wh
    from pipelines.report.labels import STATUS_LABELS

    pay = wh.read("payroll", month=job.month, path=job.warehouse)
    t = Table(title=f"{job.month} KPI 考核与工资", caption=esc(_totals(pay)))
    cols = [("agent", "客服账号"), ("name", "姓名"), ("role", "岗位"), ("total_score", "总分"), ("passed", "考核"),
            ("kpi_bonus", "KPI奖金"), ("base_salary", "基本工资"), ("salary", "工资"), ("status", "状态")]
    for key, label in cols:
        t.add_column(label, justify="right" if key in ("total_score", "kpi_bonus", "base_salary", "salary") else "left")

    def cell(key, v):
        if v is None:
            return "-"
        if key == "passed":
            return "达标" if v else "未达标"
        if key == "status":
            return STATUS_LABELS.get(v, esc(v))
        return esc(v)

    for r in pay.iter_rows(named=True):
        t.add_row(*[cell(k, r.get(k)) for k, _ in cols])
    return t


def _totals(pay) -> str:
    from pipelines.report.totals import pay_totals, totals_line

    return totals_line(pay_totals(pay))


@app.command()
def run(
    month: str = MonthOpt,
    inbox: Optional[Path] = typer.Option(None, "--inbox", "-i", help="本月导出文件目录; 省略则用仓库中已导入的数据重新评分"),
    warehouse: Optional[Path] = WarehouseOpt,
    rules: Optional[Path] = typer.Option(None, "--rules", "-r", help="考核规则文件 (默认 scoring/rules/default.yaml)"),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="报表输出目录 (写到 OUT/月份/)"),
    shops: Optional[Path] = typer.Option(None, "--shops", help="多店铺: 每个子目录是一个店铺的收件箱, 用 Dask 并行"),
    dask_address: Optional[str] = typer.Option(None, "--dask-address", help="已有 Dask 集群地址: --shops 的店铺或单店的聊天分析分区在该集群上计算 (--shops 默认启动本地集群)"),
    workers: int = typer.Option(2, "--workers", help="本地 Dask 进程数"),
    partitions: Optional[int] = typer.Option(None, "--partitions", min=1, max=256, help="聊天分析按买家分区数 (默认按消息量)"),
    no_prefect: bool = typer.Option(False, "--no-prefect", help="不经过 Prefect, 直接运行各步骤"),
    allow_missing: Optional[list[str]] = AllowMissingOpt,
    replace: bool = ReplaceOpt,
    lock_timeout: Optional[float] = LockTimeoutOpt,
) -> None:
    """跑一个月: 导入 → 聊天分析 → KPI 评分 → 报表 (report.html, payroll.xlsx, payroll.csv)。

    全部算完后一次发布: 数据仓库一个事务, 输出目录 OUT/月份 一次切换; 失败或中断时两者都不变。"""
    allow = _allow(allow_missing)
    with user_errors():
        if shops:
            from pipelines.flows import shops_kpi

            results = shops_kpi(month, str(shops), str(out), str(rules) if rules else None, dask_address, workers, str(warehouse) if warehouse else None)
            t = Table(title=f"{month} 多店铺")
            for c in ("店铺", "人数", "未定稿", "工资合计", "报表"):
                t.add_column(c)
            for r in results:
                t.add_row(esc(Path(r["shop_dir"]).name), str(r["agents"]), str(r["incomplete"]), esc(r["salary_total"]), esc(r["outputs"]["report.html"]))
            console.print(t)
            console.print(esc(f"多店铺汇总: {(out / 'shops' / month / 'shops.html').absolute()}"))
            if any(r["incomplete"] for r in results):
                raise typer.Exit(EXIT_INCOMPLETE)
            return
        if no_prefect:
            from pipelines.monthly import run_month

            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            steps = 6 if inbox else 5
            with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(), console=console, transient=True) as progress:
                task = progress.add_task("开始", total=steps - 1)
                seen = []

                def on_step(name):
                    if seen:
                        progress.advance(task)
                    seen.append(name)
                    progress.update(task, description=name)

                outcome = run_month(_job(month, inbox, warehouse, rules, out, allow, replace, lock_timeout, dask_address, partitions), on_step)
        else:
            from pipelines.flows import monthly_kpi

            with console.status("Prefect flow monthly_kpi: 导入 → 分析 → 评分 → 报表 → 发布 ..."):
                outcome = monthly_kpi(
                    month, str(inbox) if inbox else None, str(warehouse) if warehouse else None,
                    str(rules) if rules else None, str(out), sorted(allow), replace, dask_address, partitions,
                )
    if outcome.ingest is not None:
        print_accounting(outcome.ingest)
    print_outcome(outcome)
    if not outcome.score.is_complete:
        raise typer.Exit(EXIT_INCOMPLETE)


@app.command()
def demo(
    out: Path = typer.Option(Path("out"), "--out", "-o", help="输出目录"),
    warehouse: Path = typer.Option(Path("data/warehouse.duckdb"), "--warehouse", "-w", help="数据仓库文件"),
    no_prefect: bool = typer.Option(False, "--no-prefect", help="不经过 Prefect"),
) -> None:
    """用自带的样例月份 (data/sample/2026-10) 完整跑一遍 (make demo 调用它)。

    样例中故意有一位客服缺主管评分, 所以会显示 1 人未定稿; demo 仍以 0 退出。"""
    from pipelines.monthly import SAMPLE_INBOX

    try:
        run(month="2026-10", inbox=SAMPLE_INBOX, warehouse=warehouse, rules=None, out=out, shops=None, dask_address=None, workers=2, partitions=None, no_prefect=no_prefect, allow_missing=None, replace=False, lock_timeout=None)
    except typer.Exit as e:
        if e.exit_code != EXIT_INCOMPLETE:
            raise


@app.command()
def score(
    month: str = MonthOpt,
    warehouse: Optional[Path] = WarehouseOpt,
    rules: Optional[Path] = typer.Option(None, "--rules", "-r", help="考核规则文件"),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="输出目录"),
    lock_timeout: Optional[float] = LockTimeoutOpt,
) -> None:
    """用 (新的) 规则文件给仓库中已导入的月份重新评分; 记为一次新的运行。"""
    run(month=month, inbox=None, warehouse=warehouse, rules=rules, out=out, shops=None, dask_address=None, workers=2, partitions=None, no_prefect=True, allow_missing=None, replace=False, lock_timeout=lock_timeout)


@app.command()
def report(
    month: str = MonthOpt,
    warehouse: Optional[Path] = WarehouseOpt,
    out: Path = typer.Option(Path("out"), "--out", "-o", help="输出目录"),
) -> None:
    """从数据仓库重新生成 report.html 和 payroll.xlsx (不重新计算), 作为本月输出目录的新版本发布。"""
    from pipelines.monthly import report_month

    with user_errors():
        outs = report_month(_job(month, None, warehouse, None, out))
    for name, path in outs.items():
        console.print(esc(f"{name}: {path.absolute()}"))


@app.command()
def explain(
    month: str = MonthOpt,
    agent: str = typer.Option(..., "--agent", "-a", help="客服账号 (店铺名:子账号) 或姓名"),
    warehouse: Optional[Path] = WarehouseOpt,
    evidence: int = typer.Option(20, "--evidence", help="每项最多显示几条证据"),
) -> None:
    """逐项解释一位客服的得分: 分数、输入、规则和证据 (聊天摘录已脱敏)。"""
    import polars as pl

    from pipelines.monthly import load_scoring_result
    from pipelines.report.mask import mask_lines
    from pipelines.staging.privacy import month_buyer_nicks
    from scoring import explain as explain_rows

    with user_errors():
        res = load_scoring_result(_job(month, None, warehouse, None, Path("out")))
    from rich.markup import escape

    from pipelines.report.labels import humanize, resolve_agent

    pay = res.payroll
    account, candidates = resolve_agent(pay["agent"].to_list(), pay["name"].to_list(), agent)
    if account is None:
        if candidates:
            console.print(f"[red]{escape(agent)!r} 不唯一, 可能是: {escape(', '.join(candidates))}[/]")
        else:
            console.print(f"[red]找不到客服 {escape(agent)!r}; 本月有: {escape(', '.join(pay['agent'].to_list()))}[/]")
        raise typer.Exit(EXIT_INPUT)
    match = pay.filter(pl.col("agent") == account)
    rows = explain_rows(res, account, max_evidence=evidence)
    shop_refunds = [r for r in rows if r.item == "refund_rate" and "全店" in r.inputs]
    for r in shop_refunds:  # the same shop refunds for every agent: counted here, listed once in report.html
        idx = rows.index(r)
        rows[idx] = type(r)(r.section, r.item, r.label, r.points, r.inputs, r.rule, [], 0)
    # every printed text goes through one mask: the month's buyer nicks, phones, ID cards, addresses
    texts = [t for r in rows for t in (r.label or "", humanize(r.inputs or ""), humanize(r.rule or ""), *r.evidence)]
    it = iter(mask_lines(texts, month_buyer_nicks(month, warehouse)))
    console.print(f"[bold]{esc(account)} {esc(match['name'][0] or '')} — {month}[/]")
    for r in rows:
        pts = "" if r.points is None else f"{r.points}"
        label, inputs, rule = next(it), next(it), next(it)
        console.print(f"[bold cyan]{esc(label)}[/] {pts}")
        if inputs:
            console.print(f"  输入: {inputs}", markup=False, highlight=False)
        if rule:
            console.print(f"  规则: {rule}", markup=False, highlight=False)
        if r.item == "refund_rate" and "全店" in (r.inputs or ""):
            console.print("    · 全店口径: 本店本月的退款对所有客服相同, 明细见 report.html「退款原因」", markup=False, highlight=False)
        for _ in r.evidence:
            console.print(f"    · {next(it)}", markup=False, highlight=False)
        if r.more_evidence:
            console.print(f"    … 另有 {r.more_evidence} 条")


@app.command()
def sla(
    month: str = MonthOpt,
    inbox: Path = typer.Option(..., "--inbox", "-i", help="服务工单/来电来函/备用件台账所在目录"),
    warehouse: Optional[Path] = WarehouseOpt,
    rules: Optional[Path] = typer.Option(None, "--rules", "-r", help="SLA 规则文件 (默认 data/sla_rules.yaml)"),
    out: Path = typer.Option(Path("out"), "--out", "-o", help="输出目录"),
    warnings: bool = typer.Option(False, "--warnings", help="列出即将超时的未结工单"),
    now: Optional[str] = typer.Option(None, "--now", help="以此时刻为准 (中国时间), 例如 '2026-10-31 18:00'"),
    replace: bool = ReplaceOpt,
) -> None:
    """售后服务 SLA: 时限达成、目标 (及时率/满意度/抱怨率)、合规检查、超时预警。目标未达成时退出码 5。"""
    from datetime import datetime

    from pipelines.sla_job import run_sla_month

    try:
        when = datetime.fromisoformat(now) if now else (datetime.now() if warnings else None)
    except ValueError:
        raise typer.BadParameter(f"{now!r} 不是时间; 例如 '2026-10-31 18:00'", param_hint="--now") from None
    with user_errors():
        o = run_sla_month(month, inbox, warehouse, rules, out, when, replace)
    res = o.results
    print_accounting(o.ingest)
    t = Table(title=f"{month} 服务目标")
    for c in ("指标", "实际", "目标", "达成"):
        t.add_column(c)
    ov = res.overall
    if ov:
        tg = res.rules.targets
        def pct(v):
            return "-" if v is None else f"{v:.2%}"
        def met(v):  # the same words as sla_report.html
            return "无数据" if v is None else ("达标" if v else "未达标")

        t.add_row("服务及时率", pct(ov["timeliness"]), f"≥ {tg.timeliness_min:.0%}", met(ov["timeliness_met"]))
        t.add_row("用户满意度", pct(ov["satisfaction"]), f"≥ {tg.satisfaction_min:.0%}", met(ov["satisfaction_met"]))
        t.add_row("用户抱怨率", pct(ov["complaint_rate"]), f"< {tg.complaint_below:.0%}", met(ov["complaint_met"]))
    console.print(t)
    for n in res.notes:
        console.print(f"[yellow]提示:[/] {n}")
    if warnings and res.warnings is not None:
        w = Table(title=f"超时预警 (截至 {when:%Y-%m-%d %H:%M})")
        for c in ("级别", "单号", "规则", "截止", "剩余小时"):
            w.add_column(c)
        for r in res.warnings.iter_rows(named=True):
            w.add_row(str(r["level"]), str(r["record_id"]), str(r["rule_id"]), str(r["deadline"]), f"{r['remaining_h']:.1f}")
        console.print(w)
    for name, path in o.outputs.items():
        console.print(esc(f"{name}: {path.absolute()}"))
    if res.targets_met is False:
        raise typer.Exit(EXIT_SLA_MISSED)


@app.command()
def bench(
    messages: int = typer.Option(1_000_000, "--messages", "-n", help="消息条数, 例如 1000000 或 10000000"),
    gbk: bool = typer.Option(False, "--gbk", help="用同一收件箱的 GB18030 编码副本 (测 GBK 导入)"),
    baseline: bool = typer.Option(False, "--baseline", help="同一批消息上运行 pandas / polars 基线会话切分并打印比值"),
    seed: int = typer.Option(1, "--seed", help="样例数据随机种子 (收件箱按 N 和种子缓存)"),
    as_json: Optional[Path] = typer.Option(None, "--json", help="另存全部结果为 JSON"),
) -> None:
    """性能测试: 真实月度任务 (kefu run --no-prefect) 每个阶段的耗时、CPU、速率和峰值内存。"""
    import json as _json

    from pipelines.bench import bare_read, baseline_ratios, run_baselines, run_job_bench

    res = run_job_bench(messages, seed=seed, gbk=gbk)
    res["bare_read"] = bare_read(Path(res["inbox"]))
    t = Table(title=f"kefu bench: {res['messages']:,} messages, inbox {res['inbox_mb']:.0f} MB"
                    f" ({'GB18030' if gbk else 'UTF-8'})")
    for c in ("stage", "wall s", "CPU s", "rows/s", "peak RSS MB"):
        t.add_column(c, justify="left" if c == "stage" else "right")
    for r in [*res["generate"], *res["stages"], res["total"]]:
        rate = r.get("rows_per_s")
        t.add_row(escape(r["stage"]), f"{r['wall_s']:.2f}", f"{r['cpu_s']:.2f}", "-" if not rate else f"{rate:,.0f}",
                  f"{r['peak_mb']:,.0f}")
    console.print(t)
    ingest = next((r for r in res["stages"] if "ingest" in r["stage"]), None)
    b = res["bare_read"]
    console.print(f"bare polars read of the same files: {b['wall_s']:.2f} s wall, {b['cpu_s']:.2f} s CPU"
                  + (f"; ingest / bare read = {ingest['wall_s'] / b['wall_s']:.1f}x (target <= 3)" if ingest else ""))
    if baseline:
        rows = run_baselines(Path(res["staged_messages"]))
        res["baselines"], res["ratios"] = rows, baseline_ratios(rows)
        bt = Table(title="sessions + response times on the same messages (compute s, own process each)")
        for c in ("round", "pandas", "lean polars", "kefu", "pandas / kefu", "kefu / polars"):
            bt.add_column(c, justify="right")
        by = {(r["impl"], r["round"]): r for r in rows}
        for k, (sp, lp) in enumerate(res["ratios"]["per_round"]):
            bt.add_row(str(k), f"{by['pandas', k]['compute_s']:.2f}", f"{by['polars', k]['compute_s']:.2f}",
                       f"{by['kefu', k]['compute_s']:.2f}", f"{sp:.1f}x", f"{lp:.2f}x")
        console.print(bt)
        q = res["ratios"]
        console.print(f"median: kefu is {q['pandas_over_kefu']:.1f}x faster than pandas (target >= 5), "
                      f"{q['kefu_over_polars']:.2f}x the lean polars time (target <= 1.5)")
        cpu = {i: [r["process_cpu_s"] for r in rows if r["impl"] == i] for i in ("pandas", "polars", "kefu")}
        console.print("process CPU s (incl. imports): " + ", ".join(
            f"{i} {' / '.join(f'{v:.2f}' for v in vs)}" for i, vs in cpu.items()))
    if as_json:
        as_json.write_text(_json.dumps(res, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


@app.command()
def serve(
    inbox_root: Path = typer.Option(..., "--inbox-root", help="每月导出放在 INBOX_ROOT/YYYY-MM/"),
    cron: str = typer.Option("0 2 1 * *", "--cron", help="cron 表达式 (默认每月1日 02:00)"),
    timezone: str = typer.Option("Asia/Shanghai", "--timezone", help="cron 时区"),
    warehouse: Optional[Path] = WarehouseOpt,
    out: Path = typer.Option(Path("out"), "--out", "-o"),
    rules: Optional[Path] = typer.Option(None, "--rules", "-r"),
) -> None:
    """在 Prefect 服务器上注册定时任务 (默认每月1日 02:00 上海时间, 评上个月) 并开始执行。需要 PREFECT_API_URL。"""
    from prefect import serve as prefect_serve

    from pipelines.flows import monthly_deployment

    dep = monthly_deployment(
        str(inbox_root.resolve()),
        cron,
        timezone,
        str(warehouse.resolve()) if warehouse else None,
        str(out.resolve()),
        str(rules.resolve()) if rules else None,
    )
    console.print(f"已注册 kefu-monthly: cron '{cron}' ({timezone}), 收件箱 {inbox_root}/<月份>/ — Ctrl+C 停止")
    prefect_serve(dep)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
