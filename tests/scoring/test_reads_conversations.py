"""Scoring reads the month's conversations only for the refund rate with scope: agent."""

import polars as pl

from pipelines.monthly import scoring_inputs
from scoring.inputs import reads_conversations
from scoring.rules import load_rules


def test_only_the_agent_refund_rate_reads_conversations(rules_text):
    assert reads_conversations(load_rules(rules_text)) is False  # the shipped rules: scope shop
    assert reads_conversations(load_rules(rules_text.replace("    scope: shop\n", "    scope: agent\n"))) is True


class _Build:
    """The two methods scoring_inputs calls, recording the big tables scanned."""

    def __init__(self):
        self.scanned: list[str] = []

    def read(self, table):
        return None

    def scan(self, table):
        self.scanned.append(table)
        if table != "conversations":
            return None
        return pl.LazyFrame({"conversation_id": ["c1"], "agent_account": ["a"], "buyer": ["b"], "month": ["2026-10"]})


def test_scoring_inputs_scan_conversations_only_when_asked():
    build = _Build()
    skipped = scoring_inputs(build, conversations=False)
    assert "conversations" not in build.scanned and skipped.conversations is None
    build = _Build()
    read = scoring_inputs(build, conversations=True)
    assert "conversations" in build.scanned and read.conversations["conversation_id"].to_list() == ["c1"]
