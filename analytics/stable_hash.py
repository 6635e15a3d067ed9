"""A hash of strings that depends on their bytes and a seed only (fixed samples, issue 13).

polars' ``hash`` may change with the polars version, so a sample drawn by it (which topic
documents, which labelled conversations train the classifier) could change with an upgrade.
This one is plain integer arithmetic on the UTF-8 bytes, vectorised with numpy: the
polynomial ``sum((byte_i + 1) * BASE**i) mod 2^64`` of each string, mixed with its length
and the seed by the splitmix64 finaliser. The same strings and seed give the same values on
any machine and with any library version (tests/analytics/test_stable_hash.py pins some).

The polynomials come from one running sum over a chunk of the strings' bytes (each byte
weighted by ``BASE`` to its place in the chunk): a string's is the difference of the sums at
its ends, times ``BASE`` to minus its start (``BASE`` is odd, so invertible mod 2^64). About
0.6 s per 100 MB of strings (a 1M month's 130k conversation ids: ~0.05 s).
"""

from __future__ import annotations

import numpy as np
import polars as pl

BASE = 0x100000001B3  # the FNV-1 64-bit prime
CHUNK_BYTES = 1 << 20  # bytes summed at a time (memory: ~40 bytes per byte of a chunk, transient)
_GOLDEN = 0x9E3779B97F4A7C15
_SEED_MIX = 0xD6E8FEB86659FD93
_M64 = 2**64


def _power_table(base: int, n: int) -> np.ndarray:
    """base**i mod 2^64 for i in 0..n-1 (uint64 products wrap)."""
    steps = np.full(n, base, dtype=np.uint64)
    steps[0] = 1
    return np.cumprod(steps, dtype=np.uint64)


def _polynomials(offsets: np.ndarray, data: np.ndarray) -> np.ndarray:
    n = len(offsets) - 1
    size = min(CHUNK_BYTES, int(offsets[-1] - offsets[0])) + 1
    power, inverse = _power_table(BASE, size), _power_table(pow(BASE, -1, _M64), size)
    out = np.empty(n, dtype=np.uint64)
    i = 0
    while i < n:
        # strings i..j-1: as many as fit in one chunk (a longer string alone)
        j = max(i + 1, int(np.searchsorted(offsets, offsets[i] + CHUNK_BYTES, side="right")) - 1)
        lo, hi = int(offsets[i]), int(offsets[j])
        if hi - lo > CHUNK_BYTES:  # one string longer than a chunk: its own power table
            out[i] = ((data[lo:hi].astype(np.uint64) + np.uint64(1)) * _power_table(BASE, hi - lo)).sum(dtype=np.uint64)
            i = j
            continue
        terms = data[lo:hi].astype(np.uint64)
        terms += np.uint64(1)
        terms *= power[: hi - lo]
        sums = np.zeros(hi - lo + 1, dtype=np.uint64)
        np.cumsum(terms, out=sums[1:])
        starts, ends = offsets[i:j] - lo, offsets[i + 1: j + 1] - lo
        out[i:j] = (sums[ends] - sums[starts]) * inverse[starts]
        i = j
    return out


def _splitmix64(z: np.ndarray) -> np.ndarray:
    z = z + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def stable_hash(values: pl.Series, seed: int) -> pl.Series:
    """UInt64 hash of each string of ``values`` (null hashes as the empty string) and ``seed``
    (any int), named like ``values``."""
    arr = values.cast(pl.String).fill_null("").rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    n = len(arr)
    if n == 0:
        return pl.Series(values.name, [], dtype=pl.UInt64)
    _, offsets_buf, data_buf = arr.buffers()  # large_string: int64 offsets
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset: arr.offset + n + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None and offsets[-1] > offsets[0] else np.zeros(1, np.uint8)
    lengths = np.diff(offsets).astype(np.uint64)
    mixed = _polynomials(offsets, data) ^ (lengths * np.uint64(_GOLDEN)) ^ np.uint64(seed * _SEED_MIX % _M64)
    return pl.Series(values.name, _splitmix64(mixed), dtype=pl.UInt64)
