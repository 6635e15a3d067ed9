"""Stored (at-rest) masking: golden cases, length kept, column coverage, settings errors."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.ingest import IngestError, stage_inbox
from pipelines.report.mask import mask_known_nicks, mask_pii_stored, mask_text
from pipelines.staging import privacy
from pipelines.staging.schemas import TABLES
from pipelines.staging.stage import stage_batch


@pytest.mark.parametrize("raw, stored", [
    ("电话13812345678", "电话138****5678"),
    ("+86 138-1234-5678。", "+86 138******5678。"),
    ("座机0571-87654321", "座机0571*****4321"),
    ("身份证44030519851231002X", "身份证440305********002X"),
    ("id 110105199003071234, ok", "id 110105********1234, ok"),
    ("浙江省杭州市西湖区文三路100号3幢", "浙江省杭州市************"),
    ("寄到文三路12号", "********"),  # a street without a city: the whole run
    # not PII: order ids (19 digits), 18-digit ids without a birth date, plain text
    ("订单3012134162275783636", "订单3012134162275783636"),
    ("退款号201900221674209068", "退款号201900221674209068"),
    ("亲，请问有什么可以帮您", "亲，请问有什么可以帮您"),
    (None, None),
])
def test_stored_mask_golden(raw, stored):
    out = mask_pii_stored(pl.Series("t", [raw], dtype=pl.String))
    assert out.to_list() == [stored]
    if raw is not None:
        assert len(out[0]) == len(raw)  # character counts (agent_chars) do not move


def test_stored_mask_options_and_report_mask_agree_on_id_cards():
    s = pl.Series("t", ["13812345678 44030519851231002X 浙江省杭州市西湖区文三路1号"])
    assert mask_pii_stored(s, phones=False, addresses=False)[0] == "13812345678 440305********002X 浙江省杭州市西湖区文三路1号"
    assert pl.select(mask_text(pl.lit("身份证44030519851231002X"))).item() == "身份证440305********002X"


def test_known_nicks_are_masked_longest_first():
    out = pl.select(mask_known_nicks(pl.lit("我是tb_alice99, 不是tb_alice, 小美好"), ["tb_alice", "tb_alice99", "小美"])).item()
    assert out == "我是t**9, 不是t**e, 小美好"  # 2-character nicks are left alone (ordinary words)


def test_every_string_column_is_classified_once():
    for name, table in TABLES.items():
        strings = {c.name for c in table.cols if c.type == "str"}
        free, structural = set(privacy.FREE_TEXT.get(name, ())), set(privacy.STRUCTURAL.get(name, ()))
        assert not free & structural, name
        assert strings == free | structural, (name, strings ^ (free | structural))


def test_stage_batch_masks_free_text_and_quarantine_but_not_nicks():
    frame = pl.DataFrame({
        "refund_id": ["2019002216742090683", "2019002216742090684"],
        "order_id": ["3012729058182978114", "3012729058182978115"], "buyer": ["tb_13812345678", "tb_x"],
        "applied_at": ["2026-10-02 10:00:00", "2026-10-02 10:00:00"], "status": ["退款成功", "退款成功"],
        "refund_amount": ["10.00", "bad 13912345678"], "description": ["电话13812345678", "浙江省杭州市西湖区文三路1号"],
    })
    loaded, quarantine, counts = stage_batch("refunds", frame, "2026-10", "r.csv")
    assert counts.balanced and (counts.loaded, counts.quarantined) == (1, 1)
    assert loaded["description"].to_list() == ["电话138****5678"]
    assert loaded["buyer"].to_list() == ["tb_13812345678"]  # nicks stay: they link the tables
    q = quarantine.row(0, named=True)
    assert "13912345678" not in q["reason"] and "139****5678" in q["reason"]
    assert "文三路" not in q["raw"] and "13912345678" not in q["raw"]


def test_privacy_block_validation(tmp_path):
    assert privacy.parse_privacy(None).enabled
    assert not privacy.parse_privacy({"mask_phones": False, "mask_id_cards": False, "mask_addresses": False}).enabled
    for bad in ({"mask_phone": True}, {"mask_phones": "no"}, ["x"]):
        with pytest.raises(privacy.PrivacySettingsError):
            privacy.parse_privacy(bad)


def test_bad_privacy_block_is_an_ingest_error(tmp_path, monkeypatch):
    def boom(path=None):
        raise privacy.PrivacySettingsError("settings.yaml privacy: 无效")
    monkeypatch.setattr("pipelines.ingest.load_privacy", boom)
    (tmp_path / "a.csv").write_text("x\n1\n")
    with pytest.raises(IngestError, match="privacy"):
        stage_inbox("2026-10", tmp_path)


def test_mask_frame_masks_the_own_nick_in_sheet_names_and_conversation_ids():
    from pipelines.report.mask import mask_frame

    df = pl.DataFrame({"buyer": ["lucky1100679"], "source_sheet": ["lucky1100679"], "source_file": ["chats.xlsx"],
                       "conversation_id": ["店|店:小雅|lucky1100679|20261004193417"], "excerpt": ["好"]})
    out = mask_frame(df).row(0, named=True)
    assert out == {"buyer": "l**9", "source_sheet": "l**9", "source_file": "chats.xlsx",
                   "conversation_id": "店|店:小雅|l**9|20261004193417", "excerpt": "好"}


def test_console_quarantine_listing_masks_buyer_named_sheets(tmp_path, capsys):
    """`kefu ingest/run` list quarantined rows as file/sheet/row: a Qianniu sheet is named
    after its buyer, so the listing masks it."""
    import openpyxl

    from pipelines import cli
    from pipelines.ingest import IngestReport, stage_inbox

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "tb_secretbuyer88"
    ws.append(["客户名", "消息序号", "发送时间", "发送内容", "发送账号", "账号类型"])
    ws.append(["tb_secretbuyer88", 1, "2026-10-05 10:00:00", "在吗", "tb_secretbuyer88", "客户"])
    ws.append(["tb_secretbuyer88", 2, "不是时间", "你好", "店:小美", "客服"])
    (tmp_path / "in").mkdir()
    wb.save(tmp_path / "in" / "千牛聊天记录导出.xlsx")
    results, tables, quarantine = stage_inbox("2026-10", tmp_path / "in")
    assert quarantine.height == 1
    report = IngestReport("2026-10", "r1", results, tables, quarantine, [], [])
    cli.console.width = 200
    with cli.console.capture() as cap:
        cli.print_accounting(report)
    out = cap.get()
    assert "第3行" in out and "tb_secretbuyer88" not in out
