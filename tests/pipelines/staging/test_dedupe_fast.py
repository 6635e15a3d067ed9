"""The hash-prefiltered dedupe gives exactly the rows and counts of the plain natural-key dedupe."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.staging.schemas import TABLES
from pipelines.staging.stage import dedupe


def _reference(table, frames):
    df = pl.concat([f for f in frames if f.height], how="vertical_relaxed")
    key = list(table.natural_key)
    if table.dedupe_with_occurrence:
        df = df.with_columns(pl.int_range(pl.len()).over(key + ["source_file"]).alias("_occ"))
        key = key + ["_occ"]
    first = df.select(pl.struct(key).is_first_distinct()).to_series()
    per_file = dict(df.filter(~first).group_by("source_file").len().iter_rows())
    return df.filter(first).drop("_occ", strict=False), per_file


def _messages(r: random.Random, file: str, n: int) -> pl.DataFrame:
    t0 = datetime(2026, 10, 1, 9)
    rows = []
    for i in range(n):
        rows.append({
            "shop": "店", "agent_account": f"店:{r.choice('ab')}", "buyer": f"b{r.randint(0, 3)}",
            "sender": "x", "sender_role": "buyer", "sent_at": t0 + timedelta(seconds=r.randint(0, 5)),
            "text": r.choice(["好的", "在吗", None, ""]), "event": "message", "seq": i, "source_file": file,
            "source_row": i + 1,
        })
    return pl.DataFrame(rows)


@pytest.mark.parametrize("seed", range(5))
def test_messages_dedupe_matches_the_plain_key_dedupe(seed):
    r = random.Random(seed)
    a = _messages(r, "a.csv", 300)
    b = pl.concat([a.tail(120).with_columns(pl.lit("b.csv").alias("source_file")), _messages(r, "b.csv", 100)])
    out, per_file = dedupe("messages", [a, b])
    ref, ref_per_file = _reference(TABLES["messages"], [a, b])
    assert_frame_equal(out, ref)
    assert per_file == ref_per_file and per_file.get("b.csv", 0) >= 120 and out.height < a.height + b.height


def test_no_duplicates_keeps_every_row():
    a = pl.DataFrame({"refund_id": ["1", "2", "3"], "order_id": ["9", "9", "8"], "source_file": ["r.csv"] * 3})
    out, per_file = dedupe("refunds", [a])
    assert per_file == {} and out.height == 3
