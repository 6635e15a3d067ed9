"""A quarantined supervisor row never silently changes pay (issue 9 item 4): the agents it
names are ``incomplete`` with the reason; a row naming nobody blocks every agent."""

from __future__ import annotations

import dataclasses

import polars as pl

from pipelines.staging.stage import stage_batch
from scoring import score_month
from tests.scoring.golden_inputs import A1, A2, A4, M, golden_inputs


def quarantined(kind: str, rows: dict, file: str = "主管填报表.xlsx", sheet: str = "投诉维权") -> pl.DataFrame:
    """The quarantine rows the stager writes for ``rows`` (a reader frame of ``kind``)."""
    frame = pl.DataFrame(rows).with_columns(pl.lit(sheet).alias("source_sheet"))
    _, q, counts = stage_batch(kind, frame, M, file)
    assert counts.quarantined == frame.height
    return q


def status(result, agent: str) -> tuple[str, str | None]:
    row = result.payroll.filter(pl.col("agent") == agent).row(0, named=True)
    return row["status"], row["status_reason"]


def with_quarantine(q: pl.DataFrame):
    return dataclasses.replace(golden_inputs(), quarantine=q)


BAD_DATE_COMPLAINT = {
    "complaint_id": ["TS202610099"], "kind": ["投诉"], "agent_account": [A1], "received_at": ["10月3号下午"],
    "verified": ["是"], "deduction": ["15"], "source_row": [7],
}  # fmt: skip


def test_a_verified_complaint_with_an_unparseable_date_makes_its_agent_incomplete(rules):
    before = score_month(golden_inputs(), rules, M)
    assert status(before, A1) == ("final", None)
    after = score_month(with_quarantine(quarantined("complaints", BAD_DATE_COMPLAINT)), rules, M)
    st, reason = status(after, A1)
    assert st == "incomplete"
    assert "主管填报表.xlsx" in reason and "工作表 投诉维权" in reason and "第 7 行" in reason
    assert "发生时间无法解析: '10月3号下午'" in reason
    # the others keep their status and pay
    for agent in (A2, A4):
        assert status(after, agent) == status(before, agent)
    keep = ["agent", "total_score", "salary", "status"]
    assert after.payroll.filter(pl.col("agent") != A1).select(keep).equals(before.payroll.filter(pl.col("agent") != A1).select(keep))


def test_a_quarantined_row_naming_no_agent_blocks_every_agent(rules):
    rows = dict(BAD_DATE_COMPLAINT, agent_account=[None])
    result = score_month(with_quarantine(quarantined("complaints", rows)), rules, M)
    assert set(result.payroll["status"]) == {"incomplete"}
    assert all("所有客服暂不能定" in r for r in result.payroll["status_reason"])


def test_a_quarantined_roster_row_of_an_agent_found_nowhere_else_is_listed_incomplete(rules):
    rows = {"agent_account": ["店:新人"], "name": ["新人"], "role": ["实习生"], "source_row": [9]}
    result = score_month(with_quarantine(quarantined("roster", rows, sheet="客服名单")), rules, M)
    st, reason = status(result, "店:新人")
    assert st == "incomplete" and "客服名单" in reason and "岗位不是允许的值: '实习生'" in reason


def test_quarantined_rows_of_other_kinds_do_not_block_pay(rules):
    q = quarantined("refunds", {"refund_id": ["退款?"], "source_row": [3]}, file="r.csv", sheet=None)
    result = score_month(with_quarantine(q), rules, M)
    assert result.payroll.select("agent", "status").equals(score_month(golden_inputs(), rules, M).payroll.select("agent", "status"))
