"""Item 退款率: shop-level rate (default) or per-agent rate (``scope: agent``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import polars as pl
from pydantic import field_validator, model_validator

from scoring.inputs import in_month
from scoring.items.base import ItemContext, ItemResult, KpiItem, PayrollColumn
from scoring.model import ItemScore, fmt
from scoring.rules.model import Band, ItemRules, check_bands


class RefundRules(ItemRules):
    """Rules block ``items.refund_rate``."""

    scope: Literal["shop", "agent"] = "shop"
    success_status: str = "退款成功"
    shop_bands: tuple[Band, ...]
    agent_bands: tuple[Band, ...]
    assumption_note: str = ""

    @field_validator("shop_bands", "agent_bands")
    @classmethod
    def _bands(cls, v: tuple[Band, ...]) -> tuple[Band, ...]:
        return check_bands(v)

    @model_validator(mode="after")
    def _reaches_max(self) -> RefundRules:
        for name in ("shop_bands", "agent_bands"):
            bands = getattr(self, name)
            top = max(b.points for b in bands)
            if top != self.max_points:
                raise ValueError(f"{name}: best band gives {top} points, not the item maximum {self.max_points}")
            for i, b in enumerate(bands):
                if b.points > self.max_points:
                    raise ValueError(f"{name}[{i}].points: {b.points} is above the item maximum {self.max_points}")
        return self

    def band_for(self, rate: Decimal, scope: str | None = None) -> tuple[int, Band]:
        """Index and band containing ``rate`` for ``scope`` (default: the configured scope)."""
        bands = self.shop_bands if (scope or self.scope) == "shop" else self.agent_bands
        for i, b in enumerate(bands):
            if b.upper is None or rate <= b.upper:
                return i, b
        raise AssertionError("bands are validated to be open-ended")


def _bands_text(bands) -> str:
    parts = []
    for b in bands:
        rng = f"≤{fmt(b.upper * 100)}%" if b.upper is not None else f">{fmt(b.lower * 100)}%"
        parts.append(f"{rng}→{fmt(b.points)}{'(假设)' if b.assumption else ''}")
    return "; ".join(parts)


def _pct(rate: Decimal) -> str:
    return f"{(rate * 100).quantize(Decimal('0.01'))}%"


def shop_refund_rate(refunds: pl.DataFrame, orders: pl.DataFrame, month: str, success_status: str):
    """(successful refund ids completed in the month, number of paid orders of the month)."""
    ok = (
        refunds.filter((pl.col("status") == success_status) & in_month("completed_at", month))
        .select("refund_id")
        .unique()
        .sort("refund_id")
    )["refund_id"].to_list()
    paid = orders.filter(in_month("paid_at", month)).select(pl.col("order_id").n_unique()).item()
    return ok, int(paid)


def _score(agent: str, item: RefundRules, rate: Decimal, num: int, den: int, ids: list[str], scope: str, note: str) -> ItemScore:
    idx, band = item.band_for(rate, scope)
    bands = item.shop_bands if scope == "shop" else item.agent_bands
    flags = []
    if band.assumption:
        flags.append(f"{item.label}档位 [{idx}] 为假设, 须店铺确认")
    return ItemScore(
        agent_account=agent,
        item="refund_rate",
        label=item.label,
        points=band.points,
        raw_value=f"{num}/{den} = {_pct(rate)}{note}",
        value=rate,
        source=f"data ({'全店口径' if scope == 'shop' else '客服口径'})",
        rule=f"{'全店' if scope == 'shop' else '客服'}档位: {_bands_text(bands)}; 命中档 [{idx}]",
        evidence_ids=[f"refund:{i}" for i in ids],
        flags=flags,
    )


def refund_scores(ctx: ItemContext, item: RefundRules) -> ItemResult:
    """One :class:`ItemScore` per agent and a list of warnings."""
    agents, month, inp = ctx.agents, ctx.month, ctx.inputs
    refunds, orders, conversations, roster = inp.refunds, inp.orders, inp.conversations, inp.roster
    warnings: list[str] = []
    out: dict[str, ItemScore] = {}
    if item.scope == "shop":
        ids, paid = shop_refund_rate(refunds, orders, month, item.success_status)
        for agent in agents:
            if paid == 0:
                out[agent] = ItemScore(
                    agent, "refund_rate", item.label, None,
                    raw_value=f"{len(ids)}/0", source="data (全店口径)",
                    missing=[f"{item.label}: 本月无付款订单, 无法计算全店退款率 (请导入订单报表)"],
                )
            else:
                rate = Decimal(len(ids)) / Decimal(paid)
                out[agent] = _score(agent, item, rate, len(ids), paid, ids, "shop", " (退款成功且本月完结 ÷ 本月付款订单)")
        return ItemResult(out, warnings)

    cases = attribute_refunds(refunds.filter(in_month("applied_at", month)), conversations, roster)
    unattributed = cases.filter(pl.col("agent_account").is_null()).height
    if unattributed:
        warnings.append(f"{item.label}(客服口径): {unattributed} 笔退款无法归属到客服, 未计入任何客服")
    for agent in agents:
        mine = cases.filter(pl.col("agent_account") == agent).sort("refund_id")
        ok = mine.filter(pl.col("status") == item.success_status)["refund_id"].to_list()
        n = mine.height
        rate = Decimal(len(ok)) / Decimal(n) if n else Decimal(0)
        note = " (本月申请的退款中退款成功的比例)" if n else " (本月无归属于该客服的退款, 按0%计)"
        out[agent] = _score(agent, item, rate, len(ok), n, mine["refund_id"].to_list(), "agent", note)
    return ItemResult(out, warnings)


ITEM = KpiItem(
    key="refund_rate",
    label="退款率",
    rules_model=RefundRules,
    score=refund_scores,
    payroll_columns=(PayrollColumn("refund_rate", "value"), PayrollColumn("refund_pts", "points")),
)


def attribute_refunds(refunds: pl.DataFrame, conversations: pl.DataFrame, roster: pl.DataFrame) -> pl.DataFrame:
    """Add ``agent_account`` and ``attributed_by`` to refunds.

    Order: 退款操作人 (operator), then 审核操作人 (reviewer), each matched against the full
    account, the sub-account after ':' or the roster name; else the agent of the buyer's last
    conversation started at or before ``applied_at``."""
    accounts = roster.select("agent_account", "name")
    keys = pl.concat(
        [
            accounts.select(pl.col("agent_account").alias("who"), "agent_account"),
            accounts.select(pl.col("agent_account").str.split(":").list.last().alias("who"), "agent_account"),
            accounts.select(pl.col("name").alias("who"), "agent_account"),
        ]
    ).unique(subset="who", keep="first")
    df = refunds
    for col in ("operator", "reviewer"):
        df = df.join(
            keys.rename({"agent_account": f"_by_{col}"}), left_on=pl.col(col).str.strip_chars(), right_on="who", how="left"
        )
        if "who" in df.columns:
            df = df.drop("who")
    if "is_after_sales" in conversations.columns:
        conversations = conversations.filter(pl.col("is_after_sales").fill_null(True))
    conv = (
        conversations.select("buyer", "started_at", pl.col("agent_account").alias("_by_chat"))
        .drop_nulls(["buyer", "started_at"])
        .sort("started_at")
    )
    df = df.sort("applied_at").join_asof(
        conv, left_on="applied_at", right_on="started_at", by="buyer", strategy="backward",
        check_sortedness=False,  # both sides are sorted globally by time just above
    )
    return df.with_columns(
        agent_account=pl.coalesce("_by_operator", "_by_reviewer", "_by_chat"),
        attributed_by=pl.when(pl.col("_by_operator").is_not_null())
        .then(pl.lit("退款操作人"))
        .when(pl.col("_by_reviewer").is_not_null())
        .then(pl.lit("审核操作人"))
        .when(pl.col("_by_chat").is_not_null())
        .then(pl.lit("最后会话"))
        .otherwise(None),
    ).drop("_by_operator", "_by_reviewer", "_by_chat", "started_at")
