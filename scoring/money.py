"""Decimal helpers for points and pay: exact arithmetic, one rounding at the end."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def round_money(x: Decimal) -> Decimal:
    """Round to 0.01 with ROUND_HALF_UP (the only rounding pay goes through)."""
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def metric_decimal(x: float | int | None) -> Decimal | None:
    """A metric value as Decimal for comparison with rules thresholds (floats via repr)."""
    if x is None:
        return None
    if isinstance(x, float):
        if x != x:  # NaN
            return None
        return Decimal(repr(x))
    return Decimal(x)
