"""A small synthetic month for the report tests: 3 agents, Decimal money, hostile excerpts.

Hand-computed payroll (default rules: KPI = 1000 × total / 130, gate 91):
- a01 王小美 普通售后客服 base 2000: 15+30+20+20+15+15 = 115, −5 低质评价, +2 表扬 → 112;
  KPI 1000×112/130 = 861.538… → 861.54; salary 2861.54.
- a02 李强 高级售后客服 base 2500: 10+30+15+15+10+10 = 90, −10 投诉 → 80 < 91 → KPI 0; 2500.00.
- a03 陈静 售后组长 base 3000: 配合度 rating missing → incomplete, no KPI/salary.
Team salary total = 2861.54 + 2500.00 = 5361.54.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import polars as pl
import pytest

from pipelines.report.bundle import MonthBundle
from scoring.rules import DEFAULT_RULES_PATH, load_rules

D = Decimal
MONTH = "2026-10"

HOSTILE_SCRIPT = "<script>window.__pwned=1</script>在吗 我的电话13812345678"
HOSTILE_IMG = '<img src=x onerror="window.__pwned=2">地址浙江省杭州市西湖区文三路100号'
FORMULA = '=HYPERLINK("http://evil.example","点我")'


def _payroll() -> pl.DataFrame:
    money = pl.Decimal(14, 2)
    return pl.DataFrame(
        {
            "month": [MONTH] * 3,
            "agent": ["a01", "a02", "a03"],
            "name": ["王小美", "李强", "陈静"],
            "role": ["普通售后客服", "高级售后客服", "售后组长"],
            "quality_grade": ["良", "中", "优"],
            "quality_pts": [D(15), D(10), D(20)],
            "refund_rate": [D("0.0425")] * 3,  # scoring writes Decimal(12, 6); floats work too
            "refund_pts": [D(30), D(30), D(30)],
            "complaint_grade": ["优", "良", "优"],
            "complaint_pts": [D(20), D(15), D(20)],
            "cooperation_pts": [D(20), D(15), None],
            "execution_pts": [D(15), D(10), D(20)],
            "attendance_pts": [D(15), D(10), D(20)],
            "deductions": [D(-5), D(-10), D(0)],
            "bonuses": [D(2), D(0), D(0)],
            "total_score": [D(112), D(80), D(110)],
            "passed": [True, False, None],
            "kpi_bonus": [D("861.54"), D("0.00"), None],
            "base_salary": [D("2000.00"), D("2500.00"), D("3000.00")],
            "salary": [D("2861.54"), D("2500.00"), None],
            "status": ["final", "final", "incomplete"],
            "status_reason": [None, None, "缺少主管评分: 配合度"],
            "extra_col": [1, 2, 3],  # renderers must ignore unknown columns
        },
        schema_overrides={**{c: money for c in ("kpi_bonus", "base_salary", "salary")},
                          "refund_rate": pl.Decimal(12, 6)},
    )


def _kpi_items() -> pl.DataFrame:
    rows = []
    grades = {
        "a01": [("quality", "良", "良", None, 15), ("refund_rate", None, None, None, 30),
                ("complaints", "优", "优", None, 20), ("cooperation", "优", None, "优", 20),
                ("execution", "良", None, "良", 15), ("attendance", None, None, None, 15)],
        "a02": [("quality", "中", "良", "中", 10), ("refund_rate", None, None, None, 30),
                ("complaints", "良", "良", None, 15), ("cooperation", "良", None, "良", 15),
                ("execution", "中", None, "中", 10), ("attendance", None, None, None, 10)],
        "a03": [("quality", "优", "良", "优", 20), ("refund_rate", None, None, None, 30),
                ("complaints", "优", "优", None, 20), ("cooperation", None, None, None, None),
                ("execution", "优", None, "优", 20), ("attendance", None, None, None, 20)],
    }
    for agent, items in grades.items():
        for item, grade, sug, ovr, pts in items:
            rows.append({
                "month": MONTH, "agent_account": agent, "item": item,
                "raw_value": "迟到1次" if item == "attendance" and agent == "a01" else None,
                "grade": grade, "suggested_grade": sug, "override_grade": ovr,
                "points": None if pts is None else D(pts),
                "source": "supervisor" if ovr else "metrics",
                "rule": "grade_points" if grade else "bands",
                "evidence_ids": ["slow:1", "slow:2"] if item == "quality" and agent == "a01" else [],
            })
    return pl.DataFrame(rows, schema_overrides={"points": pl.Decimal(6, 2)})


def _adjustments() -> pl.DataFrame:
    return pl.DataFrame({
        "month": [MONTH] * 3,
        "agent_account": ["a01", "a01", "a02"],
        "kind": ["deduction", "bonus", "deduction"],
        "item": ["low_quality_review", "praise", "verified_complaint"],  # rules-file keys
        "points": [D(-5), D(2), D(-10)],  # scoring writes deductions negative
        "record_id": ["R001", "P001", "C001"],
        "detail": ["买家 tb_hacker01 差评, 电话13812345678", "买家表扬服务耐心", "<b>投诉</b>: 态度差"],
    })


def _evidence() -> pl.DataFrame:
    at = datetime(2026, 10, 5, 10, 0, 0)
    return pl.DataFrame({
        "evidence_id": ["slow:1", "slow:2", "unans:1", "forbid:1", "slow:3", "gap:1"],
        "month": [MONTH] * 6,
        "agent_account": ["a01", "a01", "a02", "a03", "a02", "a03"],
        "kind": ["slow_response", "slow_response", "unanswered", "forbidden_word", "slow_response",
                 "knowledge_gap"],
        "buyer": ["tb_hacker01", "张小明三", "张小明三", "李四", "ab", "tb_x"],
        "at": [at, at.replace(hour=11), at.replace(day=6), at.replace(day=7), at.replace(day=8),
               at.replace(day=9)],
        "excerpt": [HOSTILE_SCRIPT, "收件人张三 座机0571-87654321", HOSTILE_IMG, FORMULA,
                    "-1 还没发货? @客服", "=1+1"],
        "detail": ["等待 412 秒", "等待 150 秒", "未回复", "命中: 不知道", "等待 101 秒", "命中: 不清楚"],
        "source_file": ["chat_a01.txt", "chat_a01.txt", "chat_a02.txt", "chat_a03.txt", "chat_a02.txt",
                        "chat_a03.txt"],
        "source_row": [10, 22, 5, 7, 9, 11],
    })


def _questions() -> pl.DataFrame:
    resp = {
        "a01": [12.0, 45.0, 80.0, 150.0, 400.0, None],
        "a02": [20.0, 700.0, None, None],
        "a03": [5.0, 10.0, 200.0],
    }
    rows = [
        {"agent_account": a, "buyer": f"b{i}", "asked_at": datetime(2026, 10, 3, 9, i),
         "answered_at": None, "response_s": r}
        for a, rs in resp.items() for i, r in enumerate(rs)
    ]
    return pl.DataFrame(rows)


def _metrics() -> pl.DataFrame:
    return pl.DataFrame({
        "month": [MONTH] * 3,
        "agent_account": ["a01", "a02", "a03"],
        "questions": [6, 4, 3],
        "answered_questions": [5, 2, 3],
        "reply_rate": [0.99, 0.9, 1.0],
        "avg_response_s": [137.4, 360.0, 71.7],
        "p90_response_s": [400.0, 700.0, 200.0],
        "response_3min_rate": [0.8, 0.5, 0.67],
        "slow_responses": [2, 1, 1],
        "polite_opening_rate": [0.9, 0.5, 1.0],
        "forbidden_hits": [0, 0, 1],
        "knowledge_gap_replies": [1, 3, 0],
    })


@pytest.fixture
def bundle() -> MonthBundle:
    """Full synthetic month (every optional frame present)."""
    return MonthBundle(
        month=MONTH,
        shop="测试旗舰店<i>",
        payroll=_payroll(),
        kpi_items=_kpi_items(),
        kpi_adjustments=_adjustments(),
        evidence=_evidence(),
        agent_month_metrics=_metrics(),
        questions=_questions(),
        text_hits=pl.DataFrame({
            "agent_account": ["a01", "a03", "a03", "a02"],
            "lexicon": ["politeness", "forbidden", "forbidden", "knowledge_gap"],
            "term": ["您好", "不知道", "不知道", "我问一下"],
            "buyer": ["x1", "x2", "x3", "x4"],
        }),
        conversation_reasons=pl.DataFrame({
            "agent_account": ["a01", "a01", "a01", "a02", "a02", "a03"],
            "buyer": ["b1", "b2", "b3", "b4", "b5", "b6"],
            "reason": ["质量问题", "七天无理由", "质量问题", "少件/漏发", "质量问题", "<script>x</script>"],
            "confidence": [0.9, 0.8, 0.7, 0.6, 0.9, 0.5],
        }),
        refunds=pl.DataFrame(
            {
                "refund_id": ["r1", "r2", "r3"],
                "reason": ["质量问题", "七天无理由", "质量问题"],
                "status": ["退款成功", "退款关闭", "退款成功"],
                "refund_amount": [D("59.90"), D("12.00"), D("100.10")],
            },
            schema_overrides={"refund_amount": pl.Decimal(14, 2)},
        ),
        trend=pl.DataFrame({
            "month": ["2026-08", "2026-08", "2026-09", "2026-09", "2026-09"],
            "agent": ["a01", "a02", "a01", "a02", "a03"],
            "total_score": ["100", "95", "104.5", "88", "120"],
            "salary": ["2769.23", "3230.77", "2803.85", "2500.00", "3923.08"],
        }),
        rules_version="1",
        rules_hash="abc123def456",
        run_id="run-20261101-0200",
        rules=load_rules(DEFAULT_RULES_PATH.read_text("utf-8")),
        inputs_hash="feedc0ffee12",
        previous_payroll=pl.DataFrame({
            "agent": ["a01", "a02", "a03"], "total_score": [D("104.5"), D(88), D(120)],
            "salary": [D("2803.85"), D("2500.00"), D("3923.08")], "status": ["final"] * 3,
        }),
    )


@pytest.fixture
def minimal_bundle(bundle: MonthBundle) -> MonthBundle:
    """Only the required frames; every optional frame None, adjustments/evidence empty."""
    return MonthBundle(
        month=bundle.month,
        shop=bundle.shop,
        payroll=bundle.payroll,
        kpi_items=bundle.kpi_items,
        kpi_adjustments=bundle.kpi_adjustments.head(0),
        evidence=bundle.evidence.head(0),
        agent_month_metrics=None,
    )


@pytest.fixture(scope="session")
def sample_month(tmp_path_factory):
    """The bundled sample month run end to end once (warehouse + out folder) for these tests."""
    from pipelines.monthly import SAMPLE_INBOX, MonthJob, run_month

    base = tmp_path_factory.mktemp("sample_month")
    job = MonthJob(MONTH, inbox=SAMPLE_INBOX, warehouse=base / "w.duckdb", out=base / "out")
    run_month(job)
    return job


@pytest.fixture(scope="session")
def artifacts_dir():
    """Where tests leave files a person looks at (screenshots): $KEFU_TEST_ARTIFACTS or
    tests/artifacts/ (git-ignored)."""
    import os
    from pathlib import Path

    d = Path(os.environ.get("KEFU_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "artifacts")
    d.mkdir(parents=True, exist_ok=True)
    return d
