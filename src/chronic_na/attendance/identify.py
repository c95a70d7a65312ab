"""Cohort identification: the pupils meeting a threshold, as of a date, over a window.

The pathway starts when a coordinator "proactively identifies children with
attendance below 50%". :func:`identify` applies a :class:`Threshold` (the
policy's trigger by default; DfE's severe-absence check where a ``Policy``
chooses it) to per-pupil summaries; :func:`identify_marks` does the same from
session marks. The dataframe entry points in :mod:`chronic_na.attendance.frames`
return the same :class:`Cohort`.

Windows (:class:`Window`) are resolved against the as-of date, which is
always an argument: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Protocol

import attrs
from dateutil.easter import easter

from chronic_na.attendance.marks import DataQualityFinding, SessionMark, summarise_marks
from chronic_na.attendance.summary import AttendanceSummary, Threshold
from chronic_na.errors import InvalidInput

__all__ = [
    "Cohort",
    "HasIdentificationThreshold",
    "IdentifiedPupil",
    "Window",
    "WindowKind",
    "academic_year_start",
    "identify",
    "identify_marks",
    "resolve_threshold",
    "term_start",
]


class HasIdentificationThreshold(Protocol):
    """Anything with an ``identification_threshold`` (a ``Policy``, say)."""

    @property
    def identification_threshold(self) -> Threshold:
        """The threshold cohorts are identified by."""
        ...


def resolve_threshold(value: Threshold | HasIdentificationThreshold) -> Threshold:
    """A :class:`Threshold` itself, or the ``identification_threshold`` of a policy."""
    if isinstance(value, Threshold):
        return value
    found = getattr(value, "identification_threshold", None)
    if isinstance(found, Threshold):
        return found
    raise InvalidInput("threshold", "must be a Threshold or a Policy with identification_threshold")


def _require_date(value: object, field: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(field, "must be a calendar date (datetime.date)")
    return value


def academic_year_start(day: dt.date) -> dt.date:
    """1 August of the academic year containing ``day`` [DESIGN].

    DfE's academic year runs from August to July; 1 August keeps the few
    schools that open in late August inside the year.
    """
    return dt.date(day.year if day.month >= 8 else day.year - 1, 8, 1)


def term_start(day: dt.date) -> dt.date:
    """The first day of the term containing ``day`` [DESIGN, after DfE's census terms].

    Autumn: 1 August to 31 December; spring: 1 January to Easter Sunday;
    summer: Easter Monday to 31 July. Local term dates differ; pass an
    explicit :meth:`Window.between` where they matter.
    """
    if day.month >= 8:
        return dt.date(day.year, 8, 1)
    easter_monday = easter(day.year) + dt.timedelta(days=1)
    if day >= easter_monday:
        return easter_monday
    return dt.date(day.year, 1, 1)


class WindowKind(enum.Enum):
    """How a :class:`Window` is measured back from the as-of date."""

    YEAR_TO_DATE = "year_to_date"
    TERM = "term"
    LAST_SCHOOL_WEEKS = "last_school_weeks"
    BETWEEN = "between"


def _weeks(instance: Window, attribute: attrs.Attribute[int | None], value: object) -> None:
    if instance.kind is WindowKind.LAST_SCHOOL_WEEKS and (type(value) is not int or value < 1):
        raise InvalidInput("weeks", "must be a whole number of school weeks, 1 or more")


@attrs.frozen
class Window:
    """A period of sessions ending at the as-of date.

    Build one with :meth:`year_to_date`, :meth:`this_term`,
    :meth:`last_school_weeks` or :meth:`between`; :meth:`resolve` gives the
    first and last dates (inclusive) for an as-of date.
    """

    kind: WindowKind
    weeks: int | None = attrs.field(default=None, validator=_weeks)
    start: dt.date | None = None
    end: dt.date | None = None

    @classmethod
    def year_to_date(cls) -> Window:
        """From the start of the academic year to the as-of date."""
        return cls(WindowKind.YEAR_TO_DATE)

    @classmethod
    def this_term(cls) -> Window:
        """From the start of the current term to the as-of date."""
        return cls(WindowKind.TERM)

    @classmethod
    def last_school_weeks(cls, weeks: int) -> Window:
        """The last ``weeks`` school weeks (weeks with a school day) to the as-of date."""
        return cls(WindowKind.LAST_SCHOOL_WEEKS, weeks=weeks)

    @classmethod
    def between(cls, start: dt.date, end: dt.date) -> Window:
        """Explicit dates, inclusive (still cut at the as-of date)."""
        _require_date(start, "start")
        _require_date(end, "end")
        if end < start:
            raise InvalidInput("end", "must not be before start")
        return cls(WindowKind.BETWEEN, start=start, end=end)

    def resolve(
        self, as_of: dt.date, school_days: Iterable[dt.date] | None = None
    ) -> tuple[dt.date, dt.date]:
        """The first and last dates of this window as of ``as_of`` (inclusive).

        ``school_days`` (the register's dates) decide which weeks are school
        weeks for :meth:`last_school_weeks`; without them every week counts.
        """
        _require_date(as_of, "as_of")
        if self.kind is WindowKind.YEAR_TO_DATE:
            return academic_year_start(as_of), as_of
        if self.kind is WindowKind.TERM:
            return term_start(as_of), as_of
        if self.kind is WindowKind.BETWEEN:
            assert self.start is not None
            assert self.end is not None
            return self.start, min(self.end, as_of)
        assert self.weeks is not None
        this_monday = as_of - dt.timedelta(days=as_of.weekday())
        if school_days is None:
            return this_monday - dt.timedelta(weeks=self.weeks - 1), as_of
        mondays = sorted(
            {d - dt.timedelta(days=d.weekday()) for d in school_days if d <= as_of}, reverse=True
        )
        if not mondays:
            return as_of, as_of
        return mondays[: self.weeks][-1], as_of

    def label(self) -> str:
        """A short label, e.g. ``year to date`` or ``last 6 school weeks``."""
        if self.kind is WindowKind.LAST_SCHOOL_WEEKS:
            return f"last {self.weeks} school weeks"
        if self.kind is WindowKind.BETWEEN:
            assert self.start is not None
            assert self.end is not None
            return f"{self.start.isoformat()} to {self.end.isoformat()}"
        return {WindowKind.YEAR_TO_DATE: "year to date", WindowKind.TERM: "this term"}[self.kind]


@attrs.frozen
class IdentifiedPupil:
    """One pupil meeting the threshold, with the summary that met it."""

    pupil: str
    summary: AttendanceSummary


def _order(item: IdentifiedPupil) -> tuple[Fraction, str]:
    # Lowest attendance first, compared exactly; identified pupils always
    # have possible sessions, so the rate is defined.
    rate = item.summary.attendance_rate
    return (rate if rate is not None else Fraction(1), item.pupil)


@attrs.frozen
class Cohort:
    """The result of an identification, ready to open cases from.

    ``pupils`` are in a stable order: lowest attendance rate first, then by
    pupil reference. ``considered`` is how many pupils had a summary in the
    window.
    """

    as_of: dt.date
    start: dt.date
    end: dt.date
    threshold: Threshold
    pupils: tuple[IdentifiedPupil, ...]
    considered: int
    findings: tuple[DataQualityFinding, ...] = ()

    @property
    def pupil_refs(self) -> tuple[str, ...]:
        """The identified pupils' references, in order."""
        return tuple(p.pupil for p in self.pupils)

    def __len__(self) -> int:
        return len(self.pupils)


def identify(
    summaries: Mapping[str, AttendanceSummary],
    threshold: Threshold | HasIdentificationThreshold = Threshold.POLICY_TRIGGER,
    *,
    as_of: dt.date,
    start: dt.date,
    end: dt.date,
    findings: Iterable[DataQualityFinding] = (),
) -> Cohort:
    """The pupils whose summaries meet ``threshold``, in a stable order."""
    chosen = resolve_threshold(threshold)
    picked = [
        IdentifiedPupil(pupil, summary)
        for pupil, summary in summaries.items()
        if chosen.is_met(summary)
    ]
    picked.sort(key=_order)
    return Cohort(
        as_of=as_of,
        start=start,
        end=end,
        threshold=chosen,
        pupils=tuple(picked),
        considered=len(summaries),
        findings=tuple(findings),
    )


def identify_marks(
    marks: Iterable[SessionMark],
    *,
    as_of: dt.date,
    window: Window | None = None,
    threshold: Threshold | HasIdentificationThreshold = Threshold.POLICY_TRIGGER,
    strict: bool = False,
) -> Cohort:
    """Identify from session marks: summarise over the window, then apply the threshold."""
    _require_date(as_of, "as_of")
    chosen_window = window or Window.year_to_date()
    marks = list(marks)
    start, end = chosen_window.resolve(as_of, (m.date for m in marks))
    register = summarise_marks(marks, start=start, end=end, strict=strict)
    return identify(
        register.summaries,
        threshold,
        as_of=as_of,
        start=start,
        end=end,
        findings=register.findings,
    )
