"""Every warehouse table matches its contract (contracts/), and a frame that does not is
refused before anything is written."""

from datetime import datetime
from decimal import Decimal

import polars as pl
import pytest

import contracts
from contracts import ContractError
from pipelines import warehouse
from pipelines.monthly import SAMPLE_INBOX, MonthJob, run_month
from pipelines.publish import MonthBuild
from pipelines.sla.run import run_sla_month
from pipelines.sla.sample import generate_sla

# written by the warehouse/publish bookkeeping itself, not by a step (see pipelines/warehouse.py)
BOOKKEEPING = {"runs", "run_files", "publications", "table_files"}


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory):
    """The bundled sample month (KPI) and the SLA sample month, published into one warehouse."""
    base = tmp_path_factory.mktemp("contracts")
    wh = base / "w.duckdb"
    run_month(MonthJob("2026-10", inbox=SAMPLE_INBOX, warehouse=wh, out=base / "out"))
    generate_sla("2026-10", base / "sla_in", seed=7)
    run_sla_month("2026-10", base / "sla_in", wh, out=base / "out", now=datetime(2026, 10, 31, 18))
    return wh


def test_every_warehouse_table_matches_its_contract(sample_warehouse):
    tables = set(warehouse.tables(sample_warehouse)) - BOOKKEEPING
    assert tables == set(contracts.TABLES), "a table without a contract, or a contract no run writes"
    bad = {}
    for t in sorted(tables):
        frame = warehouse.read(t, path=sample_warehouse)
        if found := contracts.problems(contracts.contract(t), frame):
            bad[t] = found
    assert bad == {}
    # the sample month is not trivially empty: the check saw real rows
    assert warehouse.read("payroll", path=sample_warehouse).height == 8
    assert warehouse.read("ticket_sla", path=sample_warehouse).height > 100


def test_staged_contract_columns_and_labels():
    refunds = contracts.contract("refunds")
    assert refunds.stored_names[-4:] == ["source_file", "source_sheet", "source_row", "month"]
    assert refunds.schema()["refund_amount"] == pl.Decimal(14, 2)
    assert refunds.labels()["refund_amount"] == "买家退款金额"
    pay = contracts.contract("payroll")
    assert pay.schema()["refund_rate"] == pl.Decimal(12, 6) and pay.labels()["salary"] == "应发工资"
    assert contracts.contract("payroll_history").stored_names[-2:] == ["run_id", "rules_hash"]


def _payroll_row(**over) -> pl.DataFrame:
    row = {c: None for c in contracts.contract("payroll").stored_names}
    row.update(month="2026-10", agent="店:小美", salary=Decimal("1234.50"), **over)
    return pl.DataFrame([row], schema=contracts.contract("payroll").schema())


def test_check_names_missing_extra_and_mistyped_columns():
    good = _payroll_row()
    assert contracts.check("payroll", good) is good
    with pytest.raises(ContractError) as e:
        contracts.check("payroll", good.drop("status").with_columns(pl.col("salary").cast(pl.Float64), pl.lit(1).alias("bogus")))
    msg = str(e.value)
    assert "缺少列 status" in msg and "列 salary 类型为 Float64, 应为 Decimal(precision=14, scale=2)" in msg and "多出列 bogus" in msg
    with pytest.raises(ContractError, match="表 no_such_table 没有约定"):
        contracts.check("no_such_table", good)


def test_rules_file_items_may_add_payroll_columns_of_the_item_types():
    extra = _payroll_row().with_columns(pl.lit(Decimal("8.00")).cast(pl.Decimal(10, 2)).alias("training_pts"))
    assert contracts.check("payroll", extra).columns[-1] == "training_pts"
    with pytest.raises(ContractError, match="training_pts"):
        contracts.check("payroll", extra.with_columns(pl.col("training_pts").cast(pl.Float64)))


def test_sla_claim_age_buckets_follow_the_rules_file():
    row = {"supplier": "甲厂", "month": "2026-10", "age_le_45": 1, "age_over_45": 0}
    frame = pl.DataFrame([row]).with_columns(pl.lit(None, t).alias(c) for c, t in contracts.contract("sla_claims_summary").schema().items() if c not in row)
    assert contracts.check("sla_claims_summary", frame) is frame
    with pytest.raises(ContractError, match="多出列 age_under_45"):
        contracts.check("sla_claims_summary", frame.rename({"age_le_45": "age_under_45"}))


def test_an_empty_frame_is_written_as_the_contract_empty_table():
    out = contracts.check("conversations", pl.DataFrame({"month": pl.Series([], dtype=pl.String)}))
    assert out.height == 0 and out.schema == contracts.contract("conversations").schema()


def test_a_build_refuses_a_frame_off_contract(tmp_path):
    build = MonthBuild("2026-10", tmp_path / "w.duckdb", tmp_path / "out")
    frame = _payroll_row().with_columns(pl.col("total_score").cast(pl.Float64))
    with pytest.raises(ContractError, match="total_score"):
        build.write("payroll", frame)
    assert "payroll" not in build.replaced and not any(build.tables_dir.iterdir())
    build.write("payroll", _payroll_row())
    assert "payroll" in build.replaced
    build.discard()
