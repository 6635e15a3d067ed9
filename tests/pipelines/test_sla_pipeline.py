"""SLA workbooks: templates, readers, staging, the sample month end to end."""

from datetime import datetime as D
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines import readers
from pipelines.io.source import SourceFile
from tests.pipelines.sla_kit import run_sla
from pipelines.sla.sample import generate_sla
from pipelines.sla.templates import write_sla_templates
from contracts.sla import SLA_TABLES

RULES_TEXT = (Path(__file__).parents[2] / "data" / "sla_rules.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sample_results(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("sla_inbox")
    generate_sla("2026-10", inbox, seed=7)
    return run_sla("2026-10", inbox, None, RULES_TEXT)


def test_templates_are_recognised_by_their_reader(tmp_path):
    paths = write_sla_templates(tmp_path)
    got = {}
    for p in paths:
        reader, _ = readers.detect(SourceFile(p))
        got[p.name] = (reader.layout, sorted(b.kind for b in reader.read(SourceFile(p))), sum(b.frame.height for b in reader.read(SourceFile(p))))
    assert got == {
        "服务工单模板.xlsx": ("sla_tickets", ["sla_staff", "sla_tickets"], 0),
        "来电来函记录模板.xlsx": ("sla_calls", ["sla_calls"], 0),
        "备用件台账模板.xlsx": ("sla_parts", sorted(k for k in SLA_TABLES if k.startswith(("sla_part", "sla_stock", "sla_claims", "sla_station"))), 0),
    }
    headers = [c.value for c in openpyxl.load_workbook(paths[0]).active[1]]
    assert headers == [c.label for c in SLA_TABLES["sla_tickets"].cols]


def test_reader_tolerates_title_rows_aliases_and_quarantines_bad_rows(tmp_path):
    p = tmp_path / "工单.csv"
    p.write_text(
        "2026年10月 服务工单登记\n"
        "工单编号,报修时间,故障类别,服务半径,需配套厂家,服务人员,到达现场时间,备注列\n"
        "W1,2026-10-05 09:00,车身,100,否,王强,2026-10-06 09:00:00,x\n"
        "W2,2026/10/5 9:00,轮胎,20,否,王强,,y\n"
        "W3,昨天,车身,20,否,王强,,z\n",
        encoding="utf-8",
    )
    inbox = tmp_path
    res = run_sla("2026-10", inbox, None, RULES_TEXT)
    t = res.staged["sla_tickets"]
    assert t["ticket_id"].to_list() == ["W1"]
    assert t.row(0, named=True)["distance_km"] == 100.0 and t.row(0, named=True)["source_row"] == 3
    reasons = dict(res.quarantine.select("source_row", "reason").iter_rows())
    assert reasons == {4: "故障类别不是允许的值: '轮胎'", 5: "报修时间无法解析: '昨天'"}
    f = res.files[0]
    assert (f["rows_read"], f["loaded"], f["quarantined"]) == (3, 1, 2)
    assert "备注列" in f["notes"]
    assert res.ticket_sla.select("record_id", "status").rows() == [("W1", "met")]


def test_sample_month_boundary_cases(sample_results):
    r = sample_results
    assert r.as_of == D(2026, 11, 1)
    st = {(x["record_id"], x["rule_id"]): x["status"] for x in r.ticket_sla.filter(pl.col("record_id").str.starts_with("B-")).iter_rows(named=True)}
    assert st == {
        ("B-ONTIME", "body_onsite_24h"): "met",
        ("B-LATE1S", "body_onsite_24h"): "breached",
        ("B-100KM", "body_onsite_24h"): "met",
        ("B-100.1KM", "body_reply_12h"): "breached",
        ("B-SUPPLIER", "body_reply_12h"): "met",
        ("B-OPEN", "body_onsite_24h"): "running",
        ("B-OPENLATE", "body_onsite_24h"): "breached",
        ("B-SIGN", "chassis_engine_written_12h"): "met",
        ("B-NOCOMP", "chassis_engine_written_12h"): "met",
        ("B-NOREQ", "body_onsite_24h"): "met",
        ("B-NOTEAM", "body_onsite_24h"): "met",
        ("B-RUDE", "body_onsite_24h"): "met",
        ("B-CARRY", "body_onsite_24h"): "breached",  # received last month, re-exported open: breached this month
    }
    found = set(r.compliance.select("check", "record_id").iter_rows())
    for expected in [
        ("signature_before_completion", "B-SIGN"),
        ("missing_completion", "B-NOCOMP"),
        ("body_distance_missing", "B-NODIST"),
        ("warranty_part_no_requisition", "B-NOREQ"),
        ("claim_open_too_long", "SP-OLD90"),
        ("stock_mismatch", "P-1002@2026-10-31"),
    ]:
        assert expected in found
    assert {c for c, _ in found} >= {"old_part_not_returned", "part_issued_unapproved"}
    assert r.quarantine.height == 0
    for f in r.files:
        assert f["rows_read"] == f["loaded"] + f["quarantined"] + f["out_of_month"] + f["duplicates"]
    assert r.targets_met in (True, False)
    assert set(r.tables()) == {"ticket_sla", "sla_month", "sla_compliance", "sla_ledger", "sla_checks", "sla_courtesy",
                               "sla_station_ledger", "sla_claims_summary"}
    assert all(df["month"].unique().to_list() in ([], ["2026-10"]) for df in r.tables().values())


def test_now_sets_as_of_and_warnings(tmp_path):
    generate_sla("2026-10", tmp_path, seed=7)
    r = run_sla("2026-10", tmp_path, D(2026, 10, 31, 18), RULES_TEXT)
    assert r.as_of == D(2026, 10, 31, 18)
    w = r.warnings.filter(pl.col("record_id").str.starts_with("B-"))
    # B-OPENLATE's deadline is exactly now: 0 h left, still running
    # B-CARRY (received last month, nobody on site) is overdue by 716 h
    assert w.select("record_id", "level", "remaining_h").rows() == [("B-CARRY", "已超时", -716.0), ("B-OPENLATE", "即将超时", 0.0)]
    assert r.warnings["remaining_s"].is_sorted()


def test_sample_month_exercises_every_check(sample_results):
    r = sample_results
    checks = r.checks
    assert checks.filter(pl.col("status") != "已检查").height == 0
    no_findings = set(checks.filter(pl.col("findings") == 0)["check"])
    assert no_findings <= {"missing_signature", "satisfaction_out_of_range"}  # base checks kept as they were
    found = set(r.compliance.select("check", "record_id").iter_rows())
    for expected in [
        ("contact_archive_feedback", "B-NOCOMP"),
        ("fee_approval_remittance", "B-FEE"),
        ("courtesy", "B-RUDE/处理情况"),
        ("courtesy", "B-RUDE/用户意见"),
        ("report_approval_archive", "B-LATE1S"),
        ("major_issue_reported", "B-100.1KM"),
        ("old_part_brought_back", "B-SUPPLIER"),
    ]:
        assert expected in found
    # the edge twins are in time: exactly 24 h / exactly 3 days
    assert ("contact_archive_feedback", "B-SIGN") not in found and ("report_approval_archive", "B-ONTIME") not in found
    staff = r.sla_month.filter(pl.col("level") == "staff")
    assert staff["staff"].is_unique().all() and "(未分组)" not in staff["team"].to_list()  # B-NOTEAM's 王强 once
    assert r.courtesy.filter(pl.col("staff") == "赵磊")["met"].to_list() == [False]
    assert r.station_ledger["status"].to_list() == ["一致", "帐物不符"]
    yc = r.claims_summary.filter(pl.col("supplier") == "玉柴机器").row(0, named=True)
    assert (yc["unclaimed_parts"], yc["age_over_90"]) == (1, 1)


def test_kefu_sla_says_when_the_inbox_has_no_sla_workbook_and_when_rows_were_quarantined(tmp_path):
    """The notes the tests' twin once added are the production run's (one path)."""
    from typer.testing import CliRunner

    from pipelines.cli import app

    empty, bad = tmp_path / "empty", tmp_path / "bad"
    empty.mkdir()
    bad.mkdir()
    (bad / "工单.csv").write_text("工单编号,报修时间,故障类别\nW1,2026-10-05 09:00,车身\nW2,昨天,车身\n", encoding="utf-8")
    args = ["sla", "-m", "2026-10", "-w", str(tmp_path / "w.duckdb"), "-o", str(tmp_path / "out")]
    res = CliRunner().invoke(app, [*args, "-i", str(empty)])
    assert res.exit_code == 0, res.output
    assert "没有识别到服务工单/来电来函/备用件台账文件" in res.output.replace("\n", "")
    res = CliRunner().invoke(app, [*args, "-i", str(bad), "--replace"])
    assert "1 行数据有误已隔离" in res.output and "没有识别到" not in res.output
