"""The integer / hashed / run-based paths of sessions and response metrics give exactly what the
plain definitions give (a sort on the strings, group-bys over every row).

Each test builds random inputs with the awkward cases (nulls, empty strings, equal instants,
messages out of file order, transfer rows) and compares against a straightforward reference.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta

import numpy as np
import polars as pl
import pytest

import analytics.sessions as S
from analytics.response_metrics import _concurrency_sorted, _message_figures_day, concurrency
from analytics.sessions import THREAD, build_sessions
from tests.analytics.chatkit import A, B, frame, msg, ts
from tests.analytics.chatkit import resources, settings  # noqa: F401  (fixtures)


def _thread_frame(n: int, seed: int) -> pl.DataFrame:
    rng = random.Random(seed)
    pick = rng.choice
    return pl.DataFrame(
        [{"month": pick(["2026-10", "2026-09"]), "shop": pick(["店A", "店B", None]),
          "agent_account": pick(["店A:小美", "店A:阿杰", "店B:小美", None, ""]),
          "buyer": pick(["买家1", "买家2", "b", "B", "买家10", None, ""])} for _ in range(n)],
        schema={c: pl.String for c in THREAD})


@pytest.mark.parametrize("nulls", [True, False])
def test_hashed_thread_numbers_equal_numbering_the_sorted_distinct_strings(nulls):
    msgs, extra = _thread_frame(3000, 1), _thread_frame(40, 2)
    if not nulls:  # the struct-sort path: prefixes, empty strings, case, long multi-byte strings
        msgs, extra = (f.with_columns(pl.col(c).fill_null(v) for c, v in zip(
            THREAD, ["2026-1", "店A店A店A店A店A店A", "店A:小美x", "买家1买家1买家1买家1"], strict=True)) for f in (msgs, extra))
    hashed = S._hashed_thread_numbers([msgs, extra], [S._thread_hash(msgs), S._thread_hash(extra)])
    assert hashed is not None
    threads, nos = hashed
    expected = pl.concat([msgs, extra]).unique().sort(THREAD, nulls_last=True).with_row_index("thread_no")
    assert threads.equals(expected)
    for f, no in zip([msgs, extra], nos, strict=True):
        joined = f.join(expected, on=THREAD, how="left", nulls_equal=True, maintain_order="left")["thread_no"]
        assert no.equals(joined, check_names=False)


def test_a_shared_hash_is_caught_and_the_strings_are_ranked(monkeypatch, settings):  # noqa: F811
    msgs = _thread_frame(500, 3)
    constant = lambda f: pl.Series("_h", [7] * f.height, dtype=pl.UInt64)  # noqa: E731  every thread collides
    assert S._hashed_thread_numbers([msgs], [constant(msgs)]) is None
    month = _generated_month()
    want = build_sessions(month, settings)
    monkeypatch.setattr(S, "_thread_hash", constant)
    got = build_sessions(month, settings)
    _assert_same_sessions(got, want)


def _reference_order(rows: pl.DataFrame, positions) -> pl.Series:
    rank = pl.col("msg_idx") if positions is None else pl.lit(positions[0]).gather(pl.col("msg_idx"))
    return rows.with_row_index("_row").sort(
        "thread_no", "sent_at", "tie", rank, nulls_last=True, maintain_order=True)["_row"].cast(pl.Int64)


@pytest.mark.parametrize("micro", [False, True])
@pytest.mark.parametrize("shuffled", [False, True])
@pytest.mark.parametrize("i_rows", [0, 7])
def test_thread_order_equals_sorting_by_thread_instant_tie_and_file_order(micro, shuffled, i_rows):
    rng = np.random.default_rng(5)
    n = 4000
    base = datetime(2026, 10, 1)
    secs = rng.integers(0, 400, n)  # many equal instants in a thread
    sent = [base + timedelta(seconds=int(s), microseconds=int(u) if micro else 0)
            for s, u in zip(secs, rng.integers(0, 3, n), strict=True)]
    rows = pl.DataFrame({
        "thread_no": rng.integers(0, 30, n).astype(np.uint32), "sent_at": sent,
        "msg_idx": np.arange(n, dtype=np.int64), "tie": np.ones(n, dtype=np.int8),
    })
    if i_rows:  # I rows: appended, tie 0, the rank of the notice they come from
        notices = rng.choice(n, i_rows, replace=False)
        rows = pl.concat([rows, rows[notices].with_columns(
            pl.lit(0, pl.Int8).alias("tie"), (pl.col("thread_no") + 1) % 30)])
    positions = None
    if shuffled:
        order = pl.Series(rng.permutation(n).astype(np.uint32))
        ranks = pl.zeros(n, dtype=pl.UInt32, eager=True).scatter(order, pl.int_range(n, dtype=pl.UInt32, eager=True))
        positions = (ranks, order)
    got = S._thread_order(rows, n, positions).cast(pl.Int64)
    assert got.equals(_reference_order(rows, positions), check_names=False)
    # a null instant sorts last in its thread (plain sort path)
    with_null = rows.with_columns(pl.when(pl.col("msg_idx") == 3).then(None).otherwise(pl.col("sent_at")).alias("sent_at"))
    got = S._thread_order(with_null, n, positions).cast(pl.Int64)
    assert got.equals(_reference_order(with_null, positions), check_names=False)


def _generated_month() -> pl.DataFrame:
    from pipelines.bench import sample_frames

    return sample_frames(6_000, seed=11)[0]


def _assert_same_sessions(got, want) -> None:
    for name in ("conversations", "questions", "transfers", "threads"):
        assert getattr(got, name).equals(getattr(want, name)), name
    assert got.rows.equals(want.rows)
    assert got.messages.equals(want.messages)


def test_messages_out_of_file_order_give_the_same_sessions(settings):  # noqa: F811
    month = _generated_month()
    want = build_sessions(month, settings)
    perm = np.random.default_rng(2).permutation(month.height)
    got = build_sessions(month[perm], settings)
    # same conversations and questions; message references follow the rows' new positions
    back = pl.Series(perm)
    assert got.conversations.drop("first_agent_msg_idx", "first_buyer_msg_idx").equals(
        want.conversations.drop("first_agent_msg_idx", "first_buyer_msg_idx"))
    assert back.gather(got.conversations["first_buyer_msg_idx"].drop_nulls()).equals(
        want.conversations["first_buyer_msg_idx"].drop_nulls(), check_names=False)
    cols = ["question_id", "status", "response_s", "buyer_msgs", "asked_at", "answered_at"]
    assert got.questions.select(cols).equals(want.questions.select(cols))


def test_conversations_and_question_counts_equal_group_bys(settings):  # noqa: F811
    sess = build_sessions(_generated_month(), settings)
    rows, kind = sess.rows, pl.col("kind")
    ref = rows.group_by("conv_no", maintain_order=True).agg(
        pl.col("sent_at").first().alias("start_at"), pl.col("sent_at").last().alias("end_at"),
        (pl.col("clock").last() - pl.col("clock").first()).alias("service_duration_s"),
        (kind == "B").sum().cast(pl.Int64).alias("buyer_msgs"), (kind == "H").sum().cast(pl.Int64).alias("agent_msgs"),
        (kind == "N").sum().cast(pl.Int64).alias("other_rows"), (kind == "I").any().alias("transferred_in"),
        (kind == "O").any().alias("transferred_out"), ((kind == "I") & pl.col("carry")).any().alias("carried_in"),
        pl.col("msg_idx").filter(kind == "H").first().alias("first_agent_msg_idx"),
        pl.col("msg_idx").filter(kind == "B").first().alias("first_buyer_msg_idx"))
    assert sess.conversations.select(ref.columns).equals(ref)
    q = sess.questions
    ref_q = q.group_by("conv_no", maintain_order=True).agg(
        (pl.col("status") != "transferred_out").sum().cast(pl.Int64).alias("questions"),
        (pl.col("status") == "answered").sum().cast(pl.Int64).alias("answered_questions"),
        (pl.col("status") == "unanswered").sum().cast(pl.Int64).alias("unanswered_questions"),
        pl.col("response_s").filter(pl.col("is_first_in_conversation")).first().alias("first_response_s"))
    got = sess.conversations.select("conv_no", *ref_q.columns[1:])
    assert got.join(ref_q, on="conv_no", how="anti").select(pl.col("questions").sum()).item() == 0
    assert got.join(ref_q, on="conv_no", how="semi").equals(ref_q)


@pytest.mark.parametrize("precomputed", [True, False])
def test_message_figures_equal_a_group_by_on_agent_and_day(settings, precomputed):  # noqa: F811
    sess = build_sessions(_generated_month(), settings)
    assert sess.message_figures is not None  # by thread numbers, while the conversations are made
    if not precomputed:  # by each message's conversation (a Sessions built without them)
        sess = dataclasses.replace(sess, message_figures=None)
    m = sess.messages.join(sess.conversations.select("conv_no", "agent_no"), on="conv_no")
    ref = m.group_by("agent_no", "day").agg(
        (pl.col("kind") == "B").sum().cast(pl.Int64).alias("buyer_msgs"),
        (pl.col("kind") == "H").sum().cast(pl.Int64).alias("agent_msgs"),
        pl.col("text").filter(pl.col("kind") == "H").str.len_chars().sum().cast(pl.Int64).alias("agent_chars"))
    got = _message_figures_day(sess).drop("ask_answer_ratio")
    assert got.sort("agent_no", "day").equals(ref.sort("agent_no", "day"))


def test_packed_concurrency_equals_the_sorted_events():
    rng = np.random.default_rng(4)
    base = datetime(2026, 10, 1)
    n = 3000
    start = rng.integers(0, 86400 * 3, n)
    dur = rng.integers(0, 5000, n) * rng.integers(0, 2, n)  # many zero-length, touching conversations
    c = pl.DataFrame({"agent_no": rng.integers(0, 5, n).astype(np.uint32),
                      "start_at": [base + timedelta(seconds=int(x)) for x in start],
                      "end_at": [base + timedelta(seconds=int(x + d)) for x, d in zip(start, dur, strict=True)],
                      "has_dialogue": rng.integers(0, 4, n) > 0})
    got = concurrency(c).sort("agent_no", "day")
    assert got.equals(_concurrency_sorted(c.filter("has_dialogue")).sort("agent_no", "day"))
    assert concurrency(c.clear()).height == 0


def test_transfer_into_a_thread_no_message_has(settings):  # noqa: F811
    # B's thread with this buyer exists only through the transfer: numbering is extended
    s = build_sessions(frame([
        msg(A, "z", "buyer", ts(1, "10:00:00"), "在吗"),
        msg(A, "z", "agent", ts(1, "10:00:05"), "转给同事", event="transfer", transfer_from=A, transfer_to=B),
        msg(B, "y", "buyer", ts(1, "10:01:00"), "你好"),
    ]), settings)
    assert s.threads.select(THREAD).equals(s.threads.select(THREAD).sort(THREAD, nulls_last=True))
    assert s.threads.height == 3
    assert s.questions.filter(pl.col("agent_account") == B).sort("asked_at")["carried_in"].to_list() == [True, False]
