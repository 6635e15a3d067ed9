"""Seed files for the reader fuzzer: one small valid file per reader layout.

Built from the sample generators (KPI month and SLA month) and the reader fixtures, then cut
to a few rows so a fuzz case costs milliseconds. Deterministic: same seeds, same bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl

FIXTURES = Path(__file__).resolve().parents[1] / "pipelines" / "readers" / "fixtures" / "tables"
MONTH = "2026-10"
KEEP_ROWS = 12


@dataclass(frozen=True)
class Seed:
    layout: str
    name: str
    data: bytes
    domain: str  # "kpi" or "sla"

    @property
    def fmt(self) -> str:
        return "xlsx" if self.name.endswith(".xlsx") else "json" if self.name.endswith(".json") else "text"


def _decode(raw: bytes) -> tuple[str, str]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), "utf-8-sig"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("gbk"), "gbk"


def _encode(text: str, enc: str) -> bytes:
    return (b"\xef\xbb\xbf" + text.encode("utf-8")) if enc == "utf-8-sig" else text.encode(enc)


def _cut_csv(raw: bytes) -> bytes:
    text, enc = _decode(raw)
    rows = list(csv.reader(io.StringIO(text)))[: KEEP_ROWS + 3]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if "\r\n" in text else "\n").writerows(rows)
    return _encode(buf.getvalue(), enc)


def _cut_text(raw: bytes) -> bytes:
    text, enc = _decode(raw)
    return _encode("\n".join(text.split("\n")[: KEEP_ROWS * 4]) + "\n", enc)


def _cut_json(raw: bytes) -> bytes:
    doc = json.loads(raw.decode("utf-8"))

    def cut(node):
        if isinstance(node, list):
            return [cut(x) for x in node[:KEEP_ROWS]]
        if isinstance(node, dict):
            return {k: cut(v) for k, v in node.items()}
        return node

    return json.dumps(cut(doc), ensure_ascii=False).encode("utf-8")


def fixed_zip(data: bytes) -> bytes:
    """The same workbook with fixed zip entry times (openpyxl stamps 'now'), so a seed's
    bytes, and so each byte-level mutation, do not depend on the clock."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl writes the save time here too
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>2026-11-01T00:00:00Z", body)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2026, 11, 1, 0, 0, 0)), body)
    return out.getvalue()


def save_xlsx(wb: openpyxl.Workbook) -> bytes:
    wb.properties.created = wb.properties.modified = datetime(2026, 11, 1)
    buf = io.BytesIO()
    wb.save(buf)
    return fixed_zip(buf.getvalue())


def _cut_xlsx(path: Path, max_sheets: int = 4) -> bytes:
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets[max_sheets:]:
        wb.remove(ws)
    for ws in wb.worksheets:
        if ws.max_row > KEEP_ROWS + 3:
            ws.delete_rows(KEEP_ROWS + 4, ws.max_row)
    return save_xlsx(wb)


def build_seeds(workdir: Path) -> list[Seed]:
    """One small valid file per layout (the layout is checked by the caller's test)."""
    from pipelines.sample.month import generate
    from pipelines.sla.sample import generate_sla

    kpi, sla = workdir / "kpi", workdir / "sla"
    summary = generate(MONTH, kpi, agents=3, seed=11, messages=300)
    generate_sla(MONTH, sla, seed=11)
    seeds: dict[str, Seed] = {}
    for f in summary.files:
        if f.layout in seeds:
            continue
        p = kpi / f.name
        if p.suffix == ".xlsx":
            data = _cut_xlsx(p)
        elif p.suffix == ".json":
            data = _cut_json(p.read_bytes())
        elif f.layout == "chat_text":
            data = _cut_text(p.read_bytes())
        else:
            data = _cut_csv(p.read_bytes())
        seeds[f.layout] = Seed(f.layout, f.name, data, "kpi")
    for p in sorted(sla.iterdir()):
        seeds[f"sla:{p.name}"] = Seed(f"sla:{p.name}", p.name, _cut_xlsx(p, max_sheets=6), "sla")
    for p in sorted(FIXTURES.glob("*.csv")):  # CSV variants of the table layouts (chitu only here)
        seeds[f"fixture:{p.stem}"] = Seed(p.name.split("__")[0], p.name, _cut_csv(p.read_bytes()), "kpi")
    shutil.rmtree(kpi, ignore_errors=True)
    shutil.rmtree(sla, ignore_errors=True)
    return [seeds[k] for k in sorted(seeds)]
