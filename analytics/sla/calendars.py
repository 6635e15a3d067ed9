"""Business calendars for SLA clocks: 24×7, or working hours with China's statutory
holidays and 调休 make-up workdays.

Times are naive China local time (see docs/architecture.md). A calendar answers two
questions: ``deadline(start, us)`` — the earliest instant at which ``us`` microseconds of
calendar time have accumulated since ``start`` — and ``elapsed_us(a, b)`` — calendar
microseconds in ``[a, b)`` (negative when ``b < a``). Integer microseconds keep
"exactly on the deadline" exact.

Statutory holidays come from the ``chinese-calendar`` package (``chinese_calendar``),
which knows the years the State Council has published (2004 up to its release; 1.11.0
covers 2004–2026). For a year it lacks, ``unknown_years`` decides: ``"weekdays"``
(default) counts Monday–Friday as workdays and records the year in ``uncovered_years``
so reports can say so; ``"error"`` raises. ``extra_holidays`` / ``extra_workdays``
override single dates (e.g. to enter next year's schedule before the package is updated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

US_PER_HOUR = 3_600_000_000
_MAX_DAYS = 3660  # a deadline search never walks more than ~10 years


class CalendarError(ValueError):
    """A calendar cannot answer (year without holiday data and unknown_years='error')."""


def _us(td: timedelta) -> int:
    return (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds


@dataclass(frozen=True)
class TwentyFourSeven:
    """Every instant counts. The engine uses polars expressions for this calendar."""

    name: str = "24x7"
    is_24x7: bool = True

    def deadline(self, start: datetime, us: int) -> datetime:
        return start + timedelta(microseconds=us)

    def elapsed_us(self, a: datetime, b: datetime) -> int:
        return _us(b - a)

    def notes(self) -> list[str]:
        return []


@lru_cache(maxsize=None)
def _china_workday(d: date) -> bool | None:
    """chinese_calendar's answer for ``d``, or None when it has no data for that year."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(d))
    except NotImplementedError:
        return None


@dataclass
class WorkingHours:
    """Working windows on workdays, e.g. ``[(08:30, 12:00), (13:30, 17:30)]``.

    Workday rule, first match wins: ``extra_workdays`` → workday; ``extra_holidays`` →
    not; China statutory calendar (if ``china_holidays``) → its answer (holidays off,
    调休 Saturdays/Sundays on); otherwise Monday–Friday."""

    windows: tuple[tuple[time, time], ...]
    name: str = "working_hours"
    china_holidays: bool = True
    unknown_years: str = "weekdays"  # or "error"
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    is_24x7: bool = False
    uncovered_years: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not self.windows:
            raise CalendarError("工作时间日历至少需要一个时间段")
        prev_end = None
        for ws, we in self.windows:
            if we <= ws or (prev_end is not None and ws < prev_end):
                raise CalendarError(f"工作时间段必须按时间顺序且不重叠: {ws}-{we}")
            prev_end = we
        if self.unknown_years not in ("weekdays", "error"):
            raise CalendarError(f"unknown_years 只能是 weekdays 或 error: {self.unknown_years}")

    def is_workday(self, d: date) -> bool:
        if d in self.extra_workdays:
            return True
        if d in self.extra_holidays:
            return False
        if self.china_holidays:
            known = _china_workday(d)
            if known is not None:
                return known
            if self.unknown_years == "error":
                raise CalendarError(f"chinese-calendar 没有 {d.year} 年的法定节假日数据")
            self.uncovered_years.add(d.year)
        return d.weekday() < 5

    def _day_windows(self, d: date) -> list[tuple[datetime, datetime]]:
        if not self.is_workday(d):
            return []
        return [(datetime.combine(d, ws), datetime.combine(d, we)) for ws, we in self.windows]

    def elapsed_us(self, a: datetime, b: datetime) -> int:
        if b < a:
            return -self.elapsed_us(b, a)
        total = 0
        d = a.date()
        while d <= b.date():
            for ws, we in self._day_windows(d):
                lo, hi = max(ws, a), min(we, b)
                if hi > lo:
                    total += _us(hi - lo)
            d += timedelta(days=1)
        return total

    def deadline(self, start: datetime, us: int) -> datetime:
        if us <= 0:
            return start
        left = us
        d = start.date()
        for _ in range(_MAX_DAYS):
            for ws, we in self._day_windows(d):
                lo = max(ws, start)
                if we <= lo:
                    continue
                avail = _us(we - lo)
                if left <= avail:  # lands exactly on a window end -> that end, not next morning
                    return lo + timedelta(microseconds=left)
                left -= avail
            d += timedelta(days=1)
        raise CalendarError(f"{start} 之后 {_MAX_DAYS} 天内没有足够的工作时间")

    def notes(self) -> list[str]:
        return [
            f"{y} 年没有法定节假日/调休数据(chinese-calendar 未收录), 按周一至周五为工作日计算"
            for y in sorted(self.uncovered_years)
        ]


Calendar = TwentyFourSeven | WorkingHours


def parse_windows(specs: list[str]) -> tuple[tuple[time, time], ...]:
    """['08:30-12:00', '13:30-17:30'] -> ((08:30, 12:00), (13:30, 17:30)). '24:00' ends a day."""
    out = []
    for s in specs:
        try:
            a, b = (x.strip() for x in s.split("-"))
            ta = time.fromisoformat(a)
            tb = time.max if b == "24:00" else time.fromisoformat(b)
        except ValueError as e:
            raise CalendarError(f"工作时间段格式应为 HH:MM-HH:MM: {s!r}") from e
        out.append((ta, tb))
    return tuple(out)
