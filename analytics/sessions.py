"""Threads, conversations, questions, transfers and the service-hours clock.

Everything is polars expressions over the whole month at once (sort, shift, cum_sum,
group_by): there is no Python loop per message. The only loop is the transfer-carry fixpoint
in :func:`_resolve_carries`, whose number of passes is bounded by the longest chain of
transfers of one buyer (A→B→C needs 3), each pass a vectorised computation.

Rules (docs/analytics.md §Conversations):
* thread = (month, shop, agent_account, buyer); rows ordered by sent_at, then file order
  (source_file, seq); a transfer-in marker sorts before other rows of the same second;
* a new conversation starts when the gap to the previous row of the thread, measured on the
  service-hours clock, is >= ``silence_gap_minutes``;
* kinds: B buyer message, H human agent message, O transfer out of this thread, I transfer
  into this thread, N neutral (auto-reply, system notice, recall, anything else);
* a question is a maximal run of B rows (plus a carrying I row) inside a conversation, with
  N rows transparent; it ends at the next H (answered by it), the next O (transferred out),
  or the end of the conversation (unanswered);
* an I row carries a question when the matching O row in the sender's thread ended a pending
  question; the receiving agent's clock starts at the transfer;
* waits are counted on the service-hours clock (:func:`service_clock`).
"""

from __future__ import annotations

import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import polars as pl

from analytics.settings import AnalyticsSettings
from analytics.textnorm import contains_after_nfkc

THREAD = ["month", "shop", "agent_account", "buyer"]
MAX_TRANSFER_CHAIN = 50


def service_clock(expr: pl.Expr, windows: list[tuple[int, int]]) -> pl.Expr:
    """Seconds of service time from 1970-01-01 00:00 (local) up to ``expr`` (Float64).

    The wait between two instants is the difference of their clocks: time outside the daily
    windows does not count (02:00 asked, 09:01 answered with 09:00-24:00 -> 60 s).
    """
    secs = expr.dt.epoch("us").cast(pl.Float64) / 1e6
    day = (secs // 86400).floor()
    sod = secs - day * 86400
    per_day = float(sum(b - a for a, b in windows))
    total = day * per_day
    for a, b in windows:
        total = total + (sod - a).clip(0.0, float(b - a))
    return total


@dataclass
class Sessions:
    """Result of :func:`build_sessions`."""

    rows: pl.DataFrame  # every thread row incl. synthetic transfer rows (thread_no, conv_no, kind, msg_idx, ...)
    messages: pl.DataFrame  # input messages + msg_idx, kind, conv_no, conversation_id, day
    conversations: pl.DataFrame  # one row per conv_no (1..n, in this order), with agent_no
    questions: pl.DataFrame  # one row per q_no, with conv_no and agent_no
    transfers: pl.DataFrame
    # thread_no -> month, shop, agent_account, buyer, agent_no; every agent of the month (incl.
    # transfer senders/receivers) has an agent_no, numbering (month, agent_account) in sorted order
    threads: pl.DataFrame | None = None
    # message counts per (agent_no, day): :func:`message_day_counts` of the messages, if computed
    message_figures: pl.DataFrame | None = None

    def agents(self) -> pl.DataFrame:
        """agent_no -> month, agent_account (integer keys for per-agent aggregations)."""
        assert self.threads is not None, "Sessions built without threads"
        return self.threads.select("agent_no", "month", "agent_account").unique("agent_no").sort("agent_no")


def classify_messages(messages: pl.DataFrame, settings: AnalyticsSettings) -> pl.DataFrame:
    """Add ``msg_idx`` (row number) and ``kind`` (B/H/N/T) to the staged messages frame.

    A message is an auto-reply when ``is_auto_reply`` is true or its text holds an auto-reply
    marker; a system line when sender_role is 'system' or its text holds a system marker
    (markers are matched after NFKC; only texts that can match are normalised, see
    :func:`analytics.textnorm.contains_after_nfkc`).
    """
    return _classified(messages, settings)[0]


MESSAGE_KIND = pl.Enum(["B", "H", "N", "T"])  # kinds of messages (a T notice becomes O/I thread rows)


def _as_strings(kinds: pl.Series) -> pl.Series:
    """An Enum column as strings, by its codes (a plain cast to String costs ~5x more)."""
    categories = pl.Series(kinds.dtype.categories)  # type: ignore[attr-defined]
    return categories.gather(kinds.to_physical()).rename(kinds.name)


def _classified(messages: pl.DataFrame, settings: AnalyticsSettings) -> tuple[pl.DataFrame, pl.Series]:
    """(:func:`classify_messages`, the kinds as :data:`MESSAGE_KIND`)."""
    m = settings.chat_markers
    auto_marks = [unicodedata.normalize("NFKC", s) for s in m.auto_reply if s]
    sys_marks = [unicodedata.normalize("NFKC", s) for s in m.system if s]
    auto_hit, sys_hit = contains_after_nfkc(messages["text"], auto_marks, sys_marks)
    is_auto = pl.col("is_auto_reply").fill_null(False) | pl.lit(auto_hit)
    is_sys = (pl.col("sender_role") == "system") | pl.lit(sys_hit)
    k = lambda v: pl.lit(v, dtype=MESSAGE_KIND)  # noqa: E731
    kind = (
        pl.when(pl.col("event") == "transfer").then(k("T"))
        .when(pl.col("event") != "message").then(k("N"))
        .when(pl.col("is_system")).then(k("N"))
        .when(pl.col("sender_role") == "buyer").then(k("B"))
        .when((pl.col("sender_role") == "agent") & ~pl.col("is_auto")).then(k("H"))
        .otherwise(k("N"))
    )
    msgs = messages.with_row_index("msg_idx").with_columns(
        pl.col("msg_idx").cast(pl.Int64),
        is_auto.alias("is_auto"),
        is_sys.alias("is_system"),
        pl.col("sent_at").dt.date().alias("day"),
    ).with_columns(kind.alias("kind"))
    kinds = msgs["kind"]
    return msgs.with_columns(_as_strings(kinds)).select(
        "msg_idx", *messages.columns, "kind", "is_auto", "is_system", "day"), kinds


_TRANSFER_SCHEMA = pl.Schema({"transfer_id": pl.Int64(), "month": pl.String(), "shop": pl.String(), "buyer": pl.String(),
                    "sent_at": pl.Datetime("us"), "from_agent": pl.String(), "to_agent": pl.String(),
                    "transfer_reason": pl.String(), "msg_idx": pl.Int64(), "source_file": pl.String(), "seq": pl.Int64()})


def resolve_transfers(msgs: pl.DataFrame, accounts: pl.DataFrame | None = None) -> pl.DataFrame:
    """Distinct transfer events with resolved from/to agent accounts.

    ``transfer_from`` defaults to the row's agent_account. A name that is not an account seen in
    the month is matched to the shop's account whose sub-account part (after ':') equals it.
    The same notice present in both agents' files is kept once. ``accounts``: the distinct
    (shop, agent_account) of ``msgs`` if the caller has them.
    """
    t = msgs.filter(pl.col("kind") == "T")
    if t.height == 0:  # most months: skip the account tables built over every message
        return pl.DataFrame(schema=_TRANSFER_SCHEMA)
    t = t.select(
        "month", "shop", "buyer", "sent_at", "source_file", "seq", "msg_idx",
        pl.coalesce("transfer_from", "agent_account").str.strip_chars().alias("from_raw"),
        pl.col("transfer_to").str.strip_chars().alias("to_raw"),
        "transfer_reason",
    )
    if accounts is None:
        accounts = msgs.select("shop", "agent_account").unique()
    nicks = (
        accounts.with_columns(pl.col("agent_account").str.split(":").list.last().alias("nick"))
        .group_by("shop", "nick").agg(pl.col("agent_account").first(), pl.len().alias("n"))
        .filter(pl.col("n") == 1).drop("n")
    )

    def resolve(df: pl.DataFrame, raw: str, out: str) -> pl.DataFrame:
        exact = accounts.with_columns(pl.col("agent_account").alias("_exact"))
        df = df.join(exact, left_on=["shop", raw], right_on=["shop", "agent_account"], how="left")
        df = df.join(nicks.rename({"agent_account": "_nick"}), left_on=["shop", raw],
                     right_on=["shop", "nick"], how="left")
        return df.with_columns(pl.coalesce("_exact", "_nick", raw).alias(out)).drop("_exact", "_nick")

    t = resolve(t, "from_raw", "from_agent")
    t = resolve(t, "to_raw", "to_agent")
    t = (
        t.sort("month", "shop", "buyer", "sent_at", "source_file", "seq")
        .unique(["month", "shop", "buyer", "from_agent", "to_agent", "sent_at"], keep="first",
                maintain_order=True)
        .with_row_index("transfer_id")
        .with_columns(pl.col("transfer_id").cast(pl.Int64))
    )
    return t.select(*_TRANSFER_SCHEMA).cast(_TRANSFER_SCHEMA)


KIND = pl.Enum(["B", "H", "N", "O", "I"])  # kinds of thread rows (T notices become O/I rows)


def _keys_table(frame: pl.DataFrame, cols: list[str], name: str) -> pl.DataFrame:
    """Distinct ``cols`` of ``frame`` in sorted order (nulls last) numbered 0.. as ``name``."""
    return (frame.select(cols).unique().sort(cols, nulls_last=True)
            .with_row_index(name))


def _ranks(parts: list[pl.Series]) -> tuple[pl.Series, list[pl.Series]]:
    """(sorted distinct non-null values of ``parts``, each part's values as their rank in it;
    null ranks after every value)."""
    distinct = pl.concat([p.unique() for p in parts]).drop_nulls().unique().sort()
    n = distinct.len()
    rank = pl.int_range(n, dtype=pl.UInt32, eager=True)
    return distinct, [p.replace_strict(distinct, rank, default=n, return_dtype=pl.UInt32) for p in parts]


def _thread_numbers(frames: list[pl.DataFrame]) -> tuple[pl.DataFrame, list[pl.Series]]:
    """(threads, thread_no of each row of each frame): the distinct (month, shop,
    agent_account, buyer) of ``frames`` numbered 0.. in sorted order (nulls last).

    Each key column is ranked on its own (a hash lookup per row into its sorted distinct
    values), the four ranks are packed into one integer whose order is the strings' order,
    and only the distinct packed keys are sorted: no group-by or sort over strings per row.
    """
    distinct, ranks = [], []
    for c in THREAD:
        d, r = _ranks([f[c] for f in frames])
        distinct.append(d)
        ranks.append(r)
    bits = [(d.len() + 1).bit_length() for d in distinct]
    if sum(bits) > 64:  # cannot pack (never with real months): sort the strings
        keys = pl.concat([f.select(THREAD) for f in frames]).unique().sort(THREAD, nulls_last=True)
        threads = keys.with_row_index("thread_no")
        nos = [f.select(THREAD).join(threads, on=THREAD, how="left", nulls_equal=True, maintain_order="left")["thread_no"]
               for f in frames]
        return threads, nos
    packed: list[pl.Series] = []
    for i in range(len(frames)):
        k = ranks[0][i].cast(pl.UInt64)
        for j in range(1, len(THREAD)):
            k = k * (2 ** bits[j]) + ranks[j][i].cast(pl.UInt64)
        packed.append(k)
    distinct_keys = pl.concat([k.unique() for k in packed]).unique().sort()
    numbers = [distinct_keys.search_sorted(k).cast(pl.UInt32) for k in packed]
    # unpack the distinct keys back into the four strings
    cols: dict[str, pl.Series] = {}
    rest = distinct_keys
    for j in reversed(range(len(THREAD))):
        r = rest % (2 ** bits[j])
        rest = rest // (2 ** bits[j])
        cols[THREAD[j]] = pl.select(pl.lit(distinct[j]).gather(pl.when(r < distinct[j].len()).then(r))).to_series()
    threads = pl.DataFrame({c: cols[c] for c in THREAD}).with_row_index("thread_no")
    return threads, numbers


_HASH_SEED = 20261130


def _thread_hash(frame: pl.DataFrame) -> pl.Series:
    """Each row's 64-bit hash of its (month, shop, agent_account, buyer)."""
    return frame.select(THREAD).hash_rows(seed=_HASH_SEED).alias("_h")


def _hashed_thread_numbers(frames: list[pl.DataFrame],
                           hashes: list[pl.Series]) -> tuple[pl.DataFrame, list[pl.Series]] | None:
    """:func:`_thread_numbers` of ``frames`` by their rows' thread hashes (``hashes``): only
    one row per distinct hash is ranked (the strings of ~1 row in 10), every row's number is
    looked up by its hash and then checked against its own four strings. None when two threads
    share a hash (the caller then ranks every row's strings)."""
    reps = pl.concat([f.select(THREAD).with_columns(h.alias("_h")).filter(h.is_first_distinct())
                      for f, h in zip(frames, hashes, strict=True)])
    if len(frames) > 1:
        reps = reps.filter(pl.col("_h").is_first_distinct())
    threads, rep_no = _rep_numbers(reps.select(THREAD))
    if threads.height != reps.height:
        return None
    nos = [h.replace_strict(reps["_h"], rep_no, return_dtype=pl.UInt32) for h in hashes]
    for f, no in zip(frames, nos, strict=True):
        if not all(f[c].eq_missing(threads[c].gather(no)).all() for c in THREAD):
            return None
    return threads, nos


def _rep_numbers(reps: pl.DataFrame) -> tuple[pl.DataFrame, pl.Series]:
    """(threads, each row's thread_no) of ``reps``, distinct (month, shop, agent_account, buyer)
    rows: without nulls, one sort of the four keys as a struct (its row encoding orders them as
    the strings, in one binary sort: ~2x faster than ranking each key); else :func:`_thread_numbers`."""
    if sum(reps.null_count().row(0)):  # a struct's row encoding puts null fields first
        threads, (no,) = _thread_numbers([reps])
        return threads, no
    order = reps.select(pl.struct(THREAD).arg_sort()).to_series()
    no = pl.zeros(reps.height, dtype=pl.UInt32, eager=True).scatter(
        order, pl.int_range(reps.height, dtype=pl.UInt32, eager=True))
    return reps[order].with_row_index("thread_no"), no


def _file_positions(msgs: pl.DataFrame) -> tuple[pl.Series, pl.Series] | None:
    """(each message's rank in file order (source_file, then seq; nulls last), the messages in
    that order), or None when the messages already are in that order (staged months are: the
    rank is then msg_idx)."""
    sf, seq = pl.col("source_file"), pl.col("seq")
    ordered = msgs.select(
        (sf.null_count() + seq.null_count() == 0)
        & ((sf > sf.shift(1)) | ((sf == sf.shift(1)) & (seq > seq.shift(1)))).slice(1).all()).item()
    if ordered:
        return None
    files = _keys_table(msgs, ["source_file"], "file_no")
    keys = msgs.select("source_file", "seq").join(files, on="source_file", how="left", nulls_equal=True,
                                                   maintain_order="left")
    order = keys.select(pl.arg_sort_by("file_no", "seq", nulls_last=True, maintain_order=True)).to_series()
    ranks = pl.repeat(0, msgs.height, dtype=pl.UInt32, eager=True).scatter(
        order, pl.int_range(msgs.height, dtype=pl.UInt32, eager=True))
    return ranks, order


@dataclass
class _MessageThreads:
    """The messages' threads and file order, computed before transfers are known (so in
    parallel with the message kinds): see :func:`_message_threads`."""

    threads: pl.DataFrame | None  # distinct (month, shop, agent_account, buyer), sorted; row = thread_no
    numbers: pl.Series | None  # each message's thread_no (None with threads: two threads share a hash)
    # (each message's rank in file order, the messages in file order); None: they are in file order
    positions: tuple[pl.Series, pl.Series] | None


def _message_threads(messages: pl.DataFrame) -> _MessageThreads:
    """Thread numbers (:func:`_hashed_thread_numbers`) and file positions of staged messages."""
    numbered = _hashed_thread_numbers([messages], [_thread_hash(messages)])
    threads, numbers = (numbered[0], numbered[1][0]) if numbered is not None else (None, None)
    return _MessageThreads(threads, numbers, _file_positions(messages))


def _numbers_with(keys: _MessageThreads, msgs: pl.DataFrame,
                  extra: list[pl.DataFrame]) -> tuple[pl.DataFrame, list[pl.Series]]:
    """(threads, thread_no of each row of msgs and of each ``extra`` frame): the messages'
    numbering, extended when a transfer row opens a thread no message has."""
    if keys.threads is None or keys.numbers is None:
        return _thread_numbers([msgs, *extra])
    if not extra:
        return keys.threads, [keys.numbers]
    known = _thread_hash(keys.threads)
    hashes = [_thread_hash(e) for e in extra]
    if all(h.is_in(known.implode()).all() for h in hashes):
        nos = [h.replace_strict(known, pl.int_range(known.len(), dtype=pl.UInt32, eager=True),
                                return_dtype=pl.UInt32) for h in hashes]
        if all(e[c].eq_missing(keys.threads[c].gather(no)).all() for e, no in zip(extra, nos, strict=True)
               for c in THREAD):
            return keys.threads, [keys.numbers, *nos]
    threads, (renumber, *nos) = _thread_numbers([keys.threads.select(THREAD), *extra])
    return threads, [renumber.gather(keys.numbers), *nos]


@dataclass
class _Numbered:
    """The thread numbers of the messages and of the transfer rows (:func:`_number_threads`)."""

    threads: pl.DataFrame  # thread_no -> THREAD strings, agent_no
    numbers: list[pl.Series]  # thread_no of each message, of each O row, of each I row (``extra``)
    extra: list[pl.DataFrame]  # the O and I rows of the transfers (none without transfers)
    positions: tuple[pl.Series, pl.Series] | None  # :attr:`_MessageThreads.positions`


def _number_threads(msgs: pl.DataFrame, transfers: pl.DataFrame, keys: _MessageThreads | None = None) -> _Numbered:
    """Threads (numbered in sorted order, with their agent_no) of the messages and of the
    transfers' O and I rows. ``keys``: :func:`_message_threads` of ``msgs`` if the caller has it."""
    common = ["sent_at", "msg_idx"]
    extra = []
    if transfers.height > 0:
        extra.append(transfers.select(
            "month", "shop", pl.col("from_agent").alias("agent_account"), "buyer", *common,
            pl.lit("O").cast(KIND).alias("kind"), pl.lit(1, pl.Int8).alias("tie"), "transfer_id"))
        extra.append(transfers.filter(pl.col("to_agent").is_not_null() & (pl.col("to_agent") != pl.col("from_agent"))).select(
            "month", "shop", pl.col("to_agent").alias("agent_account"), "buyer", *common,
            pl.lit("I").cast(KIND).alias("kind"), pl.lit(0, pl.Int8).alias("tie"), "transfer_id"))
    keys = keys if keys is not None else _message_threads(msgs)
    threads, nos = _numbers_with(keys, msgs, extra)
    threads = threads.join(_keys_table(threads, ["month", "agent_account"], "agent_no"),
                           on=["month", "agent_account"], how="left", nulls_equal=True, maintain_order="left")
    return _Numbered(threads, nos, extra, keys.positions)


def _thread_rows(msgs: pl.DataFrame, transfers: pl.DataFrame, keys: _MessageThreads | None = None,
                 kinds: pl.Series | None = None, numbered: _Numbered | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows, threads): every thread row in thread order, and the thread table.

    The sort runs on integers: ``thread_no`` numbers the distinct (month, shop,
    agent_account, buyer) in sorted order and each message's rank in file order breaks ties,
    so the order is exactly the one of sorting by the strings, at a fraction of the cost.
    ``rows`` keeps only what the session logic needs (thread_no, sent_at, msg_idx, kind,
    transfer_id; no strings). ``keys``: :func:`_message_threads` of ``msgs`` if the caller has it;
    ``kinds``: the messages' kinds as :data:`MESSAGE_KIND` (:func:`_classified`) if it has them;
    ``numbered``: :func:`_number_threads` if it has it.
    """
    has_t = transfers.height > 0
    common = ["sent_at", "msg_idx"]
    numbered = numbered if numbered is not None else _number_threads(msgs, transfers, keys)
    threads, nos, extra = numbered.threads, numbered.numbers, numbered.extra
    # rows: every message in message order (row = msg_idx), a notice becoming its O row (or a
    # row of a thread past the last, dropped after the sort, when it is a duplicate), then the I rows
    kinds = msgs["kind"].cast(MESSAGE_KIND) if kinds is None else kinds
    # a message's row kind has its message kind's code (T -> O): a gather, no string cast
    row_kind = pl.Series(["B", "H", "N", "O"], dtype=KIND).gather(kinds.to_physical())
    thread_no, transfer_id = nos[0], pl.lit(None, pl.Int64)
    if has_t:
        notices = (kinds == "T").arg_true()
        thread_no = thread_no.clone().scatter(notices, threads.height).scatter(transfers["msg_idx"], nos[1])
        transfer_id = pl.lit(pl.repeat(None, msgs.height, dtype=pl.Int64, eager=True).scatter(
            transfers["msg_idx"], transfers["transfer_id"]))
    cols = ["thread_no", *common, "kind", "tie", "transfer_id"]
    parts = [msgs.select(thread_no.alias("thread_no"), *common, pl.lit(row_kind).alias("kind"),
                         pl.lit(1, pl.Int8).alias("tie"), transfer_id.alias("transfer_id"))]
    if has_t:
        parts.append(extra[1].with_columns(nos[2].alias("thread_no")).select(cols))
    rows = pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]
    order = _thread_order(rows, msgs.height, numbered.positions)
    if has_t:  # the duplicate notices sorted last
        order = order.head(order.len() - (notices.len() - transfers.height))
    # the columns first, then the gather: gathering the whole frame measured ~3x slower
    return rows.select("thread_no", *common, "kind", "transfer_id")[order], threads


def _thread_order(rows: pl.DataFrame, n_messages: int,
                  positions: tuple[pl.Series, pl.Series] | None) -> pl.Series:
    """Row order of ``rows`` by thread_no, sent_at, tie, then file order.

    ``rows``: the ``n_messages`` message rows in message order (row = msg_idx), then I rows
    (tie 0); ``positions``: :attr:`_MessageThreads.positions`. A row's file rank is its
    message's (an I row has its notice's). Packed into one unsigned 64-bit key when the ranges
    fit (instants in whole seconds, as chat exports give them): the keys are unique, so sorting
    the keys themselves gives the order, decoded from their low bits (the file rank). Else two
    keys (thread and instant in microseconds; rank), else the plain multi-column sort; all give
    the same order (nulls last)."""
    rank = pl.col("msg_idx") if positions is None else pl.lit(positions[0]).gather(pl.col("msg_idx"))
    t = pl.col("sent_at").to_physical()
    dtype = rows.schema["sent_at"]
    per_s = {"ms": 10**3, "us": 10**6, "ns": 10**9}.get(getattr(dtype, "time_unit", None) or "", 0)
    span = rows.select(
        pl.col("thread_no").max().alias("thread"), t.min().alias("t0"), t.max().alias("t1"),
        pl.col("sent_at").null_count().alias("nulls"), rank.max().alias("r1"),
        ((t % per_s == 0).all() if per_s else pl.lit(False)).alias("seconds")).row(0, named=True)
    bits = lambda n: int(n).bit_length()  # noqa: E731
    u64 = lambda e: e.cast(pl.UInt64)  # noqa: E731
    if span["nulls"] or rows.height == 0 or bits(span["thread"]) + bits(span["t1"] - span["t0"]) + 1 > 64:
        return rows.select(pl.arg_sort_by("thread_no", "sent_at", "tie", rank, nulls_last=True)).to_series()
    if span["seconds"]:
        s_bits, r_bits = bits((span["t1"] - span["t0"]) // per_s), bits(span["r1"])
        if bits(span["thread"]) + s_bits + 1 + r_bits <= 64:
            key = ((u64(pl.col("thread_no")) * (2 ** s_bits) + u64((t - span["t0"]) // per_s)) * 2
                   + u64(pl.col("tie"))) * (2 ** r_bits) + u64(rank)
            keys = rows.select(key.sort()).to_series()
            ranks = keys % (2 ** r_bits)
            order = ranks if positions is None else positions[1].gather(ranks)  # message rows: row = msg_idx
            if rows.height > n_messages:  # I rows (tie 0): their row by their rank
                at = (keys // (2 ** r_bits) % 2 == 0).arg_true()
                i_rank = rows.tail(rows.height - n_messages).select(rank)
                i_rows = pl.int_range(n_messages, rows.height, dtype=pl.Int64, eager=True)
                order = order.cast(pl.Int64).scatter(at, ranks.gather(at).replace_strict(
                    i_rank.to_series(), i_rows, return_dtype=pl.Int64))
            return order
    t_bits = bits(span["t1"] - span["t0"])
    k1 = (u64(pl.col("thread_no")) * (2 ** (t_bits + 1)) + u64(t - span["t0"]) * 2 + u64(pl.col("tie")))
    return rows.select(pl.arg_sort_by(k1, rank)).to_series()


def question_order(q: pl.DataFrame) -> pl.Series | None:
    """Row order of ``q`` (questions with agent_no) sorted by month, agent_account, asked_at,
    question_id, computed on integers; None when a key has nulls or does not fit.

    ``agent_no`` numbers (month, agent_account) in sorted order, so (agent_no, asked_at) packed
    into one integer orders every question but those sharing both, which the rank of their
    question_id orders."""
    if q.height == 0 or any(q.select(pl.col("month", "agent_account", "asked_at", "question_id", "agent_no")
                                     .null_count()).row(0)):
        return None
    t = q["asked_at"].to_physical()
    t0 = int(t.min())  # type: ignore[arg-type]
    t_bits = (int(t.max()) - t0).bit_length()  # type: ignore[arg-type]
    if int(q["agent_no"].max()).bit_length() + t_bits > 64:  # type: ignore[arg-type]
        return None
    key = (q["agent_no"].cast(pl.UInt64) * (2 ** t_bits) + (t - t0).cast(pl.UInt64)).alias("k")
    tied = key.is_duplicated().arg_true()
    tie = pl.repeat(0, q.height, dtype=pl.UInt32, eager=True).scatter(
        tied, q["question_id"].gather(tied).rank("dense").cast(pl.UInt32))
    return pl.DataFrame({"k": key, "tie": tie}).select(pl.arg_sort_by("k", "tie")).to_series()


def _add_conversations(rows: pl.DataFrame, gap_minutes: float, windows) -> pl.DataFrame:
    # silence is measured on the service clock: a 02:00 question and its 09:01 answer are one
    # conversation (only 60 s of service time passed)
    new_thread = pl.col("thread_no") != pl.col("thread_no").shift(1)
    rows = rows.with_columns(service_clock(pl.col("sent_at"), windows).alias("clock"))
    gap = pl.col("clock") - pl.col("clock").shift(1)
    new_conv = new_thread | (gap >= gap_minutes * 60)
    return rows.with_columns(new_conv.fill_null(True).cum_sum().cast(pl.Int64).alias("conv_no")).with_columns(
        pl.col("conv_no").set_sorted())


def _relevant(carry: pl.Expr) -> pl.Expr:
    return pl.col("kind").is_in(["B", "H", "O"]) | ((pl.col("kind") == "I") & carry)


def _resolve_carries(rows: pl.DataFrame) -> pl.DataFrame:
    """Set ``carry`` on I rows: true when the matching O row ended a pending question."""
    rows = rows.with_columns(pl.lit(False).alias("carry"))
    if not (rows["kind"] == "O").any():
        return rows
    # a carry depends only on the rows of conversations holding an O or I row (an O row's
    # predecessor is in its conversation; chains pass through the I rows' conversations)
    with_t = rows.filter(pl.col("kind").is_in(["O", "I"]))["conv_no"].unique()
    part = _carries(rows.with_row_index("_row").filter(pl.col("conv_no").is_in(with_t.implode())))
    carried = part.filter("carry")["_row"]
    return rows.with_columns(pl.repeat(False, rows.height, eager=True).scatter(carried, True).alias("carry"))


def _carries(rows: pl.DataFrame) -> pl.DataFrame:
    """The fixpoint of :func:`_resolve_carries` on ``rows`` (with a false ``carry`` column)."""
    for _ in range(MAX_TRANSFER_CHAIN):
        rel = rows.filter(_relevant(pl.col("carry")))
        same = pl.col("conv_no") == pl.col("conv_no").shift(1)
        outs = (
            rel.with_columns(pl.when(same).then(pl.col("kind").shift(1)).alias("prev_kind"))
            .filter(pl.col("kind") == "O")
            .select("transfer_id", pl.col("prev_kind").is_in(["B", "I"]).fill_null(False).alias("c"))
        )
        new = rows.join(outs, on="transfer_id", how="left", maintain_order="left").with_columns(
            pl.when(pl.col("kind") == "I").then(pl.col("c").fill_null(False)).otherwise(False).alias("c"))
        if new["c"].equals(rows["carry"]):
            return rows
        rows = new.with_columns(pl.col("c").alias("carry")).drop("c")
    raise RuntimeError("转交链过长或成环, 无法确定问题归属")


def _questions(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per question (q_no ascending = thread order), integer columns only."""
    rel = rows.filter(_relevant(pl.col("carry")))
    same = (pl.col("conv_no") == pl.col("conv_no").shift(1)).fill_null(False)
    is_q = pl.col("kind").is_in(["B", "I"])
    rel = rel.with_columns(is_q.alias("is_q"))
    rel = rel.with_columns(
        (pl.col("is_q") & ~(same & pl.col("is_q").shift(1).fill_null(False))).alias("q_start"))
    rel = rel.with_columns(
        pl.col("q_start").cum_sum().alias("q_no"),
        pl.when(pl.col("q_start")).then(pl.col("conv_no")).forward_fill().alias("q_conv"),
    ).filter(pl.col("q_conv") == pl.col("conv_no")).with_columns(pl.col("q_no").set_sorted())
    # q_no runs 1..n in row order and a question's B rows are in its first run: per-question
    # figures come from the start rows and one group-by over the B rows only
    is_b = pl.col("kind") == "B"
    q = rel.filter("q_start").select(
        "q_no", "conv_no", pl.col("sent_at").alias("asked_at"), (pl.col("kind") == "I").alias("carried_in"))
    b = rel.filter(is_b).group_by("q_no", maintain_order=True).agg(
        pl.col("sent_at").last().alias("last_buyer_at"), pl.len().cast(pl.Int64).alias("buyer_msgs"),
        pl.col("msg_idx").alias("msg_idxs"))
    if b.height == q.height:  # every question holds a buyer row (always without transfers)
        q = q.hstack(b.drop("q_no"))
    else:
        q = q.join(b, on="q_no", how="left", maintain_order="left").with_columns(
            pl.col("buyer_msgs").fill_null(0), pl.col("msg_idxs").fill_null(pl.lit([], dtype=pl.List(pl.Int64))))
    carried = rel.filter(pl.col("kind") == "I")
    if carried.height:
        q = q.join(carried.select("q_no", pl.col("transfer_id").alias("transfer_in_id")).unique(
            "q_no", keep="first", maintain_order=True), on="q_no", how="left", maintain_order="left")
    else:
        q = q.with_columns(pl.lit(None, pl.Int64).alias("transfer_in_id"))
    # a question's rows are its B/I run, then the H/O rows up to the next question: the row
    # that ends it is the one non-question row right after a question row
    ends = rel.filter(~pl.col("is_q") & pl.col("is_q").shift(1).fill_null(False)).select(
        "q_no", pl.col("kind").alias("end_kind"), pl.col("sent_at").alias("end_at"),
        pl.col("msg_idx").alias("end_msg_idx"), pl.col("transfer_id").alias("end_transfer_id"))
    return q.join(ends, on="q_no", how="left", maintain_order="left").with_columns(
        pl.col("msg_idxs").list.first().alias("first_msg_idx"))


def _run_ends(key: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(first, last) row of each run of equal values of ``key`` (a sorted column)."""
    last = (key != key.shift(-1)).fill_null(True).arg_true()
    first = pl.concat([pl.Series([0], dtype=last.dtype), last.head(-1) + 1]) if len(last) else last
    return first, last


def _conversations(rows: pl.DataFrame, threads: pl.DataFrame, long_minutes: float) -> pl.DataFrame:
    """One row per conversation. Rows are in conversation order (each conversation is a run of
    rows, in time order), so its first and last rows are gathered and its counts are
    differences of running counts at its last rows: no group-by."""
    first, last = _run_ends(rows["conv_no"])
    at_first, at_last = (lambda e: e.gather(pl.lit(first))), (lambda e: e.gather(pl.lit(last)))  # noqa: E731
    kind = pl.col("kind")
    counted = ["B", "H", "I", "O"] if rows["kind"].is_in(["O", "I"]).any() else ["B", "H"]
    flags = {k: kind == k for k in counted}
    if "I" in counted:
        flags["C"] = (kind == "I") & pl.col("carry")
    convs = rows.select(
        at_last(pl.col("conv_no")), at_last(pl.col("thread_no")),
        at_first(pl.col("sent_at")).alias("start_at"), at_last(pl.col("sent_at")).alias("end_at"),
        (at_last(pl.col("clock")) - at_first(pl.col("clock"))).alias("service_duration_s"),
        pl.lit(last - first + 1).cast(pl.Int64).alias("_rows"),
        *[at_last(f.cast(pl.Int64).cum_sum()).alias(f"_{k}") for k, f in flags.items()])
    # per conversation: count = running count at its last row - at the previous conversation's
    before = {k: pl.col(f"_{k}").shift(1, fill_value=0) for k in flags}
    n = {k: (pl.col(f"_{k}") - before[k]) if k in flags else pl.lit(0, pl.Int64) for k in ["B", "H", "I", "O", "C"]}
    # the first B (H) row of a conversation is the (B rows before it)-th B row of all rows
    idx_of = {k: rows["msg_idx"].filter(rows["kind"] == k) for k in ("B", "H")}

    def first_msg(k: str) -> pl.Expr:
        if not len(idx_of[k]):
            return pl.lit(None, pl.Int64)
        return pl.when(n[k] > 0).then(pl.lit(idx_of[k]).gather(before[k].clip(0, len(idx_of[k]) - 1)))

    thread = lambda c: pl.lit(threads[c]).gather(pl.col("thread_no"))  # noqa: E731  thread_no = row of threads
    conv_key = pl.concat_str(
        [pl.col("shop"), pl.col("agent_account"), pl.col("buyer"),
         pl.col("start_at").dt.strftime("%Y%m%d%H%M%S")], separator="|")
    convs = convs.select(
        "conv_no", *[thread(c) for c in THREAD], "start_at", "end_at", "service_duration_s",
        n["B"].alias("buyer_msgs"), n["H"].alias("agent_msgs"),
        (pl.col("_rows") - n["B"] - n["H"] - n["I"] - n["O"]).alias("other_rows"),
        (n["I"] > 0).alias("transferred_in"), (n["O"] > 0).alias("transferred_out"), (n["C"] > 0).alias("carried_in"),
        first_msg("H").alias("first_agent_msg_idx"), first_msg("B").alias("first_buyer_msg_idx"),
        thread("agent_no")).with_columns(
        conv_key.alias("conversation_id"))
    return convs.with_columns(
        ((pl.col("buyer_msgs") > 0) | (pl.col("agent_msgs") > 0) | pl.col("carried_in")).alias("has_dialogue"),
        (pl.col("end_at") - pl.col("start_at")).dt.total_seconds().cast(pl.Int64).alias("duration_s"),
        pl.col("start_at").dt.date().alias("day"),
    ).with_columns(
        (pl.col("service_duration_s") > long_minutes * 60).alias("is_long"))


def _message_conversations(rows: pl.DataFrame, n_messages: int) -> pl.Series:
    """Each message's conv_no, by position (msg_idx is the row number); null for notices."""
    own = rows.select("msg_idx", "conv_no", "kind").filter(pl.col("kind").is_in(["B", "H", "N"]))
    return pl.repeat(None, n_messages, dtype=pl.Int64, eager=True).scatter(own["msg_idx"], own["conv_no"])


def _question_counts(q: pl.DataFrame, n_convs: int) -> pl.DataFrame:
    """questions, answered_questions, unanswered_questions and first_response_s of conversations
    1..``n_convs`` (0 / null without questions). ``q`` is in conversation order, so each
    conversation's questions are a run: counts are differences of running counts at run ends."""
    first, last = _run_ends(q["conv_no"])
    status = pl.col("status")
    flags = {"questions": status != "transferred_out", "answered_questions": status == "answered",
             "unanswered_questions": status == "unanswered"}
    per = q.select(pl.col("conv_no").gather(pl.lit(last)) - 1,
                   *[f.cast(pl.Int64).cum_sum().gather(pl.lit(last)).alias(k) for k, f in flags.items()],
                   pl.col("response_s").gather(pl.lit(first)).alias("first_response_s"))
    per = per.with_columns(pl.col(k) - pl.col(k).shift(1, fill_value=0) for k in flags)
    at = per["conv_no"]
    out = {k: pl.zeros(n_convs, dtype=pl.Int64, eager=True).scatter(at, per[k]) for k in flags}
    out["first_response_s"] = pl.repeat(None, n_convs, dtype=pl.Float64, eager=True).scatter(at, per["first_response_s"])
    return pl.DataFrame(out)


_DAY_SPAN = 100_000  # packs (agent_no, day) into one Int64 key: days since 1970 < 100,000


def message_day_counts(msgs: pl.DataFrame, agent_no: pl.Expr) -> pl.DataFrame:
    """B / H message counts and H characters per (agent_no, day of the message) of ``msgs``
    (kind, day, text); ``agent_no``: each message's agent (null: not counted).

    The counts are taken on one packed integer (agent_no, day) key, a few hundred groups: the
    message-level pass never groups on strings nor on a per-conversation key."""
    human = pl.col("kind") == "H"
    per_day = msgs.select(
        (agent_no.cast(pl.Int64) * _DAY_SPAN + pl.col("day").cast(pl.Int64)).alias("k"),
        (pl.col("kind") == "B").cast(pl.Int64).alias("buyer_msgs"),
        human.cast(pl.Int64).alias("agent_msgs"),
        pl.when(human).then(pl.col("text").str.len_chars()).otherwise(0).cast(pl.Int64).alias("agent_chars"),
    ).group_by("k").agg(pl.col("buyer_msgs", "agent_msgs", "agent_chars").sum()).drop_nulls("k")
    return per_day.select((pl.col("k") // _DAY_SPAN).cast(pl.UInt32).alias("agent_no"),
                          (pl.col("k") % _DAY_SPAN).cast(pl.Date).alias("day"),
                          "buyer_msgs", "agent_msgs", "agent_chars")


def _by_conversation(convs: pl.DataFrame, col: str) -> pl.Expr:
    """Column ``col`` of ``convs`` for each row's ``conv_no`` (conv_no runs 1..n in convs' row
    order, so a gather replaces a join)."""
    return pl.lit(convs[col]).gather(pl.col("conv_no") - 1)


def _question_columns(q: pl.DataFrame, convs: pl.DataFrame, windows) -> pl.DataFrame:
    """The questions (:func:`_questions`) with their thread, ids, status and response times."""
    clock = lambda c: service_clock(pl.col(c), windows)  # noqa: E731
    conv_of = lambda c: _by_conversation(convs, c)  # noqa: E731
    # questions of a conversation have consecutive q_no: rank = q_no - first q_no of the conv + 1
    first_q = pl.when(pl.col("conv_no") != pl.col("conv_no").shift(1).fill_null(-1)).then(pl.col("q_no")).forward_fill()
    rank = pl.col("q_no") - first_q + 1
    end = pl.col("end_kind")
    answered = end == "H"
    status = (pl.when(answered).then(pl.lit("answered")).when(end == "O").then(pl.lit("transferred_out"))
              .otherwise(pl.lit("unanswered")))
    # one select: its columns are computed in parallel
    return q.select(
        "q_no", *[conv_of(c) for c in THREAD], "conv_no", "asked_at", "last_buyer_at", "buyer_msgs", "first_msg_idx",
        "msg_idxs", "carried_in", "transfer_in_id", conv_of("conversation_id"), status.alias("status"),
        (conv_of("conversation_id") + "#" + rank.cast(pl.String)).alias("question_id"),
        (rank == 1).alias("is_first_in_conversation"), pl.col("asked_at").dt.date().alias("day"),
        pl.when(answered).then(pl.col("end_at")).alias("answered_at"),
        pl.when(answered).then(pl.col("end_msg_idx")).alias("answer_msg_idx"),
        pl.when(end == "O").then(pl.col("end_transfer_id")).alias("transfer_out_id"),
        pl.when(answered).then(clock("end_at") - clock("asked_at")).alias("response_s"),
        pl.when(answered).then((pl.col("end_at") - pl.col("asked_at")).dt.total_seconds()).cast(pl.Float64)
        .alias("wall_response_s"),
        conv_of("agent_no"))


def build_sessions(messages: pl.DataFrame, settings: AnalyticsSettings,
                   accounts: pl.DataFrame | None = None) -> Sessions:
    """Conversations, questions and transfers of a staged ``messages`` frame (one or more months).

    ``accounts``: the distinct (shop, agent_account) transfer names are resolved against; by
    default those of ``messages``. A partition of the month's buyers passes the whole month's.
    """
    s = settings.sessions
    with ThreadPoolExecutor(max_workers=2) as pool:
        # message kinds (the text markers) and thread numbers (the key strings) in parallel
        keys_job = pool.submit(_message_threads, messages.select(*THREAD, "source_file", "seq"))
        msgs, kinds = _classified(messages, settings)
        keys = keys_job.result()
        if accounts is None and (kinds == "T").any():  # the accounts of the distinct threads
            accounts = (keys.threads.select("shop", "agent_account").unique() if keys.threads is not None
                        else msgs.select("shop", "agent_account").unique())
        transfers = resolve_transfers(msgs, accounts)
        numbered = _number_threads(msgs, transfers, keys)
        # a message's conversation is in its own thread, so its agent is its thread's (notices
        # have no conversation): the day counts need no conversation, and run during the sort
        agent_of = pl.lit(numbered.threads["agent_no"]).gather(pl.lit(numbered.numbers[0]))
        figures_job = pool.submit(message_day_counts, pl.DataFrame([kinds, msgs["day"], msgs["text"]]),
                                  pl.when(pl.lit(kinds) != "T").then(agent_of))
        rows, threads = _thread_rows(msgs, transfers, kinds=kinds, numbered=numbered)
        rows = _resolve_carries(_add_conversations(rows, s.silence_gap_minutes, s.windows))
        # on the other threads: the questions, each message's conversation and the string kinds
        # (needing nothing else), while this one makes the conversations and the question columns
        q_job = pool.submit(_questions, rows)
        conv_no_job = pool.submit(_message_conversations, rows, msgs.height)
        rows_job = pool.submit(lambda: rows.with_columns(_as_strings(rows["kind"])))
        convs = _conversations(rows, threads, s.long_conversation_minutes)
        # queued after conv_no_job, so that one is running or done when this one waits on it
        msgs_job = pool.submit(lambda: msgs.with_columns(conv_no_job.result().alias("conv_no")).with_columns(
            _by_conversation(convs, "conversation_id")))
        q = _question_columns(q_job.result(), convs, s.windows)
        convs = convs.hstack(_question_counts(q, convs.height))
        msgs, rows, figures = msgs_job.result(), rows_job.result(), figures_job.result()
    return Sessions(rows=rows, messages=msgs, conversations=convs, questions=q, transfers=transfers, threads=threads,
                    message_figures=figures)

