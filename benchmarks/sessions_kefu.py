"""kefu's sessions + response times on the shared baseline generator's ``chats.parquet``.

Run in the folder holding ``chats.parquet`` (the shared generator's, or the staged messages
``kefu bench --baseline`` exports), as its own process,
like the baselines: ``python -m benchmarks.sessions_kefu [--service-hours 09:00-24:00]``.
Times the same span the baselines time (read the parquet -> per-conversation figures) plus
kefu's day and month metrics, and writes ``out_kefu.parquet`` in the baselines' columns so
``compare.py kefu`` can check it. Prints one JSON line: wall_s, cpu_s, peak_rss_mb.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
USED = ["shop", "agent_account", "buyer", "sender_role", "sent_at", "text", "is_auto_reply", "event",
        "transfer_from", "transfer_to", "transfer_reason", "seq", "month", "source_file"]


def to_staged(chats: pl.DataFrame) -> pl.DataFrame:
    """The generator's columns as a staged ``messages`` frame (one source file, file order = msg_id)."""
    return chats.select(
        "shop", pl.col("agent").alias("agent_account"), "buyer",
        pl.when(pl.col("sender_role") == "buyer").then(pl.col("buyer")).otherwise(pl.col("agent")).alias("sender"),
        "sender_role", pl.col("ts").cast(pl.Datetime("us")).alias("sent_at"), "text", "is_auto_reply",
        pl.lit("message").alias("event"), pl.lit(None, pl.String).alias("transfer_from"),
        pl.lit(None, pl.String).alias("transfer_to"), pl.lit(None, pl.String).alias("transfer_reason"),
        pl.lit(None, pl.String).alias("read_status"), pl.col("msg_id").cast(pl.Int64).alias("seq"),
        pl.col("ts").dt.strftime("%Y-%m").alias("month"), pl.lit("chats.parquet").alias("source_file"),
        pl.lit(None, pl.String).alias("source_sheet"), pl.col("msg_id").cast(pl.Int64).alias("source_row"),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--service-hours", default="00:00-24:00")
    ap.add_argument("--no-metrics", action="store_true", help="time sessions only (no day/month metrics)")
    args = ap.parse_args(argv)
    from analytics.response_metrics import agent_day_metrics, agent_month_metrics
    from analytics.sessions import build_sessions
    from analytics.settings import AnalyticsSettings

    settings = AnalyticsSettings.from_yaml_text((ROOT / "data" / "settings.yaml").read_text("utf-8"))
    settings.sessions.service_hours = [args.service_hours]
    c0, t0 = time.process_time(), time.perf_counter()
    # kefu bench exports staged messages (plus the baselines' columns); the generator does not.
    # Like the baselines, read only the columns the computation uses.
    if "agent_account" in pl.read_parquet_schema("chats.parquet"):
        msgs = pl.read_parquet("chats.parquet", columns=USED)
    else:
        msgs = to_staged(pl.read_parquet("chats.parquet"))
    sess = build_sessions(msgs, settings)
    if not args.no_metrics:
        day = agent_day_metrics(sess, settings)
        agent_month_metrics(sess, day, settings)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    q = sess.questions.filter(pl.col("status") != "transferred_out")
    per_conv = q.group_by("conv_no").agg(
        pl.len().alias("n_questions"), pl.col("response_s").count().alias("n_answered"),
        pl.col("response_s").filter("is_first_in_conversation").first().alias("first_response_s"),
        pl.col("response_s").mean().alias("avg_response_s"))
    out = sess.conversations.join(per_conv, on="conv_no", how="inner").select(
        "shop", pl.col("agent_account").alias("agent"), "buyer",
        pl.col("start_at").dt.epoch("s").alias("session_start"), "n_questions", "n_answered",
        "first_response_s", "avg_response_s")
    out.write_parquet("out_kefu.parquet")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"impl": "kefu", "rows": msgs.height, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                      "peak_rss_mb": round(peak)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
