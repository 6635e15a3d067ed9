"""Totals reconcile (final rows apart from incomplete), outputs are byte-identical across re-runs,
xlsx/csv text never becomes a formula, evidence is capped in the xlsx and complete in the exports."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.report import (
    build_month_bundle,
    write_evidence_exports,
    write_payroll_xlsx,
    write_report,
)
from pipelines.report.bundle import MonthBundle
from pipelines.report.excel import EVIDENCE_PER_AGENT_KIND
from pipelines.report.totals import pay_totals
from scoring.rules import DEFAULT_RULES_PATH, load_rules

D = Decimal


def test_totals_keep_incomplete_rows_apart(bundle: MonthBundle) -> None:
    t = pay_totals(bundle.payroll)
    assert (t.final_rows, t.base, t.kpi, t.salary) == (2, D("4500.00"), D("861.54"), D("5361.54"))
    assert (t.incomplete_rows, t.incomplete_base) == (1, D("3000.00"))
    assert t.reconciles and t.base + t.kpi == t.salary
    # the old way (every row's base) would not reconcile: 7500 + 861.54 != 5361.54
    assert sum(bundle.payroll["base_salary"].to_list()) + t.kpi != t.salary


def test_report_cards_reconcile(bundle: MonthBundle) -> None:
    from pipelines.report.sections import summary

    s = summary(bundle)
    assert (s["base_total"], s["kpi_total"], s["salary_total"]) == ("¥4,500.00", "¥861.54", "¥5,361.54")
    assert s["reconciles"] and s["incomplete"] == 1 and s["incomplete_base"] == "¥3,000.00"


def _warehouse(bundle: MonthBundle) -> dict[tuple[str, str], pl.DataFrame]:
    rules_text = DEFAULT_RULES_PATH.read_text("utf-8")
    meta = pl.DataFrame({"rules_version": ["1"], "rules_hash": [load_rules(rules_text).hash],
                         "rules_file": [str(DEFAULT_RULES_PATH)], "pass_mark": ["91.00"], "total_points": ["130"],
                         "kpi_pool": ["1000"], "month": [bundle.month]})
    t = {
        ("payroll", "2026-10"): bundle.payroll, ("kpi_items", "2026-10"): bundle.kpi_items,
        ("kpi_adjustments", "2026-10"): bundle.kpi_adjustments, ("evidence", "2026-10"): bundle.evidence,
        ("agent_month_metrics", "2026-10"): bundle.agent_month_metrics, ("questions", "2026-10"): bundle.questions,
        ("text_hits", "2026-10"): bundle.text_hits, ("conversation_reasons", "2026-10"): bundle.conversation_reasons,
        ("refunds", "2026-10"): bundle.refunds, ("kpi_meta", "2026-10"): meta,
        ("roster", "2026-10"): pl.DataFrame({"agent_account": ["a01", "a02", "a03"]}),
        ("payroll", "2026-09"): bundle.previous_payroll,
    }
    for m in ("2026-08", "2026-09"):
        part = bundle.trend.filter(pl.col("month") == m)
        t.setdefault(("payroll", m), part.drop("month"))
    return t


def _reader(tables: dict, seed: int):
    """A warehouse read with no row order, like SQL without ORDER BY: shuffled per call."""
    calls = iter(range(10_000))

    def read(table: str, month: str) -> pl.DataFrame | None:
        df = tables.get((table, month))
        if df is None:
            return None if (table, "2026-10") not in tables else df
        return df.sample(fraction=1.0, shuffle=True, seed=seed * 1000 + next(calls))
    return read


def test_outputs_are_byte_identical_across_reruns(bundle: MonthBundle, tmp_path: Path) -> None:
    tables = _warehouse(bundle)
    outputs = []
    for seed in (1, 2):
        b = build_month_bundle("2026-10", _reader(tables, seed))
        assert b is not None and b.rules is not None
        d = tmp_path / f"run{seed}"
        write_report(b, d / "report.html")
        write_payroll_xlsx(b, d / "payroll.xlsx")
        write_evidence_exports(b, d)
        outputs.append({p.name: p.read_bytes() for p in sorted(d.iterdir())})
    assert sorted(outputs[0]) == ["evidence.csv", "evidence.parquet", "payroll.xlsx", "report.html"]
    for name in outputs[0]:
        assert outputs[0][name] == outputs[1][name], name
    html = outputs[0]["report.html"].decode()
    assert "规则哈希" in html and "数据指纹" in html
    wb = openpyxl.load_workbook(io.BytesIO(outputs[0]["payroll.xlsx"]))
    assert wb.properties.created == datetime(2026, 10, 1)  # from the month, not the clock


def test_build_month_bundle_reads_previous_months(bundle: MonthBundle) -> None:
    b = build_month_bundle("2026-10", _reader(_warehouse(bundle), 3))
    assert b.previous_payroll is not None and b.previous_payroll.height == 3
    assert sorted(set(b.trend["month"].to_list())) == ["2026-08", "2026-09"]
    assert b.payroll["agent"].to_list() == ["a01", "a02", "a03"]  # sorted whatever the read order
    assert build_month_bundle("2026-10", lambda table, month: None) is None


def test_formula_like_names_are_neutralised_in_xlsx(bundle: MonthBundle, tmp_path: Path) -> None:
    bundle.payroll = bundle.payroll.with_columns(
        pl.Series("name", ["=SUM(A1:A9)", "+86 李强", "@陈静"]))
    ws = openpyxl.load_workbook(write_payroll_xlsx(bundle, tmp_path / "p.xlsx"))["工资表"]
    names = [ws.cell(row=i, column=3) for i in range(2, 5)]
    assert [c.value for c in names] == ["'=SUM(A1:A9)", "'+86 李强", "'@陈静"]  # as payroll.csv writes them
    assert all(c.data_type == "s" for c in names)


def _many_evidence(n: int) -> pl.DataFrame:
    at = datetime(2026, 10, 1, 9, 0)
    return pl.DataFrame({
        "evidence_id": [f"slow:{i:03d}" for i in range(n)] + ["gap:1"],
        "month": ["2026-10"] * (n + 1),
        "agent_account": ["a01"] * n + ["a02"],
        "kind": ["slow_response"] * n + ["knowledge_gap"],
        "buyer": ["tb_buyer99"] * (n + 1),
        "at": [at + timedelta(minutes=i) for i in range(n + 1)],
        "excerpt": ["=1+1 电话13812345678"] + [f"问题 {i}" for i in range(1, n)] + ["-不知道"],
        "detail": ["等待 200 秒"] * (n + 1),
        "source_file": ["chat.txt"] * (n + 1),
        "source_row": list(range(n + 1)),
    })


def test_xlsx_evidence_is_capped_with_a_count_row(bundle: MonthBundle, tmp_path: Path) -> None:
    n = EVIDENCE_PER_AGENT_KIND + 12
    bundle.evidence = _many_evidence(n)
    ws = openpyxl.load_workbook(write_payroll_xlsx(bundle, tmp_path / "p.xlsx"))["证据"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    a01 = [r for r in rows if r[2] == "a01"]
    assert len(a01) == EVIDENCE_PER_AGENT_KIND + 1
    assert a01[-1][6].startswith("另有 12 条未列出")
    assert a01[0][6] == "'=1+1 电话138****5678"  # neutralised and masked
    assert [r[2] for r in rows][-1] == "a02"


def test_full_evidence_exports(bundle: MonthBundle, tmp_path: Path) -> None:
    n = EVIDENCE_PER_AGENT_KIND + 12
    bundle.evidence = _many_evidence(n)
    paths = write_evidence_exports(bundle, tmp_path)
    raw = paths["evidence.csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:5] == ["证据编号", "月份", "客服账号", "类型", "买家(脱敏)"]
    assert len(rows) == 1 + n + 1  # every row, nothing capped
    text = raw.decode("utf-8-sig")
    assert "13812345678" not in text and "tb_buyer99" not in text
    assert "'=1+1 电话138****5678" in text and "'-不知道" in text and ",慢响应," in text
    pq = pl.read_parquet(paths["evidence.parquet"])
    assert pq.height == n + 1 and pq["kind"][0] in ("slow_response", "knowledge_gap")
    assert "tb_buyer99" not in pq["buyer"].to_list() and pq["buyer"][0] == "t**9"


def test_money_with_more_than_two_decimals_is_a_rules_error() -> None:
    from scoring.rules import RulesError

    text = DEFAULT_RULES_PATH.read_text("utf-8")
    for old, new, key in (("普通售后客服: 2000", "普通售后客服: 2000.005", "base_salary.普通售后客服"),
                          ("amount: 1000 ", "amount: 1000.001 ", "kpi_pool.amount")):
        with pytest.raises(RulesError) as e:
            load_rules(text.replace(old, new))
        assert any(p.startswith(key) and "0.01" in p for p in e.value.problems), e.value.problems
    assert load_rules(text.replace("普通售后客服: 2000", "普通售后客服: 2000.50")).model.base_salary["普通售后客服"] == D("2000.50")


def test_terminal_totals_line_matches_the_cards(bundle: MonthBundle) -> None:
    from pipelines.report.totals import totals_line

    assert totals_line(pay_totals(bundle.payroll)) == (
        "工资总额 ¥5,361.54 = 底薪 ¥4,500.00 + KPI奖金 ¥861.54 (已定稿 2 人); 待补充 1 人, 底薪 ¥3,000.00 未计入")
