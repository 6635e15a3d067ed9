"""One run at a time per warehouse: an OS file lock beside the DuckDB file.

The lock is ``<warehouse>.lock`` held with ``flock`` (through :mod:`filelock`): the kernel
releases it when the holding process ends, however it ends (SIGKILL included), so a stale
lock recovers by itself. Who holds it (PID, host, start time, command) is written to
``<warehouse>.lock.json`` once acquired, so a waiting run can say whom it waits for.

Different months of one warehouse serialise the same way: DuckDB allows one writing process
per file, and a month's publish touches shared tables (runs, history). The lock is
re-entrant within a process (a Prefect flow's tasks run inside the flow's lock).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

DEFAULT_TIMEOUT_S = 600.0
_held: dict[str, int] = {}  # warehouse paths this process holds, with their depth


class WarehouseBusy(Exception):
    """Another run holds the warehouse lock for longer than this run may wait."""


def lock_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock")


def _info_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".lock.json")


def holder(warehouse: Path) -> dict | None:
    """What the lock's info file says about its last holder (None if never held)."""
    try:
        return json.loads(_info_path(warehouse).read_text("utf-8"))
    except (OSError, ValueError):
        return None


def _describe(info: dict | None) -> str:
    if not info:
        return "另一个进程"
    return f"进程 {info.get('pid')} (主机 {info.get('host')}, {info.get('started_at')} 开始: {info.get('command')})"


def timeout_from_env() -> float:
    """``KEFU_LOCK_TIMEOUT`` seconds (default 600) a run waits for the warehouse."""
    try:
        return float(os.environ.get("KEFU_LOCK_TIMEOUT", DEFAULT_TIMEOUT_S))
    except ValueError:
        return DEFAULT_TIMEOUT_S


class WarehouseLock:
    """The lock of one warehouse file; :meth:`acquire` waits, :meth:`release` frees."""

    def __init__(self, warehouse: Path | str, what: str = ""):
        self.warehouse = Path(warehouse)
        self.key = str(self.warehouse.resolve())
        self.what = what or " ".join(sys.argv[:4])
        self._lock: FileLock | None = None

    def acquire(self, timeout_s: float | None = None) -> "WarehouseLock":
        if _held.get(self.key):
            _held[self.key] += 1
            return self
        timeout_s = timeout_from_env() if timeout_s is None else timeout_s
        self.warehouse.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(lock_path(self.warehouse)), thread_local=False)  # a flow may release in another thread
        started = time.monotonic()
        try:
            lock.acquire(timeout=timeout_s, poll_interval=0.2)
        except Timeout:
            waited = time.monotonic() - started
            raise WarehouseBusy(
                f"数据仓库 {self.warehouse} 正被{_describe(holder(self.warehouse))}使用; 已等待 {waited:.0f} 秒。"
                f"请等它结束后重试 (KEFU_LOCK_TIMEOUT 或 --lock-timeout 设定等待秒数)"
            ) from None
        self._lock = lock
        _held[self.key] = 1
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now().isoformat(timespec="seconds"),
            "command": self.what,
        }
        tmp = _info_path(self.warehouse).with_suffix(".tmp")
        tmp.write_text(json.dumps(info, ensure_ascii=False), "utf-8")
        tmp.replace(_info_path(self.warehouse))
        return self

    def release(self) -> None:
        depth = _held.get(self.key, 0)
        if depth > 1:
            _held[self.key] = depth - 1
            return
        _held.pop(self.key, None)
        if self._lock is not None:
            self._lock.release()
            self._lock = None


@contextmanager
def warehouse_lock(warehouse: Path | str, what: str = "", timeout_s: float | None = None) -> Iterator[WarehouseLock]:
    """Hold the warehouse lock for the block; waits up to ``timeout_s`` (default
    :func:`timeout_from_env`) and raises :class:`WarehouseBusy` naming the holder."""
    lock = WarehouseLock(warehouse, what).acquire(timeout_s)
    try:
        yield lock
    finally:
        lock.release()
