"""Rules file validation: each bad file is an error naming the key."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from scoring.rules import RulesError, load_rules

COOP = "  cooperation:\n    label: 配合度\n    max_points: 20\n    grade_points: {优: 20, 良: 15, 中: 10, 差: 0}"


def problems(text: str) -> list[str]:
    with pytest.raises(RulesError) as exc:
        load_rules(text)
    return exc.value.problems


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_default_rules_encode_the_policy(rules):
    assert rules.version == 1 and len(rules.hash) == 64
    assert rules.total_points == 130
    assert [rules.items[k].max_points for k in ("quality", "refund_rate", "complaints", "cooperation", "execution", "attendance")] == [20, 30, 20, 20, 20, 20]
    assert [(b.upper, b.points, b.assumption) for b in rules.items["refund_rate"].shop_bands] == [
        (D("0.05"), 30, False), (D("0.10"), 20, True), (D("0.15"), 10, True), (None, 0, True)
    ]  # fmt: skip
    assert rules.items["refund_rate"].scope == "shop"
    assert "须由店铺确认" in rules.items["refund_rate"].assumption_note
    assert dict(rules.base_salary) == {"普通售后客服": 2000, "高级售后客服": 2500, "售后组长": 3000}
    assert rules.gate.pass_ratio * rules.total_points == 91
    assert rules.options.cap_kpi_bonus and not rules.options.count_praise_candidates and rules.options.pro_rating == "none"
    att = rules.items["attendance"]
    assert {k: att.status_map[k] for k in ("严重迟到", "旷工迟到", "早退", "缺卡")} == {
        "严重迟到": "late", "旷工迟到": "late", "早退": "early", "缺卡": "missing_punch"
    }  # fmt: skip
    assert dict(att.penalties) == {"late": 5, "leave": 5, "absent": 10, "early": 0, "missing_punch": 0}
    assert (rules.deductions.verified_complaint.min, rules.deductions.verified_complaint.max) == (5, 20)
    assert (rules.bonuses.outstanding.min, rules.bonuses.outstanding.max) == (2, 5)


def test_unknown_key(rules_text):
    assert problems(edit(rules_text, "  cap_kpi_bonus: true", "  cap_kpi_bonus: true\n  cap_bonus: 5")) == [
        "options.cap_bonus: unknown key (未知的键)"
    ]
    assert problems(edit(rules_text, "    floor: 0 ", "    floor: 0\n    flor: 1 ")) == ["items.attendance.flor: unknown key (未知的键)"]


def test_wrong_type(rules_text):
    assert problems(edit(rules_text, "max_points: 30", "max_points: thirty")) == [
        "items.refund_rate.max_points: Input should be a valid decimal (got 'thirty')"
    ]
    (msg,) = problems(edit(rules_text, "cap_kpi_bonus: true", "cap_kpi_bonus: maybe"))
    assert msg.startswith("options.cap_kpi_bonus: Input should be a valid boolean")


def test_overlapping_bands(rules_text):
    assert problems(edit(rules_text, "{lower: 0.10, upper: 0.15, points: 10", "{lower: 0.08, upper: 0.15, points: 10")) == [
        "items.refund_rate.shop_bands[2].lower: 0.08 overlaps band [1] which ends at 0.10"
    ]


def test_band_gap(rules_text):
    assert problems(edit(rules_text, "{lower: 0.50, upper: 0.70, points: 10", "{lower: 0.55, upper: 0.70, points: 10")) == [
        "items.refund_rate.agent_bands[2].lower: gap between 0.50 and 0.55 (band [1] ends at 0.50)"
    ]


def test_band_table_must_cover_all_rates_and_reach_max(rules_text):
    (msg,) = problems(edit(rules_text, "{lower: 0.15, upper: null, points: 0,", "{lower: 0.15, upper: 0.5, points: 0,"))
    assert msg.startswith("items.refund_rate.shop_bands[3].upper: the last band must be open-ended")
    assert problems(edit(rules_text, "{lower: 0,    upper: 0.05, points: 30}", "{lower: 0,    upper: 0.05, points: 25}")) == [
        "items.refund_rate.shop_bands: best band gives 25 points, not the item maximum 30"
    ]


def test_grade_table_not_reaching_max(rules_text):
    assert problems(edit(rules_text, COOP, COOP.replace("优: 20", "优: 18"))) == [
        "items.cooperation.grade_points.优: the grade table tops out at 18, not the item maximum 20"
    ]


def test_other_consistency_checks(rules_text):
    assert problems(edit(rules_text, "total_points: 130", "total_points: 120")) == [
        "total_points: 120 but the items' max_points add up to 130"
    ]
    assert problems(edit(rules_text, COOP, COOP.replace("良: 15", "良: 14.999"))) == [
        "items.cooperation.grade_points.良: points are kept to 0.01; 14.999 has more decimal places"
    ]
    assert problems(edit(rules_text, "  售后组长: 3000\n", "")) == ["base_salary: missing role(s): 售后组长"]
    assert problems(edit(rules_text, "min: {within_deadline_rate: 0.6}", "min: {within_deadline_rate: 0.9}")) == [
        "items.complaints.suggest.良.min.within_deadline_rate: 0.8 is looser than 中.min.within_deadline_rate (0.9)"
    ]
    (msg,) = problems(edit(rules_text, "  cap_kpi_bonus: true", "  cap_kpi_bonus: true\n  cap_kpi_bonus: false"))
    assert msg.startswith("cap_kpi_bonus: duplicate key")


def test_hash_ignores_formatting_but_not_content(rules, rules_text):
    assert load_rules("# a new comment\n" + rules_text).hash == rules.hash
    assert load_rules(rules_text.replace("deadline_hours: 24", "deadline_hours: 48")).hash != rules.hash


def test_item_blocks_are_checked_against_the_item_registry(rules_text):
    toy = "  training:\n    label: 培训考试\n    max_points: 10\n\n"
    assert problems(edit(rules_text, "\ndeductions:", "\n" + toy + "deductions:").replace("total_points: 130", "total_points: 140")) == [
        "items.training: unknown KPI item (未知的考核项目; known: attendance, complaints, cooperation, execution, quality, refund_rate)"
    ]
    # a block left out disables its item; the maxima must still add up to total_points
    without = edit(rules_text, COOP + "\n", "")
    assert problems(without) == ["total_points: 130 but the items' max_points add up to 110"]
    rules = load_rules(without.replace("total_points: 130", "total_points: 110"))
    assert list(rules.items) == ["quality", "refund_rate", "complaints", "execution", "attendance"]
    assert list(rules.kpi_items) == list(rules.items)
