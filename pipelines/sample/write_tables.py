"""Write orders (classic + newer 订单报表) and refunds (退款管理) exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from . import catalog as cat
from .money import cents_to_str, fmt_dt
from .summary import SampleFile

DT = "%Y-%m-%d %H:%M:%S"


def _blank(name: str) -> pl.Expr:
    return pl.lit("").alias(name)


def write_orders(orders: pl.DataFrame, out: Path, names: tuple[str, str], rng: np.random.Generator) -> list[SampleFile]:
    """Classic layout: GBK CSV, order numbers written ``="3012..."`` (unquoted, as Taobao
    does). Newer layout: UTF-8-BOM CSV, order numbers with a leading tab (most) or quote."""
    n = orders.height
    orders = orders.with_columns(
        _addr=pl.Series(rng.choice(["浙江省 杭州市 西湖区 文三路", "广东省 深圳市 南山区 科技园路", "江苏省 南京市 鼓楼区 中山路",
                                    "北京 北京市 朝阳区 望京街", "四川省 成都市 武侯区 天府大道"], n)),
        _no=pl.Series(rng.integers(1, 999, n)),
        _ship=pl.Series(rng.choice(cat.LOGISTICS, n)),
        _track=pl.Series(rng.integers(10**11, 10**12, n)).cast(pl.String),
        _phone=pl.Series(rng.integers(1000, 9999, n)).cast(pl.String),
        _quote=pl.Series(rng.random(n) < 0.15),
    )
    shipped = pl.col("shipped_at").is_not_null()
    classic = orders.filter(pl.col("layout") == "classic").select(
        pl.format('="{}"', "order_id").alias("订单编号"),
        pl.col("buyer").alias("买家会员名"),
        pl.concat_str([pl.lit("138****"), pl.col("_phone")]).alias("买家支付宝账号"),
        cents_to_str("goods_cents").alias("买家应付货款"),
        cents_to_str("postage_cents").alias("买家应付邮费"),
        pl.lit("0").alias("买家支付积分"),
        cents_to_str("total_cents").alias("总金额"),
        pl.lit("0").alias("返点积分"),
        cents_to_str("paid_cents").alias("买家实际支付金额"),
        pl.lit("0").alias("买家实际支付积分"),
        pl.col("status").alias("订单状态"),
        _blank("买家留言"),
        pl.lit("*").alias("收货人姓名"),
        pl.format("{} {}号", "_addr", "_no").alias("收货地址"),
        pl.lit("快递").alias("运送方式"),
        _blank("联系电话 "),
        pl.concat_str([pl.lit("'138****"), pl.col("_phone")]).alias("联系手机"),
        fmt_dt("created_at").alias("订单创建时间"),
        fmt_dt("paid_at").fill_null("").alias("订单付款时间 "),
        pl.col("title").alias("宝贝标题 "),
        pl.lit("1").alias("宝贝种类 "),
        pl.when(shipped).then(pl.format("No:{}", "_track")).otherwise(pl.lit("")).alias("物流单号 "),
        pl.when(shipped).then(pl.col("_ship")).otherwise(pl.lit("")).alias("物流公司"),
        _blank("订单备注"),
        pl.col("quantity").cast(pl.String).alias("宝贝总数量"),
        pl.lit("106512345").alias("店铺Id"),
        pl.lit(cat.SHOP).alias("店铺名称"),
        pl.when(pl.col("paid_at").is_null()).then(pl.lit("买家未付款")).otherwise(pl.lit("")).alias("订单关闭原因"),
        pl.lit("0").alias("卖家服务费"),
        pl.lit("0元").alias("买家服务费"),
        _blank("发票抬头"),
        pl.lit("手机订单").alias("是否手机订单"),
        _blank("分阶段订单信息"),
    )
    assert tuple(classic.columns) == cat.ORDER_CLASSIC_COLUMNS
    new = orders.filter(pl.col("layout") == "new").select(
        pl.when(pl.col("_quote")).then(pl.format("'{}", "order_id")).otherwise(pl.format("\t{}", "order_id")).alias("订单编号"),
        pl.format("\t{}22001{}", pl.col("created_at").dt.strftime("%Y%m%d"), pl.col("_track").str.zfill(15)).alias("支付单号"),
        cents_to_str("goods_cents").alias("买家应付货款"),
        cents_to_str("postage_cents").alias("买家应付邮费"),
        cents_to_str("total_cents").alias("总金额"),
        cents_to_str("paid_cents").alias("买家实付金额"),
        pl.col("status").alias("订单状态"),
        pl.format("{} {}号", "_addr", "_no").alias("收货地址"),
        pl.lit("快递").alias("运送方式"),
        fmt_dt("created_at").alias("订单创建时间"),
        pl.col("title").alias("商品标题"),
        pl.lit("1").alias("宝贝种类"),
        pl.when(shipped).then(pl.col("_track")).otherwise(pl.lit("")).alias("物流单号"),
        pl.when(shipped).then(pl.col("_ship")).otherwise(pl.lit("")).alias("物流公司"),
        _blank("备注标签"),
        _blank("商家备注"),
        pl.col("quantity").cast(pl.String).alias("宝贝总数量"),
        _blank("开票信息"),
        pl.lit("是").alias("手机订单"),
        pl.lit("颜色分类:原木色").alias("商品属性SKU"),
        fmt_dt("shipped_at").fill_null("").alias("发货时间"),
    )
    assert tuple(new.columns) == cat.ORDER_NEW_COLUMNS
    (out / names[0]).write_bytes(classic.write_csv(quote_style="never").encode("gbk"))
    new.write_csv(out / names[1], include_bom=True)
    return [
        SampleFile(names[0], "orders_classic", "gbk", {"orders": classic.height}),
        SampleFile(names[1], "orders_new", "utf-8-sig", {"orders": new.height}),
    ]


def refund_frame(refunds: pl.DataFrame) -> pl.DataFrame:
    """Refunds in the 38-column export shape (all strings)."""
    rt = pl.col("needs_return") == "是"
    done = pl.col("completed_at").is_not_null()
    f = refunds.select(
        pl.col("order_id").alias("订单编号"),
        pl.col("refund_id").alias("退款编号"),
        pl.col("alipay_trade_no").alias("支付宝交易号"),
        fmt_dt("order_paid_at").alias("订单付款时间"),
        pl.col("sku_code").alias("商家编码"),
        fmt_dt("completed_at").fill_null("").alias("退款完结时间"),
        pl.col("buyer").alias("买家会员名称"),
        cents_to_str("paid_cents").alias("买家实际支付金额"),
        pl.col("title").alias("宝贝标题"),
        cents_to_str("refund_cents").alias("买家退款金额"),
        pl.col("refund_kind").alias("手工退款/系统退款"),
        pl.col("needs_return").alias("是否需要退货"),
        fmt_dt("applied_at").alias("退款的申请时间"),
        fmt_dt("timeout_at").alias("超时时间"),
        pl.col("status").alias("退款状态"),
        pl.col("goods_status").alias("货物状态"),
        pl.when(rt & done).then(pl.lit("已退货")).otherwise(pl.lit("")).alias("退货物流信息"),
        pl.lit("已发货").alias("发货物流信息"),
        pl.col("cs_intervention").alias("客服介入状态"),
        pl.lit("优品家居（杭州）有限公司").alias("卖家真实姓名"),
        pl.when(rt).then(pl.lit("浙江省杭州市余杭区仓前街道良睦路1号 优品家居售后部")).otherwise(pl.lit("")).alias("卖家退货地址"),
        pl.when(rt).then(pl.lit("311121")).otherwise(pl.lit("")).alias("卖家邮编"),
        pl.lit("0571-88886666").alias("卖家电话"),
        pl.lit("").alias("卖家手机"),
        pl.when(rt & done).then(pl.format("YT{}", pl.col("refund_id").str.slice(6, 10))).otherwise(pl.lit("")).alias("退货物流单号"),
        pl.when(rt & done).then(pl.lit("圆通速递")).otherwise(pl.lit("")).alias("退货物流公司"),
        pl.col("reason").alias("买家退款原因"),
        pl.format("{}，申请退款", "reason").alias("买家退款说明"),
        pl.when(rt & done).then(fmt_dt("applied_at")).otherwise(pl.lit("")).alias("买家退货时间"),
        pl.when(pl.col("reason").is_in(["七天无理由退换货", "不想要了", "多拍/拍错/不想要", "效果不好/不喜欢"]))
        .then(pl.lit("买家责任")).otherwise(pl.lit("卖家责任")).alias("责任方"),
        pl.when(pl.col("goods_status") == "买家未收到货").then(pl.lit("售中")).otherwise(pl.lit("售后")).alias("售中或售后"),
        pl.lit("").alias("商家备注"),
        fmt_dt("completed_at").fill_null("").alias("完结时间"),
        pl.col("full_or_partial").alias("部分退款/全部退款"),
        pl.col("reviewer").alias("审核操作人"),
        pl.lit("否").alias("举证超时"),
        pl.when(pl.col("refund_kind") == "系统退款").then(pl.lit("是")).otherwise(pl.lit("否")).alias("是否零秒响应"),
        pl.col("operator").alias("退款操作人"),
    )
    assert tuple(f.columns) == cat.REFUND_COLUMNS
    return f


def write_refunds(refunds: pl.DataFrame, bad: pl.DataFrame, out: Path, names: tuple[str, str],
                  split_day: int, overlap_days: int) -> tuple[list[SampleFile], int]:
    """Two 退款管理 downloads: GBK (applied before ``split_day + overlap``, some headers with
    trailing spaces, as older exports) and UTF-8-BOM (applied from ``split_day``, plus the
    ``bad`` rows). Refunds applied in the overlap are in both. Returns files and duplicates."""
    f = refund_frame(refunds).with_columns(_d=refunds["applied_at"].dt.day())
    a = f.filter(pl.col("_d") < split_day + overlap_days).drop("_d")
    b = f.filter(pl.col("_d") >= split_day).drop("_d")
    dup = f.filter((pl.col("_d") >= split_day) & (pl.col("_d") < split_day + overlap_days)).height
    b = pl.concat([b, refund_frame(bad)])
    spaced = {"退款状态": "退款状态 ", "买家退款原因": "买家退款原因 ", "退款操作人": "退款操作人 "}
    (out / names[0]).write_bytes(a.rename(spaced).write_csv().encode("gbk"))
    b.write_csv(out / names[1], include_bom=True)
    return [
        SampleFile(names[0], "refunds", "gbk", {"refunds": a.height}),
        SampleFile(names[1], "refunds", "utf-8-sig", {"refunds": b.height}),
    ], dup
