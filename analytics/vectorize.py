"""Sparse term-count matrices built with polars from (doc, token) rows (no per-document Python),
and the one-thread context the scikit-learn fits run in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import polars as pl
from scipy import sparse


def build_vocabulary(tokens: pl.DataFrame, docs: list[int] | pl.Series | np.ndarray, min_df: int = 1) -> pl.DataFrame:
    """Vocabulary (token, col) of tokens appearing in >= ``min_df`` of ``docs``, sorted by token."""
    sel = tokens.lazy().filter(pl.col("doc").is_in(pl.Series(docs, dtype=pl.Int64).implode()))
    df = sel.unique(["doc", "token"]).group_by("token").len()
    return (df.filter(pl.col("len") >= min_df).sort("token").with_row_index("col")
            .select("token", pl.col("col").cast(pl.Int64)).collect())


def count_matrix(tokens: pl.DataFrame, docs: list[int] | pl.Series | np.ndarray, vocab: pl.DataFrame) -> sparse.csr_matrix:
    """Rows follow ``docs`` order; columns follow ``vocab``; unknown tokens are ignored."""
    docs_s = pl.Series("doc", docs, dtype=pl.Int64)
    n, width = docs_s.len(), vocab.height
    if docs_s.is_duplicated().any():  # a document asked for twice fills two rows
        order = docs_s.to_frame().with_row_index("row")
        rc = (tokens.join(order, on="doc", how="inner").join(vocab, on="token", how="inner")
              .select(pl.col("row").cast(pl.Int64), "col"))
    else:  # integer lookups instead of joins
        rc = tokens.lazy().select(
            pl.col("doc").replace_strict(docs_s, pl.int_range(n, dtype=pl.Int64, eager=True), default=None,
                                         return_dtype=pl.Int64).alias("row"),
            pl.col("token").replace_strict(vocab["token"], vocab["col"], default=None, return_dtype=pl.Int64).alias("col"),
        ).drop_nulls().collect()
    if width == 0 or rc.height == 0:
        return sparse.csr_matrix((n, width), dtype=np.float64)
    # one sorted key per (row, col): the counts come out in canonical CSR order (sorted column
    # indices), so float sums downstream (idf, norms, the solver) run in one order every time
    # and the same input gives bit-identical models
    keys, counts = np.unique((rc["row"] * width + rc["col"]).to_numpy(), return_counts=True)
    m = sparse.csr_matrix((counts.astype(np.float64), (keys // width, keys % width)), shape=(n, width))
    m.sort_indices()
    return m


@contextmanager
def single_threaded() -> Iterator[None]:
    """BLAS and OpenMP limited to one thread (scikit-learn fits and predictions).

    The result of a multi-threaded BLAS depends on the thread count (the NMF's randomised SVD
    differs in the last bits between 2, 3 and 4 threads), i.e. on the machine's cores; one
    thread gives the same floats on every machine. It is also cheaper here: the matrices are
    small, and idle BLAS threads spin (on 2 busy cores the classifier took 2.6 CPU s instead
    of 1.6, the topics 1.7 instead of 0.9)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield
