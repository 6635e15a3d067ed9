"""Issue 13 (memory): chat marts built in partitions of the month's buyers are the marts of the
one-piece build, frame for frame, exact floats included (analytics/partition.py)."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics.marts import build_chat_marts
from analytics.partition import partition_count, topic_sample
from tests.analytics.chatkit import resources, settings  # noqa: F401
from tests.analytics.test_reasons import _stage_bundled_month


def _assert_same(one, many) -> None:
    assert one.reasons == many.reasons
    assert one.topics_message == many.topics_message
    assert one.lexicons.equals(many.lexicons)
    assert list(one.marts) == list(many.marts)
    for name, frame in one.marts.items():
        assert frame.height > 0, name
        assert_frame_equal(frame, many.marts[name], check_exact=True, check_column_order=True), name


def test_a_generated_month_in_7_partitions_gives_the_marts_of_one_piece(settings, resources):  # noqa: F811
    from pipelines.bench import sample_frames

    messages, refunds = sample_frames(20_000, seed=3)
    one = build_chat_marts(messages, refunds, None, None, settings, resources, partitions=1)
    many = build_chat_marts(messages, refunds, None, None, settings, resources, partitions=7)
    assert one.reasons.status == "trained"  # fitted on the labelled documents only
    # ... and every partition's after-sales conversations tagged by it, as in one piece
    assert one.marts["conversation_reasons"]["predicted_reason"].is_not_null().sum() > 100
    _assert_same(one, many)


def _one_and_many(cfg, res, seed: int, partitions: int):
    """The marts of a 20,000-message sample month built in one piece and in ``partitions``."""
    from pipelines.bench import sample_frames

    messages, refunds = sample_frames(20_000, seed=seed)
    one = build_chat_marts(messages, refunds, None, None, cfg, res, partitions=1)
    many = build_chat_marts(messages, refunds, None, None, cfg, res, partitions=partitions)
    return one, many, (messages, refunds)


def test_topics_on_a_capped_sample_are_the_same_in_partitions(settings, resources):  # noqa: F811

    capped = settings.model_copy(deep=True)
    capped.text.topics.max_docs = 400
    one, many, (messages, refunds) = _one_and_many(capped, resources, seed=5, partitions=6)
    assert "400 个会话" in one.topics_message
    full = build_chat_marts(messages, refunds, None, None, settings, resources, partitions=1)
    assert not one.marts["topics"].equals(full.marts["topics"])  # the sample is not the month
    _assert_same(one, many)


def test_classifier_on_a_capped_sample_is_the_same_in_partitions(settings, resources):  # noqa: F811

    capped = settings.model_copy(deep=True)
    capped.text.classifier.max_labelled = 150
    one, many, _ = _one_and_many(capped, resources, seed=3, partitions=5)
    assert one.reasons.status == "trained" and one.reasons.labelled > 150
    assert one.reasons.train + one.reasons.test <= 150 and "固定抽取的 150 个" in one.reasons.message
    _assert_same(one, many)


def _docs(n: int, month: str = "2026-10") -> pl.DataFrame:
    return pl.DataFrame({"month": [month] * n, "conversation_id": [f"店|客服|买家{i}|20261001" for i in range(n)],
                         "doc": list(range(n)), "text": [f"文本{i}" for i in range(n)]})


def test_topic_sample_keeps_small_months_and_draws_a_fixed_sample_of_big_ones():
    small = _docs(50)
    assert topic_sample(small, 50, seed=1, order="doc").equals(small)  # at the cap: every document
    big = pl.concat([_docs(500), _docs(30, "2026-09")])
    got = topic_sample(big, 100, seed=1, order="doc")
    assert got.group_by("month").len().sort("month")["len"].to_list() == [30, 100]  # per month
    assert got.columns == big.columns
    assert got.equals(big.join(got, on=["month", "doc"], how="semi", maintain_order="left"))  # order kept
    shuffled = topic_sample(big.sample(fraction=1.0, shuffle=True, seed=9), 100, seed=1, order="doc")
    assert shuffled.sort("month", "doc").equals(got.sort("month", "doc"))  # whatever the row order
    other_seed = topic_sample(big, 100, seed=2, order="doc")
    assert not other_seed.equals(got)


def test_the_bundled_month_with_transfers_and_a_roster_in_7_partitions(settings, resources):  # noqa: F811
    messages, refunds = _stage_bundled_month()
    assert (messages["event"] == "transfer").sum() > 0  # transfers cross threads, not buyers
    accounts = messages["agent_account"].unique().sort().to_list()
    roster = pl.DataFrame({"agent_account": accounts[:3], "name": ["甲", "乙", "丙"][:len(accounts[:3])],
                           "role": ["普通售后客服"] * len(accounts[:3])})
    one = build_chat_marts(messages, refunds, None, roster, settings, resources, partitions=1)
    many = build_chat_marts(messages, refunds, None, roster, settings, resources, partitions=7)
    assert one.marts["agent_month_metrics"]["in_roster"].sum() > 0
    _assert_same(one, many)


@pytest.mark.parametrize("rows, k", [(0, 1), (249_999, 1), (250_000, 2), (1_000_000, 8), (10_000_000, 80), (100_000_000, 128)])
def test_partition_count_follows_the_row_count(rows, k):
    assert partition_count(rows) == k
