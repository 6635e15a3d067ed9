"""What a reader of the warehouse and of ``out/<month>/`` sees, as comparable values."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

# run bookkeeping that differs between two runs of the same inputs
VOLATILE = {"run_id", "started_at", "ended_at", "published_at", "details", "base", "files"}  # table_files: paths


def warehouse_state(path: Path) -> dict[str, list[tuple]]:
    """Every table's rows (sorted), or {} when the warehouse does not exist."""
    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall()]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY ALL').fetchall() for n in names}
    finally:
        con.close()


def comparable(state: dict[str, list[tuple]], path: Path) -> dict[str, list[tuple]]:
    """``state`` without the volatile run-bookkeeping columns (to compare two runs)."""
    if not state:
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        out = {}
        for n in state:
            cols = [r[0] for r in con.execute(f'DESCRIBE "{n}"').fetchall() if r[0] not in VOLATILE]
            q = ", ".join(f'"{c}"' for c in cols)
            out[n] = con.execute(f'SELECT {q} FROM "{n}" ORDER BY ALL').fetchall()
        return out
    finally:
        con.close()


def folder_state(folder: Path) -> dict[str, str]:
    """sha256 of every file a reader of ``folder`` sees (following the month symlink)."""
    if not folder.exists():
        return {}
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}
