"""退款管理 export (Taobao/Tmall refunds), 38 columns; GBK or UTF-8 CSV, or XLSX.

Seller address/phones and logistics columns are not staged. ``completed_at`` is
退款完结时间, or 完结时间 where that is empty.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from pipelines.io.source import SourceFile

from ._table_common import (
    blank_to_null,
    check_required,
    headed_parts,
    header_key,
    money,
    resemblance,
    resolve,
    signature_score,
    table_batches,
    yes_no,
)
from .base import Batch, Reader

# The full export header, in the export's order (exports.md)
REFUND_HEADERS = (
    "订单编号", "退款编号", "支付宝交易号", "订单付款时间", "商家编码", "退款完结时间", "买家会员名称",
    "买家实际支付金额", "宝贝标题", "买家退款金额", "手工退款/系统退款", "是否需要退货", "退款的申请时间",
    "超时时间", "退款状态", "货物状态", "退货物流信息", "发货物流信息", "客服介入状态", "卖家真实姓名",
    "卖家退货地址", "卖家邮编", "卖家电话", "卖家手机", "退货物流单号", "退货物流公司", "买家退款原因",
    "买家退款说明", "买家退货时间", "责任方", "售中或售后", "商家备注", "完结时间", "部分退款/全部退款",
    "审核操作人", "举证超时", "是否零秒响应", "退款操作人",
)
# Headers no order report has
REFUND_SIGNATURE = (
    "退款编号", "退款完结时间", "买家会员名称", "买家退款金额", "手工退款/系统退款", "是否需要退货", "退款的申请时间",
    "退款状态", "货物状态", "退货物流信息", "客服介入状态", "买家退款原因", "买家退款说明", "责任方", "售中或售后",
    "部分退款/全部退款", "审核操作人", "举证超时", "是否零秒响应", "退款操作人",
)

REFUND_ALIASES: dict[str, tuple[str, ...]] = {
    "refund_id": ("退款编号",),
    "order_id": ("订单编号",),
    "alipay_trade_no": ("支付宝交易号",),
    "buyer": ("买家会员名称", "买家会员名"),
    "order_paid_at": ("订单付款时间",),
    "paid_amount": ("买家实际支付金额",),
    "refund_amount": ("买家退款金额", "退款金额"),
    "title": ("宝贝标题",),
    "refund_kind": ("手工退款/系统退款",),
    "needs_return": ("是否需要退货",),
    "applied_at": ("退款的申请时间", "退款申请时间"),
    "timeout_at": ("超时时间",),
    "status": ("退款状态",),
    "goods_status": ("货物状态",),
    "cs_intervention": ("客服介入状态",),
    "reason": ("买家退款原因",),
    "description": ("买家退款说明",),
    "responsibility": ("责任方",),
    "phase": ("售中或售后",),
    "full_or_partial": ("部分退款/全部退款",),
    "reviewer": ("审核操作人",),
    "operator": ("退款操作人",),
}

COMPLETED_HEADERS = ("退款完结时间", "完结时间")
# Columns without which refunds cannot be counted or attributed (refund rate, pay): a
# sheet lacking one fails the ingest instead of loading empty values.
REQUIRED = ("refund_id", "order_id", "applied_at", "status", "refund_amount", "completed_at")
_REQUIRED_ALIASES = {**REFUND_ALIASES, "completed_at": COMPLETED_HEADERS}


class RefundsReader(Reader):
    layout = "refunds"
    kinds = ("refunds",)
    description = "退款管理导出（38列，GBK/UTF-8 CSV 或 XLSX）"

    def sniff(self, src: SourceFile) -> float:
        return signature_score(src, REFUND_SIGNATURE, 3, require=("退款编号",))

    def diagnose(self, src: SourceFile) -> tuple[float, list[str]]:
        return resemblance(src, REFUND_SIGNATURE, _REQUIRED_ALIASES, REQUIRED)

    def read(self, src: SourceFile) -> list[Batch] | Iterator[Batch]:
        parts = []
        signature = {header_key(h) for h in REFUND_SIGNATURE}
        for sheet, columns, frames in headed_parts(src, REFUND_HEADERS, min_hits=3):
            if len(signature & set(columns)) < 3:
                continue  # e.g. an order sheet in the same workbook
            check_required(self.description, columns, _REQUIRED_ALIASES, REQUIRED, sheet)
            exprs: dict[str, pl.Expr] = {}
            for canon, col in resolve(columns, REFUND_ALIASES).items():
                e = pl.col(col)
                if canon in ("paid_amount", "refund_amount"):
                    exprs[canon] = money(e)
                elif canon == "needs_return":
                    exprs[canon] = yes_no(e)
                else:
                    exprs[canon] = blank_to_null(e)
            done = [blank_to_null(pl.col(c)) for c in COMPLETED_HEADERS if c in columns]
            if done:
                exprs["completed_at"] = pl.coalesce(done)
            parts.append((frames, exprs, sheet))
        return table_batches("refunds", parts, src.chunked)
