"""订单报表, classic layout (买家会员名 ... 买家实际支付金额 ... 宝贝标题 ... 店铺名称).

Receiver name, address and phones are private and not needed: they are never read.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from pipelines.io.source import SourceFile

from ._table_common import (
    blank_to_null,
    check_required,
    count,
    headed_parts,
    header_key,
    money,
    resemblance,
    resolve,
    signature_score,
    table_batches,
)
from .base import Batch, Reader

# Headers both order layouts share; a header row must hold 订单编号.
ORDER_COMMON = ("订单编号", "订单状态", "总金额", "订单创建时间", "买家应付货款", "买家应付邮费", "运送方式", "宝贝种类", "物流单号", "物流公司", "宝贝总数量")
CLASSIC_ONLY = (
    "买家会员名", "买家支付宝账号", "买家支付积分", "返点积分", "买家实际支付金额", "买家实际支付积分", "买家留言",
    "收货人姓名", "联系电话", "联系手机", "订单付款时间", "宝贝标题", "订单备注", "店铺Id", "店铺名称", "订单关闭原因",
)
NEW_ONLY = ("支付单号", "买家实付金额", "商品标题", "备注标签", "商家备注", "开票信息", "手机订单", "商品属性SKU", "发货时间")
# Headers of the 退款管理 export, which also has 订单编号
REFUND_MARKERS = ("退款编号", "退款状态", "退款的申请时间", "买家退款金额")

# canonical column -> accepted headers, first found wins
ORDER_ALIASES: dict[str, tuple[str, ...]] = {
    "order_id": ("订单编号", "订单号"),
    "payment_id": ("支付单号",),
    "buyer": ("买家会员名", "买家昵称", "买家会员名称"),
    "shop": ("店铺名称",),
    "status": ("订单状态",),
    "total_amount": ("总金额",),
    "paid_amount": ("买家实际支付金额", "买家实付金额"),
    "created_at": ("订单创建时间", "创建时间"),
    "paid_at": ("订单付款时间", "付款时间"),
    "shipped_at": ("发货时间",),
    "title": ("宝贝标题", "商品标题"),
    "quantity": ("宝贝总数量", "商品数量"),
}
# Columns an order sheet must have (the refund rate counts paid orders of the month);
# the new layout has no 付款时间 column.
REQUIRED_CLASSIC = ("order_id", "status", "created_at", "paid_at", "paid_amount")
REQUIRED_NEW = ("order_id", "status", "created_at", "paid_amount")


def order_batches(src: SourceFile, layout: str, description: str, required: tuple[str, ...]) -> list[Batch] | Iterator[Batch]:
    """Read every sheet of an order report into one ``orders`` batch tagged ``layout``
    (a big CSV: one batch a chunk, lazily).
    A sheet that looks like an order sheet but lacks a ``required`` column raises
    :class:`MissingColumns`."""
    parts = []
    own = {header_key(h) for h in (CLASSIC_ONLY if layout == "classic" else NEW_ONLY)}
    for sheet, columns, frames in headed_parts(src, ORDER_COMMON + CLASSIC_ONLY + NEW_ONLY, min_hits=3):
        if set(REFUND_MARKERS) & set(columns):
            continue  # not an order sheet (e.g. a refund sheet in the same workbook)
        if "订单编号" not in columns and len(own & set(columns)) < 3:
            continue
        check_required(description, columns, ORDER_ALIASES, required, sheet)
        cols = resolve(columns, ORDER_ALIASES)
        exprs: dict[str, pl.Expr] = {}
        for canon, col in cols.items():
            e = pl.col(col)
            if canon in ("total_amount", "paid_amount"):
                exprs[canon] = money(e)
            elif canon == "quantity":
                exprs[canon] = count(e)
            else:
                exprs[canon] = blank_to_null(e)
        exprs["layout"] = pl.lit(layout, dtype=pl.String)
        parts.append((frames, exprs, sheet))
    return table_batches("orders", parts, src.chunked)


class OrdersClassicReader(Reader):
    layout = "orders_classic"
    kinds = ("orders",)
    description = "订单报表（旧版：买家会员名、买家实际支付金额、宝贝标题、店铺名称）"

    def sniff(self, src: SourceFile) -> float:
        return signature_score(src, CLASSIC_ONLY, 3, require=("订单编号",), forbidden=REFUND_MARKERS, rival=NEW_ONLY)

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        return resemblance(src, CLASSIC_ONLY, ORDER_ALIASES, REQUIRED_CLASSIC, forbidden=REFUND_MARKERS, rival=NEW_ONLY)

    def read(self, src: SourceFile) -> list[Batch]:
        return order_batches(src, "classic", self.description, REQUIRED_CLASSIC)
