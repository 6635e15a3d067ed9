"""Sample-month generator: determinism, layouts, encodings, planted faults, scaling."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.sample import build_month, generate
from pipelines.sample import month as gen_mod
from pipelines.sample.catalog import BUYER_NEGATIVE, FORBIDDEN_TERMS, ISSUE_PHRASES, REASON_GROUP, REFUND_COLUMNS
from pipelines.sample.chats import BANK_NAMES

REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "data" / "sample" / "2026-10"
TEXT_LIKE = (".csv", ".txt", ".json")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("s42")
    return generate("2026-10", out, agents=8, seed=42), out


def _only(summary, layout):
    files = summary.by_layout(layout)
    assert files, layout
    return files


def _csv(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding))))


# ------------------------------------------------------------------ determinism


def test_same_seed_same_bytes_other_seed_differs(sample, tmp_path):
    s, out = sample
    again = generate("2026-10", tmp_path / "a", agents=8, seed=42)
    other = generate("2026-10", tmp_path / "b", agents=8, seed=43)
    names = [f.name for f in s.files]
    assert [f.name for f in again.files] == names
    for n in names:  # xlsx too: workbook metadata is pinned
        assert (out / n).read_bytes() == (tmp_path / "a" / n).read_bytes(), n
    flat = s.by_layout("chat_flat")[0].name
    assert (out / flat).read_bytes() != (tmp_path / "b" / other.by_layout("chat_flat")[0].name).read_bytes()
    assert again.truth == s.truth


def test_bundled_sample_is_current(sample):
    """data/sample/2026-10 must be what the generator writes for seed 42 (regenerate it
    with `python -m pipelines.sample --month 2026-10 --out data/sample/2026-10 --seed 42`)."""
    if not BUNDLE.exists():
        pytest.skip("bundled sample not generated")
    s, fresh = sample  # same arguments as the bundle
    for f in s.files:
        if f.name.endswith(TEXT_LIKE):
            assert (BUNDLE / f.name).read_bytes() == (fresh / f.name).read_bytes(), f.name
    assert sorted(p.name for p in BUNDLE.iterdir()) == sorted(f.name for f in s.files)
    assert sum(p.stat().st_size for p in BUNDLE.iterdir()) < 5_000_000


# ------------------------------------------------------------------ files and layouts


def test_expected_files_and_layouts(sample):
    s, out = sample
    layouts = [f.layout for f in s.files]
    assert layouts.count("chat_flat") == 2
    assert layouts.count("qianniu_sheets") == 2
    assert layouts.count("chat_text") == 8  # one per agent account
    assert layouts.count("chat_json") >= 3
    assert layouts.count("refunds") == 2
    for lay in ("orders_classic", "orders_new", "supervisor_workbook", "dingtalk_attendance", "stats_sycm"):
        assert layouts.count(lay) == 1, lay
    for f in s.files:
        assert (out / f.name).stat().st_size == f.size > 0
    assert s.total_bytes < 5_000_000
    assert s.truth["message_rows"] == s.truth["messages"] + s.truth["duplicate_messages"] + 2


def test_encodings_are_mixed(sample):
    s, out = sample
    gbk = [f for f in s.files if f.encoding == "gbk"]
    assert {f.layout for f in gbk} >= {"chat_text", "orders_classic", "refunds"}
    for f in gbk:
        data = (out / f.name).read_bytes()
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        assert "优品家居" in data.decode("gbk") or "旗舰店" in data.decode("gbk")
    boms = [f for f in s.files if f.encoding == "utf-8-sig"]
    assert {f.layout for f in boms} >= {"chat_flat", "refunds", "orders_new"}
    for f in boms:
        assert (out / f.name).read_bytes().startswith(b"\xef\xbb\xbf")


def test_text_exports_carry_the_real_features(sample):
    s, out = sample
    texts = {f.name: (out / f.name).read_bytes().decode("gbk" if f.encoding == "gbk" else "utf-8") for f in _only(s, "chat_text")}
    assert any("\r\n" in t for t in texts.values())  # old Windows files
    allt = "\n".join(texts.values()).replace("\r\n", "\n")
    assert re.search(r"^\S+ \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", allt, re.M)
    assert re.search(r"^\S+\d{4}年\d{2}月\d{2}日\d{2}:\d{2}:\d{2}$", allt, re.M)  # old style, no space
    assert re.search(r"^\S+\n\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$", allt, re.M)  # nick and time on two lines
    assert re.search(r"^(已读|未读)$", allt, re.M)
    assert re.search(r"^\S+ 撤回了一条消息$", allt, re.M)
    n_tr = len(re.findall(r"^由 \S+ 转交给 \S+\n原因：\S+", allt, re.M))
    assert n_tr == s.truth["events"]["transfer"] > 0
    assert len(re.findall(r"撤回了一条消息", allt)) == s.truth["events"]["recall"] > 0
    assert "[自动回复]" in allt or "【自动回复】" in allt


def test_json_layout_shape(sample):
    import json

    s, out = sample
    total = 0
    for f in _only(s, "chat_json"):
        obj = json.loads((out / f.name).read_text(encoding="utf-8"))
        for o in obj if isinstance(obj, list) else [obj]:
            assert set(o) == {"user", "exportTime", "count", "chats"}
            assert o["count"] == len(o["chats"])
            assert all(set(c) == {"date", "time", "sender", "text", "imgUrl"} for c in o["chats"])
            total += o["count"]
        assert f.rows["messages"] == sum(o["count"] for o in (obj if isinstance(obj, list) else [obj]))
    assert total == s.truth["by_layout"]["chat_json"]


def test_qianniu_sheets_and_overlap(sample):
    s, out = sample
    f1, f2 = _only(s, "qianniu_sheets")
    wb1 = openpyxl.load_workbook(out / f1.name, read_only=True)
    wb2 = openpyxl.load_workbook(out / f2.name, read_only=True)
    assert "导出汇总" in wb1.sheetnames and "导出汇总" in wb2.sheetnames
    ws = wb1[wb1.sheetnames[1]]
    assert [c.value for c in next(ws.iter_rows(max_row=1))] == ["客户名", "消息序号", "发送时间", "发送内容", "发送账号", "账号类型"]
    shared = (set(wb1.sheetnames) & set(wb2.sheetnames)) - {"导出汇总"}
    assert len(shared) == 2
    dup = sum(wb2[n].max_row - 1 for n in shared)
    assert dup == s.truth["duplicate_messages_by_layout"]["qianniu_sheets"] > 0


# ------------------------------------------------------------------ planted faults and duplicates


def test_flat_bad_rows_and_overlap(sample):
    s, out = sample
    f1, f2 = _only(s, "chat_flat")
    a = pl.read_csv(out / f1.name, infer_schema=False)
    b = pl.read_csv(out / f2.name, infer_schema=False)
    assert a.columns == ["店铺", "客服账号", "买家", "发送方", "发送方角色", "发送时间", "内容"]
    assert a.height == f1.rows["messages"] and b.height == f2.rows["messages"]
    bad_time = b.filter(~pl.col("发送时间").str.contains(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"))
    assert bad_time.height == 1 == s.truth["bad_rows"]["message_bad_time"]
    no_buyer = pl.col("买家").fill_null("") == ""
    assert b.filter(no_buyer).height == 1 == s.truth["bad_rows"]["message_missing_buyer"]
    assert a.filter(no_buyer).height == 0
    overlap = a.join(b, on=a.columns, how="semi")
    assert overlap.height == s.truth["duplicate_messages_by_layout"]["chat_flat"] > 0
    assert set(b["发送方角色"].unique()) <= {"买家", "客服"}


def test_refund_exports(sample):
    s, out = sample
    gbk, bom = sorted(_only(s, "refunds"), key=lambda f: f.encoding)
    assert gbk.encoding == "gbk" and bom.encoding == "utf-8-sig"
    g = _csv(out / gbk.name, "gbk")
    u = _csv(out / bom.name, "utf-8-sig")
    assert tuple(h.strip() for h in g[0]) == REFUND_COLUMNS and g[0] != list(REFUND_COLUMNS)  # trailing spaces
    assert tuple(u[0]) == REFUND_COLUMNS and len(REFUND_COLUMNS) == 38
    rid = REFUND_COLUMNS.index("退款编号")
    shared = {r[rid] for r in g[1:]} & {r[rid] for r in u[1:]}
    assert len(shared) == s.truth["duplicate_refunds"] > 0
    amount, status = REFUND_COLUMNS.index("买家退款金额"), REFUND_COLUMNS.index("退款状态")
    rows = g[1:] + u[1:]
    assert sum(r[amount].startswith("-") for r in rows) == 1
    known = {"退款成功", "退款关闭", "等待卖家同意", "等待买家退货", "等待卖家确认收货", "卖家拒绝退款", "退款中"}
    assert sum(r[status] not in known for r in rows) == 1
    assert len({r[rid] for r in rows}) == s.truth["refunds"] + 2
    assert 0.04 <= float(s.truth["refund_rate"]) <= 0.12
    ops = {r[REFUND_COLUMNS.index("退款操作人")] for r in rows}
    assert ops <= set(s.truth["agents"])
    assert any(r[REFUND_COLUMNS.index("客服介入状态")] != "客服未介入" for r in rows)


def test_order_exports_and_order_numbers(sample):
    s, out = sample
    (classic,) = _only(s, "orders_classic")
    (new,) = _only(s, "orders_new")
    c = _csv(out / classic.name, "gbk")
    n = _csv(out / new.name, "utf-8-sig")
    assert all(re.fullmatch(r'="\d{19}"', r[0]) for r in c[1:])
    assert all(re.fullmatch(r"[\t']\d{19}", r[0]) for r in n[1:])
    assert any(r[0].startswith("'") for r in n[1:]) and any(r[0].startswith("\t") for r in n[1:])
    assert len(c) - 1 + len(n) - 1 == s.truth["orders"]
    # order numbers typed in chats are refunded orders
    refunded = set()
    for f in _only(s, "refunds"):
        refunded |= {r[0] for r in _csv(out / f.name, f.encoding if f.encoding != "gbk" else "gbk")[1:]}
    typed = set()
    for f in s.files:
        if f.layout in ("chat_flat", "chat_text", "chat_json"):
            enc = "gbk" if f.encoding == "gbk" else "utf-8-sig"
            typed |= set(re.findall(r"(?<!\d)30\d{17}(?!\d)", (out / f.name).read_bytes().decode(enc)))
    assert typed and typed <= refunded
    assert len(typed) == s.truth["chat_linked_refunds"]


# ------------------------------------------------------------------ people files


def test_supervisor_workbook(sample):
    s, out = sample
    (f,) = _only(s, "supervisor_workbook")
    wb = openpyxl.load_workbook(out / f.name, read_only=True)
    assert wb.sheetnames == ["客服名单", "主管评分", "投诉维权", "评价"]
    roster = list(wb["客服名单"].iter_rows(min_row=2, values_only=True))
    assert {r[2] for r in roster} == {"普通售后客服", "高级售后客服", "售后组长"}
    ratings = list(wb["主管评分"].iter_rows(min_row=2, values_only=True))
    blank = [r[1] for r in ratings if not r[3]]
    assert blank == [s.truth["workbook"]["missing_execution"]]
    bonus = {r[1]: r[6] for r in ratings if r[6]}
    assert bonus == s.truth["workbook"]["outstanding_bonus"] and all(2 <= v <= 5 for v in bonus.values())
    comp = list(wb["投诉维权"].iter_rows(min_row=3, values_only=True))  # title row + header
    assert {r[1] for r in comp} == {"投诉", "维权", "举报", "退款纠纷"}
    verified = [r for r in comp if r[9] == "是"]
    assert verified and all(5 <= r[10] <= 20 for r in verified)
    assert any(r[6] is None or r[6] == "" for r in comp)  # still open
    reviews = list(wb["评价"].iter_rows(min_row=2, values_only=True))
    assert {r[1] for r in reviews} == {"低质评价", "表扬"}
    assert {r[6] for r in reviews if r[1] == "低质评价"} == {"是", "否"}
    assert {r[7] for r in reviews if r[1] == "表扬"} == {"是", "否"}


def test_attendance_summary(sample):
    s, out = sample
    (f,) = _only(s, "dingtalk_attendance")
    rows = list(openpyxl.load_workbook(out / f.name, read_only=True).active.iter_rows(values_only=True))
    assert rows[0][0].startswith("月度汇总") and rows[2][0] == "姓名"
    header = list(rows[2])
    days = [header.index(str(d)) for d in range(1, 32)]
    people = {r[0]: [r[j] for j in days] for r in rows[3:]}
    # 2026-10-03 is a Saturday
    assert all(st[2] == "休息" for st in people.values())
    names = {a["dingtalk_name"] for a in s.truth["agents"].values()}
    assert names <= set(people) and len(people) == len(names) + 2
    statuses = {x for st in people.values() for x in st}
    assert {"正常", "迟到", "严重迟到", "早退", "上班缺卡", "事假", "病假", "旷工", "休息"} <= statuses
    leave = people[s.truth["agents"]["优品家居旗舰店:阿杰"]["dingtalk_name"]]
    i = leave.index("事假")
    assert leave[i + 1] == "事假"  # two consecutive leave days = one spell
    assert s.truth["attendance"]["陈志杰"] == {"late": 1, "severe_late": 0, "early": 0, "missing_in": 0, "absent": 0,
                                               "leave_days": 2, "leave_spells": 1}


# ------------------------------------------------------------------ behaviours (message-level truth)


def _response_medians(msgs: pl.DataFrame) -> dict[str, float]:
    """Median seconds from a buyer run's last message to the next human agent message."""
    m = msgs.filter(pl.col("event") == "message").sort("agent_account", "buyer", "sent_at", "msg_id")
    human = (pl.col("sender_role") == "agent") & ~pl.col("is_auto_reply")
    m = m.with_columns(
        _q=pl.when(pl.col("sender_role") == "buyer").then(pl.col("sent_at")).forward_fill().over("agent_account", "buyer"),
        _prev_buyer=(pl.col("sender_role").shift(1).over("agent_account", "buyer") == "buyer")
        | pl.col("is_auto_reply").shift(1).over("agent_account", "buyer"),
    )
    r = m.filter(human & pl.col("_prev_buyer")).with_columns(d=(pl.col("sent_at") - pl.col("_q")).dt.total_seconds())
    r = r.filter(pl.col("sent_at").dt.hour() >= 9)
    return dict(r.group_by("agent_account").agg(pl.col("d").median()).iter_rows())


def test_behaviours_are_planted():
    d = build_month("2026-10", 8, 42)
    m = d.messages
    med = _response_medians(m)
    fast = [d.plan.accounts[i] for i in d.plan.fast]
    slow = [d.plan.accounts[i] for i in d.plan.slow]
    assert max(med[a] for a in fast) * 4 < min(med[a] for a in slow)
    agent_text = m.filter((pl.col("sender_role") == "agent") & ~pl.col("is_auto_reply"))["text"].drop_nulls()
    buyer_text = m.filter(pl.col("sender_role") == "buyer")["text"].drop_nulls()
    hits = m.filter((pl.col("sender_role") == "agent") & pl.col("text").str.contains_any(list(FORBIDDEN_TERMS)))
    by_agent = hits.group_by("agent_account").len().sort("len", descending=True)
    assert by_agent["agent_account"][0] == d.plan.accounts[d.plan.rude]
    assert agent_text.str.contains("不清楚|我问一下").sum() > 0
    assert buyer_text.str.contains("投诉|差评|12315|举报").sum() > 0
    assert buyer_text.str.contains("服务好|耐心|谢谢亲").sum() > 0
    assert not buyer_text.str.contains_any(list(FORBIDDEN_TERMS)).any()
    # off-hours: buyers writing at 01:30-03:00 are first answered by a human at 09:xx
    night = d.conversations.filter(pl.col("offhours"))
    assert set(night["start"].dt.hour()) <= {1, 2}
    first = m.join(night.select("conv"), on="conv").group_by("conv").agg(
        buyer=pl.col("sent_at").filter(pl.col("sender_role") == "buyer").min(),
        auto=pl.col("sent_at").filter(pl.col("is_auto_reply")).min(),
        human=pl.col("sent_at").filter((pl.col("sender_role") == "agent") & ~pl.col("is_auto_reply")).min(),
    )
    assert first.height == d.conversations["offhours"].sum() > 0
    assert set(first["auto"].dt.hour()) <= {1, 2, 3}  # the auto-reply answers at once
    assert set(first["human"].drop_nulls().dt.hour()) == {9}
    # equal timestamps, long conversations, silences > 30 min
    ordered = m.sort("agent_account", "buyer", "sent_at", "msg_id")
    gap = ordered.select(pl.col("sent_at").diff().over("agent_account", "buyer")).to_series()
    assert (gap == timedelta(0)).sum() > 0
    assert (gap > timedelta(minutes=30)).sum() > 0
    span = m.group_by("conv").agg(d=pl.col("sent_at").max() - pl.col("sent_at").min())
    assert (span["d"] > timedelta(minutes=30)).sum() > 0


def test_refund_wording_follows_the_refund_reason():
    d = build_month("2026-10", 8, 42)
    conv = d.conversations.filter("refund")
    assert conv.height == 131 and conv["reason"].null_count() == 0
    # each refund conversation has its own refund, with the conversation's reason
    r = d.refunds.filter(pl.col("conv").is_not_null()).join(conv.select("conv", pl.col("reason").alias("r")), on="conv")
    assert r.height == conv.height and (r["reason"] == r["r"]).all()
    assert r["chat_linked"].sum() == conv["order"].sum() == 98  # typed the order number
    buyer = d.messages.filter(pl.col("sender_role") == "buyer").group_by("conv").agg(pl.col("text").drop_nulls().str.join(" "))
    x = conv.join(buyer, on="conv").with_columns(g=pl.col("reason").replace_strict(REASON_GROUP))
    x = x.with_columns(**{g: pl.col("text").str.contains_any(list(v)) for g, v in ISSUE_PHRASES.items()})
    # groups with their own words: buyers mostly use them, other buyers hardly ever
    for g in ("quality", "missing", "wrong_item", "not_as_described", "damaged", "late_shipping"):
        assert x.filter(pl.col("g") == g)[g].mean() >= 0.7, g
        assert x.filter(pl.col("g") != g)[g].mean() <= 0.1, g
    # ... but not always (no issue words / another reason's words): not a trivial task
    own = x.select(pl.coalesce(pl.when(pl.col("g") == g).then(pl.col(g)) for g in ISSUE_PHRASES)).to_series()
    assert 0.7 < own.mean() < 0.95


def test_negative_buyer_lines_hold_a_negative_lexicon_term():
    lexicon = [t for t in (REPO / "data" / "lexicons" / "negative.txt").read_text("utf-8").splitlines()
               if t.strip() and not t.startswith("#")]
    assert all(any(t in p for t in lexicon) for p in BUYER_NEGATIVE)
    d = build_month("2026-10", 8, 42)
    neg = d.messages.filter(pl.col("bank") == BANK_NAMES.index("buyer_negative"))
    assert set(neg["sender_role"]) == {"buyer"} and neg.height == d.conversations["negative"].sum() == 21
    by_agent = neg.group_by("agent_account").len().sort("len", descending=True)
    assert by_agent["agent_account"][0] == d.plan.accounts[d.plan.rude]


# ------------------------------------------------------------------ scaling


def test_messages_scale_to_target(tmp_path):
    s = generate("2026-10", tmp_path, seed=1, messages=20_000)
    assert 19_800 <= s.truth["messages"] <= 20_300
    flat_rows = sum(pl.read_csv(tmp_path / f.name, infer_schema=False).height for f in s.by_layout("chat_flat"))
    assert flat_rows == sum(f.rows["messages"] for f in s.by_layout("chat_flat"))
    assert s.truth["message_rows"] == sum(f.rows.get("messages", 0) for f in s.files)
    assert s.truth["message_rows"] == s.truth["messages"] + s.truth["duplicate_messages"] + 2


def test_bulk_volume_is_streamed_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(gen_mod, "CHUNK", 3000)
    s = generate("2026-10", tmp_path / "a", seed=5, messages=9000)
    assert s.truth["chunks"] == 3
    assert 8_800 <= s.truth["messages"] <= 9_300
    a, b = (pl.read_csv(tmp_path / "a" / f.name, infer_schema=False) for f in s.by_layout("chat_flat"))
    assert a.height + b.height == s.truth["messages"] - sum(
        v for k, v in s.truth["by_layout"].items() if k != "chat_flat") + s.truth["duplicate_messages_by_layout"]["chat_flat"] + 2
    # chunks use disjoint buyers (chunk k numbers its nicks from k*10,000,000), so a
    # thread never spans chunks
    nums = pl.concat([a, b])["买家"].drop_nulls().str.extract(r"(\d+)$").drop_nulls().cast(pl.Int64)
    assert {n // 10_000_000 for n in nums.unique().to_list()} == {0, 1, 2}
    again = generate("2026-10", tmp_path / "b", seed=5, messages=9000)
    for f in s.by_layout("chat_flat"):
        assert (tmp_path / "a" / f.name).read_bytes() == (tmp_path / "b" / f.name).read_bytes()
    assert again.truth == s.truth


# ------------------------------------------------------------------ readers (integration)


def test_readers_detect_and_stage_every_file(sample):
    readers = pytest.importorskip("pipelines.readers")
    stage = pytest.importorskip("pipelines.staging.stage")
    from pipelines.io.source import SourceFile

    s, out = sample
    loaded: dict[str, list] = {}
    quarantined: dict[str, int] = {}
    for f in s.files:
        src = SourceFile(out / f.name)
        reader, scores = readers.detect(src)
        assert reader is not None and reader.layout == f.layout, (f.name, scores[:3])
        for batch in reader.read(src):
            good, quar, counts = stage.stage_batch(batch.kind, batch.frame, "2026-10", f.name)
            assert counts.out_of_month == 0, (f.name, batch.kind)
            assert batch.frame.height == f.rows[batch.kind], (f.name, batch.kind)
            loaded.setdefault(batch.kind, []).append(good)
            quarantined[batch.kind] = quarantined.get(batch.kind, 0) + quar.height
    msgs, dup = stage.dedupe("messages", loaded["messages"])
    assert msgs.height == s.truth["messages"]
    assert sum(dup.values()) == s.truth["duplicate_messages"]
    assert quarantined["messages"] == 2
    refunds, rdup = stage.dedupe("refunds", loaded["refunds"])
    assert refunds.height == s.truth["refunds"] and sum(rdup.values()) == s.truth["duplicate_refunds"]
    assert quarantined["refunds"] == 2
    orders, _ = stage.dedupe("orders", loaded["orders"])
    assert orders.height == s.truth["orders"]
