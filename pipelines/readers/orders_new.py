"""订单报表, newer layout (支付单号, 买家实付金额, 商品标题, 商品属性SKU, 发货时间)."""

from __future__ import annotations

from pipelines.io.source import SourceFile

from ._table_common import resemblance, signature_score
from .base import Batch, Reader
from .orders_classic import (
    CLASSIC_ONLY,
    NEW_ONLY,
    ORDER_ALIASES,
    REFUND_MARKERS,
    REQUIRED_NEW,
    order_batches,
)


class OrdersNewReader(Reader):
    layout = "orders_new"
    kinds = ("orders",)
    description = "订单报表（新版：支付单号、买家实付金额、商品标题、发货时间）"

    def sniff(self, src: SourceFile) -> float:
        return signature_score(src, NEW_ONLY, 3, require=("订单编号",), forbidden=REFUND_MARKERS, rival=CLASSIC_ONLY)

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        return resemblance(src, NEW_ONLY, ORDER_ALIASES, REQUIRED_NEW, forbidden=REFUND_MARKERS, rival=CLASSIC_ONLY)

    def read(self, src: SourceFile) -> list[Batch]:
        return order_batches(src, "new", self.description, REQUIRED_NEW)
