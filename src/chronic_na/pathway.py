"""The pathway's vocabulary: its states and the commands that move a case.

A command is a frozen record of what someone asks the case to do: who
(``actor``, with their role), when (``at``, timezone-aware) and with what
documents. The lifecycle (:mod:`chronic_na.lifecycle`) checks it against the
lifecycle table and the rules and, if it is accepted, records it as an event.

Commands are named from the domain (``submit_contact``, not ``step_3``);
``Command.name`` is the trigger name used in the lifecycle table.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar

import attrs

from chronic_na.attendance.summary import AttendanceSummary
from chronic_na.errors import InvalidInput
from chronic_na.records import (
    Actor,
    ChronologyEntry,
    ClosureReason,
    EHAReference,
    InteragencyContactForm,
    MaintenancePlan,
    MashDecision,
    PlanAssessment,
    PupilRef,
    exists_in_its_zone,
    redacted,
    reference,
)

__all__ = [
    "COMMAND_TYPES",
    "AgreeContact",
    "AgreeMaintenancePlan",
    "AllocateLeadProfessional",
    "BeginPlanReview",
    "CloseCase",
    "Command",
    "CorrectContact",
    "HandOverLeadProfessional",
    "OpenCase",
    "RecordMashDecision",
    "RecordPlanWorking",
    "RecordReview",
    "RecordSchoolContact",
    "ReopenCase",
    "ReopenPlanReview",
    "SendAdditionalInformationFeedback",
    "SendDecisionFeedback",
    "StartIntervention",
    "State",
    "StepBackToSchool",
    "SubmitAdditionalInformation",
    "SubmitContact",
]


class State(enum.Enum):
    """The states of a case on the pathway."""

    NEW = "new"
    """Before the case is opened (never stored; ``open_case`` leaves it)."""
    IDENTIFIED = "identified"
    """Attendance met the trigger; the coordinator has opened a case."""
    PLAN_REVIEW = "plan_review"
    """The coordinator and the school are checking any plan already in place."""
    EXISTING_PLAN_CONTINUES = "existing_plan_continues"
    """A plan in place is working and continues (monitored; no contact)."""
    CONTACT_AGREED = "contact_agreed"
    """No effective plan: a contact to MASH is agreed and the school prepares it."""
    CONTACT_SUBMITTED = "contact_submitted"
    """The IACF (with an EHA, or the reason the family could not be engaged) is with MASH."""
    MASH_DECIDED = "mash_decided"
    """MASH has decided; early help goes on to allocation, other outcomes close."""
    ALLOCATED = "allocated"
    """A lead professional is allocated."""
    INTERVENTION = "intervention"
    """The lead professional works with the family (up to 6 months)."""
    MAINTENANCE_PLAN_AGREED = "maintenance_plan_agreed"
    """A maintenance plan is agreed with the family and the school."""
    STEPPED_BACK = "stepped_back"
    """Stepped back to school with the maintenance plan (final)."""
    CLOSED = "closed"
    """Closed early with a recorded reason (final; a manager may reopen it)."""


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, dt.datetime):
        raise InvalidInput(attribute.name, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(attribute.name, "must be timezone-aware (naive datetimes are ambiguous)")
    if not exists_in_its_zone(value):
        raise InvalidInput(attribute.name, "is a local time that does not exist (a clock change)")


# Case ids, schools and staff are pseudonymous references, like pupils: they
# appear in error messages and logs, so a name written with spaces is refused.
_case_id = reference("case_id")


def _not_after_the_command(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    # A datetime is a date too: refuse it, so the field means one school day.
    # "Still to come" is judged by the date of ``at`` in its own zone.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise InvalidInput(attribute.name, "must be a date (not a datetime)")
    at = getattr(instance, "at", None)
    if isinstance(at, dt.datetime) and value > at.date():
        raise InvalidInput(attribute.name, "is after the command's own date: attendance "
                           "cannot be known as of a day still to come")  # fmt: skip


def _is(kind: type, *, optional: bool = False) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is None and optional:
            return
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            name = (
                kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            )
            raise InvalidInput(
                attribute.name, f"must be a {name}" + (" or None" if optional else "")
            )

    return check


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str):
        raise InvalidInput(attribute.name, "must be text (str)")


def _optional_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise InvalidInput(attribute.name, "must be text (str) or None")


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _chronology(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not all(isinstance(e, ChronologyEntry) for e in value):
        raise InvalidInput("chronology", "must be a sequence of ChronologyEntry")


@attrs.frozen(kw_only=True)
class Command:
    """What every command carries: the case, who gives it, and when."""

    name: ClassVar[str] = ""
    """The trigger name used in the lifecycle table."""
    schema_version: ClassVar[int] = 1
    """Bumped when the stored shape of this command changes (see serialization)."""

    case_id: str = attrs.field(validator=_case_id)
    actor: Actor = attrs.field(validator=_is(Actor))
    at: dt.datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class OpenCase(Command):
    """Open a case for a pupil whose attendance meets the policy's trigger."""

    name: ClassVar[str] = "open_case"
    pupil: PupilRef = attrs.field(validator=_is(PupilRef))
    school: str = attrs.field(validator=reference("school"))
    attendance: AttendanceSummary = attrs.field(validator=_is(AttendanceSummary))
    attendance_as_of: dt.date = attrs.field(validator=_not_after_the_command)
    previous_case_id: str | None = attrs.field(
        default=None, validator=reference("previous_case_id", optional=True)
    )
    """The earlier case of a child identified again after stepping back."""


@attrs.frozen(kw_only=True)
class BeginPlanReview(Command):
    """Start working with the school to check any plan already in place."""

    name: ClassVar[str] = "begin_plan_review"


@attrs.frozen(kw_only=True)
class RecordPlanWorking(Command):
    """Record that a plan already in place is working: it continues, no contact."""

    name: ClassVar[str] = "record_plan_working"
    plan_summary: str = attrs.field(validator=_text, repr=redacted)


@attrs.frozen(kw_only=True)
class ReopenPlanReview(Command):
    """The continuing plan stopped working: back to plan review."""

    name: ClassVar[str] = "reopen_plan_review"
    reason: str = attrs.field(validator=_text, repr=redacted)


@attrs.frozen(kw_only=True)
class AgreeContact(Command):
    """Agree a contact to MASH, stating the coordinator's view of any existing plan."""

    name: ClassVar[str] = "agree_contact"
    plan_assessment: PlanAssessment = attrs.field(validator=_is(PlanAssessment))


@attrs.frozen(kw_only=True)
class SubmitContact(Command):
    """Submit the contact to MASH: the IACF, with an EHA or the reason the
    school could not engage the family, and a chronology."""

    name: ClassVar[str] = "submit_contact"
    schema_version: ClassVar[int] = 2
    """Version 1 stored no answer about external agencies as ``[]``, so "none" and
    "not answered" could not be told apart; version 2 stores ``null`` for not
    answered and ``[]`` for none (and refuses not answered)."""
    iacf: InteragencyContactForm = attrs.field(validator=_is(InteragencyContactForm))
    eha: EHAReference | None = attrs.field(default=None, validator=_is(EHAReference, optional=True))
    unable_to_engage_reason: str | None = attrs.field(
        default=None, validator=_optional_text, repr=redacted
    )
    chronology: tuple[ChronologyEntry, ...] = attrs.field(
        default=(), converter=_as_tuple, validator=_chronology
    )


@attrs.frozen(kw_only=True)
class CorrectContact(SubmitContact):
    """Correct the submitted contact's documents (a manager, with a reason).

    Nothing is overwritten: the original submission stays in the record and
    this correction is an event of its own.
    """

    name: ClassVar[str] = "correct_contact"
    reason: str = attrs.field(validator=_text, repr=redacted)


@attrs.frozen(kw_only=True)
class RecordMashDecision(Command):
    """Record MASH's decision on the contact."""

    name: ClassVar[str] = "record_mash_decision"
    decision: MashDecision = attrs.field(validator=_is(MashDecision))


@attrs.frozen(kw_only=True)
class SendDecisionFeedback(Command):
    """Send the school feedback about the MASH decision."""

    name: ClassVar[str] = "send_decision_feedback"
    summary: str = attrs.field(validator=_text, repr=redacted)


@attrs.frozen(kw_only=True)
class SubmitAdditionalInformation(Command):
    """The school sends MASH additional information after the contact."""

    name: ClassVar[str] = "submit_additional_information"
    summary: str = attrs.field(validator=_text, repr=redacted)


@attrs.frozen(kw_only=True)
class SendAdditionalInformationFeedback(Command):
    """Tell the school its additional information (by number, from 1) was
    considered alongside existing information."""

    name: ClassVar[str] = "send_additional_information_feedback"
    schema_version: ClassVar[int] = 2
    """Version 1 stored ``information_number`` as ``number``."""
    information_number: int = attrs.field(validator=_is(int))
    summary: str = attrs.field(validator=_text, repr=redacted)


@attrs.frozen(kw_only=True)
class AllocateLeadProfessional(Command):
    """Allocate a lead professional from the Early Help and Prevention Team."""

    name: ClassVar[str] = "allocate_lead_professional"
    lead_professional: str = attrs.field(validator=reference("lead_professional"))


@attrs.frozen(kw_only=True)
class HandOverLeadProfessional(Command):
    """Hand the case over to another lead professional, with a reason."""

    name: ClassVar[str] = "hand_over_lead_professional"
    lead_professional: str = attrs.field(validator=reference("lead_professional"))
    reason: str = attrs.field(validator=_text, repr=redacted)


@attrs.frozen(kw_only=True)
class RecordSchoolContact(Command):
    """The allocated lead professional records contacting the school."""

    name: ClassVar[str] = "record_school_contact"
    summary: str = attrs.field(validator=_text, repr=redacted)


@attrs.frozen(kw_only=True)
class StartIntervention(Command):
    """The lead professional starts working with the family (the 6-month clock starts)."""

    name: ClassVar[str] = "start_intervention"


@attrs.frozen(kw_only=True)
class RecordReview(Command):
    """A review during the intervention, optionally with current attendance."""

    name: ClassVar[str] = "record_review"
    summary: str = attrs.field(validator=_text, repr=redacted)
    attendance: AttendanceSummary | None = attrs.field(
        default=None, validator=_is(AttendanceSummary, optional=True)
    )


@attrs.frozen(kw_only=True)
class AgreeMaintenancePlan(Command):
    """End the intervention with a maintenance plan agreed by the family and the school."""

    name: ClassVar[str] = "agree_maintenance_plan"
    plan: MaintenancePlan = attrs.field(validator=_is(MaintenancePlan))


@attrs.frozen(kw_only=True)
class StepBackToSchool(Command):
    """Step the family back to school with the maintenance plan.

    Attendance at or above 50% is never required ("families will still be
    stepped to school with a 'maintenance plan'").
    """

    name: ClassVar[str] = "step_back_to_school"
    attendance: AttendanceSummary | None = attrs.field(
        default=None, validator=_is(AttendanceSummary, optional=True)
    )


@attrs.frozen(kw_only=True)
class CloseCase(Command):
    """Close the case early, with a reason allowed in its current state."""

    name: ClassVar[str] = "close_case"
    reason: ClosureReason = attrs.field(validator=_is(ClosureReason))
    note: str | None = attrs.field(default=None, validator=_optional_text, repr=redacted)


@attrs.frozen(kw_only=True)
class ReopenCase(Command):
    """Reopen a closed case (a manager, with a reason): it returns to the
    state it was closed from."""

    name: ClassVar[str] = "reopen_case"
    reason: str = attrs.field(validator=_text, repr=redacted)


COMMAND_TYPES: tuple[type[Command], ...] = (
    OpenCase,
    BeginPlanReview,
    RecordPlanWorking,
    ReopenPlanReview,
    AgreeContact,
    SubmitContact,
    CorrectContact,
    RecordMashDecision,
    SendDecisionFeedback,
    SubmitAdditionalInformation,
    SendAdditionalInformationFeedback,
    AllocateLeadProfessional,
    HandOverLeadProfessional,
    RecordSchoolContact,
    StartIntervention,
    RecordReview,
    AgreeMaintenancePlan,
    StepBackToSchool,
    CloseCase,
    ReopenCase,
)
"""Every command type, in pathway order."""
