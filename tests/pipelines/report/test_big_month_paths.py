"""The report's shortcuts for big months give exactly what the plain computations give:
the evidence ordered from the mart's order, ranks by runs of a sorted frame, context messages
read only near the shown rows, the shop of a one-shop month, exports from held or lazy evidence."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from pipelines.report import sections, svg
from pipelines.report.bundle import MonthBundle, _shop, rank_in_runs, sort_evidence
from pipelines.report.exports import write_evidence_exports
from pipelines.report.labels import WEEKDAYS

ORDER = ["agent_account", "kind", "at", "evidence_id"]
MART_ORDER = ["month", "agent_account", "at", "kind", "evidence_id"]  # analytics.partition.ROW_MARTS
T0 = datetime(2026, 10, 1, 9, 0, 0)


def _evidence(n: int, seed: int, nulls: bool = False) -> pl.DataFrame:
    rnd = random.Random(seed)
    agents = ["店:b", "店:a", "店:c"] + ([None] if nulls else [])
    kinds = ["unanswered", "slow_response", "forbidden_word"] + ([None] if nulls else [])
    rows = []
    for i in range(n):
        at = T0 + timedelta(minutes=rnd.randrange(40))  # many equal times: the id breaks the tie
        rows.append({"evidence_id": f"e{rnd.randrange(10**6):06d}-{i}", "month": "2026-10",
                     "agent_account": rnd.choice(agents), "kind": rnd.choice(kinds),
                     "at": None if nulls and rnd.random() < 0.1 else at, "buyer": f"buyer{i % 7}"})
    return pl.DataFrame(rows, schema_overrides={"at": pl.Datetime("us")})


def _full_sort(ev: pl.DataFrame) -> pl.DataFrame:
    return ev.sort(ORDER, nulls_last=True, maintain_order=True)


def _sort_calls(monkeypatch) -> list:
    calls = []
    real = pl.DataFrame.sort

    def spy(self, by, *more, **kw):
        calls.append(by if isinstance(by, list) else [by, *more])
        return real(self, by, *more, **kw)

    monkeypatch.setattr(pl.DataFrame, "sort", spy)
    return calls


def test_evidence_in_the_mart_order_is_ordered_by_its_groups_alone(monkeypatch) -> None:
    ev = _evidence(400, seed=1).sort(MART_ORDER)
    want = _full_sort(ev)
    calls = _sort_calls(monkeypatch)
    got = sort_evidence(ev)
    assert got.equals(want) and got.columns == ev.columns
    assert calls == [["_g"]]  # the cheap path: one stable sort on the (agent, kind) code


@pytest.mark.parametrize("nulls", [False, True])
@pytest.mark.parametrize("seed", [2, 3])
def test_evidence_in_any_other_order_is_fully_sorted(monkeypatch, seed: int, nulls: bool) -> None:
    ev = _evidence(300, seed=seed, nulls=nulls).sample(fraction=1.0, shuffle=True, seed=seed)
    want = _full_sort(ev)
    calls = _sort_calls(monkeypatch)
    assert sort_evidence(ev).equals(want)
    assert calls[-1] == ORDER  # the check failed: the full sort decided the order


def test_evidence_with_nulls_in_the_mart_order_comes_out_as_the_full_sort() -> None:
    # the mart sorts null times first, the report last: the check must catch it
    ev = _evidence(300, seed=4, nulls=True).sort(MART_ORDER)
    assert sort_evidence(ev).equals(_full_sort(ev))


def test_rank_in_runs_is_the_rank_within_each_group_of_a_sorted_frame() -> None:
    ev = _full_sort(_evidence(500, seed=5, nulls=True))
    got = ev.select(rank_in_runs("agent_account", "kind").alias("r"))["r"]
    want = ev.select(pl.int_range(pl.len()).over("agent_account", "kind").alias("r"))["r"]
    assert got.to_list() == want.to_list()
    assert got.max() > 10 and (got == 0).sum() == ev.select("agent_account", "kind").n_unique()


def _conversation() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Shown evidence (two rows of one agent) and that agent's messages with these buyers."""
    at = datetime(2026, 10, 2, 10, 0, 0)
    shown = pl.DataFrame({
        "_i": [0, 1], "agent_account": ["店:a", "店:a"], "buyer": ["tb_x", "tb_y"], "kind": ["slow_response"] * 2,
        "at": [at, at + timedelta(hours=3)], "source_file": ["f.xlsx", "f.xlsx"], "source_sheet": ["tb_x", "tb_y"],
        "source_row": [10, 900],
    }, schema_overrides={"source_sheet": pl.String})
    offsets = [-1801, -1800.5, -600, 0, 5, 1800, 1800.9, 1801.5, 7200, -86400]
    msgs = pl.DataFrame({
        "agent_account": ["店:a"] * len(offsets),
        "buyer": ["tb_x"] * len(offsets),
        "sender_role": ["buyer", "agent"] * (len(offsets) // 2),
        "sent_at": [at + timedelta(seconds=s) for s in offsets],
        "text": [f"消息{k}" for k in range(len(offsets))],
        "event": ["message"] * len(offsets),
        "seq": list(range(len(offsets))),
        "source_file": ["f.xlsx"] * len(offsets),
        "source_sheet": ["tb_x"] * len(offsets),
        "source_row": [7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
    }, schema_overrides={"source_sheet": pl.String, "sent_at": pl.Datetime("us")})
    # tb_y's cited message is the agent's reply, an hour after the evidence time
    reply = pl.DataFrame({
        "agent_account": ["店:a"], "buyer": ["tb_y"], "sender_role": ["agent"],
        "sent_at": [at + timedelta(hours=4)], "text": ["迟到的回复"], "event": ["message"], "seq": [0],
        "source_file": ["f.xlsx"], "source_sheet": ["tb_y"], "source_row": [900],
    }, schema_overrides={"source_sheet": pl.String, "sent_at": pl.Datetime("us")})
    return shown, pl.concat([msgs, reply])


def _page_parts(shown: pl.DataFrame, messages: pl.DataFrame) -> tuple:
    return sections._with_speaker(shown, messages).to_dicts(), sections._contexts(shown, messages)


def test_context_messages_read_near_the_shown_rows_give_the_same_page() -> None:
    shown, msgs = _conversation()
    near = sections._messages_of(shown.head(1), msgs.lazy())
    # the window (±1800 s, compared in whole seconds) and one second more are read, nothing else
    # (+1801.5 s and the messages hours away are left unread)
    assert sorted(near["source_row"].to_list()) == [7, 8, 9, 10, 11, 12, 13]
    assert _page_parts(shown.head(1), near) == _page_parts(shown.head(1), msgs)
    ctx = sections._contexts(shown.head(1), near)[0]
    assert [m["text"] for m in ctx] == ["消息1", "消息2", "消息3", "消息4", "消息5", "消息6"]


def test_a_cited_message_outside_the_window_still_says_who_spoke() -> None:
    shown, msgs = _conversation()
    read = sections._messages_of(shown, msgs.lazy())
    assert 900 in read["source_row"].to_list()  # all of their messages were read
    speakers, ctx = _page_parts(shown, read)
    assert (speakers, ctx) == _page_parts(shown, msgs)
    assert [r["speaker"] for r in speakers] == ["agent", "agent"]  # both cited replies (slow_response by kind: buyer)


def test_the_shop_is_the_one_most_messages_name() -> None:
    one = pl.LazyFrame({"shop": ["优品", "优品", None]})
    two = pl.LazyFrame({"shop": ["乙店", "甲店", "甲店", None]})
    refunds = pl.DataFrame({"shop": ["退款店"]})
    assert _shop(one, None) == "优品"
    assert _shop(two, None) == "甲店"
    assert _shop(pl.LazyFrame({"shop": [None, None]}, schema={"shop": pl.String}), refunds) == "退款店"
    assert _shop(None, None) == ""


def test_exports_from_held_and_from_lazy_evidence_are_the_same_bytes(bundle: MonthBundle, tmp_path: Path) -> None:
    held = tmp_path / "held"
    lazy = tmp_path / "lazy"
    write_evidence_exports(bundle, held)
    bundle.evidence = bundle.evidence.reverse().lazy()  # unsorted and lazy: sorted and streamed
    bundle.evidence_sorted = False
    write_evidence_exports(bundle, lazy)
    for name in ("evidence.csv", "evidence.parquet"):
        assert (held / name).read_bytes() == (lazy / name).read_bytes(), name
    assert pl.read_parquet(held / "evidence.parquet").height == 6


def test_cited_ids_are_counted_and_joined_as_the_python_helpers_do() -> None:
    from pipelines.report.fmt import id_list, ids_count, ids_text

    lists = [["a", None, "", "b"], None, [], [f"slow:{i:06d}" for i in range(5000)]]
    df = pl.DataFrame({"ids": lists}, schema={"ids": pl.List(pl.String)})
    got = df.select(ids_count("ids").alias("n"), ids_text("ids", 100).alias("t"))
    assert got["n"].to_list() == [len(id_list(v)) for v in lists] == [2, 0, 0, 5000]
    assert got["t"].to_list()[0] == "a, b" and got["t"].to_list()[3] == ", ".join(lists[3])[:100]
    ints = pl.DataFrame({"ids": [[1, None, 3]]}, schema={"ids": pl.List(pl.Int64)})
    assert ints.select(ids_count("ids", pl.List(pl.Int64))).item() == 2


def test_xlsx_cell_of_many_cited_ids_is_the_joined_text_cut_to_a_cell(bundle: MonthBundle, tmp_path: Path) -> None:
    import openpyxl

    from pipelines.report.excel import EXCEL_MAX_CHARS, write_payroll_xlsx
    from pipelines.report.fmt import neutralise
    from pipelines.report.sections import scorecards

    ids = ["=1+1"] + [f"slow_response:{i:08d}" for i in range(3000)] + [None, ""]  # > 32,767 characters
    items = bundle.kpi_items.with_columns(
        pl.when((pl.col("agent_account") == "a01") & (pl.col("item") == "quality")).then(pl.lit(ids, pl.List(pl.String)))
        .otherwise(pl.col("evidence_ids")).alias("evidence_ids"))
    bundle.kpi_items = items
    ws = openpyxl.load_workbook(write_payroll_xlsx(bundle, tmp_path / "p.xlsx"))["考核明细"]
    cells = {(r[1], r[2]): r[10] for r in ws.iter_rows(min_row=2, values_only=True)}
    want = neutralise(", ".join(i for i in ids if i))[:EXCEL_MAX_CHARS]
    assert len(want) == EXCEL_MAX_CHARS and want.startswith("'=1+1, slow_response:")
    assert [v for (a, _item), v in cells.items() if a == "a01" and v and v.startswith("'=")] == [want]
    card = next(c for c in scorecards(bundle) if c["agent"] == "a01")
    assert [r["evidence"] for r in card["item_rows"] if r["evidence"]] == [3001]


def test_response_charts_keep_their_agent_order_with_questions_of_no_agent(bundle: MonthBundle) -> None:
    extra = pl.DataFrame({"agent_account": ["a00", None, "zz"], "buyer": ["q1", "q2", "q3"],
                          "asked_at": [T0, T0, T0], "answered_at": [None, None, None], "response_s": [30.0, 40.0, None]},
                         schema_overrides={"answered_at": pl.Datetime("us"), "asked_at": pl.Datetime("us")})
    bundle.questions = pl.concat([bundle.questions, extra], how="diagonal_relaxed")
    labels = [c["label"] for c in sections.response_times(bundle)["charts"]]
    # payroll agents by account, then the metrics' and the questions' own (a null agent is not one)
    assert labels == ["王小美（a01）", "李强（a02）", "陈静（a03）", "a00", "zz"]
    bundle.evidence = bundle.evidence.with_columns(pl.lit("None").alias("agent_account")).head(1)
    labels = [c["label"] for c in sections.response_times(bundle)["charts"]]
    assert labels[-1] == "None"  # an agent really named "None" elsewhere: its chart shows the null's questions


def _bundle_with(bundle: MonthBundle, **frames) -> MonthBundle:
    from dataclasses import replace

    return replace(bundle, **frames)


def test_lexicon_pivot_and_top_terms_of_lazy_hits_are_the_direct_counts(bundle: MonthBundle) -> None:
    rows = ([("a01", "forbidden", "不知道")] * 3 + [("a01", "forbidden", "没办法")] * 3 + [("a02", "forbidden", "没办法")]
            + [("a02", "politeness", "亲")] * 9 + [("a02", None, "无名")] * 2 + [(None, "forbidden", "不知道")]
            + [("a03", "negative", "差评")] * 4)
    th = pl.DataFrame(rows, schema={"agent_account": pl.String, "lexicon": pl.String, "term": pl.String}, orient="row")
    got = sections.lexicon(_bundle_with(bundle, text_hits=th.sample(fraction=1.0, shuffle=True, seed=1).lazy()))
    pivot = {r["label"]: (r["cells"], r["total"]) for r in got["pivot"]}
    assert len(got["categories"]) == 3  # forbidden, negative, politeness (by code), a null lexicon is no column
    assert pivot["王小美（a01）"] == ([6, 0, 0], 6)
    assert pivot["李强（a02）"] == ([1, 0, 9], 12)  # the 2 hits of no lexicon count in the total
    assert pivot["陈静（a03）"] == ([0, 4, 0], 4) and pivot["None"] == ([1, 0, 0], 1)
    # courtesy (亲) and lexicon-less hits are no problem terms; ties by lexicon, then term
    assert [(t["term"], t["n"]) for t in got["terms"]] == [("不知道", 4), ("没办法", 4), ("差评", 4)]


def test_response_bins_and_heatmaps_of_lazy_questions_are_the_direct_counts(bundle: MonthBundle) -> None:
    rnd = random.Random(7)
    n = 3000
    q = pl.DataFrame({
        "agent_account": [rnd.choice(["a01", "a02", "a03", "zz", None]) for _ in range(n)],
        "asked_at": [None if rnd.random() < 0.05 else T0 + timedelta(minutes=rnd.randrange(60 * 24 * 9)) for _ in range(n)],
        "response_s": [rnd.choice([None, float("nan"), 5.0, 30.0, 30.5, 99.0, 100.0, 101.0, 299.0, 601.0, 5000.0])
                       for _ in range(n)],
        "status": [rnd.choice(["answered", "unanswered", "transferred_out", None]) for _ in range(n)],
        "is_slow": [rnd.choice([True, False, None]) for _ in range(n)],
    }, schema_overrides={"asked_at": pl.Datetime("us")})
    got = sections.response_times(_bundle_with(bundle, questions=q.lazy()))
    counted = q.filter(pl.col("status").is_null() | (pl.col("status") != "transferred_out"))

    def bin_of(v):
        if v is None or v != v:
            return len(sections.RESPONSE_BINS)
        return next(i for i, (hi, _l) in enumerate(sections.RESPONSE_BINS) if hi is None or v <= hi)

    per: dict[str, list[int]] = {}
    for a, v in counted.select("agent_account", "response_s").iter_rows():
        per.setdefault(str(a), [0] * (len(sections.RESPONSE_BINS) + 1))[bin_of(v)] += 1
    # payroll agents, then the questions' own; questions of no agent have no chart
    assert [(c["total"], c["unanswered"]) for c in got["charts"]] == [
        (sum(per[a]), per[a][-1]) for a in ("a01", "a02", "a03", "zz")]
    assert [c["svg"] for c in got["charts"]][0] == svg.bar_chart(
        [lab for _hi, lab in sections.RESPONSE_BINS] + ["未回复"], per["a01"], colors=[*sections._RESPONSE_COLORS, "#8a8f98"],
        width=520, height=200, marker_x=3, marker_label=f"慢响应 >{sections.SLOW_S}秒", y_label="问题数", aria="a01 响应时间分布")
    timed = counted.filter(pl.col("asked_at").is_not_null())
    maps = ((pl.col("is_slow").fill_null(False), "#e08a2e"), (pl.col("status") == "unanswered", "#c8504b"))
    for heatmap, (cond, color) in zip(got["heatmaps"], maps, strict=True):
        grid = [[0] * 24 for _ in range(7)]
        for at in timed.filter(cond)["asked_at"]:
            grid[at.weekday()][at.hour] += 1
        assert heatmap["total"] == sum(map(sum, grid)) > 0
        assert heatmap["svg"] == svg.heatmap(WEEKDAYS, [f"{h}" for h in range(24)], grid, color=color,
                                             aria=heatmap["title"], unit=" 个")
    assert sections.response_times(_bundle_with(bundle, questions=q.drop("asked_at").lazy()))["heatmaps"] == []
