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


# --------------------------------------------------------------------------- instants

_INSTANTS = st.datetimes(
    min_value=dt.datetime(2025, 1, 1),  # noqa: DTZ001 (Hypothesis takes naive bounds)
    max_value=dt.datetime(2027, 12, 31),  # noqa: DTZ001
    timezones=st.just(LONDON),
    allow_imaginary=False,
).flatmap(lambda d: st.sampled_from([d, d.replace(fold=1)]))
# 23:30 to 02:30 UTC on 25 October 2026: London's wall clock runs 00:30 to 01:59 BST,
# then 01:00 to 02:30 GMT again.
_AROUND_THE_CHANGE = st.integers(0, 3 * 3600).map(
    lambda s: (dt.datetime(2026, 10, 24, 23, 30, tzinfo=dt.UTC) + dt.timedelta(seconds=s))
).flatmap(
    lambda u: st.sampled_from([u.astimezone(LONDON), u.astimezone(LONDON).replace(fold=1)])
)


@given(st.one_of(_INSTANTS, _AROUND_THE_CHANGE), st.one_of(_INSTANTS, _AROUND_THE_CHANGE))
def test_is_before_orders_instants_as_utc_does(a: dt.datetime, b: dt.datetime) -> None:
    """``is_before`` orders any two London times as UTC does."""
    from chronic_na.policy import is_before

    assert is_before(a, b) == (a.astimezone(dt.UTC) < b.astimezone(dt.UTC))


@given(_AROUND_THE_CHANGE, _AROUND_THE_CHANGE)
def test_is_before_orders_the_repeated_hour(a: dt.datetime, b: dt.datetime) -> None:
    """``is_before`` orders London times as instants, fold included, where Python's own
    comparison of two times in one zone uses the wall clock and ignores fold."""
    from chronic_na.policy import is_before

    assert is_before(a, b) == (a.astimezone(dt.UTC) < b.astimezone(dt.UTC))


def test_the_repeated_hour_is_ordered_by_fold() -> None:
    """25 October 2026: 01:30 BST (fold 0) comes forty minutes before 01:10 GMT (fold 1)."""
    from chronic_na.policy import is_before

    bst = dt.datetime(2026, 10, 25, 1, 30, tzinfo=LONDON)
    gmt = dt.datetime(2026, 10, 25, 1, 10, tzinfo=LONDON, fold=1)
    assert gmt < bst  # Python's wall-clock comparison, which the library must not use
    assert is_before(bst, gmt)
    assert not is_before(gmt, bst)


@pytest.mark.parametrize(
    "closures",
    [
        "2026-01-05",
        ["2026-01-05"],
        [dt.datetime(2026, 1, 5, tzinfo=LONDON)],
        dt.date(2026, 1, 5),
        5,
    ],
)
def test_extra_closures_must_be_dates(closures: object) -> None:
    """Closures are calendar dates: a string (which would become a set of its characters),
    date strings, datetimes or a lone date are InvalidInput naming the field."""
    with pytest.raises(InvalidInput) as info:
        WorkingCalendar(extra_closures=closures)  # type: ignore[arg-type]
    assert info.value.field == "extra_closures"

