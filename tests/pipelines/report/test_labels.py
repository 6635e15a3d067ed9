"""The one label table: formats, humanised scoring texts, and resolving an agent for explain."""

from __future__ import annotations

from typer.testing import CliRunner

from pipelines.report.fmt import metric, seconds
from pipelines.report.labels import humanize, metric_label, resolve_agent

ACCOUNTS = ["优品家居旗舰店:小美", "优品家居旗舰店:小鹿", "另一店:小美"]
NAMES = ["王美玲", "赵晓璐", "李美"]


def test_formats() -> None:
    assert metric("reply_rate", 0.963) == "96.3%"
    assert metric("avg_response_s", 62.2436) == "1分02秒"
    assert seconds(42.4) == "42秒" and seconds(3725) == "1小时02分"
    assert metric("slow_responses", 1234) == "1,234"
    assert metric_label("response_3min_rate") == "3分钟回复率"


def test_humanize_scoring_texts() -> None:
    assert humanize("reply_rate 0.8333 < 0.9; 来源 override") == "回复率 83.3% < 90.0%; 来源 主管覆盖"
    assert humanize("avg_response_s=250.4, forbidden_hits=4") == "平均响应时长=4分10秒, 禁用语=4"
    assert humanize("命中档 [1]") == "命中第 2 档"
    assert humanize("扣分 5, 加分 0, 合格 True") == "扣分 5, 加分 0, 合格 是"


def test_resolve_agent() -> None:
    assert resolve_agent(ACCOUNTS, NAMES, "优品家居旗舰店:小美") == ("优品家居旗舰店:小美", [])
    assert resolve_agent(ACCOUNTS, NAMES, "小鹿") == ("优品家居旗舰店:小鹿", [])  # unique sub-account
    assert resolve_agent(ACCOUNTS, NAMES, "赵晓璐") == ("优品家居旗舰店:小鹿", [])  # name
    account, candidates = resolve_agent(ACCOUNTS, NAMES, "小美")  # two shops have a 小美
    assert account is None and candidates == sorted(["优品家居旗舰店:小美", "另一店:小美"])
    assert resolve_agent(ACCOUNTS, NAMES, "nobody") == (None, [])


def test_explain_accepts_a_unique_sub_account(sample_month) -> None:
    from pipelines.cli import app

    r = CliRunner().invoke(app, ["explain", "-m", "2026-10", "--agent", "小鹿", "-w", str(sample_month.warehouse),
                                 "--evidence", "1"])
    assert r.exit_code == 0, r.output
    assert "优品家居旗舰店:小鹿" in r.output and "回复率" in r.output and "reply_rate" not in r.output
    assert "全店口径" in r.output and "refund:" not in r.output  # shop refunds not listed per agent
    bad = CliRunner().invoke(app, ["explain", "-m", "2026-10", "--agent", "小", "-w", str(sample_month.warehouse)])
    assert bad.exit_code == 3 and "不唯一" in bad.output and "Traceback" not in bad.output
