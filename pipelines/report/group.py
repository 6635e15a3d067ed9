"""The group summary of a many-shop month (``kefu run --shops``): one row per shop, read from
the shared warehouse's published payroll, as ``shops.csv`` (UTF-8 BOM) and ``shops.html``.

Totals use the same rule as each shop's report (:mod:`pipelines.report.totals`): final rows
only, incomplete agents counted apart."""

from __future__ import annotations

import html
from pathlib import Path

import polars as pl

from pipelines import warehouse

from .fmt import money
from .totals import pay_totals

COLUMNS = ("店铺", "考核人数", "已定稿", "待补充", "达标", "底薪合计", "KPI奖金合计", "工资总额", "待补充底薪(未计入)")


def group_rows(payroll: pl.DataFrame) -> list[dict[str, str]]:
    """One summary row per shop of ``payroll`` (all shops, with its ``shop_key`` column)."""
    rows = []
    for shop in sorted(payroll[warehouse.SHOP_KEY].fill_null("").unique().to_list()):
        pay = payroll.filter(pl.col(warehouse.SHOP_KEY).fill_null("") == shop)
        t = pay_totals(pay)
        passed = int(pay.filter(pl.col("passed").fill_null(False)).height) if "passed" in pay.columns else 0
        rows.append(dict(zip(COLUMNS, (
            shop or "(单店)", str(pay.height), str(t.final_rows), str(t.incomplete_rows), str(passed),
            money(t.base), money(t.kpi), money(t.salary), money(t.incomplete_base),
        ), strict=True)))
    return rows


def write_group_summary(warehouse_path: str | Path, month: str, folder: Path) -> dict[str, Path]:
    """Write ``shops.csv`` and ``shops.html`` for ``month`` into ``folder`` (each file
    written whole, then renamed)."""
    pay = warehouse.read("payroll", month=month, path=warehouse_path)
    if warehouse.SHOP_KEY not in pay.columns:
        pay = pay.with_columns(pl.lit("").alias(warehouse.SHOP_KEY))
    rows = group_rows(pay)
    folder.mkdir(parents=True, exist_ok=True)
    csv = pl.DataFrame(rows, schema={c: pl.String for c in COLUMNS}) if rows else pl.DataFrame(schema={c: pl.String for c in COLUMNS})
    out = {"shops.csv": folder / "shops.csv", "shops.html": folder / "shops.html"}
    tmp = folder / ".shops.csv.tmp"
    csv.write_csv(tmp, include_bom=True)
    tmp.replace(out["shops.csv"])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(r[c])}</td>" for c in COLUMNS) + "</tr>" for r in rows)
    page = (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(month)} 多店铺汇总</title>'
        "<style>body{font-family:sans-serif;margin:24px}table{border-collapse:collapse}th,td{border:1px solid #ccc;"
        "padding:4px 10px}th{background:#ddebf7}</style></head><body>"
        f"<h1>{html.escape(month)} 多店铺 KPI 与工资汇总</h1><p>合计只含已定稿人员; 待补充人员的底薪单列。</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>"
    )
    tmp = folder / ".shops.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out["shops.html"])
    return out
