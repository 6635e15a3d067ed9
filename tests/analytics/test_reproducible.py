"""Issue 9 item 7: the same staged frames give identical chat marts, run after run."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from analytics.marts import build_chat_marts
from tests.analytics.chatkit import resources, settings  # noqa: F401
from tests.analytics.test_reasons import _stage_bundled_month


def test_chat_marts_are_identical_when_built_twice_from_the_same_frames(settings, resources):  # noqa: F811
    messages, refunds = _stage_bundled_month()
    first = build_chat_marts(messages, refunds, None, None, settings, resources)
    # a third build gets the refunds in reverse row order: ties must not depend on it
    for other in (build_chat_marts(messages, refunds, None, None, settings, resources),
                  build_chat_marts(messages.clone(), refunds.reverse(), None, None, settings, resources)):
        assert first.reasons == other.reasons
        assert first.topics_message == other.topics_message
        assert set(first.marts) == set(other.marts)
        for name, frame in first.marts.items():
            assert frame.height > 0, name
            assert_frame_equal(frame, other.marts[name], check_exact=True), name
    assert first.reasons.status == "trained"
    assert first.marts["conversation_reasons"]["predicted_reason"].null_count() < first.marts["conversation_reasons"].height


def test_count_matrix_is_canonical_whatever_the_token_row_order():
    """Same (doc, token) rows in any order -> the same CSR arrays (sorted indices), so TF-IDF
    and the solvers sum floats in one order."""
    import numpy as np

    from analytics.vectorize import build_vocabulary, count_matrix

    tokens = pl.DataFrame({"doc": [0, 0, 1, 1, 1, 2, 0], "token": ["退款", "快递", "快递", "破损", "快递", "退款", "破损"]})
    docs = np.array([2, 0, 1], dtype=np.int64)
    vocab = build_vocabulary(tokens, docs)
    mats = [count_matrix(tokens.sample(fraction=1.0, shuffle=True, seed=s), docs, vocab) for s in range(6)]
    for m in mats:
        assert m.has_sorted_indices
        assert np.array_equal(m.indices, mats[0].indices) and np.array_equal(m.data, mats[0].data)
    # rows follow docs order; columns follow the sorted vocabulary (快递, 破损, 退款)
    assert mats[0].toarray().tolist() == [[0, 0, 1], [1, 1, 1], [2, 1, 0]]
