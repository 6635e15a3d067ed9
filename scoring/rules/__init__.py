"""Scoring rules files: load and validate a versioned YAML text into :class:`Rules`.

The caller reads the file (``DEFAULT_RULES_PATH`` is the shipped default) and passes its
text; nothing here touches the file system.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from scoring.rules.model import GRADE_ORDER, Bonuses, Deductions, Gate, ItemRules, KpiPool, Options, RulesModel

if TYPE_CHECKING:
    from scoring.items import KpiItem

DEFAULT_RULES_PATH = Path(__file__).with_name("default.yaml")

__all__ = ["DEFAULT_RULES_PATH", "GRADE_ORDER", "Rules", "RulesError", "load_rules"]


class RulesError(ValueError):
    """A rules file is invalid; ``problems`` lists ``key.path: message`` lines."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("规则文件无效 (invalid rules file):\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Rules:
    """A validated rules file plus its identity (``version``, ``hash``)."""

    model: RulesModel
    hash: str  # sha256 of the canonical JSON of the parsed rules (formatting/comments do not count)
    text_sha256: str  # sha256 of the exact text given
    # the KPI items this file enables (its ``items:`` blocks), in file order, from the registry
    kpi_items: dict[str, KpiItem[Any]]

    @property
    def version(self) -> int:
        return self.model.version

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def total_points(self) -> Decimal:
        return self.model.total_points

    @property
    def items(self) -> dict[str, ItemRules]:
        """Each enabled item's validated rules block by key (file order)."""
        return self.model.items

    @property
    def deductions(self) -> Deductions:
        return self.model.deductions

    @property
    def bonuses(self) -> Bonuses:
        return self.model.bonuses

    @property
    def gate(self) -> Gate:
        return self.model.gate

    @property
    def kpi_pool(self) -> KpiPool:
        return self.model.kpi_pool

    @property
    def base_salary(self) -> dict[str, Decimal]:
        return {str(role): amount for role, amount in self.model.base_salary.items()}

    @property
    def options(self) -> Options:
        return self.model.options

    @property
    def pass_mark(self) -> Decimal:
        """The pass line in points: ``gate.pass_ratio × total_points`` (compared unrounded)."""
        return self.model.gate.pass_ratio * self.model.total_points


class _DecimalLoader(yaml.SafeLoader):
    """Safe YAML loader reading floats as exact Decimals and refusing duplicate keys."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.Node) -> Decimal:
    assert isinstance(node, yaml.ScalarNode)  # registered for the float tag: always a scalar
    return Decimal(loader.construct_scalar(node).replace("_", ""))


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise RulesError([f"{key}: duplicate key (line {key_node.start_mark.line + 1})"])
        seen[key] = loader.construct_object(value_node, deep=deep)
    return seen


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)
_DecimalLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_LEADING_KEY = re.compile(r"^((?:\[\d+\])?[\w\u4e00-\u9fff]*(?:(?:\.[\w\u4e00-\u9fff]+)|(?:\[\d+\]))*): (.*)$", re.S)


def _format_error(err: Any, prefix: tuple[str | int, ...] = ()) -> str:
    path = ""
    for part in (*prefix, *err["loc"]):
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    m = _LEADING_KEY.match(msg)
    if m and m.group(1):  # the validator named a sub-key: append it to the path
        sub = m.group(1)
        path = path + sub if sub.startswith("[") or not path else f"{path}.{sub}"
        msg = m.group(2)
    if err["type"] == "extra_forbidden":
        msg = "unknown key (未知的键)"
    elif err["type"] == "missing":
        msg = "required key missing (缺少必填项)"
    else:
        got = err.get("input")
        if err["type"].endswith(("_type", "_parsing")) or "valid" in msg and "Input should" in msg:
            msg = f"{msg} (got {got!r})"
    return f"{path or '<root>'}: {msg}"


def load_rules(text: str) -> Rules:
    """Parse and validate rules YAML text; raise :class:`RulesError` naming every bad key."""
    try:
        data = yaml.load(text, Loader=_DecimalLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise RulesError([f"<yaml>: {exc}"]) from exc
    if not isinstance(data, dict):
        raise RulesError(["<root>: the rules file must be a mapping"])
    known, blocks, problems = _item_blocks(data.get("items"))
    try:
        model = RulesModel.model_validate({**data, "items": blocks}, context={"items_invalid": bool(problems)})
    except ValidationError as exc:
        problems += [_format_error(e) for e in exc.errors()]
    if problems:
        raise RulesError(problems)
    canonical = json.dumps(model.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return Rules(
        model=model,
        hash=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
        text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        kpi_items={k: known[k] for k in model.items},
    )


def _item_blocks(raw: object) -> tuple[dict[str, KpiItem[Any]], dict[str, ItemRules], list[str]]:
    """Validate each ``items:`` block with the model its KPI item module declares.

    Returns the registry, the valid blocks in file order and ``items.<key>...: message`` lines."""
    from scoring.items import RegistryError, item_registry  # the item modules import this package

    try:
        known = item_registry()
    except RegistryError as e:
        return {}, {}, [f"items: {e}"]
    if raw is None:
        return known, {}, ["items: required key missing (缺少必填项)"]
    if not isinstance(raw, dict):
        return known, {}, ["items: must be a mapping of KPI item key → rules block"]
    blocks: dict[str, ItemRules] = {}
    problems: list[str] = []
    for key, block in raw.items():
        item = known.get(key)
        if item is None:
            problems.append(f"items.{key}: unknown KPI item (未知的考核项目; known: {', '.join(sorted(known))})")
            continue
        if isinstance(block, dict) and "label" not in block:
            block = {"label": item.label, **block}  # the module's label unless the file renames it
        try:
            blocks[key] = item.rules_model.model_validate(block)
        except ValidationError as exc:
            problems += [_format_error(e, ("items", key)) for e in exc.errors()]
    if not raw:
        problems.append("items: at least one KPI item is required")
    return known, blocks, problems
