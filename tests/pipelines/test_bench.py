"""kefu bench plumbing (no timings asserted): cached inboxes, the GBK twin, the stage meter."""

from __future__ import annotations

import codecs

from pipelines.bench import StageMeter, baseline_ratios, inbox_for


def test_inbox_is_cached_and_the_gbk_twin_holds_the_same_text(tmp_path):
    utf8 = inbox_for(300, seed=3, cache=tmp_path)
    stamp = {p.name: p.stat().st_mtime_ns for p in utf8.iterdir()}
    assert inbox_for(300, seed=3, cache=tmp_path) == utf8  # cached by (N, seed): not regenerated
    assert {p.name: p.stat().st_mtime_ns for p in utf8.iterdir()} == stamp
    twin = inbox_for(300, seed=3, gbk=True, cache=tmp_path)
    names = sorted(p.name for p in utf8.iterdir())
    assert names == sorted(p.name for p in twin.iterdir())
    converted = 0
    for name in names:
        a, b = (utf8 / name).read_bytes(), (twin / name).read_bytes()
        if name.endswith((".csv", ".txt", ".json")) and a != b:
            text = a.decode("utf-8-sig") if a.startswith(codecs.BOM_UTF8) else a.decode("utf-8")
            assert b.decode("gb18030") == text  # same characters, line ends included
            converted += 1
        elif name.endswith(".xlsx"):
            assert a == b
    assert converted >= 3


def test_stage_meter_records_each_stage_once():
    with StageMeter() as m:
        m.tick("a")
        sum(range(10000))
        m.tick("b")
    assert [s["stage"] for s in m.stages] == ["a", "b"]
    assert all(s["wall_s"] >= 0 and s["cpu_s"] >= 0 and s["peak_mb"] > 0 for s in m.stages)


def test_ratios_are_taken_round_by_round():
    rows = [{"impl": i, "round": r, "compute_s": t} for r, (p, q, k) in enumerate([(10, 1, 2), (30, 2, 2)])
            for i, t in (("pandas", p), ("polars", q), ("kefu", k))]
    out = baseline_ratios(rows)
    assert out["per_round"] == [(5.0, 2.0), (15.0, 1.0)]
    assert out["pandas_over_kefu"] == 10.0 and out["kefu_over_polars"] == 1.5
