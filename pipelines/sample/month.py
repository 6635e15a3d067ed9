"""Orchestrate one sample month: chats, orders, refunds, people files, ground truth."""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from . import catalog as cat
from .chats import BANK_NAMES, AgentPlan, generate_chats, plan_agents
from .orders import generate_orders, generate_refunds
from .summary import SampleFile, SampleSummary
from .write_chats import write_flat, write_json, write_qianniu, write_text
from .write_people import dingtalk_names, roles, write_attendance, write_sycm, write_workbook
from .write_tables import write_orders, write_refunds

DEFAULT_MESSAGES = 3000
# Above this many messages, chats are generated and written in chunks of this size
# (flat layout only after the first), so memory stays ~1.5 GB whatever the volume.
CHUNK = 1_000_000
# The flat CSV downloads overlap by this window on the 16th (duplicates on purpose)
FLAT_SPLIT_DAY, FLAT_OVERLAP = 16, timedelta(hours=3)
# The two refund downloads overlap on these applied days (duplicates on purpose)
REFUND_SPLIT_DAY, REFUND_OVERLAP_DAYS = 15, 5


def _parse_month(month: str) -> tuple[datetime, int]:
    try:
        start = datetime.strptime(month, "%Y-%m")
    except ValueError as e:
        raise ValueError(f"月份格式应为 YYYY-MM: {month!r}") from e
    return start, calendar.monthrange(start.year, start.month)[1]


def _names(rng: np.random.Generator, export_at: datetime, month_stamp: str, n_text: int, n_json: int) -> dict:
    """Download-style file names (content, not names, tells readers what a file is)."""
    stamp = export_at.strftime("%Y%m%d")
    hexes = [f"{x:08x}" for x in rng.integers(0, 1 << 32, n_text + n_json).tolist()]
    return {
        "flat": (f"export_{stamp}_093512.csv", f"export_{stamp}_094027.csv"),
        "qianniu": (f"千牛聊天记录导出_{stamp}.xlsx", f"千牛聊天记录导出_{stamp} (1).xlsx"),
        "text": [f"chatlog_{h}.txt" for h in hexes[:n_text]],
        "json": [f"chats_{h}.json" for h in hexes[n_text:]],
        "orders": (f"ExportOrderList{stamp}1025.csv", f"订单报表-{export_at:%Y-%m-%d}.csv"),
        "refunds": (f"ExportRefundList{stamp}1030.csv", f"退款管理_{export_at:%Y-%m-%d} (1).csv"),
        "workbook": "主管填报表.xlsx",
        "attendance": f"{cat.SHOP}_月度汇总_{month_stamp}.xlsx",
        "sycm": f"【生意参谋平台】咨询接待分析_{export_at:%Y-%m-%d}.xlsx",
    }


@dataclass
class MonthData:
    """The generated month before it is written (message-level ground truth for tests)."""

    month: str
    month_start: datetime
    days: int
    export_at: datetime
    plan: AgentPlan
    messages: pl.DataFrame  # canonical message columns + msg_id, conv, layout, bank
    conversations: pl.DataFrame
    orders: pl.DataFrame
    refunds: pl.DataFrame
    rngs: list


def build_month(month: str, agents: int = 8, seed: int = 0, messages: int | None = None) -> MonthData:
    """Generate the month's records in memory (no files). Deterministic for the arguments.

    For ``messages`` above :data:`CHUNK` only the first chunk of chats is built here
    (all special layouts live in it); :func:`generate` streams the rest (flat layout only).
    Orders and refunds are always sized for the full volume."""
    month_start, days = _parse_month(month)
    month_end = month_start + timedelta(days=days)
    target = int(messages) if messages is not None else DEFAULT_MESSAGES
    if target < 200:
        raise ValueError("messages 至少 200")
    rngs = [np.random.default_rng([seed, k]) for k in range(8)]
    export_at = month_end + timedelta(hours=10, minutes=int(rngs[0].integers(0, 50)), seconds=int(rngs[0].integers(0, 60)))
    plan = plan_agents(agents)

    n_orders = max(2000, target // 6)
    n_refunds = int(round(n_orders * rngs[0].uniform(0.06, 0.10)))
    # most refunds are talked about in a chat (refund_slots <= refunds: each gets its own)
    msgs, convs = generate_chats(rngs[1], month_start, days, plan, min(target, CHUNK), refund_slots=int(n_refunds * 0.85))
    chat_buyers = convs.get_column("buyer").unique(maintain_order=True).to_list()
    orders = generate_orders(rngs[2], month_start, days, n_orders, chat_buyers)
    refunds, orders = generate_refunds(rngs[3], orders, convs, plan.accounts, month_start, days, n_refunds)

    # the order number the buyer types is the refunded order's number
    link = refunds.filter(pl.col("chat_linked")).select("conv", "order_id")
    msgs = (
        msgs.join(link, on="conv", how="left")
        .with_columns(text=pl.when(pl.col("order_id").is_not_null()).then(
            pl.col("text").str.replace("{order}", pl.col("order_id"), literal=True)).otherwise(pl.col("text")))
        .drop("order_id")
        .sort("msg_id")
    )
    return MonthData(month, month_start, days, export_at, plan, msgs, convs, orders, refunds, rngs)


def generate(month: str, out: Path, agents: int = 8, seed: int = 0, messages: int | None = None) -> SampleSummary:
    """Write a realistic month of after-sales exports for one shop into ``out``.

    Chats in four layouts (Qianniu per-customer xlsx, per-agent text, batch-exporter JSON,
    flat CSV), two order reports, two overlapping refund downloads, the supervisor
    workbook, the DingTalk monthly attendance summary and a 生意参谋 reception report.
    ``messages`` (default 3000) scales the chat volume; beyond a few thousand the extra
    volume goes to the flat CSVs. Same arguments → same files (xlsx included).
    Returns the files written and the ground truth (see :class:`SampleSummary`).
    """
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    d = build_month(month, agents, seed, messages)
    month_start, days, export_at, plan, rngs = d.month_start, d.days, d.export_at, d.plan, d.rngs
    msgs, convs, orders, refunds = d.messages, d.conversations, d.orders, d.refunds

    names = _names(rngs[4], export_at, month_start.strftime("%Y%m"), agents, 12)
    files: list[SampleFile] = []
    by = {lay: msgs.filter(pl.col("layout") == lay) for lay in ("qianniu_xlsx", "chat_json", "chat_text", "chat_flat")}

    split = month_start + timedelta(days=FLAT_SPLIT_DAY - 1, hours=9)
    flat = by["chat_flat"]
    late = flat.filter(pl.col("sent_at") >= split + FLAT_OVERLAP).sort("msg_id").head(2)
    bad_msgs = late.select(
        pl.col("shop").alias("店铺"), pl.col("agent_account").alias("客服账号"),
        pl.Series("买家", [late["buyer"][0], ""]),
        pl.col("sender").alias("发送方"),
        pl.col("sender_role").replace_strict({"buyer": "买家", "agent": "客服", "system": "系统"}).alias("发送方角色"),
        pl.Series("发送时间", [f"{month_start.month}月3日 下午3点", late["sent_at"][1].strftime("%Y-%m-%d %H:%M:%S")]),
        pl.col("text").alias("内容"),
    )
    target = int(messages) if messages is not None else DEFAULT_MESSAGES
    extra_truth: list[dict] = []

    def chunks():
        yield flat
        done, k = msgs.height, 1
        while done < target - 100:
            rng = np.random.default_rng([seed, 100 + k])
            m, c = generate_chats(rng, month_start, days, plan, min(CHUNK, target - done), 0, flat_only=True, chunk=k)
            extra_truth.append(_chat_truth(m, c, plan))
            done, k = done + m.height, k + 1
            yield m

    f, flat_dup = write_flat(chunks(), out, names["flat"], split, FLAT_OVERLAP, bad_msgs)
    files += f
    f, xlsx_dup = write_qianniu(by["qianniu_xlsx"], out, names["qianniu"], export_at)
    files += f
    files += write_text(by["chat_text"], out, plan.accounts, names["text"])
    files += write_json(by["chat_json"], out, names["json"], export_at)

    files += write_orders(orders, out, names["orders"], rngs[6])
    bad_ref = refunds.sort("applied_at").tail(2).with_columns(
        refund_id=pl.Series([str(2_099_000_000_000_000_001 + i) for i in range(2)]),
        refund_cents=pl.Series([-3500, 2000]),
        status=pl.Series(["退款成功", "退款暂停中"]),
    )
    f, refund_dup = write_refunds(refunds, bad_ref, out, names["refunds"], REFUND_SPLIT_DAY, REFUND_OVERLAP_DAYS)
    files += f

    wb_file, wb_facts = write_workbook(out / names["workbook"], month, plan, convs, refunds, rngs[7], export_at)
    att_file, att_facts = write_attendance(out / names["attendance"], month, agents, rngs[7], export_at)
    files += [wb_file, att_file, write_sycm(out / names["sycm"], month, plan, msgs, export_at)]
    for fi in files:
        fi.size = (out / fi.name).stat().st_size

    paid = orders.filter(pl.col("paid_at").is_not_null()).height
    truth = _chat_truth(msgs, convs, plan)
    for t in extra_truth:
        _add_counts(truth, t)
    truth["chunks"] = 1 + len(extra_truth)
    truth.update(
        message_rows=sum(fi.rows.get("messages", 0) for fi in files),
        duplicate_messages=flat_dup + xlsx_dup,
        duplicate_messages_by_layout={"chat_flat": flat_dup, "qianniu_sheets": xlsx_dup},
        bad_rows={"message_bad_time": 1, "message_missing_buyer": 1, "refund_negative_amount": 1, "refund_unknown_status": 1},
        orders=orders.height,
        paid_orders=paid,
        refunds=refunds.height,
        duplicate_refunds=refund_dup,
        refund_rate=f"{refunds.height / paid:.4f}",
        refunds_by_operator=dict(refunds.group_by("operator").len().sort("operator").iter_rows()),
        chat_linked_refunds=int(refunds["chat_linked"].sum()),
        workbook=wb_facts,
        attendance=att_facts,
    )
    rl, dn = roles(agents), dingtalk_names(agents)
    for i, acc in enumerate(plan.accounts):
        truth["agents"][acc].update(role=rl[i], name=cat.AGENT_NAMES[i], dingtalk_name=dn[i])
    return SampleSummary(month, seed, str(out), files, truth, time.perf_counter() - t0)


def _add_counts(into: dict, other: dict) -> None:
    """Sum the integer facts of ``other`` into ``into`` (nested dicts too); chunks have
    disjoint buyers, so counts of threads/sessions add up."""
    for k, v in other.items():
        if isinstance(v, bool):
            continue
        if isinstance(v, int):
            into[k] = into.get(k, 0) + v
        elif isinstance(v, dict):
            _add_counts(into.setdefault(k, {}), v)


def _chat_truth(msgs: pl.DataFrame, convs: pl.DataFrame, plan) -> dict:
    """Facts about the generated chats, computed from the data itself."""
    bank = pl.col("bank")
    per_agent = msgs.group_by("agent_account").agg(
        messages=pl.len(),
        rude_replies=(bank == BANK_NAMES.index("agent_rude")).sum(),
        knowledge_gap_replies=(bank == BANK_NAMES.index("agent_knowledge_gap")).sum(),
        auto_replies=pl.col("is_auto_reply").sum(),
    )
    pa = {r["agent_account"]: r for r in per_agent.iter_rows(named=True)}
    agents = {}
    for i, acc in enumerate(plan.accounts):
        r = pa.get(acc, {})
        agents[acc] = {
            "median_response_s": plan.median_response_s[i],
            "fast": i in plan.fast,
            "slow": i in plan.slow,
            "rude": i == plan.rude,
            "messages": int(r.get("messages", 0)),
            "rude_replies": int(r.get("rude_replies", 0)),
            "knowledge_gap_replies": int(r.get("knowledge_gap_replies", 0)),
            "auto_replies": int(r.get("auto_replies", 0)),
        }
    ordered = msgs.sort("agent_account", "buyer", "sent_at", "msg_id")
    gap = pl.col("sent_at").diff().over("agent_account", "buyer")
    ordered = ordered.with_columns(
        _new=(gap.is_null() | (gap > timedelta(minutes=30))),
        _tie=(gap == timedelta(0)).fill_null(False),
    ).with_columns(_sess=pl.col("_new").cum_sum())
    sess = ordered.group_by("_sess").agg(d=pl.col("sent_at").max() - pl.col("sent_at").min())
    tags = convs.select(pl.exclude("conv", "buyer", "agent_account", "layout", "start", "turns", "reason").sum()).row(0, named=True)
    banks = dict(msgs.group_by("bank").len().iter_rows())
    return {
        "messages": msgs.height,
        "conversations": convs.height,
        "threads": msgs.select(pl.struct("agent_account", "buyer").n_unique()).item(),
        "sessions_30min": sess.height,
        "long_sessions_30min": sess.filter(pl.col("d") > timedelta(minutes=30)).height,
        "silence_gaps_over_30min": int(ordered.filter(pl.col("_new")).height - ordered.select(pl.struct("agent_account", "buyer").n_unique()).item()),
        "equal_timestamps": int(ordered["_tie"].sum()),
        "events": dict(msgs.group_by("event").len().sort("event").iter_rows()),
        "auto_replies": int(msgs["is_auto_reply"].sum()),
        "by_bank": {BANK_NAMES[k]: int(v) for k, v in sorted(banks.items()) if k >= 0},
        "by_layout": dict(msgs.group_by("layout").len().sort("layout").iter_rows()),
        "tags": {k: int(v) for k, v in tags.items()},
        "agents": agents,
        "fast_agents": [plan.accounts[i] for i in plan.fast],
        "slow_agents": [plan.accounts[i] for i in plan.slow],
        "rude_agent": plan.accounts[plan.rude],
        "knowledge_gap_agent": plan.accounts[plan.knowledge_gap],
        "praised_agent": plan.accounts[plan.praised],
    }
