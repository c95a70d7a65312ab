"""The :class:`Policy`: every number and choice the pathway depends on.

Defaults come from the policy text where it gives a number, from national
guidance where it does not, and otherwise are our own choice; each field's
docstring says which. ``docs/policy.md`` lists them in one table.

Time is always an argument: the :class:`WorkingCalendar` turns an event's
time into a due time, and never looks at the system clock.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from zoneinfo import ZoneInfo

import attrs
import holidays
from dateutil.relativedelta import relativedelta

from chronic_na.attendance.summary import Threshold
from chronic_na.errors import InvalidInput

__all__ = ["DEFAULT_POLICY", "Policy", "WorkingCalendar", "is_before"]


@functools.lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    # England and Wales share one list of bank holidays; the `holidays` package
    # computes them (Easter, observed substitutes, one-off days) per year.
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_before(a: dt.datetime, b: dt.datetime) -> bool:
    """Whether the instant ``a`` comes before the instant ``b`` (aware datetimes).

    Python compares two datetimes that share a ``tzinfo`` by their wall clocks
    and ignores ``fold``: in the hour repeated when the clocks go back,
    01:10 GMT (``fold=1``) would sort before 01:30 BST, forty minutes earlier.
    Such a pair is compared in UTC. With equal folds the wall clock orders
    instants as UTC does (for times that exist), so the cheap comparison stays.
    """
    if a.tzinfo is b.tzinfo and a.fold != b.fold:
        return a.astimezone(dt.UTC) < b.astimezone(dt.UTC)
    return a < b


def _positive_int(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if type(value) is not int or value < 0:
        raise InvalidInput(attribute.name, "must be a whole number, zero or more")


_CASE_TRIGGERS = (Threshold.POLICY_TRIGGER, Threshold.SEVERE_ABSENCE)


def _case_trigger(instance: object, attribute: attrs.Attribute[Threshold], value: object) -> None:
    if not isinstance(value, Threshold) or value not in _CASE_TRIGGERS:
        raise InvalidInput(
            attribute.name,
            "must be Threshold.POLICY_TRIGGER (attendance below 50%) or "
            "Threshold.SEVERE_ABSENCE (DfE: absence of 50% or more); the pathway is for "
            "chronic non-attendance, not every persistently absent pupil",
        )


def _zone(value: object) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str):
        raise InvalidInput("timezone", "must be an IANA zone name such as 'Europe/London'")
    try:
        return ZoneInfo(value)
    except (ValueError, KeyError, OSError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise InvalidInput("timezone", "is not a known IANA zone name") from exc


def _closures(value: object) -> frozenset[dt.date]:
    if isinstance(value, str | bytes | dt.date) or not isinstance(value, Iterable):
        raise InvalidInput("extra_closures", "must be a collection of dates")
    days = frozenset(value)
    if any(isinstance(d, dt.datetime) or not isinstance(d, dt.date) for d in days):
        raise InvalidInput("extra_closures", "must hold calendar dates (datetime.date)")
    return days


@attrs.frozen(cache_hash=True)
class WorkingCalendar:
    """Working days in England: Monday to Friday, less bank holidays.

    ``extra_closures`` adds local non-working days (for example the days
    between Christmas and New Year if the service closes). Due times are the
    *end* of a working day in ``timezone``, expressed as the exclusive instant
    of the next midnight: a duty is overdue at or after that instant.
    """

    timezone: ZoneInfo = attrs.field(default=ZoneInfo("Europe/London"), converter=_zone)
    extra_closures: frozenset[dt.date] = attrs.field(default=frozenset(), converter=_closures)

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day (not a weekend, bank holiday or closure)."""
        return (
            day.weekday() < 5
            and day not in _bank_holidays(day.year)
            and day not in self.extra_closures
        )

    def local_date(self, instant: dt.datetime) -> dt.date:
        """The calendar date of ``instant`` in this calendar's timezone."""
        _require_aware(instant, "instant")
        return instant.astimezone(self.timezone).date()

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``day`` (``day`` itself if ``count`` is 0
        and ``day`` is a working day, else the next working day)."""
        if count == 0:
            while not self.is_working_day(day):
                day += dt.timedelta(days=1)
            return day
        while count > 0:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """The exclusive end of ``day`` in this timezone (the next local midnight)."""
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=self.timezone)

    def due_after_working_days(self, instant: dt.datetime, count: int) -> dt.datetime:
        """End of the ``count``-th working day after the local date of ``instant``."""
        return _due_after_working_days(self, self.local_date(instant), count)

    def due_after_months(self, instant: dt.datetime, months: int) -> dt.datetime:
        """End of the day ``months`` calendar months after the local date of ``instant``.

        Calendar months clip to the month's last day: 31 August plus 6 months
        is 28 February (29 in a leap year).
        """
        return _due_after_months(self, self.local_date(instant), months)


# A due time depends only on the calendar, a local date and a count, and a
# caseload's events fall on a few hundred dates a year: computing each once
# spares the store recomputing the same due times for every case it saves.
@functools.lru_cache(maxsize=8192)
def _due_after_working_days(calendar: WorkingCalendar, day: dt.date, count: int) -> dt.datetime:
    return calendar.end_of_day(calendar.add_working_days(day, count))


@functools.lru_cache(maxsize=8192)
def _due_after_months(calendar: WorkingCalendar, day: dt.date, months: int) -> dt.datetime:
    return calendar.end_of_day(day + relativedelta(months=months))


def _require_aware(value: dt.datetime, field: str) -> None:
    if not isinstance(value, dt.datetime):
        raise InvalidInput(field, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(field, "must be timezone-aware (naive datetimes are ambiguous)")


@attrs.frozen
class Policy:
    """Every number and choice the pathway depends on.

    A ``Policy`` is immutable and hashable; :meth:`Lifecycle.for_policy`
    keeps one lifecycle per policy (the state machine itself is built once per
    lifecycle table). Change a value with :func:`attrs.evolve`.
    """

    identification_threshold: Threshold = attrs.field(
        default=Threshold.POLICY_TRIGGER, validator=_case_trigger
    )
    """Which check opens a case. Policy text: "attendance below 50%"; domain
    (national): DfE's severe absence may be chosen instead. Persistent absence
    (10%) is refused: it is not a trigger for this pathway."""

    intervention_months: int = attrs.field(default=6, validator=_positive_int)
    """Longest intervention, in calendar months. Policy text: "for up to 6 months"."""

    mash_decision_working_days: int = attrs.field(default=1, validator=_positive_int)
    """Working days for the MASH decision after a contact. National guidance
    (Working Together 2023): a decision within one working day."""

    decision_feedback_working_days: int = attrs.field(default=1, validator=_positive_int)
    """Working days to send the school feedback on a MASH decision. Our choice:
    the policy says feedback "will" be received but gives no time."""

    additional_information_feedback_working_days: int = attrs.field(
        default=2, validator=_positive_int
    )
    """Working days to confirm additional information was considered. Our choice."""

    lead_professional_contact_working_days: int = attrs.field(default=5, validator=_positive_int)
    """Working days for the allocated lead professional to contact the school
    after allocation (or hand-over). Our choice: the policy says "should be
    contacted" but gives no time."""

    thin_text_chars: int = attrs.field(default=40, validator=_positive_int)
    """An IACF free-text answer shorter than this many characters is *thin*:
    accepted, with a warning. Our choice, from "the more information you
    include, the more robust the decision making process"."""

    thin_chronology_entries: int = attrs.field(default=3, validator=_positive_int)
    """A chronology with fewer entries than this is thin (warning). Our choice."""

    calendar: WorkingCalendar = attrs.field(factory=WorkingCalendar)
    """Working days and timezone for due times (England, Europe/London)."""


DEFAULT_POLICY = Policy()
"""The policy with every default."""
