"""Patterns in a pupil's non-attendance, for the IACF's patterns item.

The IACF asks for "any patterns in the non-attendance or is this a sudden
deterioration". :func:`analyse_pattern` answers from session marks with an
:class:`AttendancePattern`: a trend across consecutive windows of school
weeks (with the figures behind it), concentration of absence on weekdays or
on AM/PM sessions, and ``N`` codes left unresolved for more than 5 school
days. :meth:`AttendancePattern.describe` gives a short neutral sentence a
school can paste into the form.

The rules are [DESIGN] choices with named, documented parameters
(``docs/attendance.md``); every figure is exact (``Fraction``), only the
sentence rounds, to one decimal place.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import attrs

from chronic_na.attendance.codes import Session
from chronic_na.attendance.marks import SessionMark, summarise_marks
from chronic_na.attendance.summary import AttendanceSummary
from chronic_na.errors import InvalidInput

__all__ = [
    "AttendancePattern",
    "PatternWindow",
    "SessionFigures",
    "TrendKind",
    "UnresolvedN",
    "WeekdayFigures",
    "analyse_pattern",
    "analyse_patterns",
]

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class TrendKind(enum.Enum):
    """The shape of a pupil's attendance across recent windows."""

    LONG_STANDING = "long_standing"
    """Persistently absent (absence of 10% or more) in every window."""
    SUDDEN_DETERIORATION = "sudden_deterioration"
    """Not persistently absent before; the latest window fell by ``drop`` or more."""
    NO_CLEAR_PATTERN = "no_clear_pattern"
    """Enough data, but neither of the above."""
    INSUFFICIENT_DATA = "insufficient_data"
    """Fewer than two windows with possible sessions."""


@attrs.frozen
class PatternWindow:
    """One window of school weeks and the pupil's summary over it."""

    start: dt.date
    end: dt.date
    summary: AttendanceSummary


@attrs.frozen
class WeekdayFigures:
    """Possible and absent sessions on one weekday (0 = Monday)."""

    weekday: int
    possible: int
    absent: int

    @property
    def name(self) -> str:
        """The weekday's English name."""
        return _WEEKDAYS[self.weekday]

    @property
    def absence_rate(self) -> Fraction | None:
        """Absent / possible on this weekday, ``None`` with no possible sessions."""
        return Fraction(self.absent, self.possible) if self.possible else None


@attrs.frozen
class SessionFigures:
    """Possible and absent sessions in AM or PM sessions."""

    session: Session
    possible: int
    absent: int

    @property
    def absence_rate(self) -> Fraction | None:
        """Absent / possible in these sessions, ``None`` with none possible."""
        return Fraction(self.absent, self.possible) if self.possible else None


@attrs.frozen
class UnresolvedN:
    """An ``N`` (no reason yet) mark older than the allowed number of school days."""

    date: dt.date
    session: Session
    school_days_since: int


@attrs.frozen
class AttendancePattern:
    """Structured answer to the IACF's patterns item, for one pupil.

    ``windows`` are consecutive, oldest first, the last ending at ``as_of``;
    ``baseline`` is the earlier windows together and ``latest`` the last.
    ``concentrated_weekdays`` and ``concentrated_sessions`` list where
    absence runs at least ``margin`` above the pupil's overall absence rate.
    """

    pupil: str
    as_of: dt.date
    trend: TrendKind
    windows: tuple[PatternWindow, ...]
    overall: AttendanceSummary
    weekdays: tuple[WeekdayFigures, ...]
    sessions: tuple[SessionFigures, ...]
    concentrated_weekdays: tuple[int, ...]
    concentrated_sessions: tuple[Session, ...]
    unresolved_n: tuple[UnresolvedN, ...]
    weeks_per_window: int
    drop: Fraction
    margin: Fraction
    n_school_days: int

    @property
    def baseline(self) -> AttendanceSummary | None:
        """The windows before the latest, together (``None`` with fewer than two)."""
        if len(self.windows) < 2:
            return None
        total = self.windows[0].summary
        for window in self.windows[1:-1]:
            total = total + window.summary
        return total

    @property
    def latest(self) -> PatternWindow | None:
        """The most recent window, if any."""
        return self.windows[-1] if self.windows else None

    @property
    def unresolved_n_count(self) -> int:
        """How many ``N`` marks are unresolved for more than the allowed school days."""
        return len(self.unresolved_n)

    def describe(self) -> str:
        """A short neutral description, for the IACF's patterns item."""
        parts = [self._describe_trend()]
        if self.concentrated_weekdays:
            names = [f"{_WEEKDAYS[d]}s" for d in self.concentrated_weekdays]
            joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            parts.append(f"Absence is higher on {joined} than on other days.")
        if self.concentrated_sessions:
            figures = {f.session: f for f in self.sessions}
            high = self.concentrated_sessions[0]
            low = Session.PM if high is Session.AM else Session.AM
            word = "morning" if high is Session.AM else "afternoon"
            parts.append(
                f"Absence is higher in {word} sessions "
                f"({_pct(figures[high].absence_rate)} of {high.value} sessions missed, "
                f"{_pct(figures[low].absence_rate)} of {low.value})."
            )
        if self.unresolved_n:
            n = len(self.unresolved_n)
            parts.append(
                f"{n} session{'s' if n != 1 else ''} still coded N (no reason yet provided) "
                f"after more than {self.n_school_days} school days."
            )
        return " ".join(parts)

    def _describe_trend(self) -> str:
        latest = self.latest
        baseline = self.baseline
        if self.trend is TrendKind.INSUFFICIENT_DATA or latest is None or baseline is None:
            overall = self.overall.attendance_rate
            if overall is None:
                return "No possible sessions recorded yet, so no pattern can be described."
            return (
                f"Attendance is {_pct(overall)} over {self.overall.possible} possible sessions; "
                "too few school weeks are recorded to describe a trend."
            )
        span = f"{_day(_baseline_start(self))} to {_day(self.windows[-2].end)}"
        recent = f"{_day(latest.start)} to {_day(latest.end)}"
        before = _pct(baseline.attendance_rate)
        now = _pct(latest.summary.attendance_rate)
        if self.trend is TrendKind.SUDDEN_DETERIORATION:
            return (
                f"Attendance fell from {before} ({span}) to {now} ({recent}): "
                "a sudden deterioration."
            )
        rates = [w.summary.attendance_rate for w in self.windows if w.summary.possible]
        lowest = _pct(min(r for r in rates if r is not None))
        highest = _pct(max(r for r in rates if r is not None))
        if self.trend is TrendKind.LONG_STANDING:
            return (
                f"Attendance has been below 90% in each of the last {len(self.windows)} "
                f"periods of {self.weeks_per_window} school weeks (between {lowest} and "
                f"{highest}): a long-standing pattern."
            )
        return (
            f"Attendance was {before} ({span}) and {now} ({recent}), between {lowest} and "
            f"{highest} across {len(self.windows)} periods: no clear trend."
        )


def _baseline_start(pattern: AttendancePattern) -> dt.date:
    return pattern.windows[0].start


def _day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def _pct(rate: Fraction | None) -> str:
    if rate is None:
        return "n/a"
    value = Decimal(rate.numerator * 100) / Decimal(rate.denominator)
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}%"


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def analyse_pattern(
    marks: Iterable[SessionMark],
    *,
    pupil: str,
    as_of: dt.date,
    school_days: Iterable[dt.date] | None = None,
    start: dt.date | None = None,
    weeks_per_window: int = 4,
    max_windows: int = 6,
    drop: Fraction = Fraction(1, 5),
    margin: Fraction = Fraction(3, 20),
    min_sessions: int = 4,
    n_school_days: int = 5,
) -> AttendancePattern:
    """The pattern of one pupil's attendance up to ``as_of``.

    ``marks`` may hold other pupils' marks (they are skipped). School weeks
    and school days come from ``school_days`` (the register's dates; by
    default the dates of ``marks``). Windows are ``weeks_per_window`` school
    weeks each, counted back from ``as_of``, at most ``max_windows`` of them,
    none before ``start``.

    Trend [DESIGN]: fewer than two windows with possible sessions is
    ``INSUFFICIENT_DATA``; a baseline (the earlier windows) with attendance
    of 90% or more and a latest window at least ``drop`` lower is a
    ``SUDDEN_DETERIORATION``; attendance below 90% in every window with
    possible sessions is ``LONG_STANDING``; anything else ``NO_CLEAR_PATTERN``.
    A weekday or session is a concentration when its absence rate is at
    least ``margin`` above the pupil's overall rate, over ``min_sessions`` or
    more possible sessions.
    """
    if isinstance(as_of, dt.datetime) or not isinstance(as_of, dt.date):
        raise InvalidInput("as_of", "must be a calendar date (datetime.date)")
    for name, value in (("weeks_per_window", weeks_per_window), ("max_windows", max_windows)):
        if type(value) is not int or value < 1:
            raise InvalidInput(name, "must be a whole number, 1 or more")
    all_marks = [m for m in marks if m.date <= as_of and (start is None or m.date >= start)]
    own = [m for m in all_marks if m.pupil == pupil]
    days = sorted(
        {d for d in (school_days if school_days is not None else (m.date for m in all_marks))
         if d <= as_of and (start is None or d >= start)}
    )  # fmt: skip
    register = summarise_marks(own)
    overall = register.summaries.get(pupil, AttendanceSummary(present=0))

    # Windows: blocks of school weeks, newest last.
    mondays = sorted({_monday(d) for d in days}, reverse=True)
    blocks = [mondays[i : i + weeks_per_window] for i in range(0, len(mondays), weeks_per_window)]
    windows: list[PatternWindow] = []
    end = as_of
    for block in blocks[:max_windows]:
        first = block[-1]
        if start is not None:
            first = max(first, start)
        in_block = [m for m in own if first <= m.date <= end]
        summary = summarise_marks(in_block).summaries.get(pupil, AttendanceSummary(present=0))
        # Shown as the block's first and last school days, not a weekend.
        in_days = [d for d in days if first <= d <= end]
        shown_start = in_days[0] if in_days else first
        shown_end = in_days[-1] if in_days else end
        windows.append(PatternWindow(shown_start, shown_end, summary))
        end = first - dt.timedelta(days=1)
    windows.reverse()

    trend = _trend(windows, drop)

    # Concentration by weekday and by session.
    by_day: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    by_session: dict[Session, list[int]] = {Session.AM: [0, 0], Session.PM: [0, 0]}
    for mark in own:
        one = summarise_marks([mark]).summaries[pupil]
        if one.possible:
            by_day[mark.date.weekday()][0] += 1
            by_day[mark.date.weekday()][1] += one.absent
            by_session[mark.session][0] += 1
            by_session[mark.session][1] += one.absent
    weekdays = tuple(WeekdayFigures(d, *by_day[d]) for d in sorted(by_day))
    sessions = tuple(SessionFigures(s, *by_session[s]) for s in (Session.AM, Session.PM))
    overall_rate = overall.absence_rate
    concentrated_days: tuple[int, ...] = ()
    concentrated_sessions: tuple[Session, ...] = ()
    if overall_rate is not None:
        concentrated_days = tuple(
            f.weekday
            for f in weekdays
            if f.possible >= min_sessions
            and f.absence_rate is not None
            and f.absence_rate - overall_rate >= margin
        )
        concentrated_sessions = tuple(
            f.session
            for f in sessions
            if f.possible >= min_sessions
            and f.absence_rate is not None
            and f.absence_rate - overall_rate >= margin
        )

    # N codes still in place after more than n_school_days school days.
    position = {d: i for i, d in enumerate(days)}
    last = len([d for d in days if d <= as_of]) - 1
    unresolved = []
    for mark in own:
        if mark.code != "N":
            continue
        index = position.get(mark.date)
        since = last - index if index is not None else 0
        if since > n_school_days:
            unresolved.append(UnresolvedN(mark.date, mark.session, since))
    unresolved.sort(key=lambda u: (u.date, u.session.value))

    return AttendancePattern(
        pupil=pupil,
        as_of=as_of,
        trend=trend,
        windows=tuple(windows),
        overall=overall,
        weekdays=weekdays,
        sessions=sessions,
        concentrated_weekdays=concentrated_days,
        concentrated_sessions=concentrated_sessions,
        unresolved_n=tuple(unresolved),
        weeks_per_window=weeks_per_window,
        drop=drop,
        margin=margin,
        n_school_days=n_school_days,
    )


_PERSISTENT_LINE = Fraction(9, 10)


def _trend(windows: Sequence[PatternWindow], drop: Fraction) -> TrendKind:
    counted = [w for w in windows if w.summary.possible]
    if len(counted) < 2 or not windows[-1].summary.possible:
        return TrendKind.INSUFFICIENT_DATA
    baseline = counted[0].summary
    for window in counted[1:-1]:
        baseline = baseline + window.summary
    before = baseline.attendance_rate
    now = counted[-1].summary.attendance_rate
    assert before is not None
    assert now is not None
    if before >= _PERSISTENT_LINE and before - now >= drop:
        return TrendKind.SUDDEN_DETERIORATION
    rates = [w.summary.attendance_rate for w in counted]
    if all(r is not None and r < _PERSISTENT_LINE for r in rates):
        return TrendKind.LONG_STANDING
    return TrendKind.NO_CLEAR_PATTERN


def analyse_patterns(
    marks: Iterable[SessionMark],
    *,
    as_of: dt.date,
    pupils: Iterable[str] | None = None,
    **options: object,
) -> Mapping[str, AttendancePattern]:
    """:func:`analyse_pattern` for several pupils (default: every pupil in ``marks``).

    School days are taken from the whole register, so every pupil's weeks
    and ``N`` ages are measured on the same calendar.
    """
    all_marks = list(marks)
    chosen = sorted(set(pupils) if pupils is not None else {m.pupil for m in all_marks})
    days = sorted({m.date for m in all_marks})
    by_pupil: dict[str, list[SessionMark]] = defaultdict(list)
    for mark in all_marks:
        by_pupil[mark.pupil].append(mark)
    return {
        pupil: analyse_pattern(
            by_pupil.get(pupil, []),
            pupil=pupil,
            as_of=as_of,
            school_days=days,
            **options,  # type: ignore[arg-type]
        )
        for pupil in chosen
    }
