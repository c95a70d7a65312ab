"""Exact attendance summaries and the three named thresholds.

Rates are :class:`fractions.Fraction` computed from whole session counts, never
rounded percentages, and are undefined (``None``) when a pupil had no possible
sessions. The thresholds are compared in integer arithmetic, so the boundaries
are exact:

* the policy's trigger is attendance *below* 50%: ``attended * 2 < possible``,
  so exactly 50% attendance is **not** identified;
* DfE's severe absence is absence of 50% *or more*: ``absent * 2 >= possible``,
  so exactly 50% attendance **is** severe;
* DfE's persistent absence is absence of 10% or more: ``absent * 10 >= possible``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from fractions import Fraction

import attrs

from chronic_na.attendance.codes import quote_cell
from chronic_na.errors import InvalidInput

__all__ = [
    "AttendanceSummary",
    "Threshold",
    "is_persistently_absent",
    "is_severely_absent",
    "meets_policy_trigger",
]


def _count(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if type(value) is not int:  # bool is an int subclass and is refused too
        raise InvalidInput(attribute.name, "must be a whole number of sessions (int)")
    if value < 0:
        raise InvalidInput(attribute.name, "must not be negative")


def _per_code(value: Mapping[str, int] | Iterable[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    merged: dict[str, int] = {}
    for code, count in items:
        if not isinstance(code, str) or not code:
            raise InvalidInput("per_code", "codes must be non-empty strings")
        if type(count) is not int or count < 0:
            raise InvalidInput(
                f"per_code[{quote_cell(code)}]", "must be a whole number of sessions, 0+"
            )
        merged[code] = merged.get(code, 0) + count
    return tuple(sorted((c, n) for c, n in merged.items() if n))


@attrs.frozen
class AttendanceSummary:
    """Session counts per category for one pupil (or one enrolment) over a window.

    ``possible`` sessions are the sum of the four categories, as in DfE's
    published statistics: present + approved educational activity +
    authorised absence + unauthorised absence.
    """

    present: int = attrs.field(validator=_count)
    approved_activity: int = attrs.field(default=0, validator=_count)
    authorised: int = attrs.field(default=0, validator=_count)
    unauthorised: int = attrs.field(default=0, validator=_count)
    per_code: tuple[tuple[str, int], ...] = attrs.field(default=(), converter=_per_code)
    """Sessions per attendance code, sorted by code, zero counts left out.

    Optional: summaries built from registers or per-code counts fill it;
    summaries built from category totals alone leave it empty. It may include
    codes that are not possible sessions (``D``, ``X``, ``Y1``...), which the
    four category counts leave out.
    """

    def code_count(self, code: str) -> int:
        """Sessions recorded with ``code`` (0 if none, or if not kept)."""
        for known, count in self.per_code:
            if known == code:
                return count
        return 0

    @property
    def possible(self) -> int:
        """Possible sessions: every session in one of the four categories."""
        return self.present + self.approved_activity + self.authorised + self.unauthorised

    @property
    def attended(self) -> int:
        """Sessions that count as attendance: present plus approved activity."""
        return self.present + self.approved_activity

    @property
    def absent(self) -> int:
        """Sessions of absence: authorised plus unauthorised."""
        return self.authorised + self.unauthorised

    def _rate(self, numerator: int) -> Fraction | None:
        possible = self.possible
        return None if possible == 0 else Fraction(numerator, possible)

    @property
    def attendance_rate(self) -> Fraction | None:
        """Attended / possible, or ``None`` with no possible sessions."""
        return self._rate(self.attended)

    @property
    def absence_rate(self) -> Fraction | None:
        """Absent / possible, or ``None`` with no possible sessions."""
        return self._rate(self.absent)

    @property
    def authorised_rate(self) -> Fraction | None:
        """Authorised absence / possible, or ``None`` with no possible sessions."""
        return self._rate(self.authorised)

    @property
    def unauthorised_rate(self) -> Fraction | None:
        """Unauthorised absence / possible, or ``None`` with no possible sessions."""
        return self._rate(self.unauthorised)

    def __add__(self, other: object) -> AttendanceSummary:
        if not isinstance(other, AttendanceSummary):
            return NotImplemented
        return AttendanceSummary(
            present=self.present + other.present,
            approved_activity=self.approved_activity + other.approved_activity,
            authorised=self.authorised + other.authorised,
            unauthorised=self.unauthorised + other.unauthorised,
            per_code=self.per_code + other.per_code,
        )


def meets_policy_trigger(summary: AttendanceSummary) -> bool:
    """The policy's trigger: attendance below 50% (exactly 50% is not below).

    "The MASH Tier 2 Coordinators will proactively identify children with
    attendance below 50%". With no possible sessions the rate is undefined and
    the trigger is not met.
    """
    return summary.possible > 0 and summary.attended * 2 < summary.possible


def is_severely_absent(summary: AttendanceSummary) -> bool:
    """DfE's severe absence: absence of 50% or more of possible sessions."""
    return summary.possible > 0 and summary.absent * 2 >= summary.possible


def is_persistently_absent(summary: AttendanceSummary) -> bool:
    """DfE's persistent absence: absence of 10% or more of possible sessions."""
    return summary.possible > 0 and summary.absent * 10 >= summary.possible


class Threshold(enum.Enum):
    """The named checks a :class:`~chronic_na.policy.Policy` can identify by."""

    POLICY_TRIGGER = "policy_trigger"
    """Attendance below 50% (the policy's own words; the default)."""
    SEVERE_ABSENCE = "severe_absence"
    """DfE: absence of 50% or more (so exactly 50% attendance is included)."""
    PERSISTENT_ABSENCE = "persistent_absence"
    """DfE: absence of 10% or more."""

    def is_met(self, summary: AttendanceSummary) -> bool:
        """Whether ``summary`` meets this threshold."""
        return _CHECKS[self](summary)

    @property
    def description(self) -> str:
        """A short human description, for reasons and reports."""
        return _DESCRIPTIONS[self]


_CHECKS = {
    Threshold.POLICY_TRIGGER: meets_policy_trigger,
    Threshold.SEVERE_ABSENCE: is_severely_absent,
    Threshold.PERSISTENT_ABSENCE: is_persistently_absent,
}
_DESCRIPTIONS = {
    Threshold.POLICY_TRIGGER: "attendance below 50%",
    Threshold.SEVERE_ABSENCE: "absence of 50% or more (DfE severe absence)",
    Threshold.PERSISTENT_ABSENCE: "absence of 10% or more (DfE persistent absence)",
}
