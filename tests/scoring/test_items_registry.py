"""The KPI item registry (scoring/items/): discovery, default payroll columns, typed rules."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from scoring import PAYROLL_COLUMNS, score_month
from scoring.items import ITEM_MODULES_ENV, RegistryError, item_registry
from scoring.payroll import PAYROLL_SCHEMA, payroll_schema
from scoring.rules import Rules, RulesError, load_rules
from tests.scoring.golden_inputs import A3, M


def test_the_six_shipped_items_are_discovered(rules):
    assert sorted(item_registry()) == ["attendance", "complaints", "cooperation", "execution", "quality", "refund_rate"]
    assert list(rules.kpi_items) == ["quality", "refund_rate", "complaints", "cooperation", "execution", "attendance"]
    assert type(rules.items["refund_rate"]).__name__ == "RefundRules"


def test_block_label_defaults_to_the_modules_label(rules_text):
    rules = load_rules(rules_text.replace("    label: 出勤率\n", "", 1))
    assert rules.items["attendance"].label == "出勤率" == rules.kpi_items["attendance"].label


def test_default_scheme_keeps_todays_payroll_columns(rules):
    assert payroll_schema(rules) == PAYROLL_SCHEMA and list(payroll_schema(rules)) == PAYROLL_COLUMNS


def test_rules_object_forwards_nothing(rules):
    assert not hasattr(Rules, "__getattr__")
    with pytest.raises(AttributeError):
        rules.no_such_block  # noqa: B018


def test_bad_item_module_setting_is_a_rules_error(rules_text, monkeypatch):
    monkeypatch.setenv(ITEM_MODULES_ENV, "no_such_module_kefu")
    with pytest.raises(RegistryError):
        item_registry()
    with pytest.raises(RulesError) as exc:
        load_rules(rules_text)
    assert exc.value.problems[0].startswith("items: KEFU_ITEM_MODULES: 无法导入考核项目模块 no_such_module_kefu")


def test_an_item_without_points_and_without_a_reason_blocks_pay(golden, rules):
    """A (buggy) item that returns no points never counts as 0: the agent is incomplete."""
    item = rules.kpi_items["execution"]

    def silent(ctx, block):
        res = item.score(ctx, block)
        res.scores[A3].points = None
        return res

    rules2 = replace(rules, kpi_items={**rules.kpi_items, "execution": replace(item, score=silent)})
    row = score_month(golden, rules2, M).payroll.filter(pl.col("agent") == A3).row(0, named=True)
    assert (row["status"], row["execution_pts"], row["salary"]) == ("incomplete", None, None)
    assert "执行力: 未能计分" in row["status_reason"]


def test_an_agent_an_item_leaves_out_is_incomplete(golden, rules):
    """An item that returns no score for an agent makes that agent incomplete, not 0."""
    item = rules.kpi_items["cooperation"]

    def partial(ctx, block):
        res = item.score(ctx, block)
        del res.scores[A3]
        return res

    rules2 = replace(rules, kpi_items={**rules.kpi_items, "cooperation": replace(item, score=partial)})
    row = score_month(golden, rules2, M).payroll.filter(pl.col("agent") == A3).row(0, named=True)
    assert (row["status"], row["cooperation_pts"]) == ("incomplete", None) and "配合度: 未计分" in row["status_reason"]
