"""``kefu bench``: the real monthly job, timed stage by stage, and the sessions baselines.

``run_job_bench(messages, seed, gbk)`` generates (or reuses) a sample inbox of ~``messages``
chat messages, then runs :func:`pipelines.monthly.run_month` on it, into a fresh warehouse
and output folder, exactly as ``kefu run --no-prefect`` does. The stages are the steps
run_month announces through its ``on_step`` callback (ingest, analytics, scoring, reports,
publish), so the bench follows the job whatever the steps do inside. Per stage: wall
seconds, CPU seconds (user + system of every thread of the process), rows/s (messages / wall)
and peak RSS.

Inboxes are cached by (messages, seed) under the cache folder (``KEFU_BENCH_CACHE`` or
``~/.cache/kefu-bench``); ``--gbk`` uses a GB18030 twin of the same inbox (every CSV/TXT/JSON
re-encoded), for the GBK-vs-UTF-8 ingest ratio. ``bare_read`` times polars' own readers on the
same files (read_csv / read_json / read_excel, no cleaning): the yardstick of the ingest target.

``run_baselines`` runs the independent pandas and lean polars sessionisers (benchmarks/
baselines, from ../shared/bench) and kefu's sessions + response metrics
(benchmarks/sessions_kefu.py) each in its own process on the *same* messages (the staged
messages of the run, exported once to parquet), and returns their timings.

Memory: tracemalloc cannot see polars/Arrow allocations and ru_maxrss never goes down, so a
background thread samples the resident set size (/proc/self/statm) every 5 ms, plus that of
the live child processes (partition workers, ``KEFU_WORKERS``) every 50 ms; ``peak_mb`` is
the highest sum seen during the stage. CPU seconds include the children that ended.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
MONTH = "2026-10"
_PAGE = os.sysconf("SC_PAGE_SIZE")
TEXT_SUFFIXES = {".csv", ".txt", ".json"}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


def _children_rss_mb() -> float:
    """RSS of this process's live children (the partitions' worker processes, KEFU_WORKERS)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            total += child.memory_info().rss / 2**20
        except psutil.Error:  # ended between the listing and the read
            pass
    return total


def _cpu_s() -> float:
    """CPU seconds of this process and of its children that ended (worker processes are
    joined before the step that started them returns, so a stage counts its workers)."""
    r, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


class StageMeter:
    """Wall, CPU and peak RSS between successive :meth:`tick` calls."""

    def __init__(self):
        self.stages: list[dict] = []
        self._name: str | None = None
        self._peak = 0.0
        self._stop = threading.Event()
        self._th = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        n, children = 0, 0.0
        while not self._stop.is_set():
            if n % 10 == 0:  # listing children is dearer: every 50 ms
                children = _children_rss_mb()
            self._peak = max(self._peak, _rss_mb() + children)
            n += 1
            self._stop.wait(0.005)

    def __enter__(self):
        self._th.start()
        return self

    def tick(self, name: str | None):
        """Close the running stage (if any) and start ``name`` (None: stop)."""
        now, cpu, rss = time.perf_counter(), _cpu_s(), _rss_mb()
        if self._name is not None:
            self.stages.append({"stage": self._name, "wall_s": now - self._t0, "cpu_s": cpu - self._c0,
                                "peak_mb": max(self._peak, rss)})
        self._name, self._t0, self._c0, self._peak = name, now, cpu, rss

    def __exit__(self, *exc):
        self.tick(None)
        self._stop.set()
        self._th.join()


def cache_dir() -> Path:
    return Path(os.environ.get("KEFU_BENCH_CACHE") or Path.home() / ".cache" / "kefu-bench")


def inbox_for(messages: int, seed: int = 1, gbk: bool = False, cache: Path | None = None) -> Path:
    """The cached sample inbox for (messages, seed), generated on first use (GB18030 twin if ``gbk``)."""
    from pipelines.io.encoding import UndecodableFile, detect_encoding
    from pipelines.sample import generate

    base = (cache or cache_dir()) / f"n{messages}-s{seed}"
    utf8 = base / "inbox-utf8"
    if not (utf8 / ".complete").exists():
        shutil.rmtree(utf8, ignore_errors=True)
        generate(MONTH, utf8, agents=8, seed=seed, messages=messages)
        (utf8 / ".complete").write_text("ok")
    if not gbk:
        return utf8
    twin = base / "inbox-gb18030"
    if not (twin / ".complete").exists():
        shutil.rmtree(twin, ignore_errors=True)
        twin.mkdir(parents=True)
        for p in sorted(utf8.iterdir()):
            if p.name.startswith("."):
                continue
            try:
                enc = detect_encoding(p.read_bytes()) if p.suffix.lower() in TEXT_SUFFIXES else None
            except UndecodableFile:
                enc = None
            if enc in ("utf-8", "utf-8-sig"):
                with open(p, encoding=enc, newline="") as fi, open(twin / p.name, "w", encoding="gb18030", newline="") as fo:
                    while chunk := fi.read(1 << 24):
                        fo.write(chunk)
            else:  # workbooks, and files the generator already wrote in GBK
                shutil.copy2(p, twin / p.name)
        (twin / ".complete").write_text("ok")
    return twin


def _files(inbox: Path) -> list[Path]:
    return sorted(p for p in inbox.iterdir() if p.is_file() and not p.name.startswith("."))


def bare_read(inbox: Path) -> dict:
    """Seconds for polars' own readers to load every file of ``inbox`` (no cleaning, no checks)."""
    from pipelines.io.encoding import detect_encoding

    t0, c0, size = time.perf_counter(), _cpu_s(), 0
    for p in _files(inbox):
        size += p.stat().st_size
        suffix = p.suffix.lower()
        if suffix in (".csv", ".txt"):
            data = p.read_bytes()
            enc = detect_encoding(data)
            # polars reads UTF-8 only; a GBK file is decoded first (what any caller must do)
            text = data if enc == "utf-8" else data.decode(enc).encode("utf-8")
            if suffix == ".csv":  # header = the widest of the first lines (skips title rows)
                head = text[:20000].split(b"\n")[:30]
                widths = [ln.count(b",") for ln in head]
                pl.read_csv(text, skip_rows=widths.index(max(widths)), infer_schema=False, truncate_ragged_lines=True)
            else:  # chat text logs: one line per row
                pl.read_csv(text, separator="\x1f", has_header=False, quote_char=None, infer_schema=False)
        elif suffix == ".json":
            data = p.read_bytes()
            enc = detect_encoding(data)
            pl.read_json(data if enc == "utf-8" else data.decode(enc).encode("utf-8"))
        elif suffix == ".xlsx":
            pl.read_excel(p, sheet_id=0, infer_schema_length=0)
    return {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu_s() - c0, "mb": size / 1e6}


def run_job_bench(messages: int, seed: int = 1, gbk: bool = False, cache: Path | None = None) -> dict:
    """Run the monthly job on the cached inbox; per-stage figures plus the inbox facts."""
    from pipelines.monthly import MonthJob, run_month

    meter = StageMeter()
    with meter:
        meter.tick("generate inbox (cached by N, seed)")
        inbox = inbox_for(messages, seed, gbk, cache)
        meter.tick(None)
    gen = meter.stages
    size_mb = sum(p.stat().st_size for p in _files(inbox)) / 1e6
    work = Path(tempfile.mkdtemp(prefix="kefu-bench-"))
    try:
        job = MonthJob(MONTH, inbox=inbox, warehouse=work / "kefu.duckdb", out=work / "out")
        meter = StageMeter()
        with meter:
            meter.tick("open (lock, build folder)")
            outcome = run_month(job, on_step=lambda name: meter.tick(None if "done" in name or "完成" in name else name))
        del outcome
        n = _messages_loaded(job)
        staged = _export_messages(job, cache or cache_dir(), messages, seed)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    stages = [s for s in meter.stages if s["wall_s"] > 0.0005]
    for s in stages:
        s["rows_per_s"] = n / s["wall_s"] if s["wall_s"] > 0.05 else None
    total = {"stage": "whole run (without generation)", "wall_s": sum(s["wall_s"] for s in stages),
             "cpu_s": sum(s["cpu_s"] for s in stages), "peak_mb": max(s["peak_mb"] for s in stages)}
    total["rows_per_s"] = n / total["wall_s"]
    return {"messages": n, "inbox_mb": size_mb, "inbox": str(inbox), "gbk": gbk, "generate": gen,
            "stages": stages, "total": total, "staged_messages": str(staged)}


def _messages_loaded(job) -> int:
    from pipelines import warehouse

    # counted in SQL: a 10M month read back whole would cost the bench gigabytes after the run
    return warehouse.query("SELECT count(*) AS n FROM messages WHERE month = ?", job.warehouse, [job.month])["n"][0]


def _export_messages(job, cache: Path, messages: int, seed: int) -> Path:
    """The run's staged messages as parquet, with the baselines' column names added."""
    from pipelines import warehouse

    out = cache / f"n{messages}-s{seed}" / "sessions" / "chats.parquet"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        raw = out.with_suffix(".raw.parquet")
        with warehouse.connect(job.warehouse, read_only=True) as con:  # streamed, never whole in memory
            con.execute(f"COPY (SELECT * FROM messages WHERE month = '{job.month}') TO '{raw}' (FORMAT parquet)")
        pl.scan_parquet(raw).with_row_index("msg_id").with_columns(
            pl.col("msg_id").cast(pl.Int64), pl.col("agent_account").alias("agent"),
            pl.col("sent_at").cast(pl.Datetime("ms")).alias("ts")).sink_parquet(out)
        raw.unlink()
    return out


BASELINES = ROOT / "benchmarks" / "baselines"


def _child(cmd: list[str], cwd: Path) -> tuple[str, float, float, float]:
    """Run one process; (stdout, wall s, CPU s of the child, peak RSS MB of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return p.stdout, wall, cpu, after.ru_maxrss / 1024


def run_baselines(chats: Path, rounds: int = 2) -> list[dict]:
    """pandas, lean polars and kefu sessionisers on ``chats`` (same file), each in its own
    process, ``rounds`` times in alternation (noisy machine: ratios are taken pair by pair).
    ``compute_s`` is the span each implementation times itself (read parquet -> result)."""
    import re

    folder = chats.parent
    py = sys.executable
    cmds = {
        "pandas": [py, str(BASELINES / "sess_pandas.py")],
        "polars": [py, str(BASELINES / "sess_polars.py")],
        "kefu": [py, "-m", "benchmarks.sessions_kefu"],
    }
    out: list[dict] = []
    for r in range(rounds):
        for name, cmd in cmds.items():
            stdout, wall, cpu, _ = _child(cmd, folder)
            if name == "kefu":
                info = json.loads(stdout.strip().splitlines()[-1])
                compute, ccpu = info["wall_s"], info["cpu_s"]
            else:
                compute, ccpu = float(re.search(r"compute ([0-9.]+)s", stdout).group(1)), None
            out.append({"impl": name, "round": r, "compute_s": compute, "compute_cpu_s": ccpu,
                        "process_wall_s": wall, "process_cpu_s": cpu})
    return out


def baseline_ratios(rows: list[dict]) -> dict:
    """Per round: pandas/kefu (speed-up, target >= 5) and kefu/polars (target <= 1.5); the median."""
    import statistics

    rounds = sorted({r["round"] for r in rows})
    by = {(r["impl"], r["round"]): r for r in rows}
    sp = [by["pandas", k]["compute_s"] / by["kefu", k]["compute_s"] for k in rounds]
    lp = [by["kefu", k]["compute_s"] / by["polars", k]["compute_s"] for k in rounds]
    return {"pandas_over_kefu": statistics.median(sp), "kefu_over_polars": statistics.median(lp),
            "per_round": list(zip(sp, lp, strict=False))}


def sample_frames(messages: int, month: str = MONTH, seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Staged-like messages and refunds frames of the sample month with ~``messages`` messages
    (in memory, no files; used by tests that need a realistic generated month)."""
    import numpy as np

    from pipelines.sample import build_month
    from pipelines.sample.chats import generate_chats
    from contracts.staged import MESSAGES, REFUNDS

    m = build_month(month, seed=seed, messages=messages)
    parts, done, k = [m.messages], m.messages.height, 1
    while done < messages - 100:
        extra, _ = generate_chats(np.random.default_rng([seed, 100 + k]), m.month_start, m.days, m.plan,
                                  min(1_000_000, messages - done), 0, flat_only=True, chunk=k)
        parts.append(extra.select(m.messages.columns))
        done, k = done + extra.height, k + 1
    msgs = pl.concat(parts, how="vertical_relaxed").sort("msg_id").with_columns(
        pl.col("msg_id").cast(pl.Int64).alias("seq"), pl.lit(month).alias("month"),
        pl.lit("bench").alias("source_file"), pl.lit(None, pl.String).alias("source_sheet"),
        pl.col("msg_id").cast(pl.Int64).alias("source_row"))
    msgs = msgs.select(*MESSAGES.names, "month", "source_file", "source_sheet", "source_row")
    refunds = m.refunds.select([c for c in REFUNDS.names if c in m.refunds.columns])
    return msgs, refunds
