"""Pins the sessions / response-time outputs so speed work cannot change a single value.

The snapshots in ``snapshots/`` were written from the code *before* the sessions rewrite
(issue 13) on two inputs: the bundled sample month through the real readers and stager, and
a generated 20k-message month (pipelines.bench.sample_frames). Regenerate only on purpose,
when a rule in docs/analytics.md changes: ``KEFU_UPDATE_SNAPSHOTS=1 pytest <this file>``.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from analytics.marts import questions_mart
from analytics.response_metrics import agent_day_metrics, agent_month_metrics
from analytics.sessions import build_sessions
from tests.analytics.chatkit import resources, settings  # noqa: F401
from tests.analytics.test_reasons import _stage_bundled_month

SNAP = Path(__file__).parent / "snapshots"


def _outputs(messages: pl.DataFrame, settings) -> dict[str, pl.DataFrame]:  # noqa: F811
    sess = build_sessions(messages, settings)
    day = agent_day_metrics(sess, settings)
    conv_cols = ["conversation_id", "month", "shop", "agent_account", "buyer", "start_at", "end_at",
                 "service_duration_s", "buyer_msgs", "agent_msgs", "other_rows", "transferred_in",
                 "transferred_out", "carried_in", "first_agent_msg_idx", "first_buyer_msg_idx",
                 "has_dialogue", "duration_s", "day", "is_long", "questions", "answered_questions",
                 "unanswered_questions", "first_response_s"]
    return {
        "questions": questions_mart(sess, settings),
        "conversations": sess.conversations.select(conv_cols).sort("conversation_id"),
        "agent_day_metrics": day,
        "agent_month_metrics": agent_month_metrics(sess, day, settings),
        "messages": sess.messages.select("msg_idx", "kind", "is_auto", "is_system", "day",
                                         "conversation_id").sort("msg_idx"),
        "transfers": sess.transfers.sort("transfer_id"),
    }


def _inputs(name: str) -> pl.DataFrame:
    if name == "bundled":
        return _stage_bundled_month()[0]
    from pipelines.bench import sample_frames

    return sample_frames(20_000, seed=3)[0]


@pytest.mark.parametrize("name", ["bundled", "generated20k"])
def test_sessions_outputs_match_the_pinned_snapshot(name, settings):  # noqa: F811
    out = _outputs(_inputs(name), settings)
    for mart, frame in out.items():
        path = SNAP / f"{name}_{mart}.parquet"
        if os.environ.get("KEFU_UPDATE_SNAPSHOTS") == "1":
            frame.write_parquet(path)
        expected = pl.read_parquet(path)
        assert frame.height > 0, mart
        assert_frame_equal(frame, expected, check_exact=True, check_column_order=True, check_dtypes=True), mart
