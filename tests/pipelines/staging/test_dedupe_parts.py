"""The dedupe over ordered parts (one per file, key hashes kept, candidates read back) gives
exactly the rows, order and per-file counts of :func:`dedupe` on the concatenated frames."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.staging.dedupe_parts import FileParts, FrameParts, dedupe_parts, key_hashes, repeated
from pipelines.staging.stage import dedupe

T0 = datetime(2026, 10, 1, 9)

# one message: (buyer, seconds, text); few values so keys repeat inside and across files
message = st.tuples(st.integers(0, 2), st.integers(0, 2), st.sampled_from(["好的", "在吗", None, ""]))
file_rows = st.lists(message, min_size=0, max_size=25)


def _messages(file: str, rows: list[tuple[int, int, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "shop": ["店"] * len(rows), "agent_account": ["店:a"] * len(rows),
            "buyer": [f"b{b}" for b, _, _ in rows], "sender": ["x"] * len(rows), "sender_role": ["buyer"] * len(rows),
            "sent_at": [T0 + timedelta(seconds=s) for _, s, _ in rows], "text": [t for _, _, t in rows],
            "event": ["message"] * len(rows), "seq": list(range(len(rows))), "source_file": [file] * len(rows),
            "source_row": list(range(2, len(rows) + 2)),
        },
        schema_overrides={"sent_at": pl.Datetime("us"), "text": pl.String},
    )


def _refunds(file: str, ids: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"refund_id": [f"R{i}" for i in ids], "order_id": [f"O{i % 3}" for i in ids],
                         "source_file": [file] * len(ids), "source_row": list(range(2, len(ids) + 2))})


def _files(draw_rows: list[list], copies: list[tuple[int, int]], make) -> list[pl.DataFrame]:
    """Frames of files f0, f1, ...; ``copies`` (i, j): file j also repeats the rows of file i
    (an overlapping export), before its own rows."""
    frames = []
    for j, rows in enumerate(draw_rows):
        extra = [r for i, jj in copies if jj == j and i < j for r in draw_rows[i]]
        frames.append(make(f"f{j}.csv", extra + rows))
    return frames


def _streamed(kind: str, frames: list[pl.DataFrame], folder: Path | None, max_candidates: int):
    kept = [f for f in frames if f.height]
    hashes = [key_hashes(kind, f) for f in kept]
    if folder is None:
        parts = FrameParts(list(kept))
        per_file = dedupe_parts(kind, parts, hashes, max_candidates)
        out = parts.frames
    else:
        paths = []
        for i, f in enumerate(kept):
            paths.append(folder / f"part-{i:05d}.parquet")
            f.write_parquet(paths[-1])
        per_file = dedupe_parts(kind, FileParts(paths), hashes, max_candidates)
        out = [pl.read_parquet(p) for p in paths]
    frame = pl.concat(out, how="vertical_relaxed") if out else None
    return frame, per_file


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(file_rows, min_size=1, max_size=4),
    copies=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=3),
    on_disk=st.booleans(),
    max_candidates=st.sampled_from([1, 3, 2_000_000]),
)
def test_streamed_messages_dedupe_equals_dedupe(rows, copies, on_disk, max_candidates):
    frames = _files(rows, copies, _messages)
    want, want_per_file = dedupe("messages", frames)
    with tempfile.TemporaryDirectory() as d:
        got, per_file = _streamed("messages", frames, Path(d) if on_disk else None, max_candidates)
    assert per_file == want_per_file
    if got is None:
        assert want.height == 0
    else:
        assert_frame_equal(got, want)
    assert sum(f.height for f in frames) == want.height + sum(per_file.values())


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(st.lists(st.integers(0, 12), max_size=15), min_size=1, max_size=4), max_candidates=st.sampled_from([2, 2_000_000]))
def test_streamed_refunds_dedupe_equals_dedupe(ids, max_candidates):
    """No occurrence numbering here: a refund id repeated inside one file is a duplicate too."""
    frames = [_refunds(f"r{j}.csv", i) for j, i in enumerate(ids)]
    want, want_per_file = dedupe("refunds", frames)
    got, per_file = _streamed("refunds", frames, None, max_candidates)
    assert per_file == want_per_file
    assert (got.height if got is not None else 0) == want.height
    if got is not None:
        assert_frame_equal(got, want)


def test_hand_made_case_across_and_inside_files(tmp_path):
    """a: 在吗 x2 + 退款; b: 在吗 x3 + 好 → b's first two 在吗 repeat a's, its third is new."""
    a = _messages("a.csv", [(0, 0, "在吗"), (0, 0, "在吗"), (0, 0, "退款")])
    b = _messages("b.csv", [(0, 0, "在吗"), (0, 0, "在吗"), (0, 0, "在吗"), (1, 1, "好")])
    got, per_file = _streamed("messages", [a, b], tmp_path, 2_000_000)
    assert per_file == {"b.csv": 2}
    assert got["text"].to_list() == ["在吗", "在吗", "退款", "在吗", "好"]
    assert got["source_file"].to_list() == ["a.csv"] * 3 + ["b.csv"] * 2
    assert got["source_row"].to_list() == [2, 3, 4, 4, 5]


def test_parts_without_repeats_are_left_alone(tmp_path):
    a = _refunds("a.csv", [1, 2])
    path = tmp_path / "part-00000.parquet"
    a.write_parquet(path)
    before = path.stat().st_mtime_ns
    assert dedupe_parts("refunds", FileParts([path]), [key_hashes("refunds", a)]) == {}
    assert path.stat().st_mtime_ns == before
    assert dedupe_parts("refunds", FileParts([]), []) == {}


@settings(deadline=None)  # no timing in unit tests: a loaded machine took 288 ms for one case
@given(st.lists(st.sampled_from([0, 1, 7, 2**63 - 1, 2**63, 2**63 + 5, 2**64 - 1]), max_size=30))
def test_repeated_finds_the_positions_is_duplicated_finds(values):
    """The sort-based candidate search, also for hashes above 2**63 (no signed overflow)."""
    s = pl.Series("h", values, dtype=pl.UInt64)
    assert repeated(s).to_list() == s.is_duplicated().arg_true().to_list()
