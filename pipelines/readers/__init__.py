"""Reader registry: every module in this package that defines a ``Reader`` subclass with a
``layout`` is registered. Adding an export layout = adding one module here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from .base import Batch, Reader

__all__ = ["Batch", "Reader", "registry", "get", "detect"]


@cache
def registry() -> dict[str, Reader]:
    found: dict[str, Reader] = {}
    for mod in pkgutil.iter_modules(__path__):
        if mod.name.startswith("_") or mod.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Reader) and obj is not Reader and obj.layout and obj.__module__ == module.__name__:
                if obj.layout in found:
                    raise RuntimeError(f"duplicate reader layout {obj.layout}")
                found[obj.layout] = obj()
    return found


def get(layout: str) -> Reader:
    return registry()[layout]


def detect(src) -> tuple[Reader | None, list[tuple[str, float]]]:
    """Best reader for ``src`` (None if nothing scores >= 0.5) and all scores, best first."""
    scores = []
    for layout, r in registry().items():
        try:
            s = float(r.sniff(src))
        except Exception:
            s = 0.0
        scores.append((layout, s))
    scores.sort(key=lambda t: -t[1])
    if scores and scores[0][1] >= 0.5:
        return registry()[scores[0][0]], scores
    return None, scores
