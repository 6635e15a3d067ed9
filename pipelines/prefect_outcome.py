"""What a Prefect flow run shows when it ends: a named final state and artifacts.

* KPI month: a payroll table artifact and a markdown summary (totals, who needs attention, the
  report path); the run ends ``Completed`` named **工资待补充** when an agent's payroll is
  incomplete (plain ``Completed`` otherwise), so the UI says it without opening logs.
* SLA month: a markdown summary; the run ends ``Completed`` named **SLA未达标** when a target
  was missed.
* Every message also goes to the DingTalk robot when one is configured (``pipelines.notify``).

Artifact keys are lowercase ``kefu-kpi-2026-10`` style (Prefect's rule). No buyer data.
"""

from __future__ import annotations

from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.states import Completed, State

INCOMPLETE_STATE = "工资待补充"
SLA_MISSED_STATE = "SLA未达标"


def _key(kind: str, month: str) -> str:
    return f"kefu-{kind}-{month}".lower().replace("_", "-")


def payroll_rows(payroll) -> list[dict[str, str]]:
    """Payroll rows with Chinese headers (the label table), values as display text."""
    from pipelines.report.fmt import money, points
    from pipelines.report.labels import PAYROLL_HEADERS, STATUS_LABELS

    rows = []
    for r in payroll.sort("agent").to_dicts():
        rows.append({
            PAYROLL_HEADERS["agent"]: str(r.get("agent")), PAYROLL_HEADERS["name"]: str(r.get("name") or ""),
            PAYROLL_HEADERS["total_score"]: points(r.get("total_score")),
            PAYROLL_HEADERS["passed"]: {True: "达标", False: "未达标"}.get(r.get("passed"), "—"),
            PAYROLL_HEADERS["base_salary"]: money(r.get("base_salary")),
            PAYROLL_HEADERS["kpi_bonus"]: money(r.get("kpi_bonus")),
            PAYROLL_HEADERS["salary"]: money(r.get("salary")),
            PAYROLL_HEADERS["status"]: STATUS_LABELS.get(str(r.get("status")), str(r.get("status"))),
        })
    return rows


def kpi_outcome(outcome: Any, notify: bool = True) -> State:
    """Publish the KPI month's artifacts (and DingTalk message); return the run's final state."""
    from pipelines import notify as dingtalk
    from pipelines.monthly import month_bundle

    month = outcome.job.month
    bundle = month_bundle(outcome.job)
    payroll = bundle.payroll if bundle is not None else None
    report = outcome.outputs.get("report.html")
    if payroll is not None and payroll.height:
        create_table_artifact(key=_key("payroll", month), table=payroll_rows(payroll),
                              description=f"{month} 工资表 (payroll.csv 为准)")
        msg = dingtalk.kpi_message(month, payroll, report)
        create_markdown_artifact(key=_key("kpi", month), markdown=msg["markdown"]["text"],
                                 description=f"{month} KPI 考核摘要")
        if notify:
            _send(msg)
    n = len(outcome.score.incomplete)
    if n:
        return Completed(name=INCOMPLETE_STATE, message=f"{month}: {n} 人工资待补充 (缺主管填报), 见 {report}",
                         data=outcome)
    return Completed(message=f"{month}: 工资已全部定稿", data=outcome)


def sla_outcome(outcome: Any, month: str, notify: bool = True) -> State:
    """Publish the SLA month's summary artifact (and warnings message); return the final state."""
    from pipelines import notify as dingtalk

    r = outcome.results
    o = r.overall or {}
    lines = [f"- 服务及时率 {o.get('timely')}/{o.get('timed')}，用户满意度 {o.get('satisfied')}/{o.get('surveyed')}，"
             f"抱怨 {o.get('complaints')}/{o.get('tickets')}",
             f"- 结论：{ {True: '三项目标全部达标', False: '有目标未达标', None: '无数据'}[r.targets_met] }",
             f"- 报告：{outcome.outputs.get('sla_report.html')}"]
    create_markdown_artifact(key=_key("sla", month), markdown="\n".join([f"### {month} 售后服务时限", *lines]),
                             description=f"{month} SLA 摘要")
    if notify:
        warn = dingtalk.sla_warning_message(month, r.warnings, r.now)
        if warn is not None:
            _send(warn)
    if r.targets_met is False:
        return Completed(name=SLA_MISSED_STATE, message=f"{month}: SLA 目标未达标", data=outcome)
    return Completed(message=f"{month}: SLA 目标达标" if r.targets_met else f"{month}: 无数据", data=outcome)


def notify_failure(flow_name: str, month: str | None, error: BaseException | str) -> None:
    """Tell the DingTalk group that a run failed (no-op without a configured robot)."""
    from pipelines import notify as dingtalk

    _send(dingtalk.failure_message(flow_name, month, str(error)))


def _send(message: dict) -> None:
    from pipelines import notify as dingtalk

    cfg = dingtalk.load_config()
    if cfg is None:
        return
    try:
        dingtalk.send(message, cfg)
    except dingtalk.NotifyError as e:  # a chat message must never fail the payroll run
        print(f"钉钉通知失败: {e}")


def on_flow_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect ``on_failure`` / ``on_crashed`` hook: a DingTalk message for any failed run."""
    params = getattr(flow_run, "parameters", None) or {}
    notify_failure(getattr(flow, "name", "kefu"), params.get("month"), getattr(state, "message", "") or "")
