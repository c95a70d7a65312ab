"""Patterns for the IACF: trend across windows, weekday and session concentration, old N codes."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from chronic_na.attendance import (
    Session,
    SessionMark,
    TrendKind,
    analyse_pattern,
    analyse_patterns,
)
from chronic_na.errors import InvalidInput
from chronic_na.records import PatternKind, PatternsItem

START = dt.date(2025, 9, 1)  # a Monday


def school_days(weeks: int) -> list[dt.date]:
    return [START + dt.timedelta(days=7 * w + d) for w in range(weeks) for d in range(5)]


def register(weeks: int, absent: object) -> list[SessionMark]:
    """One pupil; ``absent(day, session)`` says whether a session is missed (code O)."""
    marks = []
    for day in school_days(weeks):
        for session in Session:
            present = "/" if session is Session.AM else "\\"
            code = "O" if absent(day, session) else present  # type: ignore[operator]
            marks.append(SessionMark("P000042", day, session, code))
    return marks


def pattern(marks: list[SessionMark], weeks: int, **options: object):  # type: ignore[no-untyped-def]
    as_of = school_days(weeks)[-1]
    return analyse_pattern(marks, pupil="P000042", as_of=as_of, **options)  # type: ignore[arg-type]


def test_sudden_deterioration_after_good_attendance() -> None:
    cut = START + dt.timedelta(weeks=12)
    result = pattern(register(16, lambda day, s: day >= cut and day.weekday() != 0), 16)
    assert result.trend is TrendKind.SUDDEN_DETERIORATION
    assert [w.summary.possible for w in result.windows] == [40, 40, 40, 40]
    assert result.baseline is not None
    assert result.baseline.attendance_rate == 1
    assert result.latest is not None
    assert result.latest.summary.attendance_rate == Fraction(1, 5)
    assert all(w.start.weekday() < 5 and w.end.weekday() < 5 for w in result.windows)
    assert "(24 Nov 2025 to 19 Dec 2025)" in result.describe()
    assert "fell from 100.0%" in result.describe()
    assert "sudden deterioration" in result.describe()


def test_long_standing_when_every_window_is_below_90_percent() -> None:
    result = pattern(register(12, lambda day, s: day.weekday() in (0, 4)), 12)
    assert result.trend is TrendKind.LONG_STANDING
    assert result.concentrated_weekdays == (0, 4)
    text = result.describe()
    assert "long-standing" in text
    assert "Mondays and Fridays" in text


def test_no_clear_pattern_and_insufficient_data() -> None:
    steady = pattern(register(12, lambda day, s: False), 12)
    assert steady.trend is TrendKind.NO_CLEAR_PATTERN
    assert steady.concentrated_weekdays == ()
    short = pattern(register(3, lambda day, s: True), 3)
    assert short.trend is TrendKind.INSUFFICIENT_DATA
    assert "too few school weeks" in short.describe()


def test_afternoon_concentration() -> None:
    result = pattern(register(8, lambda day, s: s is Session.PM and day.day % 2 == 0), 8)
    assert result.concentrated_sessions == (Session.PM,)
    assert "afternoon sessions" in result.describe()


def test_n_codes_unresolved_more_than_five_school_days() -> None:
    marks = register(4, lambda day, s: False)
    days = school_days(4)
    old, recent = days[5], days[-3]
    marks = [
        SessionMark(m.pupil, m.date, m.session, "N")
        if m.date in (old, recent) and m.session is Session.AM
        else m
        for m in marks
    ]
    result = pattern(marks, 4)
    assert result.unresolved_n_count == 1
    assert result.unresolved_n[0].date == old
    assert result.unresolved_n[0].school_days_since == len(days) - 1 - 5
    assert "1 session still coded N" in result.describe()


def test_boundary_exactly_five_school_days_is_not_flagged() -> None:
    days = school_days(2)
    marks = [SessionMark("P000042", d, "AM", "N" if d == days[-6] else "/") for d in days]
    assert pattern(marks, 2).unresolved_n_count == 0
    marks = [SessionMark("P000042", d, "AM", "N" if d == days[-7] else "/") for d in days]
    assert pattern(marks, 2).unresolved_n_count == 1


def test_patterns_for_several_pupils_use_the_whole_register_calendar() -> None:
    marks = [*register(8, lambda day, s: False), SessionMark("P000001", START, "AM", "I")]
    results = analyse_patterns(marks, as_of=school_days(8)[-1])
    assert set(results) == {"P000001", "P000042"}
    assert results["P000001"].trend is TrendKind.INSUFFICIENT_DATA
    assert len(results["P000001"].windows) == len(results["P000042"].windows)


def test_describe_names_no_one_and_quotes_no_free_text() -> None:
    text = pattern(register(16, lambda day, s: day.weekday() == 0), 16).describe()
    assert "P000042" not in text


def test_bad_options_are_refused() -> None:
    with pytest.raises(InvalidInput, match="weeks_per_window"):
        pattern(register(2, lambda d, s: False), 2, weeks_per_window=0)


def test_a_pattern_becomes_the_iacf_patterns_item() -> None:
    """The register's pattern fills the IACF's patterns item: the trend decides the
    kind; otherwise concentrated absence is a recurring pattern; the description is
    the neutral describe() text."""
    cut = START + dt.timedelta(weeks=12)
    cases = [
        (register(16, lambda day, s: day >= cut and day.weekday() != 0), 16,
         PatternKind.SUDDEN_DETERIORATION),
        (register(12, lambda day, s: day.weekday() in (0, 4)), 12, PatternKind.LONG_STANDING),
        (register(8, lambda day, s: s is Session.PM and day.day % 2 == 0), 8,
         PatternKind.LONG_STANDING),  # a trend and a concentration: the trend decides
        (register(12, lambda day, s: s is Session.PM and day.weekday() == 2
                  and (day - START).days // 7 % 2 == 0), 12, PatternKind.PATTERN),
        (register(12, lambda day, s: False), 12, PatternKind.NO_CLEAR_PATTERN),
        (register(3, lambda day, s: True), 3, PatternKind.NO_CLEAR_PATTERN),
    ]  # fmt: skip
    for marks, weeks, kind in cases:
        found = pattern(marks, weeks)
        item = PatternsItem.from_attendance_pattern(found)
        assert (item.kind, item.description) == (kind, found.describe())
    with pytest.raises(InvalidInput):
        PatternsItem.from_attendance_pattern("long-standing")  # type: ignore[arg-type]
