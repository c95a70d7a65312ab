"""The lifecycle's own modelling decisions, where the policy text is silent.

Each test pins one decision recorded in ``docs/decisions.md``: change the
decision there and here together.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from chronic_na import (
    AttendanceSummary,
    InvalidInput,
    NotAuthorised,
    Policy,
    PolicyViolation,
    Threshold,
    TransitionNotAllowed,
)
from chronic_na.lifecycle import DEFAULT_TABLE, Case, Lifecycle
from chronic_na.pathway import (
    COMMAND_TYPES,
    AgreeContact,
    AgreeMaintenancePlan,
    AllocateLeadProfessional,
    CloseCase,
    CorrectContact,
    HandOverLeadProfessional,
    RecordMashDecision,
    RecordPlanWorking,
    RecordSchoolContact,
    ReopenCase,
    ReopenPlanReview,
    SendAdditionalInformationFeedback,
    State,
    SubmitAdditionalInformation,
    SubmitContact,
)
from chronic_na.records import (
    Actor,
    ChronologyEntry,
    ClosureReason,
    EducationSupervisionOrder,
    EngagementKind,
    ESOStatus,
    FamilyDiscussion,
    FamilyDiscussionStatus,
    HomeFactor,
    MaintenancePlan,
    MashDecision,
    MashOutcome,
    PatternKind,
    PatternsItem,
    PlanAssessment,
    Role,
    SchoolIssue,
)
from chronic_na.rules import DutyKind
from chronic_na.testing import ACTORS, LONDON, complete_iacf

from .conftest import drive, happy_commands

COORD = ACTORS[Role.COORDINATOR]
SCHOOL = ACTORS[Role.SCHOOL]
MDM = ACTORS[Role.MASH_DECISION_MAKER]
EHM = ACTORS[Role.EARLY_HELP_MANAGER]
LP = ACTORS[Role.LEAD_PROFESSIONAL]

S = State
R = ClosureReason


def later(case: Case, hours: float = 1) -> dt.datetime:
    assert case.last_event_at is not None
    return case.last_event_at + dt.timedelta(minutes=60 * hours)


def to_state(lifecycle: Lifecycle, state: State) -> Case:
    """A case in ``state``, by the happy path (or off it, for a continuing plan)."""
    if state is S.EXISTING_PLAN_CONTINUES:
        case = drive(lifecycle, S.PLAN_REVIEW)
        case.execute(RecordPlanWorking(case_id="C-1", actor=COORD, at=later(case),
                                       plan_summary="Synthetic plan."))  # fmt: skip
        return case
    return drive(lifecycle, state)


def close(case: Case, reason: ClosureReason = R.MOVED_AWAY, actor: Actor = EHM) -> CloseCase:
    return CloseCase(case_id=case.case_id, actor=actor, at=later(case), reason=reason)


# --------------------------------------------------------------------------- closing

CLOSURE_REASONS: dict[State, set[ClosureReason]] = {
    S.IDENTIFIED: {R.MOVED_AWAY, R.ATTENDANCE_RECOVERED},
    S.PLAN_REVIEW: {R.MOVED_AWAY, R.ATTENDANCE_RECOVERED},
    S.EXISTING_PLAN_CONTINUES: {R.MOVED_AWAY, R.ATTENDANCE_RECOVERED},
    S.CONTACT_AGREED: {R.MOVED_AWAY, R.ATTENDANCE_RECOVERED},
    S.CONTACT_SUBMITTED: {R.MOVED_AWAY},
    S.MASH_DECIDED: {R.MOVED_AWAY, R.MASH_OUTCOME_NOT_EARLY_HELP},
    S.ALLOCATED: {R.MOVED_AWAY, R.CONSENT_WITHDRAWN, R.STEPPED_UP},
    S.INTERVENTION: {R.MOVED_AWAY, R.CONSENT_WITHDRAWN, R.STEPPED_UP},
    S.MAINTENANCE_PLAN_AGREED: {R.MOVED_AWAY, R.CONSENT_WITHDRAWN, R.STEPPED_UP},
}
"""The decision (docs/decisions.md, "Closing"): which reasons close a case in each state."""


def test_closing_is_open_in_every_non_final_state_and_nowhere_else() -> None:
    """close_case is open in every state but new, stepped back and closed."""
    (row,) = [t for t in DEFAULT_TABLE.transitions if t.command is CloseCase]
    assert row.sources == set(State) - {S.NEW, S.STEPPED_BACK, S.CLOSED}
    assert set(CLOSURE_REASONS) == row.sources


@pytest.mark.parametrize("state", list(CLOSURE_REASONS), ids=lambda s: s.value)
def test_closure_reasons_per_state(state: State, lifecycle: Lifecycle) -> None:
    """In each state exactly the reasons of the decision are accepted (the MASH
    outcome reason only after a decision other than early help)."""
    if state is S.MASH_DECIDED:
        case = drive(lifecycle, S.CONTACT_SUBMITTED)
        at = later(case)
        case.execute(RecordMashDecision(case_id="C-1", actor=MDM, at=at, decision=MashDecision(
            MashOutcome.NO_FURTHER_ACTION, MDM.id, at, "Synthetic rationale.")))  # fmt: skip
    else:
        case = to_state(lifecycle, state)
    accepted = {reason for reason in ClosureReason if case.check(close(case, reason)).accepted}
    assert accepted == CLOSURE_REASONS[state]
    refused = case.check(close(case, R.ATTENDANCE_RECOVERED if state not in (
        S.IDENTIFIED, S.PLAN_REVIEW, S.EXISTING_PLAN_CONTINUES, S.CONTACT_AGREED)
        else R.CONSENT_WITHDRAWN))  # fmt: skip
    assert [v.rule_id for v in refused.violations] == ["CLOSE-REASON-ALLOWED"]


def test_early_help_decision_cannot_close_for_the_mash_outcome(lifecycle: Lifecycle) -> None:
    """After an early-help decision the case goes on to allocation: closing 'for the
    MASH outcome' is refused (CLOSE-MASH-OUTCOME); moving away still closes it."""
    case = drive(lifecycle, S.MASH_DECIDED)
    assert case.check(close(case, R.MASH_OUTCOME_NOT_EARLY_HELP)).violations[0].rule_id == (
        "CLOSE-MASH-OUTCOME"
    )
    assert case.check(close(case, R.MOVED_AWAY)).accepted


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.EARLY_HELP_MANAGER,
                                  Role.LEAD_PROFESSIONAL])  # fmt: skip
def test_who_may_close(role: Role, lifecycle: Lifecycle) -> None:
    """The coordinator, the Early Help manager and the lead professional may close a case;
    the school, MASH and the family may not."""
    case = drive(lifecycle, S.INTERVENTION)
    assert case.check(close(case, R.CONSENT_WITHDRAWN, ACTORS[role])).accepted
    for other in (Role.SCHOOL, Role.MASH_DECISION_MAKER, Role.FAMILY):
        error = case.check(close(case, R.CONSENT_WITHDRAWN, ACTORS[other])).error
        assert isinstance(error, NotAuthorised)


# --------------------------------------------------------------------------- reopening


@pytest.mark.parametrize("state", list(CLOSURE_REASONS), ids=lambda s: s.value)
def test_reopen_restores_the_state_closed_from(state: State, lifecycle: Lifecycle) -> None:
    """A closed case reopens (a manager, with a reason) into the state it was closed from,
    and the replayed case equals the live one."""
    case = to_state(lifecycle, state)
    case.execute(close(case))
    assert case.closed_from is state
    case.execute(ReopenCase(case_id="C-1", actor=EHM, at=later(case), reason="Synthetic."))
    assert case.state is state
    assert (case.closed_at, case.closed_from, case.closure_reason) == (None, None, None)
    assert [e.kind for e in case.events[-2:]] == ["close_case", "reopen_case"]
    assert lifecycle.replay(case.events) == case


def _decision(case: Case, outcome: MashOutcome, decided_at: dt.datetime | None = None,
              ) -> RecordMashDecision:  # fmt: skip
    at = later(case)
    return RecordMashDecision(case_id="C-1", actor=MDM, at=at, decision=MashDecision(
        outcome, MDM.id, decided_at or at, "Synthetic rationale."))  # fmt: skip


def test_a_decision_made_in_error_is_put_right_by_a_further_decision(
    lifecycle: Lifecycle,
) -> None:
    """A case closed on a MASH decision made in error is reopened by a manager and MASH
    records a further decision: the first stays on record, each owes its own feedback,
    and the case goes on to allocation."""
    case = drive(lifecycle, S.CONTACT_SUBMITTED)
    case.execute(_decision(case, MashOutcome.NO_FURTHER_ACTION))
    case.execute(close(case, R.MASH_OUTCOME_NOT_EARLY_HELP))
    case.execute(ReopenCase(case_id="C-1", actor=EHM, at=later(case), reason="Synthetic."))
    assert case.state is S.MASH_DECIDED
    case.execute(_decision(case, MashOutcome.EARLY_HELP))
    assert [d.outcome for _, d in case.decisions] == [
        MashOutcome.NO_FURTHER_ACTION, MashOutcome.EARLY_HELP,
    ]  # fmt: skip
    owed = [o.number for o in case.owed_obligations() if o.kind is DutyKind.DECISION_FEEDBACK]
    assert owed == [1, 2]
    (mash_due,) = [d for d in case.deadlines() if d.kind is DutyKind.MASH_DECISION]
    assert mash_due.met_at == case.decisions[0][1].decided_at  # the first decision met it
    allocate = AllocateLeadProfessional(case_id="C-1", actor=EHM, at=later(case),
                                        lead_professional="lp-09")  # fmt: skip
    assert case.check(allocate).accepted
    assert lifecycle.replay(case.events) == case


def test_a_further_decision_supersedes_the_latest_and_is_not_dated_before_it(
    lifecycle: Lifecycle,
) -> None:
    """In MASH decided (before allocation) MASH may decide again, say on additional
    information; a further decision dated before the latest is refused."""
    case = drive(lifecycle, S.MASH_DECIDED)
    latest = case.decisions[-1][1]
    early = _decision(case, MashOutcome.NO_FURTHER_ACTION,
                      decided_at=latest.decided_at - dt.timedelta(minutes=1))  # fmt: skip
    result = case.check(early)
    assert [v.rule_id for v in result.violations] == ["MASH-DECISION-COMPLETE"]
    assert "earlier than the case's latest decision" in result.violations[0].message
    case.execute(_decision(case, MashOutcome.NO_FURTHER_ACTION))
    assert case.decision is not None
    assert case.decision.outcome is MashOutcome.NO_FURTHER_ACTION
    assert case.check(close(case, R.MASH_OUTCOME_NOT_EARLY_HELP)).accepted
    allocated = drive(lifecycle, S.ALLOCATED)
    assert isinstance(allocated.check(_decision(allocated, MashOutcome.EARLY_HELP)).error,
                      TransitionNotAllowed)  # fmt: skip


def test_a_maintenance_plan_agreed_again_supersedes_the_earlier(lifecycle: Lifecycle) -> None:
    """Before stepping back the lead professional may agree a revised plan: the earlier
    stays on record, and the intervention's end stays when it first ended."""
    case = drive(lifecycle, S.MAINTENANCE_PLAN_AGREED)
    ended = case.intervention_ended_at
    revised = MaintenancePlan(actions=("Synthetic revised action.",), agreed_by_family=True,
                              agreed_by_school=True)  # fmt: skip
    case.execute(AgreeMaintenancePlan(case_id="C-1", actor=LP, at=later(case), plan=revised))
    assert case.state is S.MAINTENANCE_PLAN_AGREED
    assert case.maintenance_plan == revised
    assert case.intervention_ended_at == ended
    assert sum(e.kind == "agree_maintenance_plan" for e in case.events) == 2
    assert lifecycle.replay(case.events) == case


def test_stepped_back_is_never_reopened(lifecycle: Lifecycle) -> None:
    """Stepping back is final: a child identified again gets a new, linked case."""
    case = drive(lifecycle, S.STEPPED_BACK)
    with pytest.raises(TransitionNotAllowed):
        case.execute(ReopenCase(case_id="C-1", actor=EHM, at=later(case), reason="Synthetic."))


def test_reopening_a_plan_review_is_the_coordinators(lifecycle: Lifecycle) -> None:
    """reopen_plan_review reopens a review of a case that never closed: the coordinator's
    step (domain.md section 7), unlike reopen_case, which is a manager's."""
    case = to_state(lifecycle, S.EXISTING_PLAN_CONTINUES)
    command = ReopenPlanReview(case_id="C-1", actor=COORD, at=later(case), reason="Synthetic.")
    assert case.check(command).accepted
    assert isinstance(case.check(attrs.evolve(command, actor=EHM)).error, NotAuthorised)


# --------------------------------------------------------------------------- corrections


def _correction(case: Case, actor: Actor = EHM, **changes: object) -> CorrectContact:
    submitted = next(e.command for e in case.events if type(e.command) is SubmitContact)
    assert isinstance(submitted, SubmitContact)
    fields = {f.name: getattr(submitted, f.name) for f in attrs.fields(SubmitContact)}
    fields.update(actor=actor, at=later(case), reason="Synthetic correction.")
    fields["iacf"] = attrs.evolve(submitted.iacf, concern="Synthetic corrected concern, long "
                                  "enough not to be thin.")  # fmt: skip
    fields.update(changes)
    return CorrectContact(**fields)  # type: ignore[arg-type]


def test_correction_is_its_own_event_by_a_manager(lifecycle: Lifecycle) -> None:
    """A correction is a manager's event with a reason; the original submission stays in
    the record, the case's contact shows the corrected documents, and the deadlines
    still run from the original submission."""
    case = drive(lifecycle, S.MASH_DECIDED)
    original = case.contact
    assert original is not None
    due_before = [d.due for d in case.deadlines() if d.kind is DutyKind.MASH_DECISION]
    for role in (Role.SCHOOL, Role.COORDINATOR, Role.MASH_DECISION_MAKER):
        with pytest.raises(NotAuthorised):
            case.execute(_correction(case, ACTORS[role]))
    state = case.state
    event = case.execute(_correction(case))
    assert event.kind == "correct_contact"
    assert case.state is state  # a correction does not move the case
    assert case.corrections == 1
    assert case.contact is not None
    assert case.contact.iacf.concern != original.iacf.concern
    assert case.contact.submitted_at == original.submitted_at
    assert [d.due for d in case.deadlines() if d.kind is DutyKind.MASH_DECISION] == due_before
    submitted = [e for e in case.events if type(e.command) is SubmitContact]
    assert len(submitted) == 1
    assert submitted[0].command.iacf.concern == original.iacf.concern  # type: ignore[attr-defined]
    assert lifecycle.replay(case.events) == case


def test_a_correction_is_checked_like_a_contact(lifecycle: Lifecycle) -> None:
    """A correction is refused by the same IACF rules as the contact it corrects."""
    case = drive(lifecycle, S.CONTACT_SUBMITTED)
    bad = _correction(case, chronology=())
    assert [v.rule_id for v in case.check(bad).violations] == ["CONTACT-CHRONOLOGY"]


def test_a_corrections_chronology_ends_at_the_original_submission(
    lifecycle: Lifecycle,
) -> None:
    """A correction puts right the contact as submitted: an entry dated after the original
    submission is refused (later news is additional information), though the correction
    itself comes days later."""
    case = drive(lifecycle, S.CONTACT_SUBMITTED)
    assert case.contact is not None
    submitted = case.contact.submitted_at
    correction_at = submitted + dt.timedelta(days=20)
    on_the_day = (ChronologyEntry(submitted.date(), EngagementKind.PHONE_CALL, "Synthetic."),)
    fine = attrs.evolve(_correction(case), at=correction_at, chronology=(
        *case.contact.chronology, *on_the_day))  # fmt: skip
    assert case.check(fine).accepted
    after = (ChronologyEntry(submitted.date() + dt.timedelta(days=1), EngagementKind.PHONE_CALL,
                             "Synthetic."),)  # fmt: skip
    late = attrs.evolve(fine, chronology=(*case.contact.chronology, *after))
    violations = case.check(late).violations
    assert [(v.rule_id, v.message) for v in violations] == [
        ("CONTACT-CHRONOLOGY", "is dated after the contact; correct the date"),
    ]  # fmt: skip


def test_no_correction_after_the_case_ends(lifecycle: Lifecycle) -> None:
    """Once closed or stepped back the contact can no longer be corrected."""
    case = drive(lifecycle, S.STEPPED_BACK)
    assert isinstance(case.check(_correction(case)).error, TransitionNotAllowed)


# --------------------------------------------------------------------------- obligations

AFTER_CONTACT = [S.CONTACT_SUBMITTED, S.MASH_DECIDED, S.ALLOCATED, S.INTERVENTION,
                 S.MAINTENANCE_PLAN_AGREED]  # fmt: skip


def _info(case: Case) -> SubmitAdditionalInformation:
    return SubmitAdditionalInformation(case_id="C-1", actor=SCHOOL, at=later(case),
                                       summary="Synthetic information.")  # fmt: skip


@pytest.mark.parametrize("state", list(State)[1:], ids=lambda s: s.value)
def test_additional_information_in_any_open_state_after_the_contact(
    state: State, lifecycle: Lifecycle
) -> None:
    """Additional information is accepted in every open state from the contact on, and
    in no other state (not before the contact, not once the case has ended)."""
    if state is S.CLOSED:
        case = drive(lifecycle, S.INTERVENTION)
        case.execute(close(case, R.CONSENT_WITHDRAWN))
    else:
        case = to_state(lifecycle, state)
    result = case.check(_info(case))
    if state in AFTER_CONTACT:
        assert result.accepted
    else:
        assert isinstance(result.error, TransitionNotAllowed)


def test_feedback_on_additional_information_outlives_closure(lifecycle: Lifecycle) -> None:
    """Information sent before closing still owes its feedback after; it can be sent."""
    case = drive(lifecycle, S.INTERVENTION)
    case.execute(_info(case))
    case.execute(close(case, R.CONSENT_WITHDRAWN))
    owed = [(o.kind, o.number) for o in case.owed_obligations()]
    assert owed == [(DutyKind.ADDITIONAL_INFORMATION_FEEDBACK, 1)]
    case.execute(
        SendAdditionalInformationFeedback(
            case_id="C-1", actor=COORD, at=later(case), information_number=1, summary="Synthetic."
        )
    )
    assert case.owed_obligations() == ()
    assert case.state is S.CLOSED


def test_school_contact_outlives_closure(lifecycle: Lifecycle) -> None:
    """Allocated, then closed before the lead professional contacted the school: the
    contact is still owed, and recorded after closing."""
    commands = happy_commands()
    case = lifecycle.open(commands[0])
    for c in commands[1:7]:  # up to the allocation
        case.execute(c)
    assert case.state is S.ALLOCATED
    case.execute(close(case, R.CONSENT_WITHDRAWN))
    assert [o.kind for o in case.owed_obligations()] == [DutyKind.SCHOOL_CONTACT]
    case.execute(RecordSchoolContact(case_id="C-1", actor=LP, at=later(case), summary="x"))
    assert case.owed_obligations() == ()


def test_one_school_contact_meets_every_contact_owed(lifecycle: Lifecycle) -> None:
    """Handed over before anyone contacted the school: the new lead professional's one
    contact meets both owed contacts (the school needs one contact, from the current lead)."""
    commands = happy_commands()
    case = lifecycle.open(commands[0])
    for c in commands[1:7]:
        case.execute(c)
    case.execute(
        HandOverLeadProfessional(
            case_id="C-1", actor=EHM, at=later(case), lead_professional="lp-02", reason="Synthetic."
        )
    )
    assert [o.number for o in case.owed_obligations()] == [1, 2]
    new_lead = Actor("lp-02", Role.LEAD_PROFESSIONAL)
    case.execute(RecordSchoolContact(case_id="C-1", actor=new_lead, at=later(case), summary="x"))
    assert case.owed_obligations() == ()


# --------------------------------------------------------------------------- deadlines


def _contact_at(lifecycle: Lifecycle, at: dt.datetime) -> Case:
    commands = happy_commands(start=at - dt.timedelta(days=3))
    case = lifecycle.open(commands[0])
    for c in commands[1:3]:
        case.execute(c)
    case.execute(attrs.evolve(commands[3], at=at))
    return case


def _mash_due(case: Case) -> dt.datetime:
    (due,) = [d.due for d in case.deadlines() if d.kind is DutyKind.MASH_DECISION]
    return due


def test_mash_decision_due_over_easter(lifecycle: Lifecycle) -> None:
    """A contact on Maundy Thursday 2026: Good Friday, the weekend and Easter Monday are
    not working days, so the decision is due by the end of Tuesday 7 April."""
    case = _contact_at(lifecycle, dt.datetime(2026, 4, 2, 11, tzinfo=LONDON))
    assert _mash_due(case) == dt.datetime(2026, 4, 8, tzinfo=LONDON)


def test_mash_decision_due_after_a_weekend_contact(lifecycle: Lifecycle) -> None:
    """A contact on a Saturday is due by the end of Monday, like one made on Friday."""
    saturday = _contact_at(lifecycle, dt.datetime(2026, 1, 10, 11, tzinfo=LONDON))
    assert _mash_due(saturday) == dt.datetime(2026, 1, 13, tzinfo=LONDON)


def test_mash_decision_met_by_the_decision_time_not_the_recording(lifecycle: Lifecycle) -> None:
    """Decided in time but recorded a week later: the deadline is met (met_at is when
    MASH decided); the decision's feedback is owed from the recording."""
    case = drive(lifecycle, S.CONTACT_SUBMITTED)
    decided = later(case, 2)
    recorded = decided + dt.timedelta(days=7)
    case.execute(RecordMashDecision(case_id="C-1", actor=MDM, at=recorded, decision=MashDecision(
        MashOutcome.EARLY_HELP, MDM.id, decided, "Synthetic rationale.")))  # fmt: skip
    (deadline,) = [d for d in case.deadlines() if d.kind is DutyKind.MASH_DECISION]
    assert deadline.met_at == decided
    assert not deadline.met_late
    (feedback,) = [o for o in case.owed_obligations() if o.kind is DutyKind.DECISION_FEEDBACK]
    assert feedback.owed_since == recorded


def test_mash_decision_void_when_closed_before_it(lifecycle: Lifecycle) -> None:
    """A case closed while waiting for MASH leaves the decision deadline void, never overdue."""
    case = drive(lifecycle, S.CONTACT_SUBMITTED)
    case.execute(close(case))
    (deadline,) = [d for d in case.deadlines() if d.kind is DutyKind.MASH_DECISION]
    assert deadline.void
    assert case.overdue(later(case, 24 * 30)) == ()


def test_intervention_limit_is_reported_never_refused(lifecycle: Lifecycle) -> None:
    """Past six calendar months the intervention is overdue, but the maintenance plan is
    still accepted (the deadline is then met late)."""
    case = drive(lifecycle, S.INTERVENTION)
    assert case.intervention_started_at is not None
    seven_months = case.intervention_started_at + dt.timedelta(days=213)
    assert [d.kind for d in case.overdue(seven_months)] == [DutyKind.INTERVENTION_END]
    plan = MaintenancePlan(("Synthetic action.",), agreed_by_family=True, agreed_by_school=True)
    case.execute(AgreeMaintenancePlan(case_id="C-1", actor=LP, at=seven_months, plan=plan))
    (limit,) = [d for d in case.deadlines() if d.kind is DutyKind.INTERVENTION_END]
    assert limit.met_late


def test_closing_stops_the_intervention_clock_and_reopening_restarts_it(
    lifecycle: Lifecycle,
) -> None:
    """Closed during the intervention: the limit is met by the closure; reopened: owed
    again, with the same due date (the clock is not reset)."""
    case = drive(lifecycle, S.INTERVENTION)
    (before,) = [d for d in case.deadlines() if d.kind is DutyKind.INTERVENTION_END]
    case.execute(close(case, R.CONSENT_WITHDRAWN))
    (closed,) = [d for d in case.deadlines() if d.kind is DutyKind.INTERVENTION_END]
    assert closed.met_at == case.closed_at
    case.execute(ReopenCase(case_id="C-1", actor=EHM, at=later(case), reason="Synthetic."))
    (reopened,) = [d for d in case.deadlines() if d.kind is DutyKind.INTERVENTION_END]
    assert reopened.is_open()
    assert reopened.due == before.due


def test_only_the_policy_trigger_or_severe_absence_opens_cases() -> None:
    """A Policy opens cases by the policy's trigger (the default) or DfE's severe absence
    (domain.md section 2); persistent absence (10%) is refused, naming the field."""
    assert Policy(identification_threshold=Threshold.SEVERE_ABSENCE)
    with pytest.raises(InvalidInput) as info:
        Policy(identification_threshold=Threshold.PERSISTENT_ABSENCE)
    assert info.value.field == "identification_threshold"
    assert "POLICY_TRIGGER" in str(info.value)
    with pytest.raises(InvalidInput):
        Policy(identification_threshold="policy_trigger")  # type: ignore[arg-type]


def test_policy_defaults() -> None:
    """The defaults, and which of them are our choice (docs/decisions.md, "Policy")."""
    p = Policy()
    assert p.identification_threshold is Threshold.POLICY_TRIGGER  # policy text
    assert p.intervention_months == 6  # policy text
    assert p.mash_decision_working_days == 1  # national guidance
    assert p.decision_feedback_working_days == 1  # our choice
    assert p.additional_information_feedback_working_days == 2  # our choice
    assert p.lead_professional_contact_working_days == 5  # our choice
    assert p.thin_text_chars == 40  # our choice
    assert p.thin_chronology_entries == 3  # our choice
    assert str(p.calendar.timezone) == "Europe/London"
    assert p.calendar.extra_closures == frozenset()


# --------------------------------------------------------------------------- time


def test_commands_at_the_same_time_as_the_last_event_are_accepted(lifecycle: Lifecycle) -> None:
    """Time order is 'not earlier than the last event': equal times are accepted."""
    commands = happy_commands()
    case = lifecycle.open(commands[0])
    case.execute(attrs.evolve(commands[1], at=case.last_event_at))
    assert case.version == 2
    with pytest.raises(InvalidInput) as info:
        case.execute(attrs.evolve(commands[2], at=later(case, -0.001)))
    assert info.value.field == "at"


def test_time_order_holds_across_the_hour_repeated_when_clocks_go_back(
    lifecycle: Lifecycle,
) -> None:
    """25 October 2026 in London: a command at 01:10 GMT (fold 1) comes forty minutes
    after one at 01:30 BST and is accepted; the reverse order is refused. Python's own
    comparison of the two (one zone) uses the wall clock and would get both wrong."""
    bst = dt.datetime(2026, 10, 25, 1, 30, tzinfo=LONDON)
    gmt = dt.datetime(2026, 10, 25, 1, 10, tzinfo=LONDON, fold=1)
    first, begin = happy_commands(start=bst - dt.timedelta(minutes=30))[:2]
    case = lifecycle.open(first)
    case.execute(attrs.evolve(begin, at=bst))
    agree = AgreeContact(case_id="C-1", actor=COORD, at=gmt, plan_assessment=PlanAssessment.NO_PLAN)
    case.execute(agree)
    assert case.last_event_at == gmt

    other = lifecycle.open(attrs.evolve(first, case_id="C-2"))
    other.execute(attrs.evolve(begin, case_id="C-2", at=gmt))
    with pytest.raises(InvalidInput) as info:
        other.execute(attrs.evolve(agree, case_id="C-2", at=bst))
    assert info.value.field == "at"


def test_mash_decision_time_bounds(lifecycle: Lifecycle) -> None:
    """MASH decided no earlier than the contact and no later than its recording, by the
    person recording it."""
    case = drive(lifecycle, S.CONTACT_SUBMITTED)
    assert case.contact is not None
    at = later(case)

    def decision(**changes: object) -> RecordMashDecision:
        fields: dict[str, object] = {"outcome": MashOutcome.EARLY_HELP,
                                     "decision_maker": MDM.id, "decided_at": at,
                                     "rationale": "Synthetic."}  # fmt: skip
        fields.update(changes)
        return RecordMashDecision(case_id="C-1", actor=MDM, at=at,
                                  decision=MashDecision(**fields))  # type: ignore[arg-type]  # fmt: skip

    assert case.check(decision()).accepted
    for changes, field in (
        ({"decided_at": case.contact.submitted_at - dt.timedelta(minutes=1)},
         "decision.decided_at"),
        ({"decided_at": at + dt.timedelta(minutes=1)}, "decision.decided_at"),
        ({"decision_maker": "mash-02"}, "decision.decision_maker"),
    ):  # fmt: skip
        assert [v.field for v in case.check(decision(**changes)).violations] == [field]


# --------------------------------------------------------------------------- opening


def test_no_possible_sessions_opens_no_case(lifecycle: Lifecycle) -> None:
    """With no possible sessions attendance is undefined: no case is opened."""
    command = attrs.evolve(happy_commands()[0], attendance=AttendanceSummary(present=0))
    with pytest.raises(PolicyViolation) as info:
        lifecycle.open(command)
    assert "undefined" in info.value.violations[0].message


def test_a_linked_case_is_not_looked_up(lifecycle: Lifecycle) -> None:
    """previous_case_id is recorded as given: the lifecycle sees one case at a time, so it
    only refuses a case linked to itself."""
    command = attrs.evolve(happy_commands("C-2")[0], previous_case_id="C-NEVER-SEEN")
    case = lifecycle.open(command)
    assert case.previous_case_id == "C-NEVER-SEEN"
    assert lifecycle.replay(case.events).previous_case_id == "C-NEVER-SEEN"


# --------------------------------------------------------------------------- roles

ROLES: dict[str, set[Role]] = {
    "open_case": {Role.COORDINATOR},
    "begin_plan_review": {Role.COORDINATOR},
    "record_plan_working": {Role.COORDINATOR},
    "reopen_plan_review": {Role.COORDINATOR},
    "agree_contact": {Role.COORDINATOR},
    "submit_contact": {Role.SCHOOL},
    "correct_contact": {Role.EARLY_HELP_MANAGER},
    "record_mash_decision": {Role.MASH_DECISION_MAKER},
    "send_decision_feedback": {Role.MASH_DECISION_MAKER, Role.COORDINATOR},
    "submit_additional_information": {Role.SCHOOL},
    "send_additional_information_feedback": {Role.MASH_DECISION_MAKER, Role.COORDINATOR},
    "allocate_lead_professional": {Role.EARLY_HELP_MANAGER},
    "hand_over_lead_professional": {Role.EARLY_HELP_MANAGER},
    "record_school_contact": {Role.LEAD_PROFESSIONAL},
    "start_intervention": {Role.LEAD_PROFESSIONAL},
    "record_review": {Role.LEAD_PROFESSIONAL},
    "agree_maintenance_plan": {Role.LEAD_PROFESSIONAL},
    "step_back_to_school": {Role.LEAD_PROFESSIONAL},
    "close_case": {Role.COORDINATOR, Role.EARLY_HELP_MANAGER, Role.LEAD_PROFESSIONAL},
    "reopen_case": {Role.EARLY_HELP_MANAGER},
}
"""The decision (docs/decisions.md, "Roles"): who gives each command."""


def test_roles_per_command() -> None:
    """Each command's roles are those of the decision; every command type is listed."""
    table = {t.name: set(t.roles) for t in DEFAULT_TABLE.transitions}
    assert table == ROLES
    assert set(ROLES) == {c.name for c in COMMAND_TYPES}


def test_family_panel_and_auditor_give_no_command() -> None:
    """The family's agreement is recorded by the lead professional (on the maintenance
    plan); the Attendance Panel and the auditor give no command."""
    given = set().union(*ROLES.values())
    assert {Role.FAMILY, Role.ATTENDANCE_PANEL, Role.AUDITOR}.isdisjoint(given)


# --------------------------------------------------------------------------- the IACF


@pytest.mark.parametrize(
    ("field", "none", "some"),
    [("home_factors", HomeFactor.NONE_KNOWN, HomeFactor.SEPARATION_ANXIETY),
     ("school_issues", SchoolIssue.NONE_KNOWN, SchoolIssue.PEER_CONFLICT)],
)  # fmt: skip
def test_none_known_is_an_answer_of_its_own(field: str, none: object, some: object) -> None:
    """'None known' is a complete answer; with a named factor beside it the answer
    contradicts itself and is InvalidInput naming the item."""
    iacf = complete_iacf()
    attrs.evolve(iacf, **{field: frozenset({none})})
    attrs.evolve(iacf, **{field: frozenset({some})})
    with pytest.raises(InvalidInput) as info:
        attrs.evolve(iacf, **{field: frozenset({none, some})})
    assert info.value.field == f"iacf.{field}"


def test_eso_plan_and_results_only_for_an_order_in_place() -> None:
    """An order's plan and results are given only when it is in place (else InvalidInput)."""
    EducationSupervisionOrder(ESOStatus.IN_PLACE, "Synthetic plan.", "Synthetic results.")
    for status in (ESOStatus.NONE, ESOStatus.NOT_ANSWERED):
        with pytest.raises(InvalidInput, match="only given for an order that is in place"):
            EducationSupervisionOrder(status, plan="Synthetic plan.")


def test_reason_not_engaged_only_when_the_discussion_was_attempted() -> None:
    """A confirmed discussion carries no reason for not engaging (InvalidInput)."""
    FamilyDiscussion(FamilyDiscussionStatus.ATTEMPTED, "Synthetic reason.")
    with pytest.raises(InvalidInput, match="reason_not_engaged"):
        FamilyDiscussion(FamilyDiscussionStatus.CONFIRMED, "Synthetic reason.")


THIN_FIELDS = {
    "iacf.actions_taken",
    "iacf.what_has_worked",
    "iacf.what_has_not_worked",
    "iacf.patterns",
    "iacf.concern",
    "chronology",
}
"""The items IACF-THIN looks at (docs/decisions.md, "Thin items")."""


def test_thin_items_are_the_written_answers_and_the_chronology(lifecycle: Lifecycle) -> None:
    """Every written answer the rules require, and the chronology, warn when thin; the
    'other' factors, agencies and the order's plan and results never do."""
    case = drive(lifecycle, S.CONTACT_AGREED)
    submit = happy_commands()[3]
    assert isinstance(submit, SubmitContact)
    brief = "Brief."
    iacf = attrs.evolve(
        submit.iacf,
        actions_taken=(brief,), what_has_worked=brief, what_has_not_worked=brief,
        patterns=PatternsItem(PatternKind.PATTERN, brief), concern=brief,
        home_factors_other=brief, school_issues_other=brief, external_agencies=(brief,),
        education_supervision_order=EducationSupervisionOrder(ESOStatus.IN_PLACE, brief, brief),
    )  # fmt: skip
    command = attrs.evolve(submit, iacf=iacf, chronology=submit.chronology[:1], at=later(case))
    warnings = case.check(command).warnings
    assert {w.rule_id for w in warnings} == {"IACF-THIN"}
    assert {w.field for w in warnings} == THIN_FIELDS


def test_whitespace_is_no_answer_and_not_a_thin_one(lifecycle: Lifecycle) -> None:
    """A blank answer is refused by its item's rule, never accepted as thin."""
    case = drive(lifecycle, S.CONTACT_AGREED)
    submit = happy_commands()[3]
    assert isinstance(submit, SubmitContact)
    # At the happy path's own time: its chronology runs up to the day of the contact.
    command = attrs.evolve(submit, iacf=attrs.evolve(submit.iacf, concern="   "))
    result = case.check(command)
    assert [v.rule_id for v in result.violations] == ["IACF-CONCERN"]

