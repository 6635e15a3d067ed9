"""Value formatting shared by the HTML and Excel renderers (Decimal money, points, rates)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import polars as pl

from .labels import (  # noqa: F401 - re-exported: the one label table lives in labels.py
    ADJUSTMENT_ITEM_LABELS,
    KIND_LABELS,
    LEXICON_LABELS,
    PAYROLL_HEADERS,
    STATUS_LABELS,
    metric_kind,
)

CENT = Decimal("0.01")

MONEY_COLS = ("kpi_bonus", "base_salary", "salary")
POINT_COLS = (
    "quality_pts", "refund_pts", "complaint_pts", "cooperation_pts", "execution_pts",
    "attendance_pts", "deductions", "bonuses", "total_score",
)
# Text starting with one of these is a formula to a spreadsheet: same set as payroll.csv
# (scoring.payroll); such cells get a leading ' in every xlsx/csv we write.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(s: str) -> str:
    """``'`` + s when s would start a spreadsheet formula (as payroll.csv does), else s."""
    return "'" + s if s.startswith(FORMULA_START) else s


def to_decimal(v: object) -> Decimal | None:
    """Decimal (2 places, ROUND_HALF_UP) from a Decimal, a decimal string or a number; None if absent."""
    if v is None or v == "":
        return None
    try:
        d = v if isinstance(v, Decimal) else Decimal(str(v).strip())
    except (InvalidOperation, ValueError):
        return None
    if not d.is_finite():
        return None
    return d.quantize(CENT, rounding=ROUND_HALF_UP)


def money(v: object) -> str:
    """``¥1,234.50`` or ``—``."""
    d = to_decimal(v)
    return "—" if d is None else f"¥{d:,.2f}"


def points(v: object) -> str:
    """Points without useless decimals: ``20``, ``17.5``, ``-5``; ``—`` if absent."""
    d = to_decimal(v)
    if d is None:
        return "—"
    s = f"{d:f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def points_float(v: object) -> float | None:
    """Points as float for charts only (never for money)."""
    d = to_decimal(v)
    return None if d is None else float(d)


def rate(v: object, digits: int = 1) -> str:
    """A 0..1 fraction as a percentage: ``0.0425`` → ``4.3%``."""
    if v is None:
        return "—"
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    if f != f:  # NaN
        return "—"
    return f"{100 * f:.{digits}f}%"


def seconds(v: object) -> str:
    """Seconds as ``42 秒`` / ``3分12秒``."""
    if v is None:
        return "—"
    try:
        s = float(v)
    except (TypeError, ValueError):
        return str(v)
    if s != s:
        return "—"
    if s < 60:
        return f"{s:.0f}秒"
    m, r = divmod(round(s), 60)
    if m >= 60:
        h, m = divmod(m, 60)
        return f"{h}小时{m:02d}分"
    return f"{m}分{r:02d}秒"


def _number(v: object, fmt) -> str:
    """``fmt(float(v))``; ``—`` when absent or NaN, the text itself when not a number."""
    if v is None:
        return "—"
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(v)
    return "—" if f != f else fmt(f)


def count(v: object) -> str:
    """Integer count with thousands separators; ``—`` if absent."""
    return _number(v, lambda f: f"{round(f):,}")


def ratio(v: object) -> str:
    """A plain ratio to 2 decimals (答问比 1.23)."""
    return _number(v, lambda f: f"{f:.2f}")


def by_kind(kind: str, v: object) -> str:
    """Format ``v`` by a label kind (see labels.py)."""
    return {"rate": rate, "seconds": seconds, "count": count, "ratio": ratio, "points": points,
            "money": money}.get(kind, plain)(v)


def metric(key: str, v: object) -> str:
    """Format a metric value by its label table entry: 96.3%, 1分02秒, 12."""
    return by_kind(metric_kind(key), v)


def plain(v: object) -> str:
    """Any value as display text (``—`` for None; datetimes to the second; lists joined)."""
    if v is None:
        return "—"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return points(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(plain(x) for x in v)
    return str(v)


def as_bool(v: object) -> bool | None:
    """True/False from a bool or 'true'/'false'/'1'/'0'/'是'/'否'; None otherwise."""
    if v is None:
        return None
    if isinstance(v, bool):
        return v
    s = str(v).strip().lower()
    if s in ("true", "1", "yes", "y", "是", "t"):
        return True
    if s in ("false", "0", "no", "n", "否", "f"):
        return False
    return None


def id_list(v: object) -> list[str]:
    """Evidence ids from a list or a comma-separated string."""
    if v is None:
        return []
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v if x not in (None, "")]
    if hasattr(v, "to_list"):
        return [str(x) for x in v.to_list() if x not in (None, "")]
    return [s.strip() for s in str(v).split(",") if s.strip()]


def _present_ids(col: str, dtype: pl.List) -> pl.Expr:
    """The ids of a list column :func:`id_list` keeps (not null, not empty), as strings."""
    e = pl.element()
    kept = e.filter(e.is_not_null() & (e != "")) if dtype.inner == pl.String else e.filter(e.is_not_null()).cast(pl.String)
    return pl.col(col).list.eval(kept)


def ids_count(col: str, dtype: pl.List = pl.List(pl.String)) -> pl.Expr:
    """``len(id_list(v))`` of each value of a list column, vectorised (0 for null)."""
    return _present_ids(col, dtype).list.len().fill_null(0)


def ids_text(col: str, max_chars: int) -> pl.Expr:
    """The first ``max_chars`` characters of ``", ".join(id_list(v))`` of each value of a
    List(String) column, vectorised (null for null)."""
    return _present_ids(col, pl.List(pl.String)).list.join(", ").str.slice(0, max_chars)
