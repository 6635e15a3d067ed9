"""The HTML report: escaping, masking, sections, SVG data, optional frames missing."""

from __future__ import annotations

import re

import polars as pl

from pipelines.report.bundle import MonthBundle
from pipelines.report.html import render_report
from pipelines.report.sections import response_times, summary


def _scripts(html: str) -> list[str]:
    return re.findall(r"<script\b[^>]*>", html, flags=re.I)


def test_hostile_excerpts_are_escaped(bundle: MonthBundle) -> None:
    html = render_report(bundle)
    # Only the report's own script tag; nothing from data became markup.
    assert len(_scripts(html)) == 1
    assert "<script>window.__pwned" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;" in html
    assert "<b>投诉</b>" not in html and "&lt;b&gt;投诉&lt;/b&gt;" in html
    # hostile reason label (conversation_reasons) goes through the SVG helpers escaped too
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "测试旗舰店&lt;i&gt;" in html and "测试旗舰店<i>" not in html


def test_buyer_data_is_masked(bundle: MonthBundle) -> None:
    html = render_report(bundle)
    for secret in ("13812345678", "87654321", "西湖区", "文三路", "tb_hacker01", "张小明三", "收件人张三"):
        assert secret not in html, secret
    assert "138****5678" in html
    assert "0571-****4321" in html
    assert "浙江省杭州市****" in html
    assert "t**1" in html and "张**三" in html


def test_sections_and_numbers(bundle: MonthBundle) -> None:
    html = render_report(bundle)
    for title in ("团队概览", "考核规则", "个人考核", "响应时间", "慢响应时段（星期 × 小时）", "慢响应 / 未回复证据",
                  "用语命中", "退款原因", "会话原因（各客服处理的售后问题构成）", "月度趋势"):
        assert f"{title}</h2>" in html, title
    assert "¥5,361.54" in html  # 2861.54 + 2500.00 (final rows)
    assert "¥4,500.00" in html  # bases of the final rows; a03's 3000 shown apart
    assert "底薪 ¥3,000.00 未计入工资总额" in html
    assert "¥861.54" in html
    assert "1 / 3" in html  # passed / headcount
    assert "缺少主管评分: 配合度" in html
    assert html.count("4.25%（全店口径") == 3  # refund_rate Decimal fraction shown as a percentage
    assert "abc123def456" in html and "feedc0ffee12" in html
    assert "run-20261101-0200" not in html  # no run id: the same inputs give the same bytes
    # a02's quality: suggested 良, supervisor 中 → highlighted as an override
    assert 'class="grade-ovr" title="主管覆盖了建议等级">主管 中<' in html
    # adjustment records with their ids and signed points
    assert "R001" in html and "C001" in html and ">-10<" in html and ">+2<" in html
    assert ">低质评价<" in html and ">客户投诉(查实)<" in html  # item keys shown in Chinese
    # refund amounts summed exactly per reason: 59.90 + 100.10
    assert "¥160.00" in html
    assert "无数据" not in html  # every section has data in the full bundle


def test_svg_charts_carry_the_data(bundle: MonthBundle) -> None:
    s = summary(bundle)
    # bins of 13 points with an edge at the pass line 91; final rows only (a03 is incomplete)
    assert "<title>104–117: 1</title>" in s["histogram"]
    assert "<title>78–91: 1</title>" in s["histogram"]
    r = response_times(bundle)
    a01 = r["charts"][0]
    assert a01["total"] == 6 and a01["unanswered"] == 1
    # a01 response_s = 12, 45, 80, 150, 400, null
    for label in ("≤30秒: 1", "30–60秒: 1", "60–100秒: 1", "100–180秒: 1", "5–10分: 1", "未回复: 1", "3–5分: 0"):
        assert f"<title>{label}</title>" in a01["svg"], label
    a02 = r["charts"][1]
    assert "<title>&gt;10分: 1</title>" in a02["svg"] and "<title>未回复: 2</title>" in a02["svg"]
    html = render_report(bundle)
    assert html.count("<svg") >= 1 + 3 + 1 + 1 + 2 + 2 + 2  # histogram, 3 agents, terms, refunds, reasons, trend, heatmaps
    assert html.count('class="line"') == 3  # one trend line per agent


def test_renders_with_optional_frames_missing(minimal_bundle: MonthBundle) -> None:
    html = render_report(minimal_bundle)
    assert "¥5,361.54" in html
    for section in ("response", "slow-hours", "evidence", "refunds", "reasons", "trend"):
        body = html.split(f'<section id="{section}">', 1)[1].split("</section>", 1)[0]
        assert "无数据" in body, section
    assert "None" not in html


def test_renders_with_everything_missing() -> None:
    empty = MonthBundle(month="2026-10", shop="店", payroll=None, kpi_items=None, kpi_adjustments=None,
                        evidence=None, agent_month_metrics=None)
    html = render_report(empty)
    assert html.count("无数据") >= 8
    assert len(_scripts(html)) == 1


def test_trend_needs_an_earlier_month(bundle: MonthBundle) -> None:
    only_current = pl.DataFrame({"month": ["2026-10"], "agent": ["a01"], "total_score": ["112"],
                                 "salary": ["2861.54"]})
    bundle.trend = only_current
    body = render_report(bundle).split('<section id="trend">', 1)[1]
    assert "无数据" in body.split("</section>", 1)[0]


def test_transferred_out_questions_are_not_unanswered(bundle: MonthBundle) -> None:
    q = bundle.questions.with_columns(
        pl.when(pl.col("response_s").is_null()).then(pl.lit("unanswered")).otherwise(pl.lit("answered"))
        .alias("status")
    )
    # a02's two null-response questions: one unanswered, one handed over to another agent
    idx = q.with_row_index().filter((pl.col("agent_account") == "a02") & pl.col("response_s").is_null())["index"]
    q = q.with_columns(pl.when(pl.int_range(pl.len()) == idx[0]).then(pl.lit("transferred_out"))
                       .otherwise(pl.col("status")).alias("status"))
    bundle.questions = q
    a02 = response_times(bundle)["charts"][1]
    assert a02["total"] == 3 and a02["unanswered"] == 1


def test_skipped_reason_classifier_says_no_data(bundle: MonthBundle) -> None:
    bundle.conversation_reasons = pl.DataFrame({
        "agent_account": ["a01", "a02"], "is_after_sales": [True, False],
        "label": [None, None], "predicted_reason": [None, "质量问题"], "confidence": [None, 0.9],
    }, schema_overrides={"label": pl.String})
    body = render_report(bundle).split('<section id="reasons">', 1)[1].split("</section>", 1)[0]
    assert "无数据" in body
