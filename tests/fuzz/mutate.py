"""Seeded mutations of an export file: what a month of real exports does to a reader.

``mutate(rng, seed)`` returns (bytes, list of mutation names). Text files (CSV, chat text,
JSON) are decoded, mutated as text or as a CSV grid, re-encoded in utf-8 / utf-8-sig / gbk,
and sometimes damaged as bytes. Workbooks are edited cell by cell with openpyxl and
sometimes damaged as a zip. Everything comes from ``rng``: a case is reproducible from its
seed number alone (see test_fuzz_readers.reproduce).
"""

from __future__ import annotations

import csv
import io
import random
from datetime import datetime

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from tests.fuzz.corpus import Seed, _decode, save_xlsx

HUGE = 40_000
ODD_VALUES = (
    "", " ", "NULL", "null", "None", "nan", "NaN", "inf", "-inf", "1e400", "-0", "0x1F", "１２３",
    "¥1,234.5", "1,2,3", "12.345", "99999999999999999999999999999", "-5", "-0.01", "3.0E+18",
    "2026-13-45", "0000-00-00 00:00:00", "2026-02-30", "2026-10-31 24:00:00", "45000", "45000.5",
    "2026/10/5 25:61", "10/05/2026", "昨天", "2026年10月", "2026年10月5日 下午3点", "1970-01-01",
    "9999-12-31 23:59:59", "0001-01-01", "2026-10-05T10:00:00Z", "2026-10-05 10:00:00+08:00",
    "2026-10-05 10:00:00.123456789", "=1+1", '=HYPERLINK("x")', "[/bold]", "[red]x", "\x00", "\x1b[31m",
    "\r", "\u2028", "\ufeff", 'a"b', "'", "\t", "是", "否", "客服", "买家", "系统", "退款成功", "退款?",
    "投诉", "优", "差", "售后组长", "😀" * 5, "a\nb", ";", ",", "店铺:客服", ":", "：", "\\", "%", "100%",
    "１５％", "-", "—", "N/A", "#VALUE!", "#REF!", "TRUE", "FALSE",
)
ENCODINGS = ("utf-8", "utf-8-sig", "gbk")
CONTROL = "".join(chr(c) for c in (0, 1, 7, 8, 11, 12, 27, 127)) + "\u200b\u202e\u2028\ufffe"


def odd_value(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.05:
        return rng.choice("x字0") * rng.randint(HUGE, HUGE * 2)
    if r < 0.15:
        return "".join(rng.choice(CONTROL + "ab字1") for _ in range(rng.randint(1, 8)))
    if r < 0.22:
        return "".join(chr(rng.randint(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 12)))
    return rng.choice(ODD_VALUES)


def _clean_for_gbk(text: str) -> str:
    return text.encode("gbk", errors="replace").decode("gbk")


# --- text mutations -------------------------------------------------------------------------

def _grid_ops(rng: random.Random, rows: list[list[str]], names: list[str]) -> list[list[str]]:
    for _ in range(rng.randint(1, 3)):
        if not rows:
            return rows
        width = max(len(r) for r in rows)
        header = max(range(min(len(rows), 6)), key=lambda i: sum(1 for c in rows[i] if c.strip()))
        op = rng.choice(("cell", "cell", "cell", "drop_col", "shuffle_cols", "rename_header", "dup_row",
                         "drop_rows", "ragged", "swap_header_value", "blank_header", "dup_header"))
        names.append(op)
        if op == "cell" and len(rows) > header + 1:
            r = rng.randint(header + 1, len(rows) - 1)
            if rows[r]:
                rows[r][rng.randrange(len(rows[r]))] = odd_value(rng)
        elif op == "drop_col" and width > 1:
            j = rng.randrange(width)
            rows = [r[:j] + r[j + 1:] for r in rows]
        elif op == "shuffle_cols":
            perm = list(range(width))
            rng.shuffle(perm)
            rows = [[(r[j] if j < len(r) else "") for j in perm] for r in rows]
        elif op == "rename_header" and rows[header]:
            j = rng.randrange(len(rows[header]))
            rows[header][j] = rng.choice((rows[header][j] + "x", rows[header][j][:1], odd_value(rng), " " + rows[header][j] + " "))
        elif op == "dup_row" and len(rows) > header + 1:
            r = rng.randint(header + 1, len(rows) - 1)
            rows.insert(r, list(rows[r]))
        elif op == "drop_rows":
            k = rng.randint(0, len(rows))
            rows = rows[:k]
        elif op == "ragged" and len(rows) > header + 1:
            r = rng.randint(header + 1, len(rows) - 1)
            rows[r] = rows[r][: rng.randint(0, len(rows[r]))] if rng.random() < 0.5 else rows[r] + [odd_value(rng)] * rng.randint(1, 4)
        elif op == "swap_header_value" and len(rows) > header + 1:
            rows[header], rows[header + 1] = rows[header + 1], rows[header]
        elif op == "blank_header":
            rows.insert(0, [""] * width if rng.random() < 0.5 else [odd_value(rng)])
        elif op == "dup_header" and rows[header]:
            rows.insert(rng.randint(header + 1, len(rows)), list(rows[header]))
    return rows


def _text_ops(rng: random.Random, text: str, names: list[str]) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(("line_value", "drop_line", "dup_line", "insert_control", "swap_lines", "huge_line",
                         "newline_style", "strip_lines"))
        names.append(op)
        if not lines:
            break
        i = rng.randrange(len(lines))
        if op == "line_value":
            lines[i] = odd_value(rng)
        elif op == "drop_line":
            del lines[i]
        elif op == "dup_line":
            lines.insert(i, lines[i])
        elif op == "insert_control":
            pos = rng.randint(0, len(lines[i]))
            lines[i] = lines[i][:pos] + rng.choice(CONTROL) + lines[i][pos:]
        elif op == "swap_lines":
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "huge_line":
            lines[i] = lines[i] + "字" * HUGE
        elif op == "newline_style":
            return rng.choice(("\r\n", "\r", "\n\n")).join(lines)
        elif op == "strip_lines":
            lines = [x.strip() for x in lines]
    return "\n".join(lines)


def _bytes_ops(rng: random.Random, data: bytes, names: list[str]) -> bytes:
    op = rng.choice(("truncate", "flip", "insert", "empty", "zero_fill", "splice"))
    names.append(f"bytes:{op}")
    b = bytearray(data)
    if op == "truncate":
        return bytes(b[: rng.randint(0, len(b))])
    if op == "empty":
        return b"" if rng.random() < 0.7 else rng.choice((b"\xef\xbb\xbf", b"\n", b" ", b"\r\n\r\n"))
    if op == "flip" and b:
        for _ in range(rng.randint(1, 16)):
            b[rng.randrange(len(b))] = rng.randrange(256)
    elif op == "insert":
        pos = rng.randint(0, len(b))
        b[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif op == "zero_fill" and b:
        a = rng.randrange(len(b))
        b[a: a + rng.randint(1, 256)] = b"\x00" * len(b[a: a + 256])
    elif op == "splice" and len(b) > 4:
        a, c = sorted(rng.sample(range(len(b)), 2))
        del b[a:c]
    return bytes(b)


def mutate_text(rng: random.Random, seed: Seed, names: list[str]) -> bytes:
    text, enc = _decode(seed.data)
    if seed.fmt == "text" and rng.random() < 0.6 and seed.layout != "chat_text":
        rows = list(csv.reader(io.StringIO(text)))
        rows = _grid_ops(rng, rows, names)
        buf = io.StringIO()
        csv.writer(buf, lineterminator=rng.choice(("\n", "\r\n"))).writerows(rows)
        text = buf.getvalue()
    else:
        text = _text_ops(rng, text, names)
    enc = rng.choice(ENCODINGS) if rng.random() < 0.5 else enc
    names.append(f"enc:{enc}")
    if enc == "gbk":
        text = _clean_for_gbk(text)
    data = (b"\xef\xbb\xbf" + text.encode("utf-8", errors="surrogatepass")) if enc == "utf-8-sig" else text.encode(enc, errors="surrogatepass")
    if rng.random() < 0.25:
        data = _bytes_ops(rng, data, names)
    return data


# --- workbook mutations ---------------------------------------------------------------------

def _cell_value(rng: random.Random):
    r = rng.random()
    if r < 0.1:
        return rng.choice((0, -1, 1e308, -1e-9, 45000, 45000.75, 3.0e18, True, False))
    if r < 0.2:
        return rng.choice((datetime(1900, 1, 1), datetime(2026, 10, 5, 10, 0), datetime(9999, 12, 31), datetime(1970, 1, 1)))
    return ILLEGAL_CHARACTERS_RE.sub("", odd_value(rng))[:32000]


def mutate_xlsx(rng: random.Random, seed: Seed, names: list[str]) -> bytes:
    if rng.random() < 0.2:
        return _bytes_ops(rng, seed.data, names)
    wb = openpyxl.load_workbook(io.BytesIO(seed.data))
    for _ in range(rng.randint(1, 4)):
        ws = rng.choice(wb.worksheets)
        op = rng.choice(("cell", "cell", "cell", "drop_col", "insert_col", "shuffle_cols", "rename_header",
                         "drop_rows", "clear_sheet", "remove_sheet", "rename_sheet", "add_sheet", "huge_cell",
                         "merge", "dup_row"))
        names.append(f"xlsx:{op}")
        try:
            _xlsx_op(rng, wb, ws, op)
        except AttributeError:  # a merged cell is read-only in openpyxl: skip the op
            names[-1] += "(skipped)"
    data = save_xlsx(wb)
    if rng.random() < 0.1:
        data = _bytes_ops(rng, data, names)
    return data


def _xlsx_op(rng: random.Random, wb, ws, op: str) -> None:
    max_r, max_c = max(ws.max_row, 1), max(ws.max_column, 1)
    if op == "cell":
        ws.cell(row=rng.randint(1, max_r), column=rng.randint(1, max_c)).value = _cell_value(rng)
    elif op == "drop_col":
        ws.delete_cols(rng.randint(1, max_c))
    elif op == "insert_col":
        ws.insert_cols(rng.randint(1, max_c))
    elif op == "shuffle_cols":
        grid = [[c.value for c in row] for row in ws.iter_rows(max_row=max_r, max_col=max_c)]
        perm = list(range(max_c))
        rng.shuffle(perm)
        for i, row in enumerate(grid, start=1):
            for j, src in enumerate(perm, start=1):
                ws.cell(row=i, column=j).value = row[src]
    elif op == "rename_header":
        r = rng.randint(1, min(max_r, 4))
        c = ws.cell(row=r, column=rng.randint(1, max_c))
        c.value = (str(c.value) + "x") if c.value is not None and rng.random() < 0.5 else _cell_value(rng)
    elif op == "drop_rows":
        ws.delete_rows(rng.randint(1, max_r), rng.randint(1, max_r))
    elif op == "clear_sheet":
        ws.delete_rows(1, max_r)
    elif op == "remove_sheet" and len(wb.worksheets) > 1:
        wb.remove(ws)
    elif op == "rename_sheet":
        ws.title = rng.choice(("Sheet1", "汇总", "导出汇总", "客服名单x", "投诉维权", "评价", "x" * 31, "'a'"))
    elif op == "add_sheet":
        extra = wb.create_sheet(rng.choice(("新表", "主管评分", "Sheet9")))
        for _ in range(rng.randint(0, 4)):
            extra.append([_cell_value(rng) for _ in range(rng.randint(1, 6))])
    elif op == "huge_cell":
        ws.cell(row=rng.randint(1, max_r), column=rng.randint(1, max_c)).value = "字" * 32000
    elif op == "merge" and max_r > 1 and max_c > 1:
        r, c = rng.randint(1, max_r - 1), rng.randint(1, max_c - 1)
        ws.merge_cells(start_row=r, start_column=c, end_row=r + 1, end_column=c + 1)
    elif op == "dup_row":
        r = rng.randint(1, max_r)
        ws.append([c.value for c in ws[r]])


def mutate(rng: random.Random, seed: Seed) -> tuple[bytes, list[str]]:
    names: list[str] = []
    data = mutate_xlsx(rng, seed, names) if seed.fmt == "xlsx" else mutate_text(rng, seed, names)
    return data, names
