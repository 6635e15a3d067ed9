"""Benchmark of the chat analytics stages: time and peak memory per stage.

``run_bench(messages) -> list[dict(stage, seconds, peak_mb, delta_mb)]``; ``python -m
pipelines.bench --messages 1000000`` prints a table (the lead wires ``kefu bench``).

Input: the sample month generator (pipelines.sample, vectorised) asked for ``messages``
messages, staged in memory (lineage columns added), plus its refunds.

Memory: tracemalloc cannot see polars/Arrow (Rust) allocations, and ru_maxrss is a process
high-water mark that never goes down, so per-stage deltas of it hide every stage that peaks
below an earlier one. Instead a background thread samples the resident set size
(/proc/self/statm) every 5 ms while the stage runs: ``peak_mb`` is the highest RSS seen
during the stage (whole process, so it includes the data kept from earlier stages) and
``delta_mb`` that peak minus the RSS when the stage started (what the stage itself added
at its peak). A 5 ms sampler can miss sub-5 ms spikes; stages here run far longer.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from pipelines.resources import load_text_resources

ROOT = Path(__file__).resolve().parents[1]
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**20


@contextmanager
def _measure(stage: str, results: list[dict]):
    start_rss = _rss_mb()
    peak = [start_rss]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _rss_mb())
            stop.wait(0.005)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    t0 = time.perf_counter()
    try:
        yield
    finally:
        secs = time.perf_counter() - t0
        stop.set()
        th.join()
        peak[0] = max(peak[0], _rss_mb())
        results.append({"stage": stage, "seconds": round(secs, 3), "peak_mb": round(peak[0], 1),
                        "delta_mb": round(peak[0] - start_rss, 1)})


def sample_frames(messages: int, month: str = "2026-10", seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Staged-like messages and refunds frames of the sample month with ~``messages`` messages."""
    import numpy as np

    from pipelines.sample import build_month
    from pipelines.sample.chats import generate_chats
    from pipelines.staging.schemas import MESSAGES, REFUNDS

    m = build_month(month, seed=seed, messages=messages)
    parts, done, k = [m.messages], m.messages.height, 1
    # build_month builds at most one chunk (1M) of chats; add flat-layout chunks like
    # pipelines.sample.generate does when it streams a bigger month to files
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
    del parts
    refunds = m.refunds.select([c for c in REFUNDS.names if c in m.refunds.columns])
    return msgs, refunds


def run_bench(messages: int) -> list[dict]:
    """Time and peak memory of each analytics stage on ``messages`` synthetic messages."""
    from analytics import knowledge, quality, reasons, response_metrics, sessions, text_hits, topics
    from analytics.marts import questions_mart
    from analytics.settings import AnalyticsSettings

    settings = AnalyticsSettings.from_yaml_text((ROOT / "data" / "settings.yaml").read_text("utf-8"))
    res = load_text_resources(settings)
    out: list[dict] = []
    with _measure("generate (sample month, not analytics)", out):
        msgs, refunds = sample_frames(messages)
    n = msgs.height
    with _measure("sessions (conversations, questions, transfers)", out):
        sess = sessions.build_sessions(msgs, settings)
    with _measure("metrics (questions mart, agent day + month)", out):
        questions_mart(sess, settings)
        day = response_metrics.agent_day_metrics(sess, settings)
        response_metrics.agent_month_metrics(sess, day, settings)
    with _measure("text normalisation (NFKC, OpenCC t2s, emoticons)", out):
        norm = text_hits.normalized_messages(sess.messages, settings)
    with _measure("text matching (6 lexicons, Aho-Corasick)", out):
        hits = text_hits.build_text_hits(norm, res.lexicons)
    with _measure("quality + product knowledge", out):
        quality.quality_indicators(sess, norm, hits, None)
        knowledge.product_questions(sess, norm, hits, res.catalogue)
    with _measure("classifier (rjieba, TF-IDF, logistic regression)", out):
        _, rep = reasons.classify_reasons(sess, norm, refunds, settings, res.segmenter, res.stopwords)
    with _measure("topics (NMF)", out):
        docs = reasons.conversation_docs(sess, norm)
        topics.discover_topics(docs, settings, res.segmenter, res.stopwords)
    for r in out:
        r["messages"] = n
    out.append({"stage": "classifier report", "seconds": None, "peak_mb": None, "delta_mb": None,
                "messages": n, "note": rep.message})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="chat analytics benchmark")
    ap.add_argument("--messages", type=int, default=1_000_000)
    args = ap.parse_args(argv)
    rows = run_bench(args.messages)
    print(f"messages: {rows[0]['messages']:,}")
    print(f"{'stage':52s} {'seconds':>9s} {'peak MB':>9s} {'+MB':>8s}")
    for r in rows:
        if r["seconds"] is None:
            print(r["note"])
            continue
        print(f"{r['stage']:52s} {r['seconds']:9.2f} {r['peak_mb']:9.0f} {r['delta_mb']:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def run_ingest_bench(messages: int, month: str = "2026-10") -> list[dict]:
    """Generate a sample inbox of ~``messages`` messages in a temp dir (real layouts), then
    time reading + staging + dedupe of it (pipelines.ingest.stage_inbox; no warehouse)."""
    import tempfile

    from pipelines.ingest import stage_inbox
    from pipelines.sample import generate

    results: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        with _measure("generate sample files", results):
            generate(month, inbox, agents=8, seed=1, messages=messages)
        size_mb = sum(p.stat().st_size for p in inbox.rglob("*") if p.is_file()) / 1e6
        with _measure("ingest: read + stage + dedupe", results):
            files, tables, _ = stage_inbox(month, inbox)
        r = results[-1]
        r["rate"] = f"{size_mb / r['seconds']:.0f} MB/s ({size_mb:.0f} MB)"
        r["messages"] = tables["messages"].height
    return results
