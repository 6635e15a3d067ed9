"""Fixtures for the scoring tests: the golden month (tests/scoring/golden_inputs.py) and rules."""

from __future__ import annotations

import pytest

from scoring.inputs import ScoringInputs
from scoring.rules import DEFAULT_RULES_PATH, load_rules
from tests.scoring.golden_inputs import golden_inputs


@pytest.fixture
def golden() -> ScoringInputs:
    return golden_inputs()


@pytest.fixture(scope="session")
def rules_text() -> str:
    return DEFAULT_RULES_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def rules(rules_text):
    return load_rules(rules_text)
