"""Minimal reproducers of the crashes the reader fuzzer found (each was fixed in the reader
or in pipelines/io); every one must end as loaded rows or a clear IngestError."""

from __future__ import annotations

import io
import json
import zipfile

import openpyxl
import pytest

from pipelines.ingest import IngestError, stage_inbox
from pipelines.io.source import UnreadableFile

MONTH = "2026-10"
HEADER = ["客户名", "消息序号", "发送时间", "发送内容", "发送账号", "账号类型"]


def _balanced(results):
    return all(c.balanced for f in results for c in f.counts.values())


def test_qianniu_sheets_with_different_columns_load(tmp_path):
    """Sheets whose headers differ (one lacks 消息序号) used to fail: 'schema names differ'."""
    wb = openpyxl.Workbook()
    a = wb.active
    a.title = "tb_buyer_a"
    a.append(HEADER)
    a.append(["tb_buyer_a", 1, "2026-10-05 10:00:00", "在吗", "tb_buyer_a", "客户"])
    a.append(["tb_buyer_a", 2, "2026-10-05 10:00:30", "您好", "店铺:小美", "客服"])
    b = wb.create_sheet("tb_buyer_b")
    b.append([h for h in HEADER if h != "消息序号"])
    b.append(["tb_buyer_b", "2026-10-06 11:00:00", "发货了吗", "tb_buyer_b", "客户"])
    b.append(["tb_buyer_b", "2026-10-06 11:00:20", "已发货", "店铺:小美", "客服"])
    wb.save(tmp_path / "千牛聊天记录导出.xlsx")
    results, tables, _ = stage_inbox(MONTH, tmp_path)
    assert results[0].layout == "qianniu_sheets" and _balanced(results)
    assert tables["messages"].height == 4
    assert sorted(tables["messages"]["buyer"].unique()) == ["tb_buyer_a", "tb_buyer_b"]


def test_truncated_json_chat_export_is_a_clear_error(tmp_path):
    """Broken JSON used to surface as '读取失败 (ValueError: ...)' from the catch-all."""
    doc = {"user": "tb_x", "exportTime": "2026-11-01 10:00:00", "count": 1,
           "chats": [{"date": "2026-10-05", "time": "10:00:00", "sender": "tb_x", "text": "在吗"}]}
    (tmp_path / "chats_1.json").write_text(json.dumps(doc, ensure_ascii=False)[:-7], "utf-8")
    with pytest.raises(IngestError, match="JSON聊天记录无法解析") as e:
        stage_inbox(MONTH, tmp_path)
    assert isinstance(e.value.__cause__, UnreadableFile)


@pytest.mark.parametrize("eol", ["\r", "\n"])
def test_lone_carriage_return_in_a_csv_cell_loads(tmp_path, eol):
    """A bare CR inside an unquoted cell used to raise csv.Error ('new-line character seen
    in unquoted field'), turned into '读取失败' by the catch-all; a file with CR-only line
    ends then read as 0 rows."""
    lines = ["店铺,客服账号,买家,发送方,发送方角色,发送时间,内容",
             "店铺,店铺:小美,tb_a,tb_a,买家,2026-10-05 10:00:00,在吗\r还在吗",
             "店铺,店铺:小美,tb_a,店铺:小美,客服,2026-10-05 10:00:30,您好"]
    (tmp_path / "export.csv").write_text(eol.join(lines) + eol, "utf-8", newline="")
    results, tables, quarantine = stage_inbox(MONTH, tmp_path)
    assert results[0].layout == "chat_flat" and _balanced(results)
    assert results[0].counts["messages"].rows_read >= 2
    assert tables["messages"].height >= 1


def test_workbook_with_unsupported_zip_version_is_a_clear_error(tmp_path):
    """zipfile raises NotImplementedError('zip file version ...'), not BadZipFile."""
    wb = openpyxl.Workbook()
    wb.active.append(["a", "b"])
    buf = io.BytesIO()
    wb.save(buf)
    data = bytearray(buf.getvalue())
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 99  # 'version needed to extract' 9.9
    with pytest.raises(NotImplementedError):
        zipfile.ZipFile(io.BytesIO(bytes(data)))
    (tmp_path / "主管填报表.xlsx").write_bytes(bytes(data))
    with pytest.raises(IngestError) as e:
        stage_inbox(MONTH, tmp_path)
    assert isinstance(e.value.__cause__, UnreadableFile)


def test_lone_carriage_return_in_an_unknown_text_file_is_not_a_sniff_crash(tmp_path):
    """chat_flat's diagnose read the sample with csv.reader without newline='': a lone CR
    raised csv.Error, reported as '识别格式 chat_flat 时出错' (a SniffError) for any text file."""
    (tmp_path / "notes.txt").write_bytes("2026-10-05 说明\ttab\r更多文字 x\n第二行\n".encode("utf-8"))
    results, _, _ = stage_inbox(MONTH, tmp_path)
    assert results[0].status == "unrecognised"

