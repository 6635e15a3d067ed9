"""Issue 9 item 8: PII planted in every input kind of a generated month never leaves masked-only
places. Phones, ID cards and addresses: nowhere (warehouse text columns included); buyer
nicks: only in the warehouse. Masking changes no metric and no pay."""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.monthly import MonthJob, run_month
from pipelines.sample.month import generate
from pipelines.staging import privacy

MONTH = "2026-10"
PHONE, PHONE_SEP, LANDLINE = "13987654321", "139-8765-4321", "0755-86001234"
ID_CARD, ID_CARD_LOWER = "44030519851231002X", "110105199003071234"
ADDRESS = "广东省深圳市南山区科技园路88号"
PII = f" 电话{PHONE} 或 {PHONE_SEP} 座机{LANDLINE} 身份证{ID_CARD} 另一张{ID_CARD_LOWER} 地址{ADDRESS} 收件"
# what must never appear once masked (the kept parts 139/4321, 440305/002X, 广东省深圳市 may)
FORBIDDEN = ("13987654321", "8765-4321", "87654321", "86001234", "19851231", "19900307",
             "南山区", "科技园路")


def _plant_text_csv(path: Path, columns: tuple[str, ...], every: int = 1) -> None:
    raw = path.read_bytes()
    enc = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError:
        enc, text = "gbk", raw.decode("gbk")
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]]
    idx = [header.index(c) for c in columns if c in header]
    assert idx, (path.name, columns)
    for n, row in enumerate(rows[1:]):
        if n % every == 0:
            for i in idx:
                if i < len(row):
                    row[i] = row[i] + PII
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(enc))


def _plant_xlsx(path: Path, header_names: tuple[str, ...], every: int = 1) -> int:
    wb = openpyxl.load_workbook(path)
    planted = 0
    for ws in wb.worksheets:
        cols: dict[int, int] = {}
        for row in ws.iter_rows():
            names = {c.column: str(c.value).strip() for c in row if c.value is not None}
            hits = [col for col, v in names.items() if v in header_names]
            if hits and not cols:
                cols = {col: 0 for col in hits}
                continue
            for col in cols:
                cell = ws.cell(row=row[0].row, column=col)
                if cell.value not in (None, "") and isinstance(cell.value, str) and planted % every == 0:
                    cell.value = cell.value + PII
                planted += 1
    wb.save(path)
    return planted


def _plant_month(inbox: Path) -> None:
    for p in sorted(inbox.iterdir()):
        name = p.name
        if name.startswith("export_") and name.endswith(".csv"):  # flat chat CSV
            _plant_text_csv(p, ("内容",), every=7)
        elif name.startswith("chatlog_"):
            raw = p.read_bytes()
            enc = "utf-8" if raw.isascii() or _utf8(raw) else "gbk"
            lines = raw.decode(enc).split("\n")
            for i in range(1, len(lines)):
                if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", lines[i - 1].strip()) and i % 5 == 0:
                    lines[i] = lines[i].rstrip("\r") + PII
            p.write_bytes("\n".join(lines).encode(enc))
        elif name.startswith("chats_") and name.endswith(".json"):
            doc = json.loads(p.read_text("utf-8"))
            assert _plant_json(doc, [0])
            p.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
        elif name.startswith("千牛聊天记录导出"):
            assert _plant_xlsx(p, ("发送内容",), every=6)
        elif "Order" in name or name.startswith("订单报表"):
            _plant_text_csv(p, ("收货地址", "联系手机", "买家留言", "商家备注", "订单备注"))
        elif "Refund" in name or name.startswith("退款管理"):
            _plant_text_csv(p, ("买家退款说明", "买家退款原因", "商家备注", "卖家退货地址"))
        elif name == "主管填报表.xlsx":
            assert _plant_xlsx(p, ("备注", "处理结果", "评价内容"))
        elif "月度汇总" in name:
            assert _plant_xlsx(p, ("职位", "工号"))
        elif "咨询接待分析" in name:
            wb = openpyxl.load_workbook(p)
            ws = wb.worksheets[0]
            head = next(c for row in ws.iter_rows() for c in row if c.value == "咨询人数")
            ws.cell(row=head.row + 1, column=head.column).value = PII  # quarantined with its raw row
            wb.save(p)


def _plant_json(node, seen: list[int]) -> int:
    """Append PII to every 3rd message text of any JSON chat layout (keys text/content/msg)."""
    if isinstance(node, list):
        return sum(_plant_json(x, seen) for x in node)
    if not isinstance(node, dict):
        return 0
    n = 0
    for k, v in node.items():
        if k in ("text", "content", "msg", "message") and isinstance(v, str):
            seen[0] += 1
            if seen[0] % 3 == 1:
                node[k] = v + PII
                n += 1
        else:
            n += _plant_json(v, seen)
    return n


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _nicks(wh: Path) -> list[str]:
    return [n for n in privacy.month_buyer_nicks(MONTH, wh) if len(n) >= 5]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pii")
    handler = _Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.DEBUG)
    try:
        inbox = tmp / "inbox"
        generate(MONTH, inbox, agents=3, seed=7, messages=900)
        _plant_month(inbox)
        job = MonthJob(MONTH, inbox=inbox, warehouse=tmp / "wh.duckdb", out=tmp / "out")
        outcome = run_month(job)
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
    return job, outcome, "\n".join(handler.lines)


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


def _output_texts(job: MonthJob) -> dict[str, str]:
    """Every output file of the month as text (xlsx: every cell and sheet title)."""
    texts = {}
    for p in sorted(job.month_dir.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix == ".xlsx":
            wb = openpyxl.load_workbook(p, read_only=True)
            cells = [ws.title for ws in wb.worksheets]
            for ws in wb.worksheets:
                cells += [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
            texts[p.name] = "\n".join(cells)
        elif p.suffix == ".parquet":
            texts[p.name] = pl.read_parquet(p).write_csv()
        else:
            texts[p.name] = p.read_bytes().decode("utf-8", errors="replace")
    return texts


def test_pii_was_planted_in_every_input_kind(planted):
    job, outcome, _ = planted
    wh = job.warehouse
    # the planted text reached the stored free text of every kind that has free text (masked)
    for table, col in (("messages", "text"), ("refunds", "description"), ("complaints", "note"),
                       ("reviews", "content"), ("ratings", "note"), ("complaints", "outcome")):
        df = warehouse.query(f'SELECT "{col}" AS t FROM "{table}" WHERE "{col}" LIKE ?', wh, ["%139****4321%"])
        assert df.height > 0, (table, col)
    q = warehouse.read("quarantine", MONTH, wh)
    assert q.filter(pl.col("kind") == "agent_stats")["raw"].str.contains("139****4321", literal=True).any()
    assert q.filter(pl.col("kind") == "refunds")["raw"].str.contains("139****4321", literal=True).any()
    assert outcome.score.agents == 3


def test_no_phone_id_card_or_address_in_the_warehouse(planted):
    job, _, _ = planted
    wh = job.warehouse
    leaks = []
    with warehouse.connect(wh, read_only=True) as con:
        cols = con.execute("SELECT table_name, column_name FROM information_schema.columns "
                           "WHERE data_type = 'VARCHAR' ORDER BY 1, 2").fetchall()
        assert len(cols) > 50
        for table, col in cols:
            for bad in FORBIDDEN:
                n = con.execute(f'SELECT count(*) FROM "{table}" WHERE contains("{col}", ?)', [bad]).fetchone()[0]
                if n:
                    leaks.append((table, col, bad, n))
    assert leaks == []


def test_outputs_hold_no_pii_and_no_buyer_nick(planted):
    job, _, logs = planted
    nicks = _nicks(job.warehouse)
    assert len(nicks) > 20
    texts = _output_texts(job)
    assert {"report.html", "payroll.xlsx", "payroll.csv"} <= set(texts)
    texts["logs"] = logs
    leaks = [(name, bad) for name, t in texts.items() for bad in (*FORBIDDEN, *nicks) if bad in t]
    assert leaks == []
    # the evidence sheet still cites chats, by hashed ids
    assert re.search(r"slow_response:[0-9a-f]{12}:\d+", texts["payroll.xlsx"])


def test_explain_output_holds_no_pii_and_no_buyer_nick(planted):
    from pipelines.cli import app

    job, outcome, _ = planted
    nicks = _nicks(job.warehouse)
    pay = warehouse.read("payroll", MONTH, job.warehouse)
    runner = CliRunner()
    for agent in pay["agent"].to_list():
        res = runner.invoke(app, ["explain", "--month", MONTH, "--agent", agent, "--warehouse", str(job.warehouse),
                                  "--evidence", "1000"])
        assert res.exit_code == 0, res.output
        assert "扣分" in res.output or "KPI" in res.output
        leaks = [bad for bad in (*FORBIDDEN, *nicks) if bad in res.output]
        assert leaks == [], (agent, leaks)
    # the complaint note with the planted phone is what explain used to print; it is cited masked
    complaints = warehouse.read("complaints", MONTH, job.warehouse)
    assert complaints["note"].str.contains("139****4321", literal=True).any()


def test_masking_changes_no_metric_and_no_pay(planted, tmp_path, monkeypatch):
    """The same planted month with masking off gives the same metrics, KPI points and pay."""
    job, _, _ = planted
    off = privacy.PrivacySettings(mask_phones=False, mask_id_cards=False, mask_addresses=False)
    monkeypatch.setattr(privacy, "load_privacy", lambda path=None: off)
    job2 = MonthJob(MONTH, inbox=job.inbox, warehouse=tmp_path / "wh.duckdb", out=tmp_path / "out")
    run_month(job2)
    clear = warehouse.read("messages", MONTH, job2.warehouse)
    assert clear["text"].str.contains(PHONE, literal=True).any()  # really unmasked this time
    for table, key in (("agent_month_metrics", ["agent_account"]), ("agent_day_metrics", ["agent_account", "day"]),
                       ("kpi_items", ["agent_account", "item"]), ("payroll", ["agent"])):
        a = warehouse.read(table, MONTH, job.warehouse)
        b = warehouse.read(table, MONTH, job2.warehouse)
        drop = [c for c in a.columns if c in ("run_id", "created_at", "computed_at", "evidence_ids")]
        assert a.drop(drop).sort(key).equals(b.drop(drop).sort(key)), table
    assert (job.month_dir / "payroll.csv").read_bytes() == (job2.month_dir / "payroll.csv").read_bytes()
