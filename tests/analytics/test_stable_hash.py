"""The hash that draws the fixed samples (topic documents, labelled conversations) depends on
the strings' bytes and the seed only (analytics/stable_hash.py): checked against a plain
Python implementation of its definition, and pinned so that a change shows up."""

from __future__ import annotations

import polars as pl
import pytest

import analytics.stable_hash as sh
from analytics.stable_hash import stable_hash

M = 2**64


def by_definition(value: str | None, seed: int) -> int:
    """sum((byte_i + 1) * BASE**i) mod 2^64, xor length * golden, xor seed * mix, splitmix64."""
    data = (value or "").encode("utf-8")
    z = sum((b + 1) * pow(sh.BASE, i, M) for i, b in enumerate(data)) % M
    z ^= len(data) * sh._GOLDEN % M
    z ^= seed * sh._SEED_MIX % M
    z = (z + sh._GOLDEN) % M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % M
    return z ^ (z >> 31)


VALUES = ["", "a", None, "ab", "ba", "店|客服A|买家1|2026-10-01 10:00:00", "x" * 3000, "é", "é"]


@pytest.mark.parametrize("seed", [0, 1, 20261001, -7])
def test_values_follow_the_definition(seed):
    assert stable_hash(pl.Series("c", VALUES), seed).to_list() == [by_definition(v, seed) for v in VALUES]


def test_chunks_and_strings_longer_than_a_chunk(monkeypatch):
    monkeypatch.setattr(sh, "CHUNK_BYTES", 16)
    values = VALUES * 3  # many chunks, and strings of 3000 bytes > 16
    assert stable_hash(pl.Series("c", values), 5).to_list() == [by_definition(v, 5) for v in values]


def test_pinned_values_and_shape():
    got = stable_hash(pl.Series("conversation_id", ["店|客服|买家1|20261001", "", None]), 20261001)
    assert got.name == "conversation_id" and got.dtype == pl.UInt64
    assert got.to_list() == [2930288859092060460, 7721386678962306952, 7721386678962306952]
    assert stable_hash(pl.Series("c", [], dtype=pl.String), 1).to_list() == []
    sliced = pl.Series("c", ["q", "店|客服|买家1|20261001"]).slice(1, 1)  # an offset into the buffers
    assert stable_hash(sliced, 20261001).to_list() == [2930288859092060460]


def test_seed_and_neighbours_change_the_value():
    ids = pl.Series("c", [f"店|客服|买家{i}|20261001" for i in range(20_000)])
    a, b = stable_hash(ids, 1), stable_hash(ids, 2)
    assert a.n_unique() == ids.len() and b.n_unique() == ids.len()
    assert (a == b).sum() == 0
