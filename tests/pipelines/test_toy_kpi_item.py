"""A new KPI item needs only its module and its rules block (docs/architecture.md
"Adding a KPI item"): a toy item 培训考试 (10 points, from the supervisor's 主管评分 sheet)
is registered through ``KEFU_ITEM_MODULES`` and shows up in payroll.csv, payroll.xlsx,
report.html and ``kefu explain`` of a generated month run end to end."""

from __future__ import annotations

import csv
import io
import textwrap
from decimal import Decimal

import openpyxl
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.monthly import MonthJob, run_month
from pipelines.sample import generate
from scoring import DEFAULT_RULES_PATH
from scoring.items import ITEM_MODULES_ENV
from scoring.payroll import PAYROLL_COLUMNS

MONTH = "2026-10"

# The toy item module, exactly as a shop would add it (one file, nothing else edited).
TOY_MODULE = textwrap.dedent('''
    """Item 培训考试: the points the supervisor writes as "培训考试 <points>" in 主管评分 备注."""

    import re
    from decimal import Decimal

    from scoring.items.base import ItemContext, ItemResult, KpiItem
    from scoring.model import ItemScore
    from scoring.rules.model import ItemRules


    class TrainingRules(ItemRules):
        marker: str = "培训考试"


    def training_scores(ctx: ItemContext, item: TrainingRules) -> ItemResult:
        pattern = re.compile(re.escape(item.marker) + r"\\s*(\\d+(?:\\.\\d{1,2})?)")
        out = {}
        for agent in ctx.agents:
            r = ctx.ratings.get(agent) or {}
            m = pattern.search(r.get("note") or "")
            pts = Decimal(m.group(1)) if m else None
            s = ItemScore(agent, "training", item.label, pts if pts is not None and pts <= item.max_points else None,
                          raw_value=m.group(0) if m else None, source="主管评分 备注",
                          rule=f"备注中的 {item.marker} 分数 (0-{item.max_points})",
                          evidence_ids=[f"rating:{r['rating_month']}:{agent}"] if r else [])
            if s.points is None:
                s.missing.append(f"{item.label}: 主管未在备注中填写 {item.marker} 分数 (0-{item.max_points})")
            out[agent] = s
        return ItemResult(out)


    ITEM = KpiItem(key="training", label="培训考试", rules_model=TrainingRules, score=training_scores)
''')
TOY_BLOCK = "  training:\n    label: 培训考试\n    max_points: 10\n    marker: 培训考试\n\n"


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("toy")
    mp = pytest.MonkeyPatch()
    (base / "kefu_toy_training.py").write_text(TOY_MODULE, encoding="utf-8")
    mp.syspath_prepend(str(base))
    mp.setenv(ITEM_MODULES_ENV, "kefu_toy_training")
    text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    text = text.replace("total_points: 130", "total_points: 140").replace("\ndeductions:", "\n" + TOY_BLOCK + "deductions:")
    rules = base / "rules_training.yaml"
    rules.write_text(text, encoding="utf-8")

    inbox = base / "inbox"
    generate(MONTH, inbox, agents=4, seed=3, messages=400)
    wb_path = inbox / "主管填报表.xlsx"
    wb = openpyxl.load_workbook(wb_path)
    ws = wb["主管评分"]
    note_col = [c.value for c in ws[1]].index("备注") + 1
    scores = {}
    for i, row in enumerate(ws.iter_rows(min_row=2), start=0):
        if row[1].value:
            scores[str(row[1].value)] = Decimal(6 + i)
            ws.cell(row=row[0].row, column=note_col, value=f"培训考试 {6 + i}")
    wb.save(wb_path)

    wh, out = base / "w.duckdb", base / "out"
    run_month(MonthJob(MONTH, inbox=inbox, warehouse=wh, out=out, rules=rules))
    yield base, wh, out, scores
    mp.undo()


def test_toy_item_is_in_payroll_csv_after_the_default_items(toy_run):
    _base, _wh, out, scores = toy_run
    rows = list(csv.DictReader(io.StringIO((out / MONTH / "payroll.csv").read_text("utf-8-sig"))))
    cols = list(rows[0])
    assert cols[: PAYROLL_COLUMNS.index("deductions")] == PAYROLL_COLUMNS[: PAYROLL_COLUMNS.index("deductions")]
    assert cols[PAYROLL_COLUMNS.index("deductions")] == "training_pts"
    got = {r["agent"]: Decimal(r["training_pts"]) for r in rows if r["agent"] in scores}
    assert got == {a: s.quantize(Decimal("0.01")) for a, s in scores.items()}
    # the item counts in the total: items (incl. 培训考试) − deductions + bonuses
    item_cols = [c for c in cols[4 : cols.index("deductions")] if c.endswith("_pts")]
    for r in rows:
        if r["status"] == "final":
            items = sum(Decimal(r[c]) for c in item_cols)
            assert Decimal(r["total_score"]) == items - Decimal(r["deductions"]) + Decimal(r["bonuses"])


def test_toy_item_is_in_payroll_xlsx_and_report(toy_run):
    _base, _wh, out, scores = toy_run
    wb = openpyxl.load_workbook(out / MONTH / "payroll.xlsx")
    header = [c.value for c in wb["工资表"][1]]
    assert "培训考试得分" in header and header.index("培训考试得分") == header.index("扣分合计") - 1
    detail = [[c.value for c in row] for row in wb["考核明细"].iter_rows(min_row=2)]
    assert sum(1 for r in detail if "培训考试" in r) == len(scores)
    html = (out / MONTH / "report.html").read_text("utf-8")
    assert html.count("培训考试") >= len(scores)
    assert "140" in html  # the run's total points, not the default 130


def test_toy_item_is_in_kefu_explain(toy_run):
    _base, wh, _out, scores = toy_run
    agent, pts = next(iter(scores.items()))
    res = CliRunner().invoke(app, ["explain", "-m", MONTH, "-a", agent, "-w", str(wh)])
    assert res.exit_code == 0, res.output
    assert "培训考试" in res.output and f"培训考试 {pts}" in res.output

