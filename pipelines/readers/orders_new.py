"""订单报表, newer layout (支付单号, 买家实付金额, 商品标题, 商品属性SKU, 发货时间)."""

from __future__ import annotations

from pipelines.io.source import SourceFile

from ._table_common import signature_score
from .base import Batch, Reader
from .orders_classic import CLASSIC_ONLY, NEW_ONLY, REFUND_MARKERS, order_batches


class OrdersNewReader(Reader):
    layout = "orders_new"
    kinds = ("orders",)
    description = "订单报表（新版：支付单号、买家实付金额、商品标题、发货时间）"

    def sniff(self, src: SourceFile) -> float:
        return signature_score(src, NEW_ONLY, 3, require=("订单编号",), forbidden=REFUND_MARKERS, rival=CLASSIC_ONLY)

    def read(self, src: SourceFile) -> list[Batch]:
        return order_batches(src, "new")
