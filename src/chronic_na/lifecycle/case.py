"""The case aggregate, its events, and the fold that rebuilds it.

A :class:`Case` changes only by applying events; an :class:`Event` records
one accepted command. The same payload functions serve the live path and
replay, so a case rebuilt from its events equals the live one.

A case holds its history as the accepted commands (immutable records), in
one private list that only grows, and the few warnings the rules gave, not
as :class:`Event` objects: ``events`` builds them when read. That keeps a
live case small for the cyclic garbage collector: a caseload held in memory
is walked by every full collection, and a command adds no new container
that the collector would promote and count towards the next one. The
history is read-only to callers: ``events`` is a new tuple on each read, and
the only way to add to it is :meth:`Lifecycle.execute`. A copy of a case
(``copy.copy`` or ``copy.deepcopy``) has a history of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from chronic_na.attendance.summary import AttendanceSummary
from chronic_na.errors import InvalidInput, Violation
from chronic_na.pathway import (
    AgreeContact,
    AgreeMaintenancePlan,
    AllocateLeadProfessional,
    BeginPlanReview,
    CloseCase,
    Command,
    CorrectContact,
    HandOverLeadProfessional,
    OpenCase,
    RecordMashDecision,
    RecordPlanWorking,
    RecordReview,
    RecordSchoolContact,
    ReopenCase,
    ReopenPlanReview,
    SendAdditionalInformationFeedback,
    SendDecisionFeedback,
    StartIntervention,
    State,
    StepBackToSchool,
    SubmitAdditionalInformation,
    SubmitContact,
)
from chronic_na.records import (
    ClosureReason,
    Contact,
    MaintenancePlan,
    MashDecision,
    PlanAssessment,
    PupilRef,
)
from chronic_na.rules import Deadline, DutyKind, Obligation

if TYPE_CHECKING:
    from chronic_na.lifecycle.engine import CheckResult, Lifecycle, NextStep

__all__ = ["Case", "Event"]


@attrs.frozen
class Event:
    """One accepted command, as recorded: the case, its position, the command
    (actor, role, time and documents), and any warnings the rules gave."""

    case_id: str
    number: int
    """1-based position in the case: the case's version after this event."""
    command: Command
    warnings: tuple[Violation, ...] = ()

    @property
    def kind(self) -> str:
        """The command's trigger name (``submit_contact``...)."""
        return self.command.name

    @property
    def at(self) -> dt.datetime:
        """When it happened (the command's time)."""
        return self.command.at


@attrs.define(slots=True, init=False)
class Case:
    """One child's case on the pathway, rebuilt from (and extended by) events.

    Made by :meth:`Lifecycle.open` or :meth:`Lifecycle.replay` (or a store's
    ``load``), never with its fields given: every field after ``lifecycle``
    follows from the events. Read its attributes; change it only through
    :meth:`execute` (or :meth:`Lifecycle.execute`). Its history is read
    through :attr:`events` (a new tuple on each read) and
    :meth:`events_after`. Free text never appears in its ``repr``.
    """

    case_id: str
    lifecycle: Lifecycle = attrs.field(eq=False, repr=False)
    state: State = State.NEW
    pupil: PupilRef | None = None
    school: str | None = None
    previous_case_id: str | None = None
    opened_at: dt.datetime | None = None
    attendance_at_opening: AttendanceSummary | None = attrs.field(default=None, repr=False)
    plan_assessment: PlanAssessment | None = None
    existing_plan_since: dt.datetime | None = None
    contact: Contact | None = attrs.field(default=None, repr=False)
    corrections: int = 0
    decisions: tuple[tuple[dt.datetime, MashDecision], ...] = attrs.field(default=(), repr=False)
    """Each MASH decision with the time it was recorded."""
    obligations: tuple[Obligation, ...] = attrs.field(default=(), repr=False)
    additional_information: int = 0
    lead_professional: str | None = None
    allocations: int = 0
    intervention_started_at: dt.datetime | None = None
    intervention_ended_at: dt.datetime | None = None
    reviews: int = 0
    latest_attendance: AttendanceSummary | None = attrs.field(default=None, repr=False)
    maintenance_plan: MaintenancePlan | None = attrs.field(default=None, repr=False)
    closed_at: dt.datetime | None = None
    closed_from: State | None = None
    closure_reason: ClosureReason | None = None
    stepped_back_at: dt.datetime | None = None
    last_event_at: dt.datetime | None = None
    _history: list[Command] = attrs.field(init=False, factory=list, repr=False)
    """The accepted commands, in order: event ``n`` is ``_history[n - 1]``.
    Only :meth:`_record` changes it, by appending."""
    _warnings: tuple[tuple[int, tuple[Violation, ...]], ...] = attrs.field(
        init=False, default=(), repr=False
    )
    """(event number, warnings) for the events that recorded any (most record none)."""

    def __init__(self, case_id: str, lifecycle: Lifecycle) -> None:
        """An empty case (state ``new``, no events) of ``lifecycle``."""
        self.__attrs_init__(case_id, lifecycle)

    def __copy__(self) -> Case:
        """A copy with a history of its own: commands given to either later
        do not change the other (every other field is an immutable value)."""
        cls = type(self)
        twin = cls.__new__(cls)
        for field in attrs.fields(cls):
            object.__setattr__(twin, field.name, getattr(self, field.name))
        twin._history = list(self._history)
        return twin

    def __deepcopy__(self, memo: dict[int, object]) -> Case:
        """As :meth:`__copy__`: the fields are immutable values, and the
        lifecycle is shared by design."""
        return self.__copy__()

    @property
    def version(self) -> int:
        """The number of events: what a store compares for optimistic concurrency."""
        return len(self._history)

    @property
    def events(self) -> tuple[Event, ...]:
        """Every event of the case, in order (a new tuple on each read: the
        history cannot be changed through it)."""
        return self.events_after(0)

    def events_after(self, version: int) -> tuple[Event, ...]:
        """The events after the first ``version``: those a store holding
        ``version`` events of this case does not have yet."""
        if type(version) is not int or not 0 <= version <= len(self._history):
            raise InvalidInput("version", "must be a whole number from 0 to the case's version")
        warnings = dict(self._warnings) if self._warnings else {}
        case_id = self.case_id
        return tuple(
            Event(case_id, number, command, warnings.get(number, ()))
            for number, command in enumerate(self._history[version:], version + 1)
        )

    def _record(self, command: Command, warnings: tuple[Violation, ...]) -> int:
        """Add ``command`` (already applied by the fold) to the history; its event's number."""
        history = self._history
        history.append(command)
        number = len(history)
        if warnings:
            self._warnings = (*self._warnings, (number, warnings))
        self.last_event_at = command.at
        return number

    @property
    def is_open(self) -> bool:
        """Opened and not yet stepped back or closed."""
        return self.state not in (State.NEW, State.STEPPED_BACK, State.CLOSED)

    @property
    def decision(self) -> MashDecision | None:
        """The latest MASH decision, if any."""
        return self.decisions[-1][1] if self.decisions else None

    # Convenience: delegate to the case's lifecycle.

    def execute(self, command: Command) -> Event:
        """Check ``command`` and, if it is accepted, apply it; see :meth:`Lifecycle.execute`."""
        return self.lifecycle.execute(self, command)

    def check(self, command: Command) -> CheckResult:
        """Dry run: what ``command`` would do, changing nothing."""
        return self.lifecycle.check(self, command)

    def next_steps(self) -> tuple[NextStep, ...]:
        """The commands open now, and what blocks each closed one."""
        return self.lifecycle.next_steps(self)

    def deadlines(self) -> tuple[Deadline, ...]:
        """Every due time of the case (met, open and void)."""
        return self.lifecycle.deadlines(self)

    def overdue(self, at: dt.datetime) -> tuple[Deadline, ...]:
        """What is owed and past due at ``at``."""
        return self.lifecycle.overdue(self, at)

    def due(self, at: dt.datetime) -> tuple[Deadline, ...]:
        """What is owed and not yet past due at ``at``."""
        return self.lifecycle.due(self, at)

    def owed_obligations(self) -> tuple[Obligation, ...]:
        """Obligations to the school not yet met (they outlive a closed case)."""
        return tuple(o for o in self.obligations if o.met_at is None)


# --------------------------------------------------------------------------- the fold
# Each function applies one command's documents to the case. The state has
# already been moved (by the transitions machine live, by the table on
# replay); ``prior`` is the state before the event.

Apply = Callable[[Case, Any, State], None]


def _meet(case: Case, kind: DutyKind, at: dt.datetime, number: int | None = None) -> None:
    case.obligations = tuple(
        Obligation(o.kind, o.number, o.owed_since, at)  # attrs.evolve, without its introspection
        if o.kind is kind and o.met_at is None and (number is None or o.number == number)
        else o
        for o in case.obligations
    )


def _owe(case: Case, kind: DutyKind, number: int, at: dt.datetime) -> None:
    case.obligations = (*case.obligations, Obligation(kind, number, at))


def _open(case: Case, cmd: OpenCase, prior: State) -> None:
    case.pupil = cmd.pupil
    case.school = cmd.school
    case.previous_case_id = cmd.previous_case_id
    case.opened_at = cmd.at
    case.attendance_at_opening = cmd.attendance
    case.latest_attendance = cmd.attendance


def _nothing(case: Case, cmd: Command, prior: State) -> None:
    return None


def _plan_working(case: Case, cmd: RecordPlanWorking, prior: State) -> None:
    case.plan_assessment = PlanAssessment.PLAN_WORKING
    case.existing_plan_since = cmd.at


def _reopen_plan(case: Case, cmd: ReopenPlanReview, prior: State) -> None:
    case.plan_assessment = PlanAssessment.PLAN_NOT_EFFECTIVE
    case.existing_plan_since = None


def _agree_contact(case: Case, cmd: AgreeContact, prior: State) -> None:
    case.plan_assessment = cmd.plan_assessment


def _contact_of(cmd: SubmitContact, submitted_at: dt.datetime) -> Contact:
    return Contact(cmd.iacf, cmd.eha, cmd.unable_to_engage_reason, cmd.chronology, submitted_at)


def _submit_contact(case: Case, cmd: SubmitContact, prior: State) -> None:
    case.contact = _contact_of(cmd, cmd.at)


def _correct_contact(case: Case, cmd: CorrectContact, prior: State) -> None:
    # The submission time stays that of the original contact: deadlines run from it.
    assert case.contact is not None
    case.contact = _contact_of(cmd, case.contact.submitted_at)
    case.corrections += 1


def _decide(case: Case, cmd: RecordMashDecision, prior: State) -> None:
    case.decisions = (*case.decisions, (cmd.at, cmd.decision))
    _owe(case, DutyKind.DECISION_FEEDBACK, len(case.decisions), cmd.at)


def _decision_feedback(case: Case, cmd: SendDecisionFeedback, prior: State) -> None:
    _meet(case, DutyKind.DECISION_FEEDBACK, cmd.at)


def _additional(case: Case, cmd: SubmitAdditionalInformation, prior: State) -> None:
    case.additional_information += 1
    _owe(case, DutyKind.ADDITIONAL_INFORMATION_FEEDBACK, case.additional_information, cmd.at)


def _additional_feedback(case: Case, cmd: SendAdditionalInformationFeedback, prior: State) -> None:
    _meet(case, DutyKind.ADDITIONAL_INFORMATION_FEEDBACK, cmd.at, cmd.information_number)


def _allocate(
    case: Case, cmd: AllocateLeadProfessional | HandOverLeadProfessional, p: State
) -> None:
    case.lead_professional = cmd.lead_professional
    case.allocations += 1
    _owe(case, DutyKind.SCHOOL_CONTACT, case.allocations, cmd.at)


def _school_contact(case: Case, cmd: RecordSchoolContact, prior: State) -> None:
    _meet(case, DutyKind.SCHOOL_CONTACT, cmd.at)


def _start(case: Case, cmd: StartIntervention, prior: State) -> None:
    case.intervention_started_at = cmd.at


def _review(case: Case, cmd: RecordReview, prior: State) -> None:
    case.reviews += 1
    if cmd.attendance is not None:
        case.latest_attendance = cmd.attendance


def _maintenance(case: Case, cmd: AgreeMaintenancePlan, prior: State) -> None:
    case.maintenance_plan = cmd.plan
    if prior is State.INTERVENTION:  # a revised plan leaves the intervention's end alone
        case.intervention_ended_at = cmd.at


def _step_back(case: Case, cmd: StepBackToSchool, prior: State) -> None:
    case.stepped_back_at = cmd.at
    if cmd.attendance is not None:
        case.latest_attendance = cmd.attendance


def _close(case: Case, cmd: CloseCase, prior: State) -> None:
    case.closed_at = cmd.at
    case.closed_from = prior
    case.closure_reason = cmd.reason
    if prior is State.INTERVENTION and case.intervention_ended_at is None:
        case.intervention_ended_at = cmd.at


def _reopen(case: Case, cmd: ReopenCase, prior: State) -> None:
    if case.closed_from is State.INTERVENTION and case.intervention_ended_at == case.closed_at:
        case.intervention_ended_at = None
    case.closed_at = None
    case.closed_from = None
    case.closure_reason = None


FOLD: dict[type[Command], Apply] = {
    OpenCase: _open,
    BeginPlanReview: _nothing,
    RecordPlanWorking: _plan_working,
    ReopenPlanReview: _reopen_plan,
    AgreeContact: _agree_contact,
    SubmitContact: _submit_contact,
    CorrectContact: _correct_contact,
    RecordMashDecision: _decide,
    SendDecisionFeedback: _decision_feedback,
    SubmitAdditionalInformation: _additional,
    SendAdditionalInformationFeedback: _additional_feedback,
    AllocateLeadProfessional: _allocate,
    HandOverLeadProfessional: _allocate,
    RecordSchoolContact: _school_contact,
    StartIntervention: _start,
    RecordReview: _review,
    AgreeMaintenancePlan: _maintenance,
    StepBackToSchool: _step_back,
    CloseCase: _close,
    ReopenCase: _reopen,
}
"""How each command's documents change the case (state moves are the table's)."""
