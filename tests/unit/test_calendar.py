"""Working days (England and Wales bank holidays) and calendar months."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chronic_na import InvalidInput, Policy, WorkingCalendar

LONDON = ZoneInfo("Europe/London")
CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (dt.date(2026, 12, 25), False),  # Christmas Day
        (dt.date(2026, 12, 28), False),  # Boxing Day (substitute, Monday)
        (dt.date(2026, 12, 29), True),
        (dt.date(2026, 4, 3), False),  # Good Friday
        (dt.date(2026, 4, 6), False),  # Easter Monday
        (dt.date(2026, 8, 31), False),  # Summer bank holiday (England and Wales)
        (dt.date(2026, 8, 3), True),  # Scotland's summer bank holiday is not ours
        (dt.date(2026, 1, 3), False),  # Saturday
        (dt.date(2026, 1, 5), True),
    ],
)
def test_working_days(day: dt.date, working: bool) -> None:
    """Weekends and England and Wales bank holidays are not working days."""
    assert CAL.is_working_day(day) is working


def test_due_skips_christmas() -> None:
    """A contact on Thursday 24 Dec 2026 is due by the end of Tuesday 29 Dec."""
    at = dt.datetime(2026, 12, 24, 16, 0, tzinfo=LONDON)
    assert CAL.due_after_working_days(at, 1) == dt.datetime(2026, 12, 30, tzinfo=LONDON)


def test_due_uses_london_date_not_utc() -> None:
    """23:30 UTC on 31 Mar 2026 is 00:30 on 1 Apr in London (BST): due end of 2 Apr."""
    at = dt.datetime(2026, 3, 31, 23, 30, tzinfo=dt.UTC)
    assert CAL.due_after_working_days(at, 1) == dt.datetime(2026, 4, 3, tzinfo=LONDON)


def test_six_calendar_months_clip_to_month_end() -> None:
    """Started 31 Aug 2026: six months end on 28 Feb 2027 (end of that day)."""
    at = dt.datetime(2026, 8, 31, 10, tzinfo=LONDON)
    assert CAL.due_after_months(at, 6) == dt.datetime(2027, 3, 1, tzinfo=LONDON)


def test_extra_closures_are_not_working_days() -> None:
    """A local closure day is skipped."""
    cal = WorkingCalendar(extra_closures=frozenset({dt.date(2026, 12, 29)}))
    at = dt.datetime(2026, 12, 24, 16, 0, tzinfo=LONDON)
    assert cal.due_after_working_days(at, 1) == dt.datetime(2026, 12, 31, tzinfo=LONDON)


def test_bad_calendar_and_policy_values() -> None:
    """Unknown zones, naive times and negative settings are InvalidInput naming the field."""
    with pytest.raises(InvalidInput, match="timezone"):
        WorkingCalendar(timezone="Mars/Olympus")
    with pytest.raises(InvalidInput, match="instant"):
        CAL.local_date(dt.datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose
    with pytest.raises(InvalidInput, match="intervention_months"):
        Policy(intervention_months=-1)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)),
       st.integers(min_value=1, max_value=30))  # fmt: skip
def test_due_date_is_the_nth_working_day(day: dt.date, n: int) -> None:
    """Exactly n working days lie after the start date up to and including the due date."""
    due = CAL.add_working_days(day, n)
    assert CAL.is_working_day(due)
    span = [day + dt.timedelta(days=i) for i in range(1, (due - day).days + 1)]
    assert sum(CAL.is_working_day(d) for d in span) == n


def test_due_times_are_remembered_per_calendar_not_shared_between_calendars() -> None:
    """Due times are cached by calendar, date and count: a calendar with a local closure
    never gets another calendar's answer, and asking again gives the same answer."""
    london = ZoneInfo("Europe/London")
    contact = dt.datetime(2026, 3, 2, 10, tzinfo=london)  # a Monday
    plain = WorkingCalendar()
    closed = WorkingCalendar(extra_closures=frozenset({dt.date(2026, 3, 3)}))
    assert plain.due_after_working_days(contact, 1) == dt.datetime(2026, 3, 4, tzinfo=london)
    assert closed.due_after_working_days(contact, 1) == dt.datetime(2026, 3, 5, tzinfo=london)
    assert plain.due_after_working_days(contact, 1) == dt.datetime(2026, 3, 4, tzinfo=london)
    assert WorkingCalendar(extra_closures=frozenset({dt.date(2026, 3, 3)})).due_after_working_days(
        contact, 1
    ) == dt.datetime(2026, 3, 5, tzinfo=london)
