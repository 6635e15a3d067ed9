"""Topic discovery over the month's buyer text (NMF on TF-IDF), top terms per topic, for analysts."""

from __future__ import annotations

import numpy as np
import polars as pl

from analytics.segment import Segmenter, tokenize
from analytics.settings import AnalyticsSettings
from analytics.vectorize import build_vocabulary, count_matrix, single_threaded

TOPIC_SCHEMA = pl.Schema({"topic": pl.Int64(), "rank": pl.Int64(), "term": pl.String(), "weight": pl.Float64(), "docs": pl.Int64()})


def discover_topics(docs: pl.DataFrame, settings: AnalyticsSettings, segmenter: Segmenter,
                    stopwords: frozenset[str] = frozenset(), tokens: pl.DataFrame | None = None) -> tuple[pl.DataFrame, str]:
    """Top terms per NMF topic over ``docs`` (columns doc, text: one buyer document per conversation).

    ``tokens``: optionally the caller's ``tokenize(docs["text"], ...)`` (doc = position in
    ``docs``, any min_len); tokens shorter than 2 characters are dropped here either way.

    Returns (frame topic, rank, term, weight, docs = conversations whose strongest topic it is;
    a message). Too few documents or terms -> empty frame and a message saying so.
    """
    t = settings.text.topics
    if docs.height < t.min_docs:
        return pl.DataFrame(schema=TOPIC_SCHEMA), f"会话文本 {docs.height} 个, 少于 {t.min_docs}: 跳过主题发现"
    if tokens is None:
        tokens = tokenize(docs["text"], segmenter, stopwords, min_len=2)
    tokens = tokens.filter(pl.col("token").str.len_chars() >= 2).with_columns(pl.col("doc").cast(pl.Int64))
    ids = np.arange(docs.height, dtype=np.int64)
    vocab = build_vocabulary(tokens, ids, min_df=2)
    k = min(t.n_topics, vocab.height, docs.height)
    if k < 1 or vocab.height < 2:
        return pl.DataFrame(schema=TOPIC_SCHEMA), "词汇太少: 跳过主题发现"
    from sklearn.decomposition import NMF  # scikit-learn (~1 s to import) only when topics are fitted
    from sklearn.feature_extraction.text import TfidfTransformer

    x = TfidfTransformer(sublinear_tf=True).fit_transform(count_matrix(tokens, ids, vocab))
    nmf = NMF(n_components=k, init="nndsvda", random_state=t.seed, max_iter=400)
    with single_threaded():
        w = nmf.fit_transform(x)
    dominant = np.bincount(w.argmax(axis=1)[w.max(axis=1) > 0], minlength=k)
    terms = vocab["token"].to_numpy()
    n = min(t.top_terms, vocab.height)
    top = np.argsort(-nmf.components_, axis=1)[:, :n]
    frame = pl.DataFrame({
        "topic": np.repeat(np.arange(k), n).astype(np.int64),
        "rank": np.tile(np.arange(1, n + 1), k).astype(np.int64),
        "term": terms[top].ravel().astype(str),
        "weight": np.take_along_axis(nmf.components_, top, axis=1).ravel().astype(np.float64),
        "docs": np.repeat(dominant, n).astype(np.int64),
    }).cast(TOPIC_SCHEMA)
    return frame, f"主题发现: {k} 个主题, {docs.height} 个会话"
