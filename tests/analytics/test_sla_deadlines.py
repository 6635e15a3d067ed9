"""Deadlines and calendars, worked out by hand.

2026 facts used (chinese-calendar 1.11.0, checked against the State Council notice):
National Day holiday 2026-10-01..10-07; make-up workdays (调休) Sun 2026-09-20 and
Sat 2026-10-10; 2026-10-17/18 an ordinary weekend.
"""

from datetime import date, datetime as D

import polars as pl
import pytest

from analytics.sla.calendars import CalendarError, WorkingHours, parse_windows
from analytics.sla.deadlines import deadline_status

H = 3_600_000_000  # microseconds per hour
OFFICE = parse_windows(["08:30-12:00", "13:30-17:30"])  # 7.5 h a day


def office(**kw) -> WorkingHours:
    return WorkingHours(windows=OFFICE, **kw)


def status_frame(starts, stops, target_h, cal, as_of):
    df = pl.DataFrame({"s": starts, "e": stops}, schema={"s": pl.Datetime("us"), "e": pl.Datetime("us")})
    return df.select(deadline_status(pl.col("s"), pl.col("e"), target_h, cal, as_of).alias("d")).unnest("d")


def test_exactly_on_deadline_is_met_and_one_second_late_is_breached():
    s = D(2026, 10, 5, 9)
    out = status_frame([s, s], [D(2026, 10, 6, 9), D(2026, 10, 6, 9, 0, 1)], 24, None, D(2026, 11, 1))
    assert out["deadline"].to_list() == [D(2026, 10, 6, 9)] * 2
    assert out["status"].to_list() == ["met", "breached"]
    assert out["elapsed_s"].to_list() == [86400.0, 86401.0]
    # met is decided at the stop, breached at the deadline
    assert out["decided_at"].to_list() == [D(2026, 10, 6, 9), D(2026, 10, 6, 9)]


def test_open_clock_is_running_until_its_deadline_passes():
    s = D(2026, 10, 31, 18)  # 24 h clock -> deadline 2026-11-01 18:00
    month_end = D(2026, 11, 1)
    out = status_frame([s, D(2026, 10, 30, 18)], [None, None], 24, None, month_end)
    assert out["status"].to_list() == ["running", "breached"]
    assert out["remaining_s"].to_list() == [18 * 3600.0, -6 * 3600.0]
    assert out["decided_at"].to_list() == [None, D(2026, 10, 31, 18)]
    # exactly at the deadline it is still running
    at_deadline = status_frame([s], [None], 24, None, D(2026, 11, 1, 18))
    assert at_deadline["status"].to_list() == ["running"]


def test_stop_after_as_of_is_not_yet_known():
    # arrived 2026-11-01 10:00, but the October report (as of 11-01 00:00) must not know it
    out = status_frame([D(2026, 10, 31, 20)], [D(2026, 11, 1, 10)], 24, None, D(2026, 11, 1))
    assert out["status"].to_list() == ["running"]
    assert out["elapsed_s"].to_list() == [4 * 3600.0]


def test_missing_start_gives_null_status():
    out = status_frame([None], [D(2026, 10, 2)], 24, None, D(2026, 11, 1))
    assert out["status"].to_list() == [None]


def test_series_in_series_out_with_per_row_targets():
    s = pl.Series([D(2026, 10, 5, 9), D(2026, 10, 5, 9)], dtype=pl.Datetime("us"))
    e = pl.Series([D(2026, 10, 5, 20), D(2026, 10, 5, 20)], dtype=pl.Datetime("us"))
    out = deadline_status(s, e, pl.Series([12.0, 10.0]), None, D(2026, 11, 1))
    assert isinstance(out, pl.Series)
    assert [r["status"] for r in out.to_list()] == ["met", "breached"]


def test_working_hours_across_a_weekend():
    cal = office()
    # Fri 16:30 + 4 working hours: 1 h on Friday, weekend off, 3 h Monday from 08:30
    assert cal.deadline(D(2026, 10, 16, 16, 30), 4 * H) == D(2026, 10, 19, 11, 30)
    assert cal.elapsed_us(D(2026, 10, 16, 16, 30), D(2026, 10, 19, 11, 30)) == 4 * H


def test_working_hours_across_national_day_holiday():
    cal = office()
    # Wed 09-30 16:00 + 8 h: 1.5 h on 09-30, 10-01..07 holiday, 6.5 h on Thu 10-08 -> 16:30
    assert cal.deadline(D(2026, 9, 30, 16), 8 * H) == D(2026, 10, 8, 16, 30)
    assert cal.elapsed_us(D(2026, 9, 30, 17), D(2026, 10, 8, 9)) == 1 * H
    assert not cal.is_workday(date(2026, 10, 5))  # a Monday inside the holiday


def test_working_hours_on_a_tiaoxiu_saturday():
    cal = office()
    # Fri 10-09 16:00 + 4 h: 1.5 h Friday, Sat 10-10 is a make-up workday -> 11:00 Saturday
    assert cal.is_workday(date(2026, 10, 10)) and cal.is_workday(date(2026, 9, 20))
    assert cal.deadline(D(2026, 10, 9, 16), 4 * H) == D(2026, 10, 10, 11)
    # without the statutory calendar the same clock runs to Monday
    plain = office(china_holidays=False)
    assert plain.deadline(D(2026, 10, 9, 16), 4 * H) == D(2026, 10, 12, 11)


def test_deadline_on_a_window_end_is_that_end_not_next_morning():
    cal = office()
    assert cal.deadline(D(2026, 10, 12, 8, 30), int(7.5 * H)) == D(2026, 10, 12, 17, 30)
    # a clock started in the lunch break begins at 13:30
    assert cal.deadline(D(2026, 10, 12, 12, 15), 1 * H) == D(2026, 10, 12, 14, 30)


def test_working_hours_status_through_deadline_status():
    cal = office()
    s = D(2026, 10, 9, 16)  # deadline Sat 10-10 11:00 (see above)
    out = status_frame([s, s], [D(2026, 10, 10, 11), D(2026, 10, 10, 11, 0, 1)], 4, cal, D(2026, 11, 1))
    assert out["deadline"].to_list() == [D(2026, 10, 10, 11)] * 2
    assert out["status"].to_list() == ["met", "breached"]
    assert out["elapsed_s"].to_list() == [4 * 3600.0, 4 * 3600.0 + 1]
    # open on Friday 17:00 (as_of): 1 h elapsed, 3 h left
    running = status_frame([s], [None], 4, cal, D(2026, 10, 9, 17))
    assert running.row(0, named=True)["status"] == "running"
    assert running["remaining_s"].to_list() == [3 * 3600.0]


def test_year_without_holiday_data():
    cal = office()
    # 2030: chinese-calendar 1.11.0 has no data -> Mon-Fri, and the year is noted
    assert cal.deadline(D(2030, 1, 4, 17), 1 * H) == D(2030, 1, 7, 9)  # Fri -> Mon
    assert cal.uncovered_years == {2030}
    assert "2030" in cal.notes()[0]
    strict = office(unknown_years="error")
    with pytest.raises(CalendarError):
        strict.deadline(D(2030, 1, 4, 17), 1 * H)


def test_extra_holidays_and_workdays_override():
    cal = office(extra_holidays=frozenset({date(2026, 10, 12)}), extra_workdays=frozenset({date(2026, 10, 11)}))
    assert cal.is_workday(date(2026, 10, 11)) and not cal.is_workday(date(2026, 10, 12))


def test_bad_windows_rejected():
    with pytest.raises(CalendarError):
        WorkingHours(windows=parse_windows(["13:00-12:00"]))
    with pytest.raises(CalendarError):
        parse_windows(["8点-12点"])
