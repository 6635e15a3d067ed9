"""The scoring step's two memory cuts (docs/architecture.md "Memory between steps") give the
same results as before: the evidence index without its copy, the quality item's evidence ids
sorted on three columns only."""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from scoring import score_month
from scoring.evidence import evidence_index
from scoring.inputs import scoring_frames
from scoring.rules import DEFAULT_RULES_PATH, load_rules
from tests.scoring.golden_inputs import M, golden_inputs


def test_evidence_index_keeps_the_first_row_of_a_repeated_id():
    golden = golden_inputs()
    plain = evidence_index(scoring_frames(golden), M)
    assert plain["evidence_id"].n_unique() == plain.height  # the usual case: nothing to drop
    repeated = golden.evidence.head(2).with_columns(pl.lit("repeated row").alias("excerpt"))
    dup = evidence_index(scoring_frames(replace(golden, evidence=pl.concat([golden.evidence, repeated]))), M)
    assert dup.equals(plain)  # the later rows of a repeated id are dropped, the order kept
    # the old formula, for the record
    assert dup.equals(pl.concat([plain, plain.head(2)]).unique("evidence_id", keep="first", maintain_order=True))


def test_quality_evidence_ids_do_not_depend_on_the_evidence_row_order():
    golden, rules = golden_inputs(), load_rules(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    ids = score_month(golden, rules, M).kpi_items.filter(pl.col("item") == "quality").select("agent_account", "evidence_ids")
    assert ids["evidence_ids"].list.len().sum() > 0
    shuffled = replace(golden, evidence=golden.evidence.sample(fraction=1.0, shuffle=True, seed=7))
    again = score_month(shuffled, rules, M).kpi_items.filter(pl.col("item") == "quality").select("agent_account", "evidence_ids")
    assert again.equals(ids)
    expected = (golden.evidence.filter(pl.col("kind").is_in(["slow_response", "unanswered", "forbidden_word", "knowledge_gap"]))
                .sort("at", "evidence_id").group_by("agent_account", maintain_order=True).agg("evidence_id"))
    got = dict(zip(ids["agent_account"], ids["evidence_ids"].to_list(), strict=True))
    for agent, evidence_ids in expected.iter_rows():
        assert got[agent] == evidence_ids
