"""After-sales reason classifier trained on the shop's own history.

1. Buyer text of each conversation (normalised, segmented with the user dictionary).
2. Labels: a conversation is linked to a refund by an order number written in the chat
   (15-20 digits, any sender); otherwise by the same buyer with the refund applied within
   [start - link_days_before, end + link_days_after] (nearest application wins). The label is
   that refund's 买家退款原因 (``reason``).
3. After-sales conversations: linked to a refund, or buyer text holding an after-sales term.
4. TF-IDF over the tokens (vocabulary and idf fitted on the training part only) + logistic
   regression (class_weight='balanced'); a stratified held-out split gives macro-F1, compared
   with the majority-class baseline on the same split. Classes with fewer than
   ``min_per_class`` examples are left out of training (reported). The tagging model is then
   refitted on all labelled conversations and tags every after-sales conversation with a
   predicted reason and confidence (max class probability). A month with more than
   ``max_labelled`` labelled conversations is fitted and evaluated on a fixed, seeded sample
   of them (:func:`labelled_sample`); every after-sales conversation is still tagged.
5. Too little labelled history (fewer than ``min_labelled`` conversations or fewer than two
   classes with ``min_per_class`` examples): status 'skipped' with a message, no crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import polars as pl

from analytics.segment import Segmenter, tokenize
from analytics.sessions import Sessions
from analytics.settings import AnalyticsSettings
from analytics.stable_hash import stable_hash
from analytics.vectorize import build_vocabulary, count_matrix, single_threaded


@dataclass
class ReasonReport:
    """What the run prints about the classifier."""

    status: str  # 'trained' | 'skipped'
    message: str
    labelled: int = 0
    classes: dict[str, int] = field(default_factory=dict)
    dropped_classes: dict[str, int] = field(default_factory=dict)
    train: int = 0
    test: int = 0
    macro_f1: float | None = None
    accuracy: float | None = None
    baseline_macro_f1: float | None = None
    baseline_accuracy: float | None = None
    majority_class: str | None = None


def conversation_docs(sess: Sessions, norm_msgs: pl.DataFrame) -> pl.DataFrame:
    """One row per conversation with buyer text: conversation_id, doc (int), text."""
    buyer = norm_msgs.filter((pl.col("kind") == "B") & pl.col("conversation_id").is_not_null())
    # conv_no and conversation_id name the same conversations: group on the integer, join as lists
    key = "conv_no" if "conv_no" in buyer.columns else "conversation_id"
    return (buyer.group_by(key, maintain_order=True)
            .agg(pl.col("conversation_id").first(), pl.col("norm_text").fill_null(""))
            .select(pl.int_range(pl.len(), dtype=pl.Int64).alias("doc"), "conversation_id",
                    pl.col("norm_text").list.join(" ").alias("text")))


@dataclass(frozen=True)
class MonthRefunds:
    """The month's refunds as :func:`link_refunds` uses them, prepared once
    (:func:`prepare_refunds`) and shared by every partition of the month's buyers: ``rf``,
    the refunds with a reason in the tie order (``applied_at, refund_id, order_id, reason``),
    and ``by_order``, the last of them per order_id (order_id, refund_id, label). Picklable."""

    rf: pl.DataFrame
    by_order: pl.DataFrame


def prepare_refunds(refunds: pl.DataFrame | MonthRefunds | None) -> MonthRefunds | None:
    """``refunds`` prepared for :func:`link_refunds` (None if there are none); a prepared one
    is returned as it is."""
    if refunds is None or isinstance(refunds, MonthRefunds):
        return refunds
    if refunds.height == 0:
        return None
    # full sort keys: ties must not fall to the engine's (unspecified) order (issue 9 item 7)
    rf = refunds.filter(pl.col("reason").is_not_null()).sort("applied_at", "refund_id", "order_id", "reason",
                                                             nulls_last=True, maintain_order=True)
    by_order = rf.unique("order_id", keep="last").select("order_id", "refund_id", pl.col("reason").alias("label"))
    return MonthRefunds(rf.select("buyer", "refund_id", "applied_at", "reason"), by_order)


def link_refunds(sess: Sessions, norm_msgs: pl.DataFrame, refunds: pl.DataFrame | MonthRefunds | None,
                 settings: AnalyticsSettings) -> pl.DataFrame:
    """conversation_id -> refund_id, label, link_method ('order_id' | 'buyer_window').

    ``refunds``: the month's refunds, or those prepared once by :func:`prepare_refunds` (a
    month in partitions links each partition against all of the month's refunds: a message
    may quote any order id)."""
    c = settings.text.classifier
    schema = pl.Schema({"conversation_id": pl.String(), "refund_id": pl.String(), "label": pl.String(), "link_method": pl.String()})
    month = prepare_refunds(refunds)
    if month is None:
        return pl.DataFrame(schema=schema)
    rf, by_order = month.rf, month.by_order
    ids = (norm_msgs.filter(pl.col("conversation_id").is_not_null())
           .select("conversation_id", "sent_at", "msg_idx",
                   pl.col("text").str.extract_all(c.order_id_pattern).alias("oid"))
           .explode("oid").drop_nulls("oid")
           .with_columns(pl.col("oid").str.extract(r"(\d{15,20})"))
           .sort("sent_at", "msg_idx", maintain_order=True))
    linked = (ids.join(by_order, left_on="oid", right_on="order_id", how="inner", maintain_order="left")
              .unique("conversation_id", keep="first", maintain_order=True)
              .select("conversation_id", "refund_id", "label", pl.lit("order_id").alias("link_method")))
    convs = sess.conversations.filter(pl.col("buyer_msgs") > 0).select("conversation_id", "buyer", "start_at", "end_at")
    convs = convs.join(linked.select("conversation_id"), on="conversation_id", how="anti")
    win = (convs.join(rf.select("buyer", "refund_id", "applied_at", pl.col("reason").alias("label")), on="buyer", how="inner")
           .filter((pl.col("applied_at") >= pl.col("start_at") - timedelta(days=c.link_days_before))
                   & (pl.col("applied_at") <= pl.col("end_at") + timedelta(days=c.link_days_after)))
           .with_columns((pl.col("applied_at") - pl.col("start_at")).abs().alias("dist"))
           .sort("conversation_id", "dist", "refund_id")
           .unique("conversation_id", keep="first", maintain_order=True)
           .select("conversation_id", "refund_id", "label", pl.lit("buyer_window").alias("link_method")))
    return pl.concat([linked, win]).cast(schema)


def _fit(tokens: pl.DataFrame, docs: np.ndarray, labels: np.ndarray, min_df: int, seed: int):
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression

    vocab = build_vocabulary(tokens, docs, min_df)
    if vocab.height == 0:
        vocab = build_vocabulary(tokens, docs, 1)
    tf = TfidfTransformer(sublinear_tf=True)
    x = tf.fit_transform(count_matrix(tokens, docs, vocab))
    model = LogisticRegression(max_iter=2000, class_weight="balanced", random_state=seed)
    with single_threaded():
        model.fit(x, labels)
    return vocab, tf, model


def _predict(fitted, tokens: pl.DataFrame, docs: np.ndarray):
    vocab, tf, model = fitted
    with single_threaded():
        proba = model.predict_proba(tf.transform(count_matrix(tokens, docs, vocab)))
    best = proba.argmax(axis=1)
    return model.classes_[best], proba[np.arange(len(best)), best]


def reasons_base(conversations: pl.DataFrame, docs: pl.DataFrame, links: pl.DataFrame,
                 settings: AnalyticsSettings) -> pl.DataFrame:
    """Conversations with buyer text, their document (doc, text), refund link and
    ``is_after_sales``, sorted by conversation_id (the rows of the reasons mart)."""
    terms = settings.text.after_sales_terms
    return (conversations.filter(pl.col("buyer_msgs") > 0)
            .select("month", "conversation_id", "shop", "agent_account", "buyer", "start_at")
            .join(docs, on="conversation_id", how="left")
            .join(links, on="conversation_id", how="left")
            .with_columns((pl.col("refund_id").is_not_null()
                           | pl.col("text").fill_null("").str.contains_any(terms)).alias("is_after_sales"))
            .sort("conversation_id"))  # the split and the fits see rows in one fixed order


def labelled_sample(labelled: pl.DataFrame, max_labelled: int, seed: int) -> pl.DataFrame:
    """The labelled conversations the classifier is fitted and evaluated on: all of them up to
    ``max_labelled``, else the ``max_labelled`` with the smallest seeded
    :func:`analytics.stable_hash.stable_hash` of their conversation_id (unique), in
    conversation_id order: a fixed sample, whatever the row order, the partitions or the
    library versions (docs/analytics.md §7)."""
    if labelled.height <= max_labelled:
        return labelled
    key = stable_hash(labelled["conversation_id"], seed).alias("_sample_key")
    return labelled.with_columns(key).sort("_sample_key", "conversation_id").head(max_labelled).drop("_sample_key")


@dataclass
class ReasonModel:
    """The tagging model (None if skipped) and the held-out split of the labelled
    conversations (conversation_id, split, heldout_predicted). Picklable."""

    fitted: tuple | None
    split: pl.DataFrame


def fit_reasons(labelled: pl.DataFrame, tokens: pl.DataFrame | None, settings: AnalyticsSettings,
                segmenter: Segmenter, stopwords: frozenset[str] = frozenset()) -> tuple[ReasonModel, ReasonReport]:
    """Train on ``labelled`` (conversation_id, doc, text, label: the base rows with a label, any
    order); ``tokens``: tokens of their docs (None: segmented here). Only the labelled
    documents enter the vocabulary, idf and fits, so any other documents may be tagged later,
    in any grouping (:func:`tag_reasons`)."""
    c = settings.text.classifier
    n_labelled = labelled.height
    labelled = labelled_sample(labelled, c.max_labelled, c.seed).sort("conversation_id")
    counts = labelled.group_by("label").len().sort("len", "label", descending=[True, False])
    kept = counts.filter(pl.col("len") >= c.min_per_class)
    report = ReasonReport(status="skipped", message="", labelled=n_labelled,
                          classes=dict(zip(kept["label"], kept["len"], strict=True)),
                          dropped_classes=dict(zip(*counts.filter(pl.col("len") < c.min_per_class).select("label", "len"), strict=True)))
    train_set = labelled.filter(pl.col("label").is_in(kept["label"].implode()))
    no_split = pl.DataFrame(schema={"conversation_id": pl.String, "split": pl.String, "heldout_predicted": pl.String})
    if train_set.height < c.min_labelled or kept.height < 2:
        report.message = (f"已关联退款原因的会话 {report.labelled} 个 (可用类别 {kept.height} 个), 少于要求 "
                          f"(至少 {c.min_labelled} 个且至少 2 类各 {c.min_per_class} 个): 跳过退款原因分类")
        return ReasonModel(None, no_split), report

    # scikit-learn (~1 s to import) only when a classifier is fitted
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split

    if tokens is None:
        tokens = tokenize(labelled["text"], segmenter, stopwords)
        labelled = labelled.drop("doc", strict=False).with_row_index("doc").with_columns(pl.col("doc").cast(pl.Int64))
        train_set = labelled.filter(pl.col("label").is_in(kept["label"].implode()))
    tokens = tokens.with_columns(pl.col("doc").cast(pl.Int64))
    d = train_set["doc"].to_numpy()
    y = train_set["label"].to_numpy()
    d_tr, d_te, y_tr, y_te = train_test_split(d, y, test_size=c.test_size, random_state=c.seed, stratify=y)
    pred, _ = _predict(_fit(tokens, d_tr, y_tr, c.min_token_df, c.seed), tokens, d_te)
    labels_tr, counts_tr = np.unique(y_tr, return_counts=True)
    majority = labels_tr[counts_tr.argmax()]
    base_pred = np.full(len(y_te), majority, dtype=object)
    report.status, report.train, report.test = "trained", len(d_tr), len(d_te)
    report.macro_f1 = float(f1_score(y_te, pred, average="macro", zero_division=0))
    report.accuracy = float(accuracy_score(y_te, pred))
    report.baseline_macro_f1 = float(f1_score(y_te, base_pred, average="macro", zero_division=0))
    report.baseline_accuracy = float(accuracy_score(y_te, base_pred))
    report.majority_class = str(majority)
    report.message = (f"退款原因分类: 留出集 {len(d_te)} 个会话, macro-F1 {report.macro_f1:.3f} "
                      f"(多数类基线 {report.baseline_macro_f1:.3f}), 准确率 {report.accuracy:.3f}")
    if labelled.height < n_labelled:
        report.message += f"; 训练用已关联会话 {n_labelled} 个中固定抽取的 {labelled.height} 个"

    final = _fit(tokens, d, y, c.min_token_df, c.seed)
    # test rows keep the held-out model's prediction, so the reported score can be re-derived
    split = pl.DataFrame({"doc": np.concatenate([d_tr, d_te]).astype(np.int64),
                          "split": ["train"] * len(d_tr) + ["test"] * len(d_te),
                          "heldout_predicted": [None] * len(d_tr) + [str(v) for v in pred]},
                         schema={"doc": pl.Int64, "split": pl.String, "heldout_predicted": pl.String})
    split = train_set.select("doc", "conversation_id").join(split, on="doc").select(no_split.columns)
    return ReasonModel(final, split), report


_OUT_COLS = ["month", "conversation_id", "shop", "agent_account", "buyer", "start_at", "is_after_sales",
             "refund_id", "link_method", "label", "split", "heldout_predicted", "predicted_reason", "confidence"]


def tag_reasons(base: pl.DataFrame, model: ReasonModel, tokens: pl.DataFrame | None) -> pl.DataFrame:
    """The conversation_reasons rows of ``base`` (:func:`reasons_base`, any subset of the
    month's conversations): every after-sales conversation with a document gets the model's
    predicted reason and confidence; ``tokens`` are keyed by base's ``doc``."""
    if model.fitted is None:
        out = base.with_columns(pl.lit(None, pl.String).alias("split"), pl.lit(None, pl.String).alias("heldout_predicted"),
                                pl.lit(None, pl.String).alias("predicted_reason"),
                                pl.lit(None, pl.Float64).alias("confidence"))
        return out.select(_OUT_COLS).sort("conversation_id")
    tag = base.filter(pl.col("is_after_sales") & pl.col("doc").is_not_null())
    if tokens is None:
        raise ValueError("tag_reasons: a fitted model needs the documents' tokens")
    p_lab, p_conf = _predict(model.fitted, tokens.with_columns(pl.col("doc").cast(pl.Int64)), tag["doc"].to_numpy())
    tagged = tag.select("conversation_id").with_columns(
        pl.Series("predicted_reason", p_lab.astype(str), dtype=pl.String),
        pl.Series("confidence", p_conf.astype(np.float64), dtype=pl.Float64))
    out = base.join(model.split, on="conversation_id", how="left").join(tagged, on="conversation_id", how="left")
    return out.select(_OUT_COLS).sort("conversation_id")


def classify_reasons(sess: Sessions, norm_msgs: pl.DataFrame | None, refunds: pl.DataFrame | None,
                     settings: AnalyticsSettings, segmenter: Segmenter,
                     stopwords: frozenset[str] = frozenset(), *, docs: pl.DataFrame | None = None,
                     tokens: pl.DataFrame | None = None,
                     links: pl.DataFrame | None = None) -> tuple[pl.DataFrame, ReasonReport]:
    """(conversation_reasons mart, report). See module docstring.

    ``docs`` (:func:`conversation_docs`) and ``tokens`` (:func:`analytics.segment.tokenize` of
    its text) may be passed in when the caller already built them (they are shared with
    topic discovery, so conversations are segmented once); ``links`` likewise
    (:func:`link_refunds`, e.g. merged from partitions of the month's buyers)."""
    if docs is None or links is None:
        if norm_msgs is None:
            raise ValueError("classify_reasons needs norm_msgs unless docs and links are given")
        docs = conversation_docs(sess, norm_msgs) if docs is None else docs
        links = link_refunds(sess, norm_msgs, refunds, settings) if links is None else links
    base = reasons_base(sess.conversations, docs, links, settings)
    labelled = base.filter(pl.col("label").is_not_null())
    if tokens is None:
        tokens = tokenize(docs["text"], segmenter, stopwords)
    model, report = fit_reasons(labelled, tokens, settings, segmenter, stopwords)
    return tag_reasons(base, model, tokens), report
