"""The lifecycle engine: error order, bad input, the table's validation,
replay, obligations, next steps and dry runs."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

import attrs
import pytest

from chronic_na import (
    AttendanceSummary,
    InvalidInput,
    NotAuthorised,
    PolicyViolation,
    SchemaError,
    TransitionNotAllowed,
)
from chronic_na.errors import InvalidLifecycle
from chronic_na.lifecycle import DEFAULT_TABLE, Case, Lifecycle, LifecycleTable, Transition
from chronic_na.pathway import (
    AgreeContact,
    AllocateLeadProfessional,
    BeginPlanReview,
    CloseCase,
    Command,
    HandOverLeadProfessional,
    OpenCase,
    RecordMashDecision,
    RecordPlanWorking,
    RecordSchoolContact,
    ReopenCase,
    SendAdditionalInformationFeedback,
    SendDecisionFeedback,
    State,
    StepBackToSchool,
    SubmitAdditionalInformation,
)
from chronic_na.records import (
    Actor,
    ClosureReason,
    MashDecision,
    MashOutcome,
    PlanAssessment,
    Role,
)
from chronic_na.rules import DutyKind
from chronic_na.testing import ACTORS, LONDON

from .conftest import START, drive, happy_commands, snapshot

COORD = ACTORS[Role.COORDINATOR]
SCHOOL = ACTORS[Role.SCHOOL]
MDM = ACTORS[Role.MASH_DECISION_MAKER]
EHM = ACTORS[Role.EARLY_HELP_MANAGER]
LP = ACTORS[Role.LEAD_PROFESSIONAL]


def later(case: Case, hours: float = 1) -> dt.datetime:
    assert case.last_event_at is not None
    return case.last_event_at + dt.timedelta(hours=hours)


# --------------------------------------------------------------------------- error order


def test_error_order_invalid_input_first(lifecycle: Lifecycle) -> None:
    """A command wrong in every way reports InvalidInput (time before the last event)."""
    case = drive(lifecycle, State.IDENTIFIED)
    bad = AgreeContact(
        case_id="C-1", actor=SCHOOL, at=START - dt.timedelta(days=1),
        plan_assessment=PlanAssessment.PLAN_WORKING,
    )  # fmt: skip
    with pytest.raises(InvalidInput) as info:
        case.execute(bad)
    assert info.value.field == "at"


def test_error_order_not_authorised_before_transition(lifecycle: Lifecycle) -> None:
    """Wrong role and wrong state: NotAuthorised wins."""
    case = drive(lifecycle, State.IDENTIFIED)
    bad = AgreeContact(
        case_id="C-1", actor=SCHOOL, at=later(case), plan_assessment=PlanAssessment.PLAN_WORKING
    )
    with pytest.raises(NotAuthorised) as info:
        case.execute(bad)
    assert info.value.role == "school"
    assert info.value.allowed == ("coordinator",)
    assert "may not agree_contact" in str(info.value)


def test_error_order_transition_before_policy(lifecycle: Lifecycle) -> None:
    """Right role, wrong state and a rule broken: TransitionNotAllowed wins."""
    case = drive(lifecycle, State.IDENTIFIED)
    bad = AgreeContact(
        case_id="C-1", actor=COORD, at=later(case), plan_assessment=PlanAssessment.PLAN_WORKING
    )
    with pytest.raises(TransitionNotAllowed) as info:
        case.execute(bad)
    assert info.value.state == "identified"
    assert info.value.open_in == ("plan_review",)


def test_refused_command_changes_nothing(lifecycle: Lifecycle) -> None:
    """After each kind of refusal the case equals a copy taken before."""
    case = drive(lifecycle, State.PLAN_REVIEW)
    before = snapshot(case)
    for bad in (
        AgreeContact(case_id="C-1", actor=COORD, at=later(case, -100),
                     plan_assessment=PlanAssessment.NO_PLAN),
        AgreeContact(case_id="C-1", actor=SCHOOL, at=later(case),
                     plan_assessment=PlanAssessment.NO_PLAN),
        BeginPlanReview(case_id="C-1", actor=COORD, at=later(case)),
        AgreeContact(case_id="C-1", actor=COORD, at=later(case),
                     plan_assessment=PlanAssessment.PLAN_WORKING),
    ):  # fmt: skip
        with pytest.raises((InvalidInput, NotAuthorised, TransitionNotAllowed, PolicyViolation)):
            case.execute(bad)
        assert case == before


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: BeginPlanReview(case_id="C-1", actor=COORD, at=dt.datetime(2026, 1, 6)), "at"),  # noqa: DTZ001,
        (lambda: BeginPlanReview(case_id="C-1", actor=COORD, at="2026-01-06"), "at"),
        (lambda: BeginPlanReview(case_id="", actor=COORD, at=START), "case_id"),
        (lambda: BeginPlanReview(case_id="C-1", actor="coord-01", at=START), "actor"),
        (lambda: Actor("coord-01", "coordinator"), "actor.role"),
        (lambda: Actor("Jane Doe", Role.COORDINATOR), "actor.id"),
        (lambda: AgreeContact(case_id="C-1", actor=COORD, at=START, plan_assessment="no_plan"),
         "plan_assessment"),
        (lambda: MashDecision(MashOutcome.EARLY_HELP, "mash-01", dt.datetime(2026, 1, 6), "x"),  # noqa: DTZ001
         "decision.decided_at"),
        (lambda: MashDecision("early_help", "mash-01", START, "x"), "decision.outcome"),
        (lambda: CloseCase(case_id="C-1", actor=COORD, at=START, reason="moved_away"), "reason"),
        (lambda: SendAdditionalInformationFeedback(
            case_id="C-1", actor=MDM, at=START, information_number=True, summary="x"),
         "information_number"),
    ],
)  # fmt: skip
def test_bad_input_names_the_field(make: object, field: str) -> None:
    """Wrong types, naive datetimes, unknown enumeration values: InvalidInput naming the field."""
    with pytest.raises(InvalidInput) as info:
        make()  # type: ignore[operator]
    assert info.value.field == field


NAME = "Synthetic Person-Name"
"""Shaped like a name, not a reference: spaces are never part of a reference."""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"case_id": NAME}, "case_id"),
        ({"case_id": "C-1\n"}, "case_id"),
        ({"school": NAME}, "school"),
        ({"school": ""}, "school"),
        ({"previous_case_id": NAME}, "previous_case_id"),
        ({"attendance_as_of": dt.date(2026, 1, 6)}, "attendance_as_of"),
        ({"attendance_as_of": START}, "attendance_as_of"),
    ],
)
def test_references_and_the_attendance_date_are_checked_when_a_case_opens(
    change: dict[str, object], field: str
) -> None:
    """Case ids, schools and linked cases are pseudonymous references (never a name,
    which would then appear in errors and logs); attendance is known as of a date
    (not a datetime) no later than the day the case is opened."""
    first = happy_commands()[0]
    assert first.at.date() == dt.date(2026, 1, 5)
    assert isinstance(first, OpenCase)
    attrs.evolve(first, attendance_as_of=first.at.date())  # the same day is fine
    with pytest.raises(InvalidInput) as info:
        attrs.evolve(first, **change)
    assert info.value.field == field
    assert "Person-Name" not in str(info.value)


@pytest.mark.parametrize("kind", [AllocateLeadProfessional, HandOverLeadProfessional])
def test_a_lead_professional_is_named_by_a_staff_reference(kind: type[Command]) -> None:
    """A lead professional given as a name is refused when the command is made: no actor
    id could ever match it, so the case would be stuck until handed over."""
    extra = {"reason": "Synthetic."} if kind is HandOverLeadProfessional else {}
    kind(case_id="C-1", actor=EHM, at=START, lead_professional="lp-02", **extra)
    with pytest.raises(InvalidInput) as info:
        kind(case_id="C-1", actor=EHM, at=START, lead_professional=NAME, **extra)
    assert info.value.field == "lead_professional"
    assert "Person-Name" not in str(info.value)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda lc, case, cmd: lc.execute("C-1", cmd), "case"),
        (lambda lc, case, cmd: lc.next_steps(None), "case"),
        (lambda lc, case, cmd: lc.deadlines("C-1"), "case"),
        (lambda lc, case, cmd: lc.overdue(None, START), "case"),
        (lambda lc, case, cmd: lc.replay([1]), "events"),
        (lambda lc, case, cmd: lc.replay([*case.events, "x"]), "events"),
        (lambda lc, case, cmd: case.events_after("1"), "version"),
        (lambda lc, case, cmd: case.events_after(-1), "version"),
        (lambda lc, case, cmd: case.events_after(case.version + 1), "version"),
        (lambda lc, case, cmd: case.events_after(True), "version"),
    ],
    ids=[
        "execute", "next_steps", "deadlines", "overdue", "replay", "replay-tail",
        "after-str", "after-negative", "after-too-many", "after-bool",
    ],
)
def test_public_entry_points_name_the_bad_argument(
    lifecycle: Lifecycle, call: Callable[..., object], field: str
) -> None:
    """Wrong arguments to the lifecycle's and the case's own methods are InvalidInput
    naming the argument, not an AttributeError or TypeError from inside."""
    case = drive(lifecycle, State.PLAN_REVIEW)
    command = happy_commands()[2]
    with pytest.raises(InvalidInput) as info:
        call(lifecycle, case, command)
    assert info.value.field == field
    assert case.version == 2


def test_a_dry_run_on_something_not_a_case_reports_invalid_input(lifecycle: Lifecycle) -> None:
    """The dry run returns the error execute would raise."""
    error = lifecycle.check(None, happy_commands()[1]).error  # type: ignore[arg-type]
    assert isinstance(error, InvalidInput)
    assert error.field == "case"


def test_command_for_another_case_is_invalid(lifecycle: Lifecycle) -> None:
    """A command naming another case id is InvalidInput on case_id."""
    case = drive(lifecycle, State.IDENTIFIED)
    with pytest.raises(InvalidInput, match="case_id"):
        case.execute(BeginPlanReview(case_id="C-2", actor=COORD, at=later(case)))


# --------------------------------------------------------------------------- the table


def _table(*rows: Transition, **kw: object) -> LifecycleTable:
    return LifecycleTable(transitions=rows, **kw)  # type: ignore[arg-type]


def test_default_table_is_valid() -> None:
    """The shipped table validates (and a Lifecycle builds from it)."""
    Lifecycle(table=DEFAULT_TABLE)


def test_table_with_unknown_rule_is_refused() -> None:
    """A rule id not in the catalogue is refused when the lifecycle is built."""
    rows = tuple(
        attrs.evolve(t, rules=(*t.rules, "NO-SUCH-RULE")) if t.command is BeginPlanReview else t
        for t in DEFAULT_TABLE.transitions
    )
    with pytest.raises(InvalidLifecycle, match="unknown rule id 'NO-SUCH-RULE'"):
        Lifecycle(table=attrs.evolve(DEFAULT_TABLE, transitions=rows))


@pytest.mark.parametrize(
    ("command", "rule_id", "reads"),
    [
        (BeginPlanReview, "IACF-ACTIONS", "SubmitContact"),
        (CloseCase, "REASON-GIVEN", "ReopenPlanReview or CorrectContact"),
        (StepBackToSchool, "PLAN-HAS-ACTIONS", "AgreeMaintenancePlan"),
    ],
)
def test_table_with_a_rule_on_a_command_it_does_not_read_is_refused(
    command: type[Command], rule_id: str, reads: str
) -> None:
    """A rule that reads one command's documents, attached to another, is refused when the
    lifecycle is built (it would fail inside every check)."""
    rows = tuple(
        attrs.evolve(t, rules=(*t.rules, rule_id)) if t.command is command else t
        for t in DEFAULT_TABLE.transitions
    )
    with pytest.raises(InvalidLifecycle) as info:
        Lifecycle(table=attrs.evolve(DEFAULT_TABLE, transitions=rows))
    assert f"rule {rule_id} reads {reads}" in str(info.value)


def test_every_rule_of_the_default_table_applies_to_its_command() -> None:
    """The default table passes the check above, and case-only rules may go anywhere."""
    from chronic_na.rules import CATALOGUE

    for t in DEFAULT_TABLE.transitions:
        for rule_id in t.rules:
            reads = CATALOGUE[rule_id].applies_to
            assert reads is None or issubclass(t.command, reads), (t.command, rule_id)
    anywhere = {r.id for r in CATALOGUE.values() if r.applies_to is None}
    assert {"ACTOR-IS-LEAD-PROFESSIONAL", "DECISION-FEEDBACK-OWED"} <= anywhere


def test_table_with_unknown_role_is_refused() -> None:
    """A role that is not a Role is refused."""
    rows = tuple(
        attrs.evolve(t, roles={"janitor"}) if t.command is BeginPlanReview else t
        for t in DEFAULT_TABLE.transitions
    )
    with pytest.raises(InvalidLifecycle, match="unknown role 'janitor'"):
        Lifecycle(table=attrs.evolve(DEFAULT_TABLE, transitions=rows))


def test_table_with_unreachable_state_is_refused() -> None:
    """Dropping the only way into existing_plan_continues makes it unreachable."""
    rows = tuple(t for t in DEFAULT_TABLE.transitions if t.command is not RecordPlanWorking)
    with pytest.raises(InvalidLifecycle, match="'existing_plan_continues' is unreachable"):
        Lifecycle(table=attrs.evolve(DEFAULT_TABLE, transitions=rows))


def test_table_with_trap_state_is_refused() -> None:
    """A non-final state with no way to a final one is refused: plan review and a
    continuing plan that only lead to each other."""
    trapped = {State.PLAN_REVIEW, State.EXISTING_PLAN_CONTINUES}
    rows = tuple(
        attrs.evolve(t, sources=t.sources - trapped) if t.command is CloseCase else t
        for t in DEFAULT_TABLE.transitions
        if t.command is not AgreeContact
    )
    reasons = {k: v for k, v in DEFAULT_TABLE.closure_reasons.items() if k not in trapped}
    with pytest.raises(InvalidLifecycle) as info:
        Lifecycle(table=attrs.evolve(DEFAULT_TABLE, transitions=rows, closure_reasons=reasons))
    assert "state 'plan_review' has no way to a final state" in info.value.problems
    assert "state 'existing_plan_continues' has no way to a final state" in info.value.problems


def test_table_with_duplicate_command_is_refused() -> None:
    """A command declared twice is refused."""
    rows = (*DEFAULT_TABLE.transitions, DEFAULT_TABLE.transitions[1])
    with pytest.raises(InvalidLifecycle, match="declared twice"):
        Lifecycle(table=attrs.evolve(DEFAULT_TABLE, transitions=rows))


def test_table_closure_reasons_must_match_close_sources() -> None:
    """Closure reasons for a state close_case is not open in are refused."""
    reasons = {**DEFAULT_TABLE.closure_reasons, State.STEPPED_BACK: frozenset(ClosureReason)}
    with pytest.raises(InvalidLifecycle, match="where close_case is not open"):
        Lifecycle(table=attrs.evolve(DEFAULT_TABLE, closure_reasons=reasons))


def test_machine_is_built_once_per_table() -> None:
    """Two lifecycles on one table share one transitions machine (no machine per case)."""
    from chronic_na import Policy

    a, b = Lifecycle(Policy()), Lifecycle(Policy(thin_text_chars=3))
    assert a._machine is b._machine
    assert a._machine.models == []  # no model is ever attached


# --------------------------------------------------------------------------- replay


def test_replay_equals_live(lifecycle: Lifecycle) -> None:
    """A case rebuilt from its events alone equals the live one."""
    case = drive(lifecycle, State.STEPPED_BACK)
    assert lifecycle.replay(case.events) == case
    assert lifecycle.replay(case.events[:5]) == drive(lifecycle, State.MASH_DECIDED)


def test_history_is_read_only_and_holds_each_event_once(lifecycle: Lifecycle) -> None:
    """``Case.events`` is a tuple built on each read: the events ``execute``
    returned, in order, with their warnings; changing what was read changes
    nothing, and ``events_after`` gives the tail a store lacks."""
    case = drive(lifecycle, State.MAINTENANCE_PLAN_AGREED)
    returned = []
    step_back = StepBackToSchool(
        case_id="C-1", actor=LP, at=later(case),
        attendance=AttendanceSummary(present=10, unauthorised=180),  # noted: below 50%
    )  # fmt: skip
    returned.append(case.execute(step_back))
    events = case.events
    assert isinstance(events, tuple)
    assert events[-1] == returned[-1]
    assert [e.number for e in events] == list(range(1, case.version + 1))
    assert [w.rule_id for w in events[-1].warnings] == ["STEP-BACK-BELOW-50-ALLOWED"]
    assert all(e.warnings == () for e in events[:-1])
    for version in range(case.version + 1):
        assert case.events_after(version) == events[version:]
    assert case.events_after(case.version) == ()
    replayed = lifecycle.replay(events)
    assert replayed == case
    assert replayed.events == events  # the warnings are kept by replay
    with pytest.raises(AttributeError):
        case.events.append(events[0])  # type: ignore[attr-defined]
    assert case.events == events


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy])
def test_a_copy_of_a_case_has_a_history_of_its_own(
    lifecycle: Lifecycle, duplicate: Callable[[Case], Case]
) -> None:
    """Commands given to a copy do not change the original, nor the other way round;
    the copy shares the (immutable) lifecycle."""
    case = drive(lifecycle, State.CONTACT_SUBMITTED)
    twin = duplicate(case)
    assert twin == case
    assert twin.lifecycle is lifecycle
    decision = happy_commands()[4]
    twin.execute(decision)
    assert (case.version, case.state) == (4, State.CONTACT_SUBMITTED)
    assert (twin.version, twin.state) == (5, State.MASH_DECIDED)
    assert lifecycle.replay(case.events) == case
    assert lifecycle.replay(twin.events) == twin
    case.execute(decision)
    assert twin == case


def test_a_case_is_not_built_from_given_fields(lifecycle: Lifecycle) -> None:
    """A case is opened or replayed, never constructed with its state given: every field
    but its id and lifecycle follows from its events."""
    with pytest.raises(TypeError):
        Case("C-9", lifecycle, state=State.MAINTENANCE_PLAN_AGREED)  # type: ignore[call-arg]
    empty = Case("C-9", lifecycle)
    assert (empty.state, empty.version, empty.events) == (State.NEW, 0, ())


def test_a_live_case_keeps_no_event_objects(lifecycle: Lifecycle) -> None:
    """A case holds its commands, not ``Event`` objects (built when read): a
    caseload in memory stays small for the cyclic garbage collector, which
    walks every live container on each full collection (docs/decisions.md)."""
    import gc

    from chronic_na.lifecycle import Event

    cases = [drive(lifecycle, State.STEPPED_BACK, case_id=f"C-{i}") for i in range(3)]
    seen: set[int] = set()
    reachable = []
    todo: list[object] = list(cases)
    while todo:  # everything the cases keep alive, short of the shared lifecycle
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, (Lifecycle, type)):
            continue
        seen.add(id(obj))
        reachable.append(obj)
        todo.extend(gc.get_referents(obj))
    assert sum(type(o) is Case for o in reachable) == 3
    assert [type(o) for o in reachable if isinstance(o, Event)] == []
    assert all(c.version == len(happy_commands()) for c in cases)


def test_replay_refuses_a_broken_sequence(lifecycle: Lifecycle) -> None:
    """A gap, a foreign event or an impossible step is a SchemaError, not a half-built case."""
    events = drive(lifecycle, State.STEPPED_BACK).events
    with pytest.raises(SchemaError, match="event 3"):
        lifecycle.replay([events[0], events[2]])
    other = drive(lifecycle, State.IDENTIFIED, case_id="C-2").events[0]
    with pytest.raises(SchemaError, match="another case"):
        lifecycle.replay([events[0], attrs.evolve(other, number=2)])
    with pytest.raises(SchemaError, match="not open in identified"):
        lifecycle.replay([events[0], attrs.evolve(events[3], number=2)])
    with pytest.raises(SchemaError, match="no events"):
        lifecycle.replay([])


# --------------------------------------------------------------------------- obligations


def test_feedback_owed_on_every_decision_outlives_closure(lifecycle: Lifecycle) -> None:
    """A non-early-help decision owes feedback; it stays owed after closing, until sent."""
    case = drive(lifecycle, State.CONTACT_SUBMITTED)
    at = later(case)
    case.execute(RecordMashDecision(
        case_id="C-1", actor=MDM, at=at,
        decision=MashDecision(MashOutcome.NO_FURTHER_ACTION, MDM.id, at, "Synthetic."),
    ))  # fmt: skip
    case.execute(CloseCase(case_id="C-1", actor=COORD, at=later(case),
                           reason=ClosureReason.MASH_OUTCOME_NOT_EARLY_HELP))  # fmt: skip
    assert case.state is State.CLOSED
    assert [o.kind for o in case.owed_obligations()] == [DutyKind.DECISION_FEEDBACK]
    far = later(case, 24 * 30)
    assert [d.kind for d in case.overdue(far)] == [DutyKind.DECISION_FEEDBACK]
    case.execute(SendDecisionFeedback(case_id="C-1", actor=MDM, at=far, summary="Synthetic."))
    assert case.owed_obligations() == ()
    assert case.overdue(far) == ()
    assert [d.met_late for d in case.deadlines() if d.kind is DutyKind.DECISION_FEEDBACK] == [True]


def test_additional_information_each_owes_feedback(lifecycle: Lifecycle) -> None:
    """Each piece of additional information owes its own further feedback."""
    case = drive(lifecycle, State.ALLOCATED)
    for _ in range(2):
        case.execute(SubmitAdditionalInformation(
            case_id="C-1", actor=SCHOOL, at=later(case), summary="Synthetic info."))  # fmt: skip
    owed = [o.number for o in case.owed_obligations()
            if o.kind is DutyKind.ADDITIONAL_INFORMATION_FEEDBACK]  # fmt: skip
    assert owed == [1, 2]
    case.execute(SendAdditionalInformationFeedback(
        case_id="C-1", actor=MDM, at=later(case), information_number=2, summary="Synthetic.",
    ))  # fmt: skip
    owed = [o.number for o in case.owed_obligations()
            if o.kind is DutyKind.ADDITIONAL_INFORMATION_FEEDBACK]  # fmt: skip
    assert owed == [1]


def test_additional_information_only_after_contact(lifecycle: Lifecycle) -> None:
    """Additional information before the contact is not allowed."""
    case = drive(lifecycle, State.CONTACT_AGREED)
    with pytest.raises(TransitionNotAllowed):
        case.execute(SubmitAdditionalInformation(
            case_id="C-1", actor=SCHOOL, at=later(case), summary="Synthetic."))  # fmt: skip


def test_hand_over_owes_a_new_school_contact_by_the_new_lead(lifecycle: Lifecycle) -> None:
    """After a hand-over only the new lead professional can act, and owes the school a contact."""
    case = drive(lifecycle, State.INTERVENTION)
    case.execute(HandOverLeadProfessional(
        case_id="C-1", actor=EHM, at=later(case), lead_professional="lp-02",
        reason="Synthetic hand-over.",
    ))  # fmt: skip
    assert case.lead_professional == "lp-02"
    assert [o.number for o in case.owed_obligations()] == [2]
    with pytest.raises(PolicyViolation, match="ACTOR-IS-LEAD-PROFESSIONAL"):
        case.execute(RecordSchoolContact(case_id="C-1", actor=LP, at=later(case), summary="x"))
    new_lp = Actor("lp-02", Role.LEAD_PROFESSIONAL)
    case.execute(RecordSchoolContact(case_id="C-1", actor=new_lp, at=later(case), summary="x"))
    assert case.owed_obligations() == ()


def test_allocation_refused_for_other_outcomes(lifecycle: Lifecycle) -> None:
    """Step-up outcomes cannot be allocated; the case closes with the outcome."""
    case = drive(lifecycle, State.CONTACT_SUBMITTED)
    at = later(case)
    case.execute(RecordMashDecision(
        case_id="C-1", actor=MDM, at=at,
        decision=MashDecision(MashOutcome.CHILD_IN_NEED_S17, MDM.id, at, "Synthetic."),
    ))  # fmt: skip
    with pytest.raises(PolicyViolation, match="ALLOCATE-EARLY-HELP-ONLY"):
        case.execute(AllocateLeadProfessional(
            case_id="C-1", actor=EHM, at=later(case), lead_professional="lp-01"))  # fmt: skip


def test_step_back_needs_agreed_plan(lifecycle: Lifecycle) -> None:
    """Stepping back is not open during the intervention (no maintenance plan yet)."""
    case = drive(lifecycle, State.INTERVENTION)
    with pytest.raises(TransitionNotAllowed, match="maintenance_plan_agreed"):
        case.execute(StepBackToSchool(case_id="C-1", actor=LP, at=later(case)))


def test_stepped_back_is_final_but_owed_obligations_can_be_met(lifecycle: Lifecycle) -> None:
    """After stepping back nothing moves the case, but owed feedback can still be sent."""
    commands = happy_commands()
    case = lifecycle.open(commands[0])
    for c in commands[1:]:
        if isinstance(c, SendDecisionFeedback):
            continue  # leave the decision feedback owed
        case.execute(c)
    assert case.state is State.STEPPED_BACK
    with pytest.raises(TransitionNotAllowed):
        case.execute(CloseCase(case_id="C-1", actor=COORD, at=later(case),
                               reason=ClosureReason.MOVED_AWAY))  # fmt: skip
    case.execute(SendDecisionFeedback(case_id="C-1", actor=MDM, at=later(case), summary="x"))
    assert case.state is State.STEPPED_BACK
    assert case.owed_obligations() == ()


def test_reopen_only_by_manager(lifecycle: Lifecycle) -> None:
    """Reopening is a manager's event; a coordinator is not authorised."""
    case = drive(lifecycle, State.PLAN_REVIEW)
    case.execute(CloseCase(case_id="C-1", actor=COORD, at=later(case),
                           reason=ClosureReason.ATTENDANCE_RECOVERED))  # fmt: skip
    with pytest.raises(NotAuthorised):
        case.execute(ReopenCase(case_id="C-1", actor=COORD, at=later(case), reason="Synthetic."))
    case.execute(ReopenCase(case_id="C-1", actor=EHM, at=later(case), reason="Synthetic."))
    assert case.state is State.PLAN_REVIEW
    assert lifecycle.replay(case.events) == case


def test_identified_again_starts_a_linked_case(lifecycle: Lifecycle) -> None:
    """A child identified again after stepping back gets a new case linked to the first."""
    first = drive(lifecycle, State.STEPPED_BACK)
    reopened = attrs.evolve(happy_commands("C-2")[0], previous_case_id=first.case_id)
    second = lifecycle.open(reopened)
    assert second.previous_case_id == "C-1"
    assert second.state is State.IDENTIFIED


# --------------------------------------------------------------------------- asking


def test_next_steps_name_open_commands_and_blockers(lifecycle: Lifecycle) -> None:
    """next_steps lists what is open now, and for closed commands what blocks them."""
    case = drive(lifecycle, State.MASH_DECIDED)
    steps = {s.command: s for s in case.next_steps()}
    assert steps["allocate_lead_professional"].open
    assert steps["send_decision_feedback"].open
    assert not steps["start_intervention"].open
    assert (
        "not open while the case is mash_decided" in steps["start_intervention"].blockers[0].message
    )
    assert not steps["send_additional_information_feedback"].open
    assert steps["send_additional_information_feedback"].blockers[0].rule_id == (
        "ADDITIONAL-FEEDBACK-OWED"
    )
    assert steps["close_case"].roles == frozenset(
        {Role.COORDINATOR, Role.EARLY_HELP_MANAGER, Role.LEAD_PROFESSIONAL}
    )


def test_check_is_a_dry_run(lifecycle: Lifecycle) -> None:
    """check reports the error a command would raise and changes nothing."""
    case = drive(lifecycle, State.PLAN_REVIEW)
    bad = AgreeContact(case_id="C-1", actor=COORD, at=later(case),
                       plan_assessment=PlanAssessment.PLAN_WORKING)  # fmt: skip
    result = case.check(bad)
    assert not result.accepted
    assert [v.rule_id for v in result.violations] == ["NO-CONTACT-WHILE-PLAN-WORKS"]
    assert case.version == 2
    good = attrs.evolve(bad, plan_assessment=PlanAssessment.NO_PLAN)
    assert case.check(good).accepted
    assert case.version == 2


def test_deadline_queries_need_aware_time(lifecycle: Lifecycle) -> None:
    """overdue/due with a naive time is InvalidInput."""
    case = drive(lifecycle, State.CONTACT_SUBMITTED)
    with pytest.raises(InvalidInput):
        case.overdue(dt.datetime(2026, 1, 9))  # noqa: DTZ001 - the naive time is the point


def test_mash_decision_due_end_of_next_working_day(lifecycle: Lifecycle) -> None:
    """Contact on a Friday: the MASH decision is due by the end of Monday (Europe/London)."""
    commands = happy_commands(start=dt.datetime(2026, 1, 6, 9, tzinfo=LONDON))
    case = lifecycle.open(commands[0])
    for c in commands[1:3]:
        case.execute(c)
    friday = dt.datetime(2026, 1, 9, 15, 0, tzinfo=LONDON)
    case.execute(attrs.evolve(commands[3], at=friday))
    (due,) = [d for d in case.deadlines() if d.kind is DutyKind.MASH_DECISION]
    assert due.due == dt.datetime(2026, 1, 13, 0, 0, tzinfo=LONDON)
    assert not case.overdue(dt.datetime(2026, 1, 12, 23, 59, tzinfo=LONDON))
    assert [d.kind for d in case.overdue(dt.datetime(2026, 1, 13, 0, 0, tzinfo=LONDON))] == [
        DutyKind.MASH_DECISION
    ]
    assert [d.kind for d in case.due(friday)] == [DutyKind.MASH_DECISION]
