"""Vectorised chat model: conversations → turns → messages, with planted behaviours.

Everything is numpy/polars array work (no per-message Python loop), so 10 million
messages are cheap. A conversation is ``k`` turns; a turn is a run of buyer messages,
an optional auto-reply (first turn only), 0..2 human agent replies and, on the turn
before a hand-over, a transfer notice. Behaviours are per-conversation tags; texts are
drawn from the behaviour banks in :mod:`pipelines.sample.catalog`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from . import catalog as cat

LAYOUTS = ("qianniu_xlsx", "chat_json", "chat_text", "chat_flat")

# text categories (index into BANKS)
(B_OPEN, B_ORDER, B_FOLLOW, B_THREAT, B_PRAISE, A_POLITE, A_BLUNT, A_REPLY, A_RUDE, A_GAP, AUTO, AUTO_OFF,
 B_ISSUE, B_ORDER_ISSUE, B_NEGATIVE) = range(15)
# after-sales issue wording: one sub-bank per group of refund reasons
ISSUE_GROUPS = tuple(cat.ISSUE_PHRASES)
BANKS = (
    cat.BUYER_OPENINGS, cat.BUYER_ORDER_MENTIONS, cat.BUYER_FOLLOWUPS, cat.BUYER_THREATS, cat.BUYER_PRAISE,
    cat.AGENT_POLITE_OPENINGS, cat.AGENT_BLUNT_OPENINGS, cat.AGENT_REPLIES, cat.AGENT_RUDE,
    cat.AGENT_KNOWLEDGE_GAP, cat.AUTO_REPLIES, (cat.AUTO_REPLY_OFF_HOURS,),
    tuple(p for g in ISSUE_GROUPS for p in cat.ISSUE_PHRASES[g]), cat.BUYER_ORDER_ISSUE, cat.BUYER_NEGATIVE,
)
BANK_NAMES = (
    "buyer_opening", "buyer_order", "buyer_followup", "buyer_threat", "buyer_praise", "agent_polite_opening",
    "agent_blunt_opening", "agent_reply", "agent_rude", "agent_knowledge_gap", "auto_reply", "auto_reply_off_hours",
    "buyer_issue", "buyer_order_issue", "buyer_negative",
)

# Refund conversations (the buyer talks about a refund whose 买家退款原因 drives the wording):
# at most this share of conversations; this share of them type the order number (the rest
# are linked by buyer + time); wording noise: no issue words at all / another group's words
# (the buyer picked a different reason in the form); later buyer lines restating the issue.
REFUND_CONV_SHARE = 0.45
ORDER_TYPED_SHARE = 0.7
ISSUE_NONE, ISSUE_OTHER, ISSUE_DETAIL = 0.12, 0.10, 0.35

SYSTEM_SENDER = "系统"  # sender of transfer notices (as the chat readers write it)

# message kinds inside a turn
K_BUYER, K_AUTO, K_AGENT, K_TRANSFER = range(4)

# hour-of-day weights for conversation starts (service hours 09-23, peaks late morning and evening)
HOUR_WEIGHTS = np.array([0, 0, 0, 0, 0, 0, 0, 1, 3, 8, 10, 10, 7, 8, 9, 9, 8, 7, 6, 7, 9, 10, 8, 4], float)


@dataclass
class AgentPlan:
    """Who is fast, slow, rude... (ground truth for analytics tests)."""

    accounts: list[str]
    nicks: list[str]
    median_response_s: list[float]
    fast: list[int]
    slow: list[int]
    rude: int
    knowledge_gap: int
    praised: int


def plan_agents(n: int) -> AgentPlan:
    """Fixed behaviour profile per agent index (independent of the seed, so docs can name them)."""
    if not 3 <= n <= len(cat.AGENT_NICKS):
        raise ValueError(f"agents must be between 3 and {len(cat.AGENT_NICKS)}")
    nicks = list(cat.AGENT_NICKS[:n])
    med = [35.0] * n
    fast = [1] + ([5] if n > 6 else [])
    slow = [n - 1] + ([3] if n > 4 else [])
    for i in fast:
        med[i] = 12.0
    for i in slow:
        med[i] = 150.0
    med[0] = 25.0
    rude = 3 if n > 4 else n - 1
    gap = n - 2
    return AgentPlan([f"{cat.SHOP}:{x}" for x in nicks], nicks, med, fast, slow, rude, gap, 1)


def buyer_nicks(rng: np.random.Generator, n: int, base: int = 0) -> pl.Series:
    """``n`` unique buyer nicks like Taobao member names ('快乐的1203311', 'tb_2931884').
    Numbers are unique within a call (n <= 1.2 million) and offset by ``base``."""
    pre = pl.Series(cat.BUYER_PREFIXES, dtype=pl.String).gather(rng.integers(0, len(cat.BUYER_PREFIXES), n))
    num = rng.permutation(np.arange(10_000_000, 10_000_000 + n * 7, 7))[:n] % 9_000_000 + 100_000 + base
    return pl.DataFrame({"p": pre, "n": num}).select(pl.concat_str("p", pl.col("n").cast(pl.String))).to_series()


def _within(counts: np.ndarray) -> np.ndarray:
    """For groups of sizes ``counts`` laid end to end: index of each element inside its group."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total) - starts


def _group_cumsum(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each group (groups of sizes ``counts`` end to end)."""
    cs = np.cumsum(values)
    ends = np.cumsum(counts)
    before = np.concatenate([[0], cs[ends[:-1] - 1]]) if len(counts) else np.zeros(0, values.dtype)
    return cs - np.repeat(before, counts)


def generate_chats(
    rng: np.random.Generator, month_start: datetime, days: int, plan: AgentPlan, target: int, refund_slots: int,
    flat_only: bool = False, chunk: int = 0,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Build about ``target`` messages. Returns (messages, conversations).

    ``messages`` holds canonical message columns plus ``msg_id`` (global order), ``conv``,
    ``layout`` (which export it goes to), ``bank`` (text category). ``conversations`` holds
    one row per conversation with its tags; up to ``refund_slots`` conversations are about a
    refund (tag ``refund``, its 买家退款原因 in ``reason``: the buyer's wording depends on it);
    most of them type the order number (tag ``order``, ``{order}`` placeholders filled by
    the caller once refunds exist).
    ``flat_only`` puts every buyer in the flat layout (bulk chunks); ``chunk`` > 0 makes
    buyer nicks, ``msg_id`` and ``conv`` disjoint from other chunks.
    """
    A = len(plan.accounts)
    C0 = target // 5 + 50
    B = max(30, int(C0 * 0.7))

    # buyers: layout by index range, home agent by workload
    n_x = int(min(40, max(6, B * 0.10)))
    n_j = int(min(12, max(3, B * 0.05)))
    n_t = int(min(400, max(10, B * 0.35)))
    b_layout = np.full(B, 3, np.int8)
    if not flat_only:
        b_layout[:n_x] = 0
        b_layout[n_x : n_x + n_j] = 1
        b_layout[n_x + n_j : n_x + n_j + n_t] = 2
    w = rng.uniform(0.7, 1.3, A)
    w[0] = 0.6
    home = rng.choice(A, size=B, p=w / w.sum())

    # conversations
    c_buyer = rng.integers(0, B, C0)
    if not flat_only:
        c_buyer[: n_x + n_j] = np.arange(n_x + n_j)  # every sheet/JSON buyer has a conversation
    c_layout = b_layout[c_buyer]
    pinned = c_layout <= 1  # xlsx/json buyers talk to one agent only (one thread per sheet/file)
    c_agent = np.where(pinned | (rng.random(C0) < 0.85), home[c_buyer], rng.integers(0, A, C0))
    r = lambda: rng.random(C0)  # noqa: E731
    offhours = r() < 0.04
    auto = offhours | (r() < 0.20)
    talk = ~pinned
    unanswered = talk & (r() < 0.03)
    last_unanswered = talk & ~unanswered & (r() < 0.05)
    long_ = ~unanswered & (r() < 0.04)
    k = np.where(unanswered, 1, np.where(long_, rng.integers(9, 15, C0), 1 + rng.poisson(1.6, C0)))
    silence = (k >= 2) & (r() < 0.05)
    silence_turn = 1 + (rng.integers(0, 1 << 30, C0) % np.maximum(k - 1, 1))
    # a hand-over only for buyers with one conversation: the text reader gives every later
    # row of that buyer in the file to the new agent
    single = np.bincount(c_buyer, minlength=B)[c_buyer] == 1
    transfer = (c_layout == 2) & single & (k >= 2) & ~unanswered & (r() < 0.08)
    t_tr = 1 + (rng.integers(0, 1 << 30, C0) % np.maximum(k - 1, 1))
    t_to = (c_agent + 1 + rng.integers(0, A - 1, C0)) % A
    t_to = np.where((c_agent != 0) & (r() < 0.5), 0, t_to)  # half go to the team lead
    is_rude_agent = c_agent == plan.rude
    rude = ~unanswered & (r() < np.where(is_rude_agent, 0.25, 0.01))
    gap = ~unanswered & (r() < np.where(c_agent == plan.knowledge_gap, 0.20, 0.03))
    threat = r() < np.where(is_rude_agent, 0.20, 0.04)
    praise = ~threat & ~unanswered & (k >= 2) & (r() < np.where(c_agent == plan.praised, 0.18, 0.05))
    recall_agent = (c_layout == 2) & (r() < 0.2)
    recall_buyer = (c_layout == 2) & (r() < 0.05)

    # turns
    T0 = int(k.sum())
    t_conv = np.repeat(np.arange(C0), k)
    t_i = _within(k)
    t_last = t_i == k[t_conv] - 1
    nb = 1 + (rng.random(T0) < 0.35) + (rng.random(T0) < 0.10)
    nauto = ((t_i == 0) & auto[t_conv]).astype(np.int64)
    na = 1 + (rng.random(T0) < 0.30)
    na = np.where(unanswered[t_conv] | (t_last & last_unanswered[t_conv]), 0, na)
    ntr = (transfer[t_conv] & (t_i == t_tr[t_conv] - 1)).astype(np.int64)
    m_t = nb + nauto + na + ntr

    # cut the conversation list so the message count lands near the target
    per_conv = np.bincount(t_conv, weights=m_t, minlength=C0).astype(np.int64)
    C = int(min(C0, np.searchsorted(np.cumsum(per_conv), target) + 1))
    T = int(k[:C].sum())
    t_conv, t_i, t_last, nb, nauto, na, ntr, m_t = (a[:T] for a in (t_conv, t_i, t_last, nb, nauto, na, ntr, m_t))

    # messages
    M = int(m_t.sum())
    m_turn = np.repeat(np.arange(T), m_t)
    pos = _within(m_t)
    m_conv = t_conv[m_turn]
    mnb, mnauto, mna = nb[m_turn], nauto[m_turn], na[m_turn]
    kind = np.select(
        [pos < mnb, pos < mnb + mnauto, pos < mnb + mnauto + mna], [K_BUYER, K_AUTO, K_AGENT], K_TRANSFER
    ).astype(np.int8)
    mt_i = t_i[m_turn]
    first_agent = (kind == K_AGENT) & (pos == mnb + mnauto)
    handed = transfer[m_conv] & (mt_i >= t_tr[m_conv])
    agent = np.where(handed, t_to[m_conv], c_agent[m_conv])

    # time deltas (seconds) from the previous message of the conversation
    u = rng.random(M)
    med = np.asarray(plan.median_response_s)[agent]
    resp = np.exp(np.log(med) + 0.7 * rng.standard_normal(M))
    resp = np.where(rng.random(M) < 0.03, rng.uniform(300, 900, M), np.clip(resp, 2, 1500))
    think = np.where(long_[m_conv], rng.uniform(120, 300, M), 5 + rng.exponential(90, M))
    think = np.where(silence[m_conv] & (mt_i == silence_turn[m_conv]), rng.uniform(35 * 60, 120 * 60, M), think)
    delta = np.select(
        [
            (kind == K_BUYER) & (pos == 0) & (mt_i == 0),
            (kind == K_BUYER) & (pos == 0),
            kind == K_BUYER,
            kind == K_AUTO,
            first_agent,
            kind == K_AGENT,
        ],
        [0, think, np.where(u < 0.35, 0, rng.uniform(2, 25, M)), (u < 0.3).astype(float), resp, rng.uniform(5, 40, M)],
        rng.uniform(10, 60, M),
    ).astype(np.int64)

    # conversation start: day + time of day; off-hours buyers write at 01:30-03:00
    day = rng.integers(0, days, C)
    hours = rng.choice(24, size=C, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    tod = hours * 3600 + rng.integers(0, 3600, C)
    tod = np.where(offhours[:C], rng.integers(5400, 10800, C), tod)
    tod = np.where((day == days - 1) & (tod > 18 * 3600), tod - 6 * 3600, tod)
    start = day.astype(np.int64) * 86400 + tod

    counts = np.bincount(m_conv, minlength=C)
    offset = _group_cumsum(delta, counts)
    # off-hours: the first human reply comes at 09:00-09:50 that morning
    fix = first_agent & (mt_i == 0) & offhours[m_conv]
    target_off = 9 * 3600 + rng.integers(0, 3000, M) - tod[m_conv]
    delta = np.where(fix, target_off - (offset - delta), delta)
    offset = _group_cumsum(delta, counts)
    secs = start[m_conv] + offset

    # texts
    conv_first = (mt_i == 0) & (pos == 0)
    last_buyer = t_last[m_turn] & (kind == K_BUYER) & (pos == mnb - 1)
    refund_conv = np.zeros(C, bool)
    cand = np.flatnonzero(~unanswered[:C] & (c_layout[:C] != 0))
    if refund_slots and len(cand):
        n_ref = min(refund_slots, len(cand), max(1, int(C * REFUND_CONV_SHARE)))
        refund_conv[rng.choice(cand, size=n_ref, replace=False)] = True
    order_conv = refund_conv & (rng.random(C) < ORDER_TYPED_SHARE)
    reason_w = np.array([w for _, w in cat.REFUND_REASONS], float)
    c_reason = np.where(refund_conv, rng.choice(len(reason_w), size=C, p=reason_w / reason_w.sum()), -1)
    group_of = np.array([ISSUE_GROUPS.index(cat.REASON_GROUP[r]) for r, _ in cat.REFUND_REASONS])
    noise = rng.random(C)
    c_group = np.select(
        [~refund_conv, noise < ISSUE_NONE, noise < ISSUE_NONE + ISSUE_OTHER],
        [-1, -1, rng.integers(0, len(ISSUE_GROUPS), C)],
        group_of[np.maximum(c_reason, 0)],
    )
    # buyers who get angry (more so with the rude agent and about a refund): one buyer line
    # of a later turn is a negative phrase
    k_c = k[:C]
    negative = ~praise[:C] & (k_c >= 2) & (
        rng.random(C) < np.where(c_agent[:C] == plan.rude, 0.30, np.where(refund_conv, 0.10, 0.05))
    )
    neg_turn = 1 + (rng.integers(0, 1 << 30, C) % np.maximum(k_c - 1, 1))
    m_group = c_group[m_conv]
    is_buyer = kind == K_BUYER
    neg_slot = is_buyer & (pos == 0) & negative[m_conv] & (mt_i == neg_turn[m_conv])
    detail = is_buyer & (m_group >= 0) & (rng.random(M) < ISSUE_DETAIL)
    blunt = (agent == plan.rude) & (rng.random(M) < 0.6)
    rude_slot = first_agent & (mt_i == np.minimum(1, k[m_conv] - 1))
    gap_slot = first_agent & t_last[m_turn]
    bank = np.select(
        [
            conv_first & order_conv[m_conv] & (m_group >= 0),
            conv_first & order_conv[m_conv],
            conv_first & (m_group >= 0),
            conv_first,
            last_buyer & threat[m_conv],
            last_buyer & praise[m_conv],
            neg_slot,
            detail,
            kind == K_BUYER,
            (kind == K_AUTO) & offhours[m_conv],
            kind == K_AUTO,
            rude_slot & rude[m_conv],
            gap_slot & gap[m_conv],
            first_agent & (mt_i == 0) & blunt,
            first_agent & (mt_i == 0),
            kind == K_AGENT,
        ],
        [B_ORDER_ISSUE, B_ORDER, B_ISSUE, B_OPEN, B_THREAT, B_PRAISE, B_NEGATIVE, B_ISSUE, B_FOLLOW, AUTO_OFF, AUTO, A_RUDE, A_GAP, A_BLUNT, A_POLITE, A_REPLY],
        -1,
    ).astype(np.int64)
    sizes = np.array([len(b) for b in BANKS])
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    flat = pl.Series([t for b in BANKS for t in b], dtype=pl.String)
    idx = offs[np.maximum(bank, 0)] + rng.integers(0, 1 << 30, M) % sizes[np.maximum(bank, 0)]
    # issue phrases come from the conversation's group (sub-bank of B_ISSUE)
    g_sizes = np.array([len(cat.ISSUE_PHRASES[g]) for g in ISSUE_GROUPS])
    g_offs = offs[B_ISSUE] + np.concatenate([[0], np.cumsum(g_sizes)[:-1]])
    g = np.maximum(m_group, 0)
    issue_idx = g_offs[g] + rng.integers(0, 1 << 30, M) % g_sizes[g]
    idx = np.where(bank == B_ISSUE, issue_idx, idx)
    pre_idx = rng.integers(0, len(cat.ISSUE_PREFIXES), M)
    suf_idx = rng.integers(0, len(cat.ISSUE_SUFFIXES), M)

    # recalls (text exports only): the 2nd agent reply or the 2nd buyer message of a run
    recall = (
        ((kind == K_AGENT) & (pos == mnb + mnauto + 1) & recall_agent[m_conv] & (rng.random(M) < 0.5))
        | ((kind == K_BUYER) & (pos == 1) & recall_buyer[m_conv] & ~last_buyer)
    ) & (bank == np.where(kind == K_AGENT, A_REPLY, B_FOLLOW))
    read = np.where(rng.random(M) < 0.9, "已读", "未读")

    accounts = pl.Series(plan.accounts, dtype=pl.String)
    nicks = buyer_nicks(rng, B, base=chunk * 10_000_000)
    id0 = chunk * (1 << 40)
    reasons = pl.Series(cat.TRANSFER_REASONS, dtype=pl.String)
    base_us = int((month_start - datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    df = pl.DataFrame(
        {
            "msg_id": np.arange(M, dtype=np.int64) + id0,
            "conv": m_conv.astype(np.int64) + id0,
            "layout_i": b_layout[c_buyer[m_conv]],
            "buyer_i": c_buyer[m_conv].astype(np.int64),
            "agent_i": agent.astype(np.int64),
            "kind": kind,
            "bank": bank,
            "text_i": idx.astype(np.int64),
            "issue_i": issue_idx.astype(np.int64),
            "pre_i": pre_idx.astype(np.int64),
            "suf_i": suf_idx.astype(np.int64),
            "recall": recall,
            "read": read,
            "tr_to": t_to[m_conv].astype(np.int64),
            "tr_reason": (m_conv % len(cat.TRANSFER_REASONS)).astype(np.int64),
            "ts": secs.astype(np.int64) * 1_000_000 + base_us,
        }
    )
    layouts = pl.Series(LAYOUTS, dtype=pl.String)
    prefixes = pl.Series(cat.ISSUE_PREFIXES, dtype=pl.String)
    suffixes = pl.Series(cat.ISSUE_SUFFIXES, dtype=pl.String)
    acc = pl.col("agent_i").map_batches(lambda s: accounts.gather(s), return_dtype=pl.String)
    buyer = pl.col("buyer_i").map_batches(lambda s: nicks.gather(s), return_dtype=pl.String)
    to_acc = pl.col("tr_to").map_batches(lambda s: accounts.gather(s), return_dtype=pl.String)
    df = df.with_columns(
        layout=pl.col("layout_i").cast(pl.Int64).map_batches(lambda s: layouts.gather(s), return_dtype=pl.String),
        shop=pl.lit(cat.SHOP),
        agent_account=acc,
        buyer=buyer,
        sent_at=pl.from_epoch("ts", time_unit="us"),
        is_auto_reply=pl.col("kind") == K_AUTO,
        transfer_to_acc=to_acc,
        text0=pl.col("text_i").map_batches(lambda s: flat.gather(s), return_dtype=pl.String),
        _issue=pl.col("issue_i").map_batches(lambda s: flat.gather(s), return_dtype=pl.String),
        _pre=pl.col("pre_i").map_batches(lambda s: prefixes.gather(s), return_dtype=pl.String),
        _suf=pl.col("suf_i").map_batches(lambda s: suffixes.gather(s), return_dtype=pl.String),
        reason0=pl.col("tr_reason").map_batches(lambda s: reasons.gather(s), return_dtype=pl.String),
    )
    df = df.with_columns(
        text0=pl.when(pl.col("bank") == B_ISSUE)
        .then(pl.concat_str("_pre", "text0", "_suf"))
        .when(pl.col("bank") == B_ORDER_ISSUE)
        .then(pl.col("text0").str.replace("{issue}", pl.col("_issue"), literal=True))
        .otherwise(pl.col("text0"))
    )
    is_tr = pl.col("kind") == K_TRANSFER
    sender = pl.when(pl.col("kind") == K_BUYER).then(pl.col("buyer")).otherwise(pl.col("agent_account"))
    df = df.with_columns(
        sender=sender,
        sender_role=pl.when(is_tr).then(pl.lit("system")).when(pl.col("kind") == K_BUYER).then(pl.lit("buyer"))
        .otherwise(pl.lit("agent")),
        event=pl.when(is_tr).then(pl.lit("transfer")).when(pl.col("recall")).then(pl.lit("recall"))
        .otherwise(pl.lit("message")),
        transfer_from=pl.when(is_tr).then(pl.col("agent_account")),
        transfer_to=pl.when(is_tr).then(pl.col("transfer_to_acc")),
        transfer_reason=pl.when(is_tr).then(pl.col("reason0")),
        read_status=pl.when((pl.col("layout") == "chat_text") & (pl.col("kind") == K_AGENT) & ~pl.col("recall"))
        .then(pl.col("read")),
    ).with_columns(
        # notices carry no message text (as readers give them back); ``notice`` is the line
        # the text export writes, ``speaker`` the nick on its header line
        text=pl.when(pl.col("event") == "message").then(pl.col("text0")),
        notice=pl.when(is_tr).then(pl.format("由 {} 转交给 {}", "transfer_from", "transfer_to"))
        .when(pl.col("recall")).then(pl.format("{} 撤回了一条消息", "sender")),
        speaker=pl.col("sender"),
        sender=pl.when(is_tr).then(pl.lit(SYSTEM_SENDER)).otherwise(pl.col("sender")),
    )
    df = df.select(
        "msg_id", "conv", "layout", "bank", "shop", "agent_account", "buyer", "sender", "sender_role", "sent_at",
        "text", "is_auto_reply", "event", "transfer_from", "transfer_to", "transfer_reason", "read_status",
        "notice", "speaker",
    )
    convs = pl.DataFrame(
        {
            "conv": np.arange(C, dtype=np.int64) + id0,
            "buyer": nicks.gather(c_buyer[:C]),
            "agent_account": accounts.gather(c_agent[:C]),
            "layout": layouts.gather(c_layout[:C].astype(np.int64)),
            "start": pl.Series((start * 1_000_000 + base_us).astype(np.int64)).cast(pl.Datetime("us")),
            "turns": k[:C],
            "offhours": offhours[:C],
            "auto": auto[:C],
            "unanswered": unanswered[:C],
            "long": long_[:C],
            "silence_gap": silence[:C],
            "transfer": transfer[:C],
            "rude": rude[:C],
            "knowledge_gap": gap[:C],
            "threat": threat[:C],
            "praise": praise[:C],
            "order": order_conv,
            "refund": refund_conv,
            "negative": negative,
            "reason": pl.Series([r for r, _ in cat.REFUND_REASONS], dtype=pl.String).gather(np.maximum(c_reason, 0))
            .to_frame("r").select(pl.when(pl.Series(refund_conv)).then(pl.col("r"))).to_series(),
        }
    )
    return df, convs
