"""Frozen records: the documents and decisions of a case.

Every record is an immutable :mod:`attrs` class. Free-text fields (anything a
person writes about a child or family) are hidden from ``repr``: they show as
``<text: N chars>``, so a record can be logged or shown in a traceback without
leaking case text. Pupils are referred to by a pseudonymous reference only.

Validation is structural: types, enumerations, aware datetimes. Whether a
record is *complete enough* for a step of the pathway is for the rules
(:mod:`chronic_na.rules`) to say, so that a draft can be held and checked.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from typing import Any, Final

import attrs

from chronic_na.attendance.codes import REFERENCE
from chronic_na.attendance.patterns import AttendancePattern, TrendKind
from chronic_na.attendance.summary import AttendanceSummary
from chronic_na.errors import InvalidInput

__all__ = [
    "Actor",
    "AttendanceSummary",
    "ChronologyEntry",
    "ClosureReason",
    "Contact",
    "EHAReference",
    "ESOStatus",
    "EducationSupervisionOrder",
    "EngagementKind",
    "FamilyDiscussion",
    "FamilyDiscussionStatus",
    "HomeFactor",
    "InteragencyContactForm",
    "MaintenancePlan",
    "MashDecision",
    "MashOutcome",
    "PatternKind",
    "PatternsItem",
    "PlanAssessment",
    "PupilRef",
    "Role",
    "SchoolIssue",
    "redacted",
    "reference",
]


def redacted(value: object) -> str:
    """``repr`` of a free-text field: its length only, never its content."""
    if value is None:
        return "None"
    if isinstance(value, str):
        return f"<text: {len(value)} chars>"
    if isinstance(value, tuple):
        return f"<{len(value)} text item(s)>"
    return "<redacted>"


Check = Callable[[object, "attrs.Attribute[Any]", object], None]


def _text(field_name: str, *, optional: bool = False) -> Check:
    """Validator for a free-text field (kept out of repr by ``repr=redacted``)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str):
            raise InvalidInput(field_name, "must be text (str)")

    return check


def _as_tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _texts(field_name: str, *, optional: bool = False) -> Check:
    """Validator for a tuple of free-text items (or ``None`` where optional)."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(
                field_name,
                "must be a sequence of text items (str)" + (" or None" if optional else ""),
            )

    return check


def _enum(field_name: str, kind: type[enum.Enum]) -> Check:
    """Validator: a member of the enumeration ``kind``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise InvalidInput(
                field_name, f"must be a {kind.__name__} ({', '.join(m.name for m in kind)})"
            )

    return check


def _enum_set(field_name: str, kind: type[enum.Enum]) -> Check:
    """Validator: a frozenset of members of the enumeration ``kind``."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, frozenset) or not all(isinstance(v, kind) for v in value):
            raise InvalidInput(field_name, f"must be a set of {kind.__name__} members")
        none_known = getattr(kind, "NONE_KNOWN", None)
        if none_known is not None and none_known in value and len(value) > 1:
            raise InvalidInput(
                field_name, "says none are known and names some: give one or the other"
            )

    return check


def _as_frozenset(value: Any) -> Any:
    return frozenset(value) if isinstance(value, (set, list, tuple)) else value


def _aware(field_name: str) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, dt.datetime):
            raise InvalidInput(field_name, "must be a datetime")
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInput(field_name, "must be timezone-aware")
        if not exists_in_its_zone(value):
            raise InvalidInput(field_name, "is a local time that does not exist (a clock change)")

    return check


def exists_in_its_zone(value: dt.datetime) -> bool:
    """Whether an aware local time exists: not skipped by a clock change
    (01:30 on the last Sunday of March does not exist in Europe/London)."""
    wall = value.astimezone(dt.UTC).astimezone(value.tzinfo)
    return wall.replace(tzinfo=None) == value.replace(tzinfo=None)


def _date(field_name: str) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise InvalidInput(field_name, "must be a date (not a datetime)")

    return check


def _instance(field_name: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind):
            names = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise InvalidInput(field_name, f"must be a {names}")

    return check


def reference(field_name: str, *, optional: bool = False) -> Check:
    """Validator for a pseudonymous reference (a pupil, school, case or member of
    staff): :data:`~chronic_na.attendance.codes.REFERENCE`'s shape, never a name."""

    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, str) or not REFERENCE.fullmatch(value):
            raise InvalidInput(
                field_name,
                "must be a reference of 1-64 letters, digits, '.', '_', ':' or '-' "
                "(a pseudonymous id, never a name)",
            )

    return check


# --------------------------------------------------------------------------- people


class Role(enum.Enum):
    """The roles that act on a case (domain.md section 6)."""

    SCHOOL = "school"
    """The school's attendance lead or designated safeguarding lead."""
    COORDINATOR = "coordinator"
    """A MASH Tier 2 Coordinator."""
    MASH_DECISION_MAKER = "mash_decision_maker"
    """The MASH officer who decides on a contact."""
    EARLY_HELP_MANAGER = "early_help_manager"
    """An Early Help and Prevention manager: allocates, hands over, corrects, reopens."""
    LEAD_PROFESSIONAL = "lead_professional"
    """The lead professional from the Early Help and Prevention Team."""
    FAMILY = "family"
    """The family (consulted; agrees the maintenance plan)."""
    ATTENDANCE_PANEL = "attendance_panel"
    """The Attendance Panel."""
    AUDITOR = "auditor"
    """Reads the record; gives no command."""


@attrs.frozen
class Actor:
    """Who gives a command: a pseudonymous staff id and the role they act in."""

    id: str = attrs.field(validator=reference("actor.id"))
    role: Role = attrs.field(validator=_enum("actor.role", Role))


@attrs.frozen
class PupilRef:
    """A pupil's pseudonymous reference (never a name or a UPN in clear)."""

    value: str = attrs.field(validator=reference("pupil"))

    def __str__(self) -> str:
        return self.value


# --------------------------------------------------------------------------- the IACF


class HomeFactor(enum.Enum):
    """Home factors named by the policy ("e.g. separation anxiety, parental
    mental health, DV, substance misuse")."""

    SEPARATION_ANXIETY = "separation_anxiety"
    PARENTAL_MENTAL_HEALTH = "parental_mental_health"
    DOMESTIC_VIOLENCE = "domestic_violence"
    SUBSTANCE_MISUSE = "substance_misuse"
    NONE_KNOWN = "none_known"
    """The school has considered home factors and knows of none."""


class SchoolIssue(enum.Enum):
    """School-based issues named by the policy ("e.g. peer conflict,
    isolation, poor academic ability or discipline issues")."""

    PEER_CONFLICT = "peer_conflict"
    ISOLATION = "isolation"
    POOR_ACADEMIC_ABILITY = "poor_academic_ability"
    DISCIPLINE_ISSUES = "discipline_issues"
    NONE_KNOWN = "none_known"
    """The school has considered school-based issues and knows of none."""


class PatternKind(enum.Enum):
    """The IACF's "any patterns in the non-attendance or is this a sudden deterioration"."""

    LONG_STANDING = "long_standing"
    SUDDEN_DETERIORATION = "sudden_deterioration"
    PATTERN = "pattern"
    """A recurring pattern (days of the week, sessions, around events)."""
    NO_CLEAR_PATTERN = "no_clear_pattern"


@attrs.frozen
class PatternsItem:
    """The patterns item: what kind, and the school's description of it."""

    kind: PatternKind = attrs.field(validator=_enum("iacf.patterns.kind", PatternKind))
    description: str = attrs.field(validator=_text("iacf.patterns.description"), repr=redacted)

    @classmethod
    def from_attendance_pattern(cls, pattern: AttendancePattern) -> PatternsItem:
        """The item as the register shows it: a starting point for the school to
        check and add to before the contact is submitted.

        The trend decides the kind (long-standing, sudden deterioration); with
        neither, absence concentrated on some weekdays or sessions is a
        recurring pattern, and otherwise there is no clear pattern (also when
        the register holds too few weeks to tell). The description is
        :meth:`AttendancePattern.describe`: figures, no judgement.
        """
        if not isinstance(pattern, AttendancePattern):
            raise InvalidInput("pattern", "must be an AttendancePattern")
        kind = _TREND_KINDS.get(pattern.trend)
        if kind is None:
            concentrated = pattern.concentrated_weekdays or pattern.concentrated_sessions
            kind = PatternKind.PATTERN if concentrated else PatternKind.NO_CLEAR_PATTERN
        return cls(kind, pattern.describe())


_TREND_KINDS: Final = {
    TrendKind.LONG_STANDING: PatternKind.LONG_STANDING,
    TrendKind.SUDDEN_DETERIORATION: PatternKind.SUDDEN_DETERIORATION,
}


class ESOStatus(enum.Enum):
    """Whether an Education Supervision Order is in place (three states)."""

    NOT_ANSWERED = "not_answered"
    NONE = "none"
    IN_PLACE = "in_place"


@attrs.frozen
class EducationSupervisionOrder:
    """The IACF's "is there an Education Supervision Order in place; what is
    the plan and are there any results". ``plan`` and ``results`` belong
    only to an order in place."""

    status: ESOStatus = attrs.field(
        validator=_enum("iacf.education_supervision_order.status", ESOStatus)
    )
    plan: str | None = attrs.field(
        default=None,
        validator=_text("iacf.education_supervision_order.plan", optional=True),
        repr=redacted,
    )
    results: str | None = attrs.field(
        default=None,
        validator=_text("iacf.education_supervision_order.results", optional=True),
        repr=redacted,
    )

    def __attrs_post_init__(self) -> None:
        if self.status is not ESOStatus.IN_PLACE and (self.plan or self.results):
            raise InvalidInput(
                "iacf.education_supervision_order",
                "plan and results are only given for an order that is in place",
            )


class FamilyDiscussionStatus(enum.Enum):
    """Whether the school discussed its concern with the family."""

    CONFIRMED = "confirmed"
    ATTEMPTED = "attempted"
    """Tried, but the school could not engage the family (the reason is required)."""


@attrs.frozen
class FamilyDiscussion:
    """The IACF's "confirmation you've discussed this with the family"."""

    status: FamilyDiscussionStatus = attrs.field(
        validator=_enum("iacf.family_discussion.status", FamilyDiscussionStatus)
    )
    reason_not_engaged: str | None = attrs.field(
        default=None,
        validator=_text("iacf.family_discussion.reason_not_engaged", optional=True),
        repr=redacted,
    )

    def __attrs_post_init__(self) -> None:
        if self.status is FamilyDiscussionStatus.CONFIRMED and self.reason_not_engaged:
            raise InvalidInput(
                "iacf.family_discussion.reason_not_engaged",
                "is given only when the discussion was attempted, not confirmed",
            )


@attrs.frozen
class InteragencyContactForm:
    """The Interagency Contact Form (IACF), one field per item of the policy's checklist.

    Every field may be left empty in a draft; :mod:`chronic_na.rules` says
    which are missing before a contact can be submitted. ``None`` means "not
    answered"; an empty set of factors is also "not answered" (choose
    ``NONE_KNOWN`` to say there are none).
    """

    actions_taken: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_texts("iacf.actions_taken"), repr=redacted
    )
    home_factors: frozenset[HomeFactor] = attrs.field(
        default=frozenset(),
        converter=_as_frozenset,
        validator=_enum_set("iacf.home_factors", HomeFactor),
    )
    home_factors_other: str | None = attrs.field(
        default=None, validator=_text("iacf.home_factors_other", optional=True), repr=redacted
    )
    school_issues: frozenset[SchoolIssue] = attrs.field(
        default=frozenset(),
        converter=_as_frozenset,
        validator=_enum_set("iacf.school_issues", SchoolIssue),
    )
    school_issues_other: str | None = attrs.field(
        default=None, validator=_text("iacf.school_issues_other", optional=True), repr=redacted
    )
    what_has_worked: str | None = attrs.field(
        default=None, validator=_text("iacf.what_has_worked", optional=True), repr=redacted
    )
    external_agencies: tuple[str, ...] | None = attrs.field(
        default=None,
        converter=_as_tuple,
        validator=_texts("iacf.external_agencies", optional=True),
        repr=redacted,
    )
    """The agencies involved (names of services, never of people): ``()`` for
    none, ``None`` while the question is not answered."""
    what_has_not_worked: str | None = attrs.field(
        default=None, validator=_text("iacf.what_has_not_worked", optional=True), repr=redacted
    )
    patterns: PatternsItem | None = attrs.field(
        default=None, validator=_instance("iacf.patterns", PatternsItem, optional=True)
    )
    attendance_panel_involved: bool | None = attrs.field(
        default=None, validator=_instance("iacf.attendance_panel_involved", bool, optional=True)
    )
    education_supervision_order: EducationSupervisionOrder = attrs.field(
        factory=lambda: EducationSupervisionOrder(ESOStatus.NOT_ANSWERED),
        validator=_instance("iacf.education_supervision_order", EducationSupervisionOrder),
    )
    concern: str | None = attrs.field(
        default=None, validator=_text("iacf.concern", optional=True), repr=redacted
    )
    family_discussion: FamilyDiscussion | None = attrs.field(
        default=None,
        validator=_instance("iacf.family_discussion", FamilyDiscussion, optional=True),
    )


class EngagementKind(enum.Enum):
    """How the school engaged (or tried to engage) the family."""

    PHONE_CALL = "phone_call"
    LETTER = "letter"
    EMAIL = "email"
    MEETING = "meeting"
    HOME_VISIT = "home_visit"
    OTHER = "other"


@attrs.frozen
class ChronologyEntry:
    """One entry of the chronology of the school's engagement with the family."""

    on: dt.date = attrs.field(validator=_date("chronology.on"))
    kind: EngagementKind = attrs.field(validator=_enum("chronology.kind", EngagementKind))
    summary: str = attrs.field(validator=_text("chronology.summary"), repr=redacted)
    family_engaged: bool = attrs.field(
        default=True, validator=_instance("chronology.family_engaged", bool)
    )


@attrs.frozen
class EHAReference:
    """The reference of an Early Help Assessment submitted with the IACF."""

    reference: str = attrs.field(validator=reference("eha.reference"))
    completed_on: dt.date = attrs.field(validator=_date("eha.completed_on"))


# --------------------------------------------------------------------------- decisions


class PlanAssessment(enum.Enum):
    """The coordinator's view of any plan already in place."""

    NO_PLAN = "no_plan"
    PLAN_NOT_EFFECTIVE = "plan_not_effective"
    PLAN_WORKING = "plan_working"


class MashOutcome(enum.Enum):
    """Outcomes of a MASH decision (domain.md section 4)."""

    NO_FURTHER_ACTION = "no_further_action"
    ADVICE_SIGNPOSTING = "advice_signposting"
    EARLY_HELP = "early_help"
    """The only outcome that continues on this pathway (allocation)."""
    CHILD_IN_NEED_S17 = "child_in_need_s17"
    STRATEGY_DISCUSSION_S47 = "strategy_discussion_s47"
    IMMEDIATE_PROTECTION = "immediate_protection"


@attrs.frozen
class MashDecision:
    """A MASH decision: who decided, what, when and why."""

    outcome: MashOutcome = attrs.field(validator=_enum("decision.outcome", MashOutcome))
    decision_maker: str = attrs.field(validator=reference("decision.decision_maker"))
    decided_at: dt.datetime = attrs.field(validator=_aware("decision.decided_at"))
    rationale: str = attrs.field(validator=_text("decision.rationale"), repr=redacted)


@attrs.frozen
class MaintenancePlan:
    """The plan agreed with the family and the school at the end of the intervention."""

    actions: tuple[str, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_texts("plan.actions"), repr=redacted
    )
    agreed_by_family: bool = attrs.field(
        default=False, validator=_instance("plan.agreed_by_family", bool)
    )
    agreed_by_school: bool = attrs.field(
        default=False, validator=_instance("plan.agreed_by_school", bool)
    )


class ClosureReason(enum.Enum):
    """Why a case closed before (or instead of) stepping back to school."""

    MOVED_AWAY = "moved_away"
    ATTENDANCE_RECOVERED = "attendance_recovered"
    """Attendance recovered before a contact was made."""
    MASH_OUTCOME_NOT_EARLY_HELP = "mash_outcome_not_early_help"
    """MASH decided no further action, advice, or a step-up to social care."""
    CONSENT_WITHDRAWN = "consent_withdrawn"
    """Early help is consent-based; the family withdrew consent."""
    STEPPED_UP = "stepped_up"
    """Stepped up to children's social care during early help."""


@attrs.frozen
class Contact:
    """The documents of a contact to MASH as they stand (after any correction)."""

    iacf: InteragencyContactForm
    eha: EHAReference | None
    unable_to_engage_reason: str | None = attrs.field(repr=redacted)
    chronology: tuple[ChronologyEntry, ...]
    submitted_at: dt.datetime
