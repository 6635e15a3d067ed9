"""Reader registry: every module in this package that defines a ``Reader`` subclass with a
``layout`` is registered. Adding an export layout = adding one module here."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from functools import cache

from pipelines.io.encoding import UndecodableFile
from pipelines.io.source import UnreadableFile

from .base import Batch, MissingColumns, Reader

__all__ = ["Batch", "MissingColumns", "Reader", "SniffError", "detect", "get", "registry", "resembling"]

# What a sniff may legitimately meet in a file of another layout: undecodable or
# unreadable content. Anything else is a reader bug and must not hide the file.
EXPECTED_SNIFF_ERRORS = (UnreadableFile, UndecodableFile)


class SniffError(RuntimeError):
    """A reader's ``sniff``/``diagnose`` crashed on a file (a bug, named, never 'unrecognised')."""


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
        scores.append((layout, float(_safe(layout, r.sniff, src, 0.0))))
    scores.sort(key=lambda t: -t[1])
    if scores and scores[0][1] >= 0.5:
        return registry()[scores[0][0]], scores
    return None, scores


def resembling(src) -> tuple[Reader, list[str]] | None:
    """For a file :func:`detect` did not recognise: the layout it most resembles (>= 0.5)
    and the required columns it lacks (export header names), or None (truly unknown)."""
    best: tuple[float, Reader, list[str]] | None = None
    for layout, r in registry().items():
        share, missing = _safe(layout, r.diagnose, src, (0.0, []))
        if share >= 0.5 and missing and (best is None or share > best[0]):
            best = (share, r, missing)
    return (best[1], best[2]) if best else None


def _safe(layout: str, fn, src, fallback):
    """``fn(src)``; ``fallback`` on an undecodable/unreadable file, :class:`SniffError` on a crash."""
    try:
        return fn(src)
    except EXPECTED_SNIFF_ERRORS:
        return fallback
    except Exception as e:
        raise SniffError(f"识别格式 {layout} 时出错 ({type(e).__name__}: {e})") from e
