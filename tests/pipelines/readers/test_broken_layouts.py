"""A file that looks like a known layout but lacks a required column is an ingest error
naming the file, the layout it resembles and the missing columns (issue 9 item 3).

Fixtures are the bundled sample month's real-layout exports (data/sample/2026-10), edited."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines import readers
from pipelines.ingest import IngestError, stage_inbox
from pipelines.io.encoding import decode

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "sample" / "2026-10"
REFUNDS = SAMPLE / "ExportRefundList202611011030.csv"
MONTH = "2026-10"


def csv_rows(path: Path) -> list[list[str]]:
    text, _ = decode(path.read_bytes())
    return list(csv.reader(io.StringIO(text)))


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[str]], title: str = "Sheet1") -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for r in rows:
        ws.append(r)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def rename(rows: list[list[str]], old: str, new: str) -> list[list[str]]:
    header = [new if h.strip() == old else h for h in rows[0]]
    assert header != rows[0], old
    return [header] + rows[1:]


def drop(rows: list[list[str]], name: str) -> list[list[str]]:
    j = [h.strip() for h in rows[0]].index(name)
    return [r[:j] + r[j + 1 :] for r in rows]


def ingest_error(inbox: Path) -> str:
    with pytest.raises(IngestError) as exc:
        stage_inbox(MONTH, inbox)
    return str(exc.value)


WRITERS = {
    "utf8.csv": lambda p, rows: write_csv(p, rows, "utf-8"),
    "gbk.csv": lambda p, rows: write_csv(p, rows, "gb18030"),
    "x.xlsx": write_xlsx,
}


@pytest.mark.parametrize("variant", sorted(WRITERS))
def test_renamed_refund_id_header_is_an_error_naming_file_layout_and_column(tmp_path, variant):
    path = WRITERS[variant](tmp_path / "in" / f"退款_{variant}", rename(csv_rows(REFUNDS), "退款编号", "退款单号"))
    msg = ingest_error(path.parent)
    assert path.name in msg and "退款管理导出" in msg and "退款编号" in msg


@pytest.mark.parametrize("variant", sorted(WRITERS))
def test_dropped_refund_amount_column_is_an_error_not_empty_amounts(tmp_path, variant):
    path = WRITERS[variant](tmp_path / "in" / f"退款_{variant}", drop(csv_rows(REFUNDS), "买家退款金额"))
    msg = ingest_error(path.parent)
    assert path.name in msg and "退款管理导出" in msg and "缺少必需的列" in msg and "买家退款金额" in msg


def test_same_refund_rows_in_every_format_stage_to_the_same_frame(tmp_path):
    rows = csv_rows(REFUNDS)
    frames = []
    for variant, write in sorted(WRITERS.items()):
        write(tmp_path / variant / f"r_{variant}", rows)
        results, tables, _ = stage_inbox(MONTH, tmp_path / variant)
        assert [f.layout for f in results] == ["refunds"]
        frames.append(tables["refunds"].drop("source_file", "source_sheet"))
    assert frames[0].height == len(rows) - 1
    for f in frames[1:]:
        assert f.equals(frames[0])


def test_refund_rows_without_an_amount_are_quarantined(tmp_path):
    rows = csv_rows(REFUNDS)
    j = [h.strip() for h in rows[0]].index("买家退款金额")
    rows[1][j] = ""
    write_csv(tmp_path / "in" / "r.csv", rows)
    results, tables, q = stage_inbox(MONTH, tmp_path / "in")
    assert q.filter(pl.col("source_row") == 2)["reason"].to_list() == ["缺少买家退款金额"]
    assert tables["refunds"]["refund_amount"].null_count() == 0
    assert results[0].counts["refunds"].balanced


def _sample_grid(name: str) -> list[list[str]]:
    path = SAMPLE / name
    if path.suffix == ".csv":
        return csv_rows(path)
    wb = openpyxl.load_workbook(path, read_only=True)
    return [["" if v is None else str(v) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)]


@pytest.mark.parametrize(
    ("sample", "old", "layout_text"),
    [
        ("ExportOrderList202611011025.csv", "订单编号", "订单报表（旧版"),
        ("订单报表-2026-11-01.csv", "订单编号", "订单报表（新版"),
        ("ExportOrderList202611011025.csv", "订单付款时间", "订单报表（旧版"),
        ("export_20261101_093512.csv", "发送时间", "一行一条消息的聊天记录表"),
    ],
)
def test_renamed_required_header_in_other_csv_layouts(tmp_path, sample, old, layout_text):
    path = write_csv(tmp_path / "in" / "f.csv", rename(_sample_grid(sample), old, old + "X"))
    msg = ingest_error(path.parent)
    assert "f.csv" in msg and layout_text in msg and old in msg


def test_supervisor_roster_without_agent_column_is_an_error(tmp_path):
    rows = [["客服账号X", "姓名", "岗位", "钉钉姓名", "入职日期"], ["店:甲", "甲", "普通售后客服", "", "2026-01-01"]]
    path = write_xlsx(tmp_path / "in" / "名单.xlsx", rows, "客服名单")
    msg = ingest_error(path.parent)
    assert "名单.xlsx" in msg and "主管填报表" in msg and "客服账号" in msg


def test_supervisor_sheet_lacking_a_required_column_in_a_recognised_workbook(tmp_path):
    # the complaints sheet lost its 扣分 column: verified complaints would deduct nothing
    path = _renamed_workbook("主管填报表.xlsx", "扣分", "扣 分数", tmp_path / "in" / "主管填报表.xlsx")
    msg = ingest_error(path.parent)
    assert "主管填报表.xlsx" in msg and "投诉维权" in msg and "扣分" in msg


def test_qianniu_sheet_without_time_column_is_an_error(tmp_path):
    header = ["客户名", "消息序号", "发送内容", "发送账号", "账号类型"]
    path = write_xlsx(tmp_path / "in" / "qn.xlsx", [header, ["b1", "1", "在吗", "b1", "客户"]], "b1")
    msg = ingest_error(path.parent)
    assert "qn.xlsx" in msg and "千牛聊天记录" in msg and "发送时间" in msg


def test_chat_json_without_sender_is_an_error(tmp_path):
    obj = {"user": "b1", "exportTime": "2026-11-01", "chats": [{"date": "2026-10-01", "time": "09:00:00", "text": "在吗"}]}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "c.json").write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    msg = ingest_error(tmp_path / "in")
    assert "c.json" in msg and "JSON聊天记录" in msg and "sender" in msg


def _renamed_workbook(sample: str, old: str, new: str, dst: Path) -> Path:
    wb = openpyxl.load_workbook(SAMPLE / sample)
    hits = [c for ws in wb.worksheets for row in ws.iter_rows(max_row=8) for c in row if c.value == old]
    assert hits, old
    for c in hits:
        c.value = new
    dst.parent.mkdir(parents=True, exist_ok=True)
    wb.save(dst)
    return dst


def test_dingtalk_without_name_column_is_an_error(tmp_path):
    path = _renamed_workbook("优品家居旗舰店_月度汇总_202610.xlsx", "姓名", "员工", tmp_path / "in" / "考勤.xlsx")
    msg = ingest_error(path.parent)
    assert "考勤.xlsx" in msg and "钉钉考勤" in msg and "姓名" in msg


def test_sycm_without_nick_column_is_an_error(tmp_path):
    rows = [["旺旺昵称X", "咨询人数", "接待人数", "旺旺回复率", "平均响应时长", "3分钟人工响应率", "慢响应人数"],
            ["店:甲", "10", "10", "100%", "20", "90%", "0"]]  # fmt: skip
    path = write_xlsx(tmp_path / "in" / "sycm.xlsx", rows, "数据信息")
    msg = ingest_error(path.parent)
    assert "sycm.xlsx" in msg and "生意参谋" in msg and "旺旺昵称" in msg


def test_an_unrelated_table_stays_unrecognised(tmp_path):
    write_csv(tmp_path / "in" / "notes.csv", [["日期", "事项", "负责人"], ["2026-10-01", "盘点", "甲"]])
    results, _, _ = stage_inbox(MONTH, tmp_path / "in")
    assert [f.status for f in results] == ["unrecognised"]


def test_a_crashing_sniff_is_an_error_naming_file_and_layout(tmp_path, monkeypatch):
    write_csv(tmp_path / "in" / "r.csv", csv_rows(REFUNDS))
    reader = readers.get("stats_chitu")

    def boom(src):
        raise KeyError("bug")

    monkeypatch.setattr(reader, "sniff", boom)
    msg = ingest_error(tmp_path / "in")
    assert "r.csv" in msg and "stats_chitu" in msg and "KeyError" in msg


def test_a_manifest_pin_to_a_layout_the_file_breaks_names_the_missing_columns(tmp_path):
    path = write_csv(tmp_path / "in" / "r.csv", rename(csv_rows(REFUNDS), "退款编号", "单号"))
    (tmp_path / "in" / "kefu-manifest.yaml").write_text("files:\n  r.csv: refunds\n", encoding="utf-8")
    msg = ingest_error(path.parent)
    assert "r.csv" in msg and "退款管理导出" in msg and "退款编号" in msg
