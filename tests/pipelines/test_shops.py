"""Many shops share one warehouse (issue 13): every published table carries a shop key, a
shop's run replaces only its own rows, and each shop reads back only its own month."""

from __future__ import annotations

from pipelines import warehouse
from pipelines.monthly import SAMPLE_INBOX, MonthJob, run_month
from pipelines.report.group import write_group_summary
from pipelines.sample import generate

MONTH = "2026-10"


def test_two_shops_in_one_warehouse_equal_two_one_shop_warehouses(tmp_path):
    other = tmp_path / "other_inbox"
    generate(MONTH, other, agents=3, seed=12)
    shared = tmp_path / "shared.duckdb"
    run_month(MonthJob(MONTH, inbox=SAMPLE_INBOX, warehouse=shared, out=tmp_path / "out" / "a", shop="a"))
    run_month(MonthJob(MONTH, inbox=other, warehouse=shared, out=tmp_path / "out" / "b", shop="b"))
    alone_a, alone_b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    run_month(MonthJob(MONTH, inbox=SAMPLE_INBOX, warehouse=alone_a, out=tmp_path / "alone_a"))
    run_month(MonthJob(MONTH, inbox=other, warehouse=alone_b, out=tmp_path / "alone_b"))
    for shop, alone in (("a", alone_a), ("b", alone_b)):
        for table in ("payroll", "kpi_items", "messages", "agent_month_metrics"):
            mine = warehouse.read(table, month=MONTH, path=shared, shop=shop)
            ref = warehouse.read(table, month=MONTH, path=alone, shop="")
            assert mine.sort(mine.columns).equals(ref.sort(ref.columns)), (shop, table)
    # the shop's own folder holds the same payroll.csv as a one-shop run
    assert (tmp_path / "out" / "a" / MONTH / "payroll.csv").read_bytes() == (tmp_path / "alone_a" / MONTH / "payroll.csv").read_bytes()
    # re-running shop a leaves shop b's rows alone
    b_before = warehouse.read("payroll", month=MONTH, path=shared, shop="b")
    run_month(MonthJob(MONTH, inbox=SAMPLE_INBOX, warehouse=shared, out=tmp_path / "out" / "a", shop="a"))
    assert warehouse.read("payroll", month=MONTH, path=shared, shop="b").equals(b_before)
    assert warehouse.read("payroll", month=MONTH, path=shared).height == 8 + b_before.height
    # the group summary: one row per shop, totals of final rows
    out = write_group_summary(shared, MONTH, tmp_path / "group")
    lines = out["shops.csv"].read_text("utf-8-sig").splitlines()
    assert len(lines) == 3 and lines[1].startswith("a,8,7,1,") and lines[2].startswith("b,3,")
    assert "¥17,861.54" in lines[1]  # = the sample month's reconciled 工资总额
