"""The KPI item registry: one module per item, discovered, enabled by its rules block.

Every module of this package (except ``base`` and names starting with ``_``) and every module
named in the environment setting ``KEFU_ITEM_MODULES`` (comma-separated dotted names, e.g.
``shop_items.training``) must define ``ITEM = KpiItem(...)`` (:mod:`scoring.items.base`). An
item is scored when the rules file has a block with its key under ``items:``; the payroll
columns follow the rules file's item order. See docs/architecture.md "Adding a KPI item".
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from typing import Any

from scoring.items.base import ItemContext, ItemResult, KpiItem, PayrollColumn

ITEM_MODULES_ENV = "KEFU_ITEM_MODULES"

__all__ = ["ITEM_MODULES_ENV", "ItemContext", "ItemResult", "KpiItem", "PayrollColumn", "RegistryError", "item_registry"]


class RegistryError(ValueError):
    """An item module cannot be imported or does not declare a valid ``ITEM``."""


def _module_names() -> list[str]:
    own = [f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if m.name != "base" and not m.name.startswith("_")]
    extra = [n.strip() for n in os.environ.get(ITEM_MODULES_ENV, "").split(",") if n.strip()]
    return sorted(own) + extra


def item_registry() -> dict[str, KpiItem[Any]]:
    """Every known KPI item by key (this package's modules, then ``KEFU_ITEM_MODULES``)."""
    out: dict[str, KpiItem[Any]] = {}
    for name in _module_names():
        try:
            module = importlib.import_module(name)
        except ImportError as e:
            raise RegistryError(f"{ITEM_MODULES_ENV}: 无法导入考核项目模块 {name} ({e})") from None
        item = getattr(module, "ITEM", None)
        if not isinstance(item, KpiItem):
            raise RegistryError(f"考核项目模块 {name} 没有定义 ITEM = KpiItem(...)")
        if item.key in out:
            raise RegistryError(f"考核项目 {item.key} 定义了两次 ({name})")
        out[item.key] = item
    return out
