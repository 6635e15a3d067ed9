"""Orders (订单报表) and refunds (退款管理) of the sample month, as vectorised frames.

Refunds of conversations tagged ``refund`` belong to that conversation's buyer, carry the
conversation's 买家退款原因 and are applied around the chat, so the order number a buyer
types (tag ``order``) matches a refund and the other ones link by buyer + time.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from . import catalog as cat

US = 1_000_000


def _weighted(rng: np.random.Generator, pairs, n: int) -> np.ndarray:
    w = np.array([p[1] for p in pairs], float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def _dt(seconds: np.ndarray) -> pl.Series:
    """Epoch seconds → Datetime('us'); negative = missing."""
    x = pl.DataFrame({"x": seconds.astype(np.int64)})
    return x.select(pl.when(pl.col("x") >= 0).then(pl.col("x") * US).cast(pl.Datetime("us"))).to_series()


def generate_orders(
    rng: np.random.Generator, month_start: datetime, days: int, n_orders: int, chat_buyers: list[str]
) -> pl.DataFrame:
    """``n_orders`` orders created in the month; ~3% closed unpaid (no 付款时间)."""
    n_all = n_orders
    base = int((month_start - datetime(1970, 1, 1)).total_seconds())
    stride = max(2, 10**15 // (n_all + 1))
    ids = 3_012_000_000_000_000_000 + np.arange(n_all, dtype=np.int64) * stride + rng.integers(0, stride, n_all)
    ids = rng.permutation(ids)
    paid = base + rng.integers(3600, days * 86400 - 3600, n_all)
    created = paid - rng.integers(5, 900, n_all)
    unpaid = rng.random(n_all) < 0.03
    prod = rng.integers(0, len(cat.PRODUCTS), n_all)
    price = np.array([p[1] for p in cat.PRODUCTS], np.int64)[prod]
    qty = 1 + (rng.random(n_all) < 0.2) + (rng.random(n_all) < 0.05)
    postage = np.where(rng.random(n_all) < 0.15, 1000, 0)
    goods = price * qty
    total = goods + postage
    discount = np.where(rng.random(n_all) < 0.3, rng.integers(100, 2000, n_all), 0)
    paid_c = np.maximum(total - discount, 100)
    status_i = _weighted(rng, cat.ORDER_STATUSES, n_all)
    statuses = np.array([s for s, _ in cat.ORDER_STATUSES], dtype=object)[status_i]
    statuses = np.where(unpaid, "交易关闭", statuses)
    shipped = np.where(np.isin(status_i, [0, 1]) & ~unpaid, paid + rng.integers(3600, 2 * 86400, n_all), -1)
    # 30% of orders come from buyers who also chat; the rest from buyers who never write
    n_fresh = max(n_all, 10)
    fresh = pl.Series(rng.permutation(n_fresh * 3)[:n_fresh] + 20_000_000).cast(pl.String)
    pool = pl.concat([pl.Series(chat_buyers, dtype=pl.String), "买家" + fresh])
    pick = np.where(rng.random(n_all) < 0.3, rng.integers(0, max(1, len(chat_buyers)), n_all),
                    len(chat_buyers) + rng.integers(0, n_fresh, n_all))
    buyer = pool.gather(pick)
    titles = np.array([p[0] for p in cat.PRODUCTS], dtype=object)[prod]
    return pl.DataFrame(
        {
            "order_id": ids.astype(str),
            "buyer": buyer,
            "status": statuses.astype(str),
            "created_at": created * US,
            "paid_at": np.where(unpaid, -1, paid) * US,
            "shipped_at": shipped * US,
            "goods_cents": goods,
            "postage_cents": postage,
            "total_cents": total,
            "paid_cents": np.where(unpaid, 0, paid_c),
            "title": titles.astype(str),
            "quantity": qty.astype(np.int64),
            "layout": np.where(rng.random(n_all) < 0.6, "classic", "new"),
            "product": prod.astype(np.int64),
        }
    ).with_columns(
        [pl.when(pl.col(c) >= 0).then(pl.col(c)).cast(pl.Datetime("us")).alias(c) for c in ("created_at", "paid_at", "shipped_at")]
    )


def generate_refunds(
    rng: np.random.Generator,
    orders: pl.DataFrame,
    convs: pl.DataFrame,
    agent_accounts: list[str],
    month_start: datetime,
    days: int,
    n_refunds: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pick ``n_refunds`` paid orders to refund. The first ones are the orders of
    conversations tagged ``refund`` (their buyer and paid time are rewritten to fit the chat,
    the reason is the conversation's). ``conv`` names that conversation (null for the
    others); ``chat_linked`` = the buyer typed the order number.

    Returns (refunds, orders) — orders updated for the chat-linked refunds.
    """
    lo = int((month_start - datetime(1970, 1, 1)).total_seconds())
    hi = lo + days * 86400
    paid_idx = np.flatnonzero(orders["paid_at"].is_not_null().to_numpy())
    chosen = rng.choice(paid_idx, size=min(n_refunds, len(paid_idx)), replace=False)
    oc = convs.filter(pl.col("refund")).sort("conv")
    m = min(oc.height, len(chosen))
    R = len(chosen)
    conv_start = (oc["start"].dt.epoch("s").to_numpy()[:m]).astype(np.int64)
    acc_idx = {a: i for i, a in enumerate(agent_accounts)}
    conv_agent = np.array([acc_idx[a] for a in oc["agent_account"].to_list()[:m]], np.int64)

    # rewrite chat-linked orders: that buyer, paid 1-10 days before the chat (but inside the month)
    paid_s = orders["paid_at"].dt.epoch("s").fill_null(-1).to_numpy().astype(np.int64)
    new_paid = np.maximum(lo + 3600, conv_start - rng.integers(86400, 10 * 86400, m))
    new_paid = np.minimum(new_paid, conv_start - 600)
    buyers = orders["buyer"].to_numpy().astype(object)
    buyers[chosen[:m]] = oc["buyer"].to_numpy()[:m]
    paid_s[chosen[:m]] = new_paid
    created_s = orders["created_at"].dt.epoch("s").to_numpy().astype(np.int64)
    created_s[chosen[:m]] = new_paid - 120
    orders = orders.with_columns(
        buyer=pl.Series(buyers.astype(str)),
        paid_at=pl.when(pl.col("paid_at").is_not_null()).then(pl.Series(paid_s * US).cast(pl.Datetime("us"))),
        created_at=pl.Series(created_s * US).cast(pl.Datetime("us")),
    )
    o = orders[chosen]
    p = o["paid_at"].dt.epoch("s").to_numpy().astype(np.int64)
    applied = np.minimum(p + rng.integers(3600, 6 * 86400, R), hi - 7200)
    applied = np.maximum(applied, p + 600)
    applied[:m] = np.maximum(conv_start - rng.integers(0, 3600, m), p[:m] + 600)
    st = _weighted(rng, cat.REFUND_STATUSES, R)
    status = np.array([s for s, _ in cat.REFUND_STATUSES], dtype=object)[st]
    final = np.isin(status, ["退款成功", "退款关闭"])
    completed = np.where(final, applied + rng.integers(600, 3 * 86400, R), -1)
    reason_i = _weighted(rng, cat.REFUND_REASONS, R)
    reasons = np.array([r for r, _ in cat.REFUND_REASONS], dtype=object)[reason_i]
    reasons[:m] = oc["reason"].to_numpy()[:m]
    needs_return = np.isin(reasons, ["七天无理由退换货", "质量问题", "与商品描述不符", "发错货", "效果不好/不喜欢"])
    partial = np.isin(reasons, ["少件/漏发", "商品破损", "收到商品破损"]) & (rng.random(R) < 0.6)
    paid_c = o["paid_cents"].to_numpy()
    refund_c = np.where(partial, np.maximum(100, (paid_c * rng.uniform(0.1, 0.5, R)).astype(np.int64)), paid_c)
    A = len(agent_accounts)
    w = np.linspace(1.4, 0.6, A)
    op = rng.choice(A, size=R, p=w / w.sum())
    op[:m] = conv_agent
    reviewer = np.where(rng.random(R) < 0.6, 0, op)
    intervene = np.where(rng.random(R) < 0.06, rng.integers(1, len(cat.CS_INTERVENTION), R), 0)
    stride = 10**16 // (R + 1)
    rid = 2_019_000_000_000_000_000 + np.arange(R, dtype=np.int64) * stride + rng.integers(0, stride, R)
    pay_day = pl.Series(p * US).cast(pl.Datetime("us")).dt.strftime("%Y%m%d").to_numpy().astype(object)
    trade = pay_day + "22001" + np.char.zfill(rng.integers(0, 10**15, R).astype(str), 15).astype(object)
    accounts = np.array(agent_accounts, dtype=object)
    dt = _dt
    refunds = pl.DataFrame(
        {
            "order_id": o["order_id"],
            "refund_id": rid.astype(str),
            "alipay_trade_no": trade.astype(str),
            "order_paid_at": o["paid_at"],
            "sku_code": ("YP" + (o["product"] * 1000 + 10017).cast(pl.String)),
            "buyer": o["buyer"],
            "paid_cents": paid_c,
            "title": o["title"],
            "refund_cents": refund_c,
            "refund_kind": np.where(rng.random(R) < 0.8, "系统退款", "手工退款"),
            "needs_return": np.where(needs_return, "是", "否"),
            "applied_at": dt(applied),
            "timeout_at": dt(applied + 2 * 86400),
            "status": status.astype(str),
            "goods_status": np.where(needs_return, np.where(final, "买家已退货", "买家已收到货"), "买家未收到货"),
            "cs_intervention": np.array(cat.CS_INTERVENTION, dtype=object)[intervene].astype(str),
            "reason": reasons.astype(str),
            "completed_at": dt(completed),
            "full_or_partial": np.where(partial, "部分退款", "全部退款"),
            "reviewer": accounts[reviewer].astype(str),
            "operator": accounts[op].astype(str),
            "chat_linked": np.concatenate([oc["order"].to_numpy()[:m], np.zeros(R - m, bool)]),
            "conv": pl.Series(np.concatenate([oc["conv"].to_numpy()[:m], np.full(R - m, -1)])).replace(-1, None),
        }
    )
    return refunds, orders
