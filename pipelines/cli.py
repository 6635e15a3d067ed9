"""`kefu`: the command-line entry point (typer + rich).

Exit codes (docs/cli.md):
  0  ok
  1  unexpected error (a bug: please report it with the traceback)
  2  wrong command-line usage
  3  input error: a file could not be read / wrong manifest; nothing was written
  4  payroll incomplete: supervisor input missing for some agents (see status_reason)
  5  SLA targets missed (kefu sla)
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

EXIT_OK, EXIT_INPUT, EXIT_INCOMPLETE, EXIT_SLA_MISSED = 0, 3, 4, 5

app = typer.Typer(
    help="kefu-kpi: 淘宝/天猫售后客服 月度指标、KPI考核与工资 (Taobao after-sales KPI and payroll).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
console = Console()

MonthOpt = typer.Option(..., "--month", "-m", help="考核月份 YYYY-MM, 例如 2026-10")
WarehouseOpt = typer.Option(None, "--warehouse", "-w", help="DuckDB 数据仓库文件 (默认 data/warehouse.duckdb)")


def print_accounting(report) -> None:
    t = Table(title=f"{report.month} 导入明细 (run {report.run_id})", show_lines=False)
    for col in ("文件", "格式", "表", "编码", "读入", "入库", "隔离", "非本月", "重复", "备注"):
        t.add_column(col, justify="right" if col in ("读入", "入库", "隔离", "非本月", "重复") else "left")
    for row in report.accounting().iter_rows(named=True):
        t.add_row(
            row["file_name"], row["layout"] or "-", row["kind"] or "-", row["encoding"] or "-",
            str(row["rows_read"]), str(row["loaded"]), str(row["quarantined"]), str(row["out_of_month"]),
            str(row["duplicates"]), (row["notes"] or "")[:60],
        )
    console.print(t)
    if report.unrecognised:
        console.print(f"[yellow]未识别的文件 {len(report.unrecognised)} 个:[/] " + ", ".join(f.file_name for f in report.unrecognised))
    if report.quarantine.height:
        q = report.quarantine
        console.print(f"[yellow]隔离 {q.height} 行[/] (详见仓库表 quarantine):")
        for r in q.head(20).iter_rows(named=True):
            sheet = f"/{r['source_sheet']}" if r["source_sheet"] else ""
            console.print(f"  {r['source_file']}{sheet} 第{r['source_row']}行: {r['reason']}")
        if q.height > 20:
            console.print(f"  ... 另有 {q.height - 20} 行")
    if report.unknown_agents:
        console.print("[yellow]客服名单中没有的客服账号:[/] " + ", ".join(report.unknown_agents))
    if report.unknown_attendance_names:
        console.print("[yellow]考勤中无法对应到客服名单的姓名:[/] " + ", ".join(report.unknown_attendance_names))


@app.command()
def ingest(
    month: str = MonthOpt,
    inbox: Path = typer.Option(..., "--inbox", "-i", help="本月导出文件所在目录 (文件名随意, 按内容识别)"),
    warehouse: Optional[Path] = WarehouseOpt,
) -> None:
    """导入一个月的导出文件到数据仓库, 打印每个文件的行数核对 (读入 = 入库 + 隔离 + 非本月 + 重复)。"""
    from pipelines.ingest import IngestError, ingest as run_ingest

    try:
        report = run_ingest(month, inbox, warehouse)
    except IngestError as e:
        console.print(f"[red]导入失败, 数据仓库未改动:[/] {e}")
        raise typer.Exit(EXIT_INPUT)
    print_accounting(report)


@app.command()
def sample(
    out: Path = typer.Option(..., "--out", "-o", help="输出目录"),
    month: str = typer.Option("2026-10", "--month", "-m", help="月份 YYYY-MM"),
    agents: int = typer.Option(8, "--agents", help="客服人数"),
    seed: int = typer.Option(42, "--seed", help="随机种子 (相同种子生成相同文件)"),
    messages: Optional[int] = typer.Option(None, "--messages", help="聊天消息条数 (用于压力测试, 可到 1000 万)"),
    sla: bool = typer.Option(False, "--sla", help="生成售后服务工单样例 (SLA 模块)"),
    template: bool = typer.Option(False, "--template", help="只写出空白的主管填报表模板"),
) -> None:
    """生成一个逼真的样例月份 (真实导出格式, 混合编码, 含坏行与重复导出)。"""
    out.mkdir(parents=True, exist_ok=True)
    if template:
        from pipelines.templates import write_supervisor_template

        p = write_supervisor_template(out / "主管填报表模板.xlsx")
        console.print(f"模板已写出: {p}")
        return
    if sla:
        from pipelines.sla.sample import generate_sla

        res = generate_sla(month, out, seed)
        console.print(f"SLA 样例已写出到 {out}: {res}")
        return
    from pipelines.sample import generate

    summary = generate(month, out, agents=agents, seed=seed, messages=messages)
    t = Table(title=f"样例 {month} → {out}")
    t.add_column("文件")
    t.add_column("格式")
    t.add_column("行数", justify="right")
    for f in summary.files:
        t.add_row(str(f.get("name") if isinstance(f, dict) else getattr(f, "name", f)), str(f.get("layout") if isinstance(f, dict) else getattr(f, "layout", "")), str(f.get("rows") if isinstance(f, dict) else getattr(f, "rows", "")))
    console.print(t)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
