"""Ingest of a whole inbox: recognition by content, row accounting, idempotence,
atomic failure, manifest pins, unrecognised files, roster gaps."""

import shutil

import polars as pl
import pytest

from pipelines import warehouse
from pipelines.ingest import IngestError, ingest, stage_inbox
from pipelines.sample import generate
from pipelines.staging.schemas import TABLES

MONTH = "2026-10"
PARTIAL = {"chats", "orders", "refunds", "attendance", "workbook"}  # inboxes that are not a whole month on purpose


@pytest.fixture(scope="module")
def sample_inbox(tmp_path_factory):
    inbox = tmp_path_factory.mktemp("inbox")
    summary = generate(MONTH, inbox, agents=6, seed=3)
    return inbox, summary


def copy_inbox(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_every_file_recognised_and_rows_accounted(sample_inbox, tmp_path):
    inbox, summary = sample_inbox
    rep = ingest(MONTH, inbox, tmp_path / "w.duckdb")
    acc = rep.accounting()
    assert rep.unrecognised == []
    layouts = dict(zip(acc["file_name"], acc["layout"]))
    for f in summary.files:
        assert layouts[f.name] == f.layout, f.name
    # rows in = loaded + quarantined + out of month + duplicates, for every file and kind
    assert (acc["rows_read"] == acc["loaded"] + acc["quarantined"] + acc["out_of_month"] + acc["duplicates"]).all()
    msgs = acc.filter(pl.col("kind") == "messages")
    truth = summary.truth
    assert msgs["rows_read"].sum() == truth["message_rows"]
    assert msgs["duplicates"].sum() == truth["duplicate_messages"]
    assert msgs["quarantined"].sum() == truth["bad_rows"]["message_bad_time"] + truth["bad_rows"]["message_missing_buyer"]
    assert rep.rows["messages"] == msgs["loaded"].sum()
    assert warehouse.read("messages", month=MONTH, path=tmp_path / "w.duckdb").height == msgs["loaded"].sum()
    refunds = acc.filter(pl.col("kind") == "refunds")
    assert refunds["duplicates"].sum() == truth["duplicate_refunds"]
    assert rep.rows["refunds"] == truth["refunds"]  # distinct good refunds (bad rows are extra)
    reasons = set(rep.quarantine["reason"].to_list())
    assert "买家退款金额不能为负数/小于0: -35.00" in reasons
    assert "退款状态不是允许的值: '退款暂停中'" in reasons
    # the accounting is stored with the run
    files = warehouse.read("run_files", path=tmp_path / "w.duckdb")
    assert files["rows_read"].sum() == acc["rows_read"].sum()
    assert files["sha256"].null_count() == 0


def test_rerun_is_idempotent(sample_inbox, tmp_path):
    inbox, _ = sample_inbox
    wh = tmp_path / "w.duckdb"
    ingest(MONTH, inbox, wh)
    first = {t: warehouse.read(t, month=MONTH, path=wh) for t in ("messages", "refunds", "orders", "roster", "quarantine")}
    ingest(MONTH, inbox, wh)
    for t, before in first.items():
        after = warehouse.read(t, month=MONTH, path=wh)
        assert after.height == before.height, t
        assert after.sort(after.columns).equals(before.sort(before.columns)), t
    runs = warehouse.read("runs", path=wh)
    assert runs.filter(pl.col("step") == "ingest-kpi").height == 2


def test_unreadable_file_fails_before_touching_the_warehouse(sample_inbox, tmp_path):
    inbox = copy_inbox(sample_inbox[0], tmp_path / "inbox")
    wh = tmp_path / "w.duckdb"
    ingest(MONTH, inbox, wh)
    before = warehouse.read("messages", month=MONTH, path=wh)
    (inbox / "新导出.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    (inbox / "extra.csv").write_text("店铺,客服账号,买家,发送方,发送方角色,发送时间,内容\n店,店:新,买家,买家,买家,2026-10-02 10:00:00,新消息\n", encoding="utf-8")
    with pytest.raises(IngestError, match="新导出.xlsx"):
        ingest(MONTH, inbox, wh)
    after = warehouse.read("messages", month=MONTH, path=wh)
    assert after.height == before.height
    runs = warehouse.read("runs", path=wh)
    assert runs.filter(pl.col("step") == "ingest-kpi").height == 1  # the failed run changed nothing...
    log = (tmp_path / "w.duckdb.failures.jsonl").read_text("utf-8")
    assert "新导出.xlsx" in log  # ...and is logged beside the warehouse


def test_binary_file_is_fatal_and_unknown_table_is_listed(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "notes.csv").write_text("标题,作者\n月报,张三\n", encoding="utf-8")
    rep = ingest(MONTH, inbox, tmp_path / "w.duckdb", allow_missing=PARTIAL)
    assert [f.file_name for f in rep.unrecognised] == ["notes.csv"]
    (inbox / "photo.csv").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(IngestError, match="photo.csv"):
        ingest(MONTH, inbox, tmp_path / "w.duckdb", allow_missing=PARTIAL)


def test_manifest_pin_of_wrong_kind_is_fatal_and_right_pin_loads(sample_inbox, tmp_path):
    inbox = copy_inbox(sample_inbox[0], tmp_path / "inbox")
    refund_file = next(f.name for f in sample_inbox[1].files if f.layout == "refunds")
    (inbox / "kefu-manifest.yaml").write_text(f"files:\n  '{refund_file}': dingtalk_attendance\n", encoding="utf-8")
    with pytest.raises(IngestError, match="清单指定为 dingtalk_attendance"):
        stage_inbox(MONTH, inbox)
    (inbox / "kefu-manifest.yaml").write_text(f"files:\n  '{refund_file}': refunds\n", encoding="utf-8")
    results, tables, _ = stage_inbox(MONTH, inbox)
    assert tables["refunds"].height > 0
    (inbox / "kefu-manifest.yaml").write_text("files:\n  a.csv: no_such_layout\n", encoding="utf-8")
    with pytest.raises(IngestError, match="未知的文件类型"):
        stage_inbox(MONTH, inbox)


def test_messages_outside_the_month_are_counted_not_loaded(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    rows = [
        "店铺,客服账号,买家,发送方,发送方角色,发送时间,内容",
        "店,店:小美,买家甲,买家甲,买家,2026-09-30 23:59:59,九月",
        "店,店:小美,买家甲,买家甲,买家,2026-10-01 00:00:00,十月",
        "店,店:小美,买家甲,店:小美,客服,2026-10-31 23:59:59,十月底",
        "店,店:小美,买家甲,买家甲,买家,2026-11-01 00:00:00,十一月",
    ]
    (inbox / "chat.csv").write_bytes(("\n".join(rows) + "\n").encode("gbk"))
    rep = ingest(MONTH, inbox, tmp_path / "w.duckdb", allow_missing=PARTIAL)
    acc = rep.accounting().row(0, named=True)
    assert (acc["rows_read"], acc["loaded"], acc["out_of_month"], acc["encoding"]) == (4, 2, 2, "gb18030")
    assert warehouse.read("messages", month=MONTH, path=tmp_path / "w.duckdb")["text"].to_list() == ["十月", "十月底"]
    assert rep.unknown_agents == ["店:小美"]  # no roster in this inbox


def test_sla_workbooks_in_the_kpi_inbox_are_listed_not_loaded(tmp_path):
    from pipelines.sla.sample import generate_sla

    inbox = tmp_path / "inbox"
    generate_sla(MONTH, inbox, 7)
    rep = ingest(MONTH, inbox, tmp_path / "w.duckdb", allow_missing=PARTIAL)
    assert {f.status for f in rep.files} == {"other_domain"}
    sla = ingest(MONTH, inbox, tmp_path / "w.duckdb", domain="sla")
    assert sla.tables["sla_tickets"].height > 0
    # the KPI month is untouched by the SLA ingest and vice versa
    assert set(warehouse.tables(tmp_path / "w.duckdb")) >= {"sla_tickets", "messages", "quarantine", "sla_quarantine"}


def test_every_canonical_table_is_written_even_when_empty(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    ingest(MONTH, inbox, tmp_path / "w.duckdb", allow_missing=PARTIAL)
    have = set(warehouse.tables(tmp_path / "w.duckdb"))
    assert {t for t in TABLES if not t.startswith("sla_")} <= have
