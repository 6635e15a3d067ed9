"""Evidence index: every id a KPI item or adjustment cites, resolved to one line of text.

Ids: chat evidence ids from the ``evidence`` mart, ``refund:<id>``, ``complaint:<id>``,
``review:<id>``, ``rating:<month>:<agent>``, ``attendance:<钉钉姓名>:<day>`` and
``attendance_summary:<钉钉姓名>``. Buyers are masked (first and last character kept);
chat excerpts are cut to 60 characters. Reports still escape the text for their format.
"""

from __future__ import annotations

import polars as pl

from contracts import SCORES

from scoring.inputs import ScoringFrames, in_month, month_days

EVIDENCE_INDEX_SCHEMA = SCORES["kpi_evidence"].schema(exclude=("month",))
EXCERPT_CHARS = 60


def mask_buyer(col: str = "buyer") -> pl.Expr:
    """'tb_alice99' → 't***9'; one-character names → '*'; null stays null."""
    c = pl.col(col)
    return (
        pl.when(c.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(c.str.len_chars() <= 1)
        .then(pl.lit("*"))
        .otherwise(c.str.slice(0, 1) + pl.lit("***") + c.str.slice(-1, 1))
    )


def _s(expr: pl.Expr, empty: str = "") -> pl.Expr:
    return expr.cast(pl.String).fill_null(empty)


def _ts(col: str, empty: str = "") -> pl.Expr:
    return pl.col(col).dt.strftime("%Y-%m-%d %H:%M").fill_null(empty)


def evidence_index(inp: ScoringFrames, month: str) -> pl.DataFrame:
    """All citable records of the month as (evidence_id, agent_account, kind, at, text)."""
    first, last, _ = month_days(month)
    excerpt = pl.col("excerpt").fill_null("")
    chat = inp.evidence.filter(pl.col("month") == month).select(
        "evidence_id", "agent_account", "kind", "at",
        text=pl.concat_str(
            _ts("at"), pl.lit(" 买家 "), _s(mask_buyer(), "-"), pl.lit(": "),
            pl.when(excerpt.str.len_chars() > EXCERPT_CHARS).then(excerpt.str.slice(0, EXCERPT_CHARS) + pl.lit("…")).otherwise(excerpt),
            pl.lit(" ("), _s(pl.col("detail")), pl.lit(")"),
        ),
    )  # fmt: skip
    refunds = inp.refunds.filter(in_month("completed_at", month) | in_month("applied_at", month)).select(
        evidence_id=pl.lit("refund:") + pl.col("refund_id"),
        agent_account=pl.lit(None, dtype=pl.String),
        kind=pl.lit("refund"),
        at=pl.col("completed_at"),
        text=pl.concat_str(
            pl.lit("退款 "), pl.col("refund_id"), pl.lit(" 订单 "), _s(pl.col("order_id")), pl.lit(" "), pl.col("status"),
            pl.lit(" 申请 "), _ts("applied_at"), pl.lit(" 完结 "), _ts("completed_at", "-"),
            pl.lit(" 退款金额 "), _s(pl.col("refund_amount"), "-"), pl.lit(" 买家 "), _s(mask_buyer(), "-"),
        ),
    )  # fmt: skip
    complaints = inp.complaints.filter(in_month("received_at", month)).select(
        evidence_id=pl.lit("complaint:") + pl.col("complaint_id"),
        agent_account="agent_account",
        kind=pl.lit("complaint"),
        at=pl.col("received_at"),
        text=pl.concat_str(
            pl.col("kind"), pl.lit(" "), pl.col("complaint_id"), pl.lit(" 发生 "), _ts("received_at"),
            pl.lit(" 处理完成 "), _ts("handled_at", "未处理"),
            pl.lit(" 平台介入 "), pl.when(pl.col("platform_intervened")).then(pl.lit("是")).otherwise(pl.lit("否")),
            pl.lit(" 结果 "), _s(pl.col("outcome"), "-"),
            pl.lit(" 查实 "), pl.when(pl.col("verified")).then(pl.lit("是")).otherwise(pl.lit("否")),
            pl.when(pl.col("deduction").is_not_null()).then(pl.lit(" 扣分 ") + _s(pl.col("deduction"))).otherwise(pl.lit("")),
        ),
    )  # fmt: skip
    reviews = inp.reviews.filter(in_month("reviewed_at", month)).select(
        evidence_id=pl.lit("review:") + pl.col("review_id"),
        agent_account="agent_account",
        kind=pl.lit("review"),
        at=pl.col("reviewed_at"),
        text=pl.concat_str(
            pl.col("kind"), pl.lit(" "), pl.col("review_id"), pl.lit(" "), _ts("reviewed_at"),
            pl.lit(" 买家 "), _s(mask_buyer(), "-"), pl.lit(": "), _s(pl.col("content"), "-"),
        ),
    )  # fmt: skip
    grade = lambda c: _s(pl.col(c), "空")  # noqa: E731
    ratings = inp.ratings.filter(pl.col("rating_month") == month).select(
        evidence_id=pl.concat_str(pl.lit("rating:"), pl.col("rating_month"), pl.lit(":"), pl.col("agent_account")),
        agent_account="agent_account",
        kind=pl.lit("rating"),
        at=pl.lit(None, dtype=pl.Datetime("us")),
        text=pl.concat_str(
            pl.lit("主管评分 "), pl.col("rating_month"), pl.lit(": 配合度 "), grade("cooperation"),
            pl.lit(", 执行力 "), grade("execution"), pl.lit(", 客服素质(覆盖) "), grade("quality_override"),
            pl.lit(", 投诉处理(覆盖) "), grade("complaint_override"), pl.lit(", 表现突出 "), grade("outstanding_bonus"),
            pl.lit(", 备注 "), _s(pl.col("note"), "-"),
        ),
    )  # fmt: skip
    attendance = inp.attendance.filter(pl.col("day").is_between(first, last)).select(
        evidence_id=pl.concat_str(pl.lit("attendance:"), pl.col("dingtalk_name"), pl.lit(":"), pl.col("day").cast(pl.String)),
        agent_account=pl.lit(None, dtype=pl.String),
        kind=pl.lit("attendance"),
        at=pl.col("day").cast(pl.Datetime("us")),
        text=pl.concat_str(pl.col("day").cast(pl.String), pl.lit(" "), pl.col("dingtalk_name"), pl.lit(": "), _s(pl.col("status"), "空")),
    )  # fmt: skip
    summary = inp.attendance_summary.select(
        evidence_id=pl.lit("attendance_summary:") + pl.col("dingtalk_name"),
        agent_account=pl.lit(None, dtype=pl.String),
        kind=pl.lit("attendance_summary"),
        at=pl.lit(None, dtype=pl.Datetime("us")),
        text=pl.concat_str(
            pl.col("dingtalk_name"), pl.lit(" 钉钉月汇总: 迟到 "), _s(pl.col("late_count"), "0"),
            pl.lit(", 严重迟到 "), _s(pl.col("severe_late_count"), "0"), pl.lit(", 旷工迟到 "), _s(pl.col("absent_late_count"), "0"),
            pl.lit(", 旷工天数 "), _s(pl.col("absent_days"), "0"), pl.lit(", 请假天数 "), _s(pl.col("leave_days"), "0"),
            pl.lit(", 早退 "), _s(pl.col("early_count"), "0"),
        ),
    )  # fmt: skip
    frames = [chat, refunds, complaints, reviews, ratings, attendance, summary]
    index = pl.concat([f.cast(EVIDENCE_INDEX_SCHEMA) for f in frames])
    kept = index["evidence_id"].is_first_distinct()  # = unique(keep="first", maintain_order=True), without a copy when
    return index if kept.all() else index.filter(kept)  # every id is distinct (the usual case)
