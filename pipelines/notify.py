"""DingTalk group-robot messages: the monthly KPI result, SLA breach warnings, failed runs.

A DingTalk *custom robot* with the "加签" (signed) security setting: each POST goes to
``webhook&timestamp=<ms>&sign=<sign>`` where ``sign = urlencode(base64(HMAC-SHA256(secret,
"<timestamp>\\n<secret>")))`` (DingTalk's documented algorithm), with a JSON body
``{"msgtype": "markdown", "markdown": {"title", "text"}}``; DingTalk answers
``{"errcode": 0, "errmsg": "ok"}``.

Configured once, by environment (``KEFU_DINGTALK_WEBHOOK``, ``KEFU_DINGTALK_SECRET``) or by
Prefect Secret blocks (``kefu-dingtalk-webhook``, ``kefu-dingtalk-secret``). Messages carry
agent names, counts, money totals, ticket numbers and file paths — never buyer data.

``python -m pipelines.notify kpi --month 2026-10 [--warehouse W] [--report PATH] --dry-run``
prints the message instead of sending it (``sla`` and ``failure`` likewise).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

ENV_WEBHOOK = "KEFU_DINGTALK_WEBHOOK"
ENV_SECRET = "KEFU_DINGTALK_SECRET"
BLOCK_WEBHOOK = "kefu-dingtalk-webhook"
BLOCK_SECRET = "kefu-dingtalk-secret"
MAX_LINES = 15  # list items per message; DingTalk markdown messages should stay short


class NotifyError(RuntimeError):
    """DingTalk refused the message (bad signature, rate limit, …) or was unreachable."""


@dataclass(frozen=True)
class DingTalkConfig:
    webhook: str
    secret: str | None = None


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")))."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(cfg: DingTalkConfig, timestamp_ms: int) -> str:
    """The webhook URL with ``timestamp`` and ``sign`` when a secret is configured."""
    if not cfg.secret:
        return cfg.webhook
    sep = "&" if "?" in cfg.webhook else "?"
    return f"{cfg.webhook}{sep}timestamp={timestamp_ms}&sign={sign(cfg.secret, timestamp_ms)}"


def _block(name: str) -> str | None:
    try:
        from prefect.blocks.system import Secret

        return str(Secret.load(name).get())
    except Exception:  # no Prefect server / no such block: not configured that way
        return None


def load_config(use_blocks: bool = True) -> DingTalkConfig | None:
    """The robot's webhook and secret from the environment, else from Prefect Secret blocks."""
    webhook = os.environ.get(ENV_WEBHOOK) or (_block(BLOCK_WEBHOOK) if use_blocks else None)
    if not webhook:
        return None
    secret = os.environ.get(ENV_SECRET) or (_block(BLOCK_SECRET) if use_blocks else None)
    return DingTalkConfig(webhook, secret)


def markdown(title: str, lines: list[str]) -> dict[str, Any]:
    """A DingTalk markdown message."""
    return {"msgtype": "markdown", "markdown": {"title": title, "text": "\n".join([f"### {title}", *lines])}}


def kpi_message(month: str, payroll: pl.DataFrame, report: str | Path | None = None) -> dict[str, Any]:
    """The month's KPI result: passed / failed / incomplete agents, pay totals, the report."""
    from pipelines.report.fmt import money, points
    from pipelines.report.totals import pay_totals

    t = pay_totals(payroll)
    rows = payroll.sort("agent").to_dicts()
    passed = [r for r in rows if r.get("status") == "final" and r.get("passed") is True]
    failed = [r for r in rows if r.get("status") == "final" and r.get("passed") is False]
    incomplete = [r for r in rows if r.get("status") != "final"]

    def who(r: dict) -> str:
        return str(r.get("name") or r.get("agent"))

    lines = [f"- 考核 {len(rows)} 人：达标 {len(passed)}，未达标 {len(failed)}，待补充 {len(incomplete)}",
             f"- 工资总额 {money(t.salary)} = 底薪 {money(t.base)} + KPI 奖金 {money(t.kpi)}（已定稿 {t.final_rows} 人）"]
    if failed:
        lines.append("- 未达标：" + "、".join(f"{who(r)} {points(r.get('total_score'))} 分"
                                          for r in sorted(failed, key=lambda r: r.get("total_score") or 0)[:MAX_LINES]))
    for r in incomplete[:MAX_LINES]:
        lines.append(f"- **待补充** {who(r)}：{r.get('status_reason') or '主管填报缺失'}")
    if incomplete:
        lines.append(f"- 待补充 {len(incomplete)} 人的底薪 {money(t.incomplete_base)} 未计入工资总额")
    if report:
        lines.append(f"- 报告：{report}")
    title = f"{month} 客服 KPI 考核" + ("（有待补充）" if incomplete else "")
    return markdown(title, lines)


def sla_warning_message(month: str, warnings: pl.DataFrame | None, now: Any) -> dict[str, Any] | None:
    """Breached and due-soon tickets (``warnings`` of an SLA run), or None when there are none."""
    if warnings is None or warnings.height == 0:
        return None
    from pipelines.report.fmt import plain, seconds

    w = warnings.sort("deadline", "record_id")
    breached = w.filter(pl.col("level") == "已超时")
    soon = w.filter(pl.col("level") != "已超时")
    lines = [f"- 截至 {plain(now)}：已超时 {breached.height}，即将超时 {soon.height}"]
    for r in w.head(MAX_LINES).to_dicts():
        left = r.get("remaining_s")
        when = f"已超时 {seconds(abs(left))}" if left is not None and left < 0 else f"剩余 {seconds(left)}"
        lines.append(f"- {r.get('level')} {r.get('record_id')} {r.get('rule_name')}（{r.get('staff') or '—'}）"
                     f"期限 {plain(r.get('deadline'))}，{when}")
    if w.height > MAX_LINES:
        lines.append(f"- 另有 {w.height - MAX_LINES} 条，见 sla_report.html")
    return markdown(f"{month} 售后服务超时预警", lines)


def failure_message(flow: str, month: str | None, error: str) -> dict[str, Any]:
    """A run that failed: which job, which month, the error's first line."""
    first = (error or "").strip().splitlines()[0][:300] if error else "未知错误"
    return markdown(f"运行失败：{flow}" + (f" {month}" if month else ""), [f"- 错误：{first}", "- 请查看 Prefect 日志"])


def render(message: dict[str, Any]) -> str:
    """A message as the text a --dry-run prints."""
    m = message["markdown"]
    return f"[钉钉] {m['title']}\n{m['text']}"


def send(message: dict[str, Any], cfg: DingTalkConfig | None, *, dry_run: bool = False,
         opener: Callable[..., Any] = urllib.request.urlopen, clock: Callable[[], float] = time.time,
         timeout: float = 10.0) -> str:
    """POST ``message`` to the robot (signed); ``dry_run`` (or no config) only returns the text.
    Raises :class:`NotifyError` when DingTalk does not answer ``errcode`` 0."""
    text = render(message)
    if dry_run or cfg is None:
        return text
    url = signed_url(cfg, int(clock() * 1000))
    req = urllib.request.Request(url, data=json.dumps(message, ensure_ascii=False).encode("utf-8"),
                                 headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
    try:
        with opener(req, timeout=timeout) as resp:
            answer = json.loads(resp.read().decode("utf-8") or "{}")
    except (OSError, ValueError) as e:
        raise NotifyError(f"钉钉消息发送失败: {e}") from e
    if answer.get("errcode") != 0:
        raise NotifyError(f"钉钉拒绝了消息: {answer.get('errcode')} {answer.get('errmsg')}")
    return text


def main(argv: list[str] | None = None) -> int:
    """``python -m pipelines.notify {kpi,sla,failure} --month M [--dry-run]``."""
    import argparse

    p = argparse.ArgumentParser(prog="python -m pipelines.notify", description="钉钉群机器人消息 (DingTalk group robot)")
    p.add_argument("kind", choices=("kpi", "sla", "failure"))
    p.add_argument("--month", required=True)
    p.add_argument("--warehouse", default=None)
    p.add_argument("--report", default=None, help="报告路径或链接")
    p.add_argument("--error", default="", help="failure: 错误信息")
    p.add_argument("--dry-run", action="store_true", help="只打印消息, 不发送")
    a = p.parse_args(argv)
    from pipelines import warehouse

    try:
        if a.kind == "kpi":
            msg = kpi_message(a.month, warehouse.read("payroll", month=a.month, path=a.warehouse), a.report)
        elif a.kind == "sla":
            msg = sla_warning_message(a.month, warehouse.read("ticket_sla", month=a.month, path=a.warehouse)
                                      .filter(pl.col("status") == "running")
                                      .with_columns(pl.lit("进行中").alias("level")), None)
            if msg is None:
                print("没有进行中或超时的工单, 不发送")
                return 0
        else:
            msg = failure_message("kefu", a.month, a.error)
        cfg = None if a.dry_run else load_config()
        if cfg is None and not a.dry_run:
            print(f"未配置钉钉机器人 ({ENV_WEBHOOK} / Prefect Secret {BLOCK_WEBHOOK}); 消息如下:")
        print(send(msg, cfg, dry_run=a.dry_run))
    except (KeyError, NotifyError) as e:
        print(f"错误: {e}")
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
