"""Sparse term-count matrices built with polars from (doc, token) rows (no per-document Python)."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import sparse


def build_vocabulary(tokens: pl.DataFrame, docs: list[int] | pl.Series | np.ndarray, min_df: int = 1) -> pl.DataFrame:
    """Vocabulary (token, col) of tokens appearing in >= ``min_df`` of ``docs``, sorted by token."""
    sel = tokens.filter(pl.col("doc").is_in(pl.Series(docs, dtype=pl.Int64).implode()))
    df = sel.unique(["doc", "token"]).group_by("token").len()
    return (df.filter(pl.col("len") >= min_df).sort("token").with_row_index("col")
            .select("token", pl.col("col").cast(pl.Int64)))


def count_matrix(tokens: pl.DataFrame, docs: list[int] | pl.Series | np.ndarray, vocab: pl.DataFrame) -> sparse.csr_matrix:
    """Rows follow ``docs`` order; columns follow ``vocab``; unknown tokens are ignored."""
    order = pl.DataFrame({"doc": pl.Series(docs, dtype=pl.Int64)}).with_row_index("row")
    c = (tokens.join(order, on="doc", how="inner").join(vocab, on="token", how="inner")
         .group_by("row", "col").len().sort("row", "col"))
    # canonical CSR (sorted column indices): float sums downstream (idf, norms, the solver)
    # then run in one order every time, so the same input gives bit-identical models
    m = sparse.csr_matrix(
        (c["len"].to_numpy().astype(np.float64), (c["row"].to_numpy(), c["col"].to_numpy())),
        shape=(order.height, vocab.height))
    m.sort_indices()
    return m
