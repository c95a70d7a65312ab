"""Session marks and per-code counts, read into exact summaries.

Two plain-Python inputs (the dataframe inputs are in
:mod:`chronic_na.attendance.frames`):

* per-code session counts, the shape of the school census and of DfE's
  published statistics: :func:`summary_from_code_counts`;
* session marks, one per pupil, date and session: :func:`summarise_marks`.

Both read each code with the table in force (:func:`~chronic_na.attendance.codes.table_for`),
count withdrawn codes as DfE counts them and report each as a
:class:`DataQualityFinding`; ``strict=True`` refuses them instead.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

import attrs

from chronic_na.attendance.codes import (
    CODES_2024,
    Category,
    CodeTable,
    Session,
    check_session_mark,
    quote_cell,
    quote_pupil,
    table_for,
)
from chronic_na.attendance.summary import AttendanceSummary
from chronic_na.errors import InvalidInput

__all__ = [
    "DataQualityFinding",
    "FindingKind",
    "RegisterSummary",
    "SessionMark",
    "summarise_marks",
    "summary_from_code_counts",
]


def _pupil_ref(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(attribute.name, "must be a non-empty pseudonymous pupil reference")


def _date(instance: object, attribute: attrs.Attribute[dt.date], value: object) -> None:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise InvalidInput(attribute.name, "must be a calendar date (datetime.date)")


def _code(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidInput(attribute.name, "must be a non-empty attendance code")


def _session(value: object) -> Session:
    return Session.parse(value)


@attrs.frozen
class SessionMark:
    """One register mark: a pupil's code for one session of one school day."""

    pupil: str = attrs.field(validator=_pupil_ref)
    date: dt.date = attrs.field(validator=_date)
    session: Session = attrs.field(converter=_session)
    code: str = attrs.field(validator=_code)


class FindingKind(enum.Enum):
    """The kinds of data-quality finding the attendance readers report."""

    WITHDRAWN_CODE = "withdrawn_code"
    """A code withdrawn by the 2024 regulations, on or after 19 August 2024."""


@attrs.frozen
class DataQualityFinding:
    """Something in a register that was counted but should be corrected.

    ``pupil``, ``date`` and ``session`` locate the mark when the input has
    them (registers); from per-code counts they are ``None`` and ``sessions``
    says how many sessions carried the code.
    """

    kind: FindingKind
    code: str
    pupil: str | None = None
    date: dt.date | None = None
    session: Session | None = None
    sessions: int = 1
    counted_as: Category | None = None

    def describe(self) -> str:
        """A one-line description naming the pupil reference, date, session and code."""
        where = []
        if self.pupil is not None:
            where.append(f"pupil {quote_pupil(self.pupil)}")
        if self.date is not None:
            where.append(self.date.isoformat())
        if self.session is not None:
            where.append(self.session.value)
        place = ", ".join(where) or f"{self.sessions} session(s)"
        counted = f", counted as {self.counted_as.value}" if self.counted_as else ""
        return f"{place}: code {self.code!r} was withdrawn on 19 Aug 2024{counted}"


@attrs.frozen
class RegisterSummary:
    """Summaries per pupil, and the data-quality findings met on the way."""

    summaries: Mapping[str, AttendanceSummary]
    findings: tuple[DataQualityFinding, ...] = ()


def _tally(per_code: Mapping[str, int], table_of: Mapping[str, Category]) -> AttendanceSummary:
    totals = dict.fromkeys(Category, 0)
    for code, count in per_code.items():
        totals[table_of[code]] += count
    return AttendanceSummary(
        present=totals[Category.PRESENT],
        approved_activity=totals[Category.APPROVED_ACTIVITY],
        authorised=totals[Category.AUTHORISED],
        unauthorised=totals[Category.UNAUTHORISED],
        per_code=per_code,
    )


def summary_from_code_counts(
    counts: Mapping[str, int],
    *,
    table: CodeTable = CODES_2024,
    strict: bool = False,
) -> tuple[AttendanceSummary, tuple[DataQualityFinding, ...]]:
    """One summary from sessions counted per code (census or DfE shape).

    ``table`` is the code table the counts were recorded under (the 2024
    table by default). Withdrawn codes with a non-zero count are counted as
    DfE counts them and returned as findings (refused when ``strict``).
    """
    if not isinstance(counts, Mapping):
        raise InvalidInput("counts", "must map attendance codes to session counts")
    categories: dict[str, Category] = {}
    findings = []
    for code, count in counts.items():
        if not isinstance(code, str):
            raise InvalidInput("counts", "keys must be attendance codes (str)")
        field = f"counts[{quote_cell(code)}]"
        if type(count) is not int or count < 0:
            raise InvalidInput(field, "must be a whole number of sessions, 0+")
        categories[code] = table.category(code, strict=strict and count > 0, field=field)
        if count and table.is_withdrawn(code):
            findings.append(
                DataQualityFinding(
                    FindingKind.WITHDRAWN_CODE, code, sessions=count, counted_as=categories[code]
                )
            )
    return _tally(counts, categories), tuple(findings)


def summarise_marks(
    marks: Iterable[SessionMark],
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    strict: bool = False,
) -> RegisterSummary:
    """Summaries per pupil from session marks, over ``start``..``end`` inclusive.

    Each mark is read with the code table in force on its date. Errors name
    the mark's position (1-based), pupil reference, date, session and code:
    an unknown code, ``/`` on a PM session, ``\\`` on an AM session, two marks
    for the same pupil, date and session, or (``strict``) a withdrawn code.
    Pupils are keyed in sorted order and findings sorted by pupil, date and
    session; a pupil whose marks all fall outside the window does not appear.
    """
    per_pupil: dict[str, Counter[str]] = defaultdict(Counter)
    categories: dict[str, Category] = {}
    seen: set[tuple[str, dt.date, Session]] = set()
    findings: list[DataQualityFinding] = []
    for position, mark in enumerate(marks, start=1):
        if not isinstance(mark, SessionMark):
            raise InvalidInput(f"marks[{position}]", "must be a SessionMark")
        if (start is not None and mark.date < start) or (end is not None and mark.date > end):
            continue
        where = (
            f"mark {position} (pupil {quote_pupil(mark.pupil)}, {mark.date.isoformat()}, "
            f"{mark.session.value}, code {quote_cell(mark.code)})"
        )
        key = (mark.pupil, mark.date, mark.session)
        if key in seen:
            raise InvalidInput(where, "a second mark for the same pupil, date and session")
        seen.add(key)
        check_session_mark(mark.code, mark.session, field=where)
        table = table_for(mark.date)
        category = table.category(mark.code, strict=strict, field=where)
        if table.is_withdrawn(mark.code):
            findings.append(
                DataQualityFinding(
                    FindingKind.WITHDRAWN_CODE,
                    mark.code,
                    pupil=mark.pupil,
                    date=mark.date,
                    session=mark.session,
                    counted_as=category,
                )
            )
        # A code's category can differ between the tables only for codes the
        # 2024 table withdrew, and those are counted the same way in both.
        categories[mark.code] = category
        per_pupil[mark.pupil][mark.code] += 1
    summaries = {pupil: _tally(per_pupil[pupil], categories) for pupil in sorted(per_pupil)}
    findings.sort(key=lambda f: (f.pupil or "", f.date or dt.date.min, str(f.session), f.code))
    return RegisterSummary(summaries=summaries, findings=tuple(findings))
