"""Is this inbox a whole month? Required kinds, and what the month's last load had.

A month's pay depends on every kind of export; a missing file must never silently turn a
salary into base pay. Before anything is written, the staged inbox is checked:

* every **required kind** is present with at least one row (chats or the 生意参谋/赤兔
  statistics, orders, refunds, DingTalk attendance, the supervisor workbook's roster);
* nothing the month's **last load** had is gone: no kind, and no file (a file counts as
  present when a file of the same name or the same content is in the inbox).

Either refuses with :class:`IncompleteInbox` unless the user says so explicitly
(``allow_missing`` kinds, or ``replace=True`` to accept any difference from the last load).
:func:`load_diff` lists what a replacement changes (files added/removed, rows per table).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import polars as pl

from pipelines import warehouse

# user-facing name -> (Chinese label, staged kinds any of which satisfies it)
REQUIRED_KPI: dict[str, tuple[str, tuple[str, ...]]] = {
    "chats": ("聊天记录 (千牛/旺旺) 或 生意参谋/赤兔 客服统计", ("messages", "agent_stats")),
    "orders": ("订单报表", ("orders",)),
    "refunds": ("退款管理 导出", ("refunds",)),
    "attendance": ("钉钉考勤 月度汇总", ("attendance", "attendance_summary")),
    "workbook": ("主管填报表 (客服名单/评分)", ("roster",)),
}
# staged kind -> the user-facing kind it comes with (what --allow-missing names)
KIND_GROUP = {
    "messages": "chats", "agent_stats": "chats", "orders": "orders", "refunds": "refunds",
    "attendance": "attendance", "attendance_summary": "attendance",
    "roster": "workbook", "ratings": "workbook", "complaints": "workbook", "reviews": "workbook",
}
KIND_ALIASES = {"chat": "chats", "messages": "chats", "order": "orders", "refund": "refunds", "supervisor": "workbook", "roster": "workbook"}


class IncompleteInbox(Exception):
    """The inbox lacks a required kind or something the month's last load had."""


def normalise_allow(names: list[str] | tuple[str, ...] | None) -> set[str]:
    """Validate ``--allow-missing`` names (comma lists allowed); raise ValueError on unknown."""
    out: set[str] = set()
    for raw in names or ():
        for name in str(raw).split(","):
            n = KIND_ALIASES.get(name.strip().lower(), name.strip().lower())
            if not n:
                continue
            if n not in REQUIRED_KPI:
                raise ValueError(f"--allow-missing 不认识 {name!r}; 可用: {', '.join(REQUIRED_KPI)}")
            out.add(n)
    return out


@dataclass
class LoadDiff:
    """What replacing the month's last load with this inbox changes."""

    previous_run: str | None
    files_added: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)
    rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (before, after)

    @property
    def is_replacement(self) -> bool:
        return self.previous_run is not None

    def lines(self) -> list[str]:
        if not self.is_replacement:
            return []
        out = [f"本月已导入过 (run {self.previous_run}); 这次导入将替换它:"]
        out += [f"  + 新文件 {f}" for f in self.files_added]
        out += [f"  - 缺少文件 {f}" for f in self.files_removed]
        for t, (a, b) in sorted(self.rows.items()):
            if a != b:
                out.append(f"  {t}: {a} → {b} 行")
        if len(out) == 1:
            out.append("  文件与行数都不变")
        return out


def _present_kinds(files) -> dict[str, int]:
    rows: dict[str, int] = {}
    for f in files:
        for kind, c in f.counts.items():
            rows[kind] = rows.get(kind, 0) + c.rows_read
    return rows


def last_load(warehouse_path, month: str, domain: str, shop: str = "") -> tuple[str | None, pl.DataFrame]:
    """The month's last successful ingest run of ``domain`` (for ``shop``) and its per-file rows."""
    try:
        runs = warehouse.query(
            "SELECT run_id FROM runs WHERE month = ? AND step = ? AND status = 'ok' "
            "AND coalesce(json_extract_string(details, '$.shop'), '') = ? ORDER BY ended_at DESC LIMIT 1",
            warehouse_path,
            [month, f"ingest-{domain}", shop],
        )
    except (FileNotFoundError, duckdb.CatalogException):  # no warehouse / no runs yet: nothing was loaded
        return None, pl.DataFrame()
    if runs.height == 0:
        return None, pl.DataFrame()
    run_id = runs["run_id"][0]
    files = warehouse.query("SELECT * FROM run_files WHERE run_id = ?", warehouse_path, [run_id])
    return run_id, files


def table_rows(warehouse_path, month: str, tables: list[str], shop: str = "") -> dict[str, int]:
    """Rows per table of ``month`` (and ``shop``) now in the warehouse (0 for a missing table)."""
    out: dict[str, int] = {}
    try:
        existing = set(warehouse.tables(warehouse_path))
    except FileNotFoundError:
        existing = set()
    for t in tables:
        if t not in existing:
            out[t] = 0
            continue
        cols = set(warehouse.query(f'SELECT * FROM "{t}" LIMIT 0', warehouse_path).columns)
        key = f"AND coalesce({warehouse.SHOP_KEY}, '') = ?" if warehouse.SHOP_KEY in cols else "AND ? = ?"
        params = [month, shop] if warehouse.SHOP_KEY in cols else [month, shop, shop]
        out[t] = int(warehouse.query(f'SELECT count(*) AS n FROM "{t}" WHERE month = ? {key}', warehouse_path, params)["n"][0])
    return out


def check_inbox(
    files,
    rows: dict[str, int],
    warehouse_path,
    month: str,
    domain: str = "kpi",
    allow_missing: set[str] | None = None,
    replace: bool = False,
    shop: str = "",
) -> LoadDiff:
    """Refuse (IncompleteInbox) an inbox that is not a whole month; else return the diff
    against the month's last load. ``files`` are ingest FileResults, ``rows`` the row counts
    of the staged tables about to be written (the tables themselves may be parts on disk)."""
    allow = allow_missing or set()
    problems: list[str] = []
    present = _present_kinds(files)
    if domain == "kpi":
        for name, (label, kinds) in REQUIRED_KPI.items():
            if name not in allow and not any(present.get(k, 0) > 0 for k in kinds):
                problems.append(f"缺少 {label} [{name}]")
    prev_run, prev_files = last_load(warehouse_path, month, domain, shop)
    diff = LoadDiff(prev_run)
    if prev_run is not None:
        now_names = {f.file_name for f in files}
        now_hashes = {f.sha256 for f in files}
        loaded_prev = prev_files.filter(pl.col("status") == "loaded") if prev_files.height else prev_files
        prev_names = sorted(set(loaded_prev["file_name"].to_list())) if loaded_prev.height else []
        prev_hash = dict(zip(loaded_prev["file_name"], loaded_prev["sha256"], strict=True)) if loaded_prev.height else {}
        diff.files_removed = [n for n in prev_names if n not in now_names and prev_hash.get(n) not in now_hashes]
        diff.files_added = sorted(f.file_name for f in files if f.status == "loaded" and f.file_name not in prev_hash and f.sha256 not in set(prev_hash.values()))
        prev_kinds = set(loaded_prev["kind"].drop_nulls().to_list()) if loaded_prev.height else set()
        gone_kinds = sorted(k for k in prev_kinds if present.get(k, 0) == 0)
        before = table_rows(warehouse_path, month, sorted(rows), shop)
        diff.rows = {t: (before.get(t, 0), n) for t, n in rows.items()}
        if not replace:
            for k in gone_kinds:
                name = KIND_GROUP.get(k, k)
                if name not in allow and not any(f"[{name}]" in p for p in problems):
                    problems.append(f"上次导入有 {k} 数据, 这次没有 [{name}]")
            if diff.files_removed:
                problems.append("上次导入的文件这次不在收件箱中: " + ", ".join(diff.files_removed))
    if problems:
        hint = "确认无误可加 --allow-missing <种类> (缺少某种数据) 或 --replace (接受与上次导入的差异)"
        raise IncompleteInbox(f"{month} 的导出不完整, 未做任何改动:\n  - " + "\n  - ".join(problems) + f"\n{hint}")
    return diff
