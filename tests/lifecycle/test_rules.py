"""Every rule: a case that passes, one that is refused, and the message the user sees.

Each row below names a rule, the state to drive a case to, a command that
passes it and one that breaks it. A meta-test checks that every refusing
and warning rule in the catalogue has a row, so a new rule cannot land
without its tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from chronic_na import AttendanceSummary, PolicyViolation
from chronic_na.lifecycle import Case, Lifecycle
from chronic_na.pathway import (
    AgreeContact,
    AgreeMaintenancePlan,
    AllocateLeadProfessional,
    CloseCase,
    Command,
    CorrectContact,
    HandOverLeadProfessional,
    OpenCase,
    RecordMashDecision,
    RecordPlanWorking,
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
    EducationSupervisionOrder,
    EHAReference,
    ESOStatus,
    FamilyDiscussion,
    FamilyDiscussionStatus,
    MaintenancePlan,
    MashDecision,
    MashOutcome,
    PatternKind,
    PatternsItem,
    PlanAssessment,
    Role,
)
from chronic_na.rules import CATALOGUE, Severity
from chronic_na.testing import ACTORS, complete_iacf, synthetic_chronology

from .conftest import START, drive, happy_commands

Factory = Callable[[Case], Command]

COORD = ACTORS[Role.COORDINATOR]
SCHOOL = ACTORS[Role.SCHOOL]
MDM = ACTORS[Role.MASH_DECISION_MAKER]
EHM = ACTORS[Role.EARLY_HELP_MANAGER]
LP = ACTORS[Role.LEAD_PROFESSIONAL]


def _next(case: Case, hours: int = 1) -> dt.datetime:
    assert case.last_event_at is not None
    return case.last_event_at + dt.timedelta(hours=hours)


def _cmd(kind: type[Command], actor: Any, **kw: Any) -> Factory:
    def make(case: Case) -> Command:
        return kind(case_id=case.case_id, actor=actor, at=_next(case), **kw)

    return make


def _contact(**changes: Any) -> Factory:
    def make(case: Case) -> Command:
        at = _next(case)
        base: dict[str, Any] = {
            "iacf": complete_iacf(),
            "eha": EHAReference("EHA-1", at.date()),
            "unable_to_engage_reason": None,
            "chronology": synthetic_chronology(at.date()),
        }
        iacf_changes = {k[5:]: changes.pop(k) for k in list(changes) if k.startswith("iacf_")}
        base["iacf"] = attrs.evolve(base["iacf"], **iacf_changes)
        base.update(changes)
        return SubmitContact(case_id=case.case_id, actor=SCHOOL, at=at, **base)

    return make


def _correct(**changes: Any) -> Factory:
    def make(case: Case) -> Command:
        sub = _contact()(case)
        assert isinstance(sub, SubmitContact)
        fields = {f.name: getattr(sub, f.name) for f in attrs.fields(SubmitContact)}
        fields.update(actor=EHM, reason="Synthetic correction reason.")
        assert case.contact is not None  # its chronology ends at the original submission
        fields.update(chronology=case.contact.chronology)
        fields.update(changes)
        return CorrectContact(**fields)

    return make


def _decision(outcome: MashOutcome = MashOutcome.EARLY_HELP, **changes: Any) -> Factory:
    def make(case: Case) -> Command:
        at = _next(case)
        fields: dict[str, Any] = {
            "outcome": outcome,
            "decision_maker": MDM.id,
            "decided_at": at,
            "rationale": "Synthetic rationale.",
        }
        fields.update({k: (v(at) if callable(v) else v) for k, v in changes.items()})
        return RecordMashDecision(
            case_id=case.case_id, actor=MDM, at=at, decision=MashDecision(**fields)
        )

    return make


def _open(**changes: Any) -> Factory:
    def make(case: Case) -> Command:
        first = happy_commands(case.case_id)[0]
        return attrs.evolve(first, **changes)

    return make


def _plan(**kw: Any) -> Factory:
    fields: dict[str, Any] = {
        "actions": ("Synthetic action.",),
        "agreed_by_family": True,
        "agreed_by_school": True,
    }
    fields.update(kw)
    return _cmd(AgreeMaintenancePlan, LP, plan=MaintenancePlan(**fields))


def _with_additional(state: State) -> Callable[[Lifecycle], Case]:
    def make(lifecycle: Lifecycle) -> Case:
        case = drive(lifecycle, state)
        case.execute(_cmd(SubmitAdditionalInformation, SCHOOL, summary="Synthetic info.")(case))
        return case

    return make


def _decided(outcome: MashOutcome) -> Callable[[Lifecycle], Case]:
    def make(lifecycle: Lifecycle) -> Case:
        case = drive(lifecycle, State.CONTACT_SUBMITTED)
        case.execute(_decision(outcome)(case))
        return case

    return make


def _fresh(lifecycle: Lifecycle) -> Case:
    return Case("C-1", lifecycle)


def _at(state: State) -> Callable[[Lifecycle], Case]:
    return lambda lifecycle: drive(lifecycle, state)


def _after_school_contact(lifecycle: Lifecycle) -> Case:
    case = drive(lifecycle, State.ALLOCATED)
    case.execute(_cmd(RecordSchoolContact, LP, summary="Synthetic contact.")(case))
    return case


def _after_feedback(lifecycle: Lifecycle) -> Case:
    case = drive(lifecycle, State.MASH_DECIDED)
    case.execute(_cmd(SendDecisionFeedback, MDM, summary="Synthetic feedback.")(case))
    return case


@attrs.frozen
class Row:
    rule_id: str
    setup: Callable[[Lifecycle], Case]
    good: Factory
    bad: Factory
    field: str
    message: str


P = State
ROWS = [
    Row("TRIGGER-MET", _fresh, _open(),
        _open(attendance=AttendanceSummary(present=95, unauthorised=95)),
        "attendance", "does not meet the trigger (attendance below 50%)"),
    Row("LINKED-CASE-DIFFERENT", _fresh, _open(previous_case_id="C-0"),
        _open(previous_case_id="C-1"), "previous_case_id", "names this case itself"),
    Row("NO-CONTACT-WHILE-PLAN-WORKS", _at(P.PLAN_REVIEW),
        _cmd(AgreeContact, COORD, plan_assessment=PlanAssessment.PLAN_NOT_EFFECTIVE),
        _cmd(AgreeContact, COORD, plan_assessment=PlanAssessment.PLAN_WORKING),
        "plan_assessment", "record that it continues (record_plan_working)"),
    Row("PLAN-SUMMARY-GIVEN", _at(P.PLAN_REVIEW),
        _cmd(RecordPlanWorking, COORD, plan_summary="Synthetic plan."),
        _cmd(RecordPlanWorking, COORD, plan_summary="  "),
        "plan_summary", "describe the plan"),
    Row("REASON-GIVEN", _at(P.MASH_DECIDED), _correct(), _correct(reason=""),
        "reason", "give the reason"),
    Row("IACF-ACTIONS", _at(P.CONTACT_AGREED), _contact(), _contact(iacf_actions_taken=(" ",)),
        "iacf.actions_taken", "list the actions you have taken"),
    Row("IACF-HOME-FACTORS", _at(P.CONTACT_AGREED), _contact(iacf_home_factors_other=None),
        _contact(iacf_home_factors=frozenset(), iacf_home_factors_other=None),
        "iacf.home_factors", "or choose 'none known'"),
    Row("IACF-SCHOOL-ISSUES", _at(P.CONTACT_AGREED), _contact(iacf_school_issues_other=None),
        _contact(iacf_school_issues=frozenset(), iacf_school_issues_other=" "),
        "iacf.school_issues", "or choose 'none known'"),
    Row("IACF-WORKED", _at(P.CONTACT_AGREED), _contact(), _contact(iacf_what_has_worked=None),
        "iacf.what_has_worked", "say what has worked"),
    Row("IACF-WORKED", _at(P.CONTACT_AGREED), _contact(iacf_external_agencies=()),
        _contact(iacf_external_agencies=None), "iacf.external_agencies",
        "whether any external agencies have been involved"),
    Row("IACF-WORKED", _at(P.CONTACT_AGREED), _contact(),
        _contact(iacf_external_agencies=("Synthetic service", "  ")), "iacf.external_agencies",
        "list them, or none"),
    Row("IACF-NOT-WORKED", _at(P.CONTACT_AGREED), _contact(),
        _contact(iacf_what_has_not_worked=""), "iacf.what_has_not_worked", "hasn't worked"),
    Row("IACF-PATTERNS", _at(P.CONTACT_AGREED), _contact(),
        _contact(iacf_patterns=PatternsItem(PatternKind.NO_CLEAR_PATTERN, "")),
        "iacf.patterns", "sudden deterioration"),
    Row("IACF-PANEL", _at(P.CONTACT_AGREED), _contact(iacf_attendance_panel_involved=True),
        _contact(iacf_attendance_panel_involved=None), "iacf.attendance_panel_involved",
        "Attendance Panel"),
    Row("IACF-ESO", _at(P.CONTACT_AGREED),
        _contact(iacf_education_supervision_order=EducationSupervisionOrder(ESOStatus.NONE)),
        _contact(iacf_education_supervision_order=EducationSupervisionOrder(ESOStatus.NOT_ANSWERED)),
        "iacf.education_supervision_order", "Education Supervision Order is in place"),
    Row("IACF-CONCERN", _at(P.CONTACT_AGREED), _contact(), _contact(iacf_concern=None),
        "iacf.concern", "why you are concerned"),
    Row("IACF-FAMILY-DISCUSSED", _at(P.CONTACT_AGREED),
        _contact(iacf_family_discussion=FamilyDiscussion(
            FamilyDiscussionStatus.ATTEMPTED, "Synthetic reason.")),
        _contact(iacf_family_discussion=FamilyDiscussion(FamilyDiscussionStatus.ATTEMPTED)),
        "iacf.family_discussion.reason_not_engaged", "could not be engaged"),
    Row("CONTACT-EHA", _at(P.CONTACT_AGREED),
        _contact(eha=None, unable_to_engage_reason="Synthetic reason."),
        _contact(eha=None), "eha", "submit the Early Help Assessment"),
    Row("CONTACT-EHA-OR-REASON-NOT-BOTH", _at(P.CONTACT_AGREED), _contact(),
        _contact(unable_to_engage_reason="Synthetic reason."), "unable_to_engage_reason",
        "an EHA is attached"),
    Row("CONTACT-CHRONOLOGY", _at(P.CONTACT_AGREED), _contact(), _contact(chronology=()),
        "chronology", "add a chronology"),
    Row("MASH-DECISION-COMPLETE", _at(P.CONTACT_SUBMITTED), _decision(),
        _decision(rationale=" "), "decision.rationale", "record why"),
    Row("ALLOCATE-EARLY-HELP-ONLY", _decided(MashOutcome.EARLY_HELP),
        _cmd(AllocateLeadProfessional, EHM, lead_professional=LP.id),
        lambda case: _cmd(AllocateLeadProfessional, EHM, lead_professional=LP.id)(case),
        "decision.outcome", "close the case with the MASH outcome"),
    Row("LEAD-PROFESSIONAL-NAMED", _at(P.INTERVENTION),
        _cmd(HandOverLeadProfessional, EHM, lead_professional="lp-02", reason="Synthetic."),
        _cmd(HandOverLeadProfessional, EHM, lead_professional=LP.id, reason="Synthetic."),
        "lead_professional", "is already the lead professional"),
    Row("DECISION-FEEDBACK-OWED", _at(P.MASH_DECIDED),
        _cmd(SendDecisionFeedback, MDM, summary="Synthetic."),
        _cmd(SendDecisionFeedback, MDM, summary="Synthetic."),
        "decision", "no MASH decision is awaiting feedback"),
    Row("ADDITIONAL-FEEDBACK-OWED", _with_additional(P.INTERVENTION),
        _cmd(SendAdditionalInformationFeedback, MDM, information_number=1, summary="Synthetic."),
        _cmd(SendAdditionalInformationFeedback, MDM, information_number=2, summary="Synthetic."),
        "information_number", "no additional information with this number awaits feedback"),
    Row("SCHOOL-CONTACT-OWED", _at(P.ALLOCATED),
        _cmd(RecordSchoolContact, LP, summary="Synthetic."),
        _cmd(RecordSchoolContact, LP, summary="Synthetic."),
        "lead_professional", "no contact with the school is owed"),
    Row("ACTOR-IS-LEAD-PROFESSIONAL", _at(P.ALLOCATED), _cmd(StartIntervention, LP),
        _cmd(StartIntervention, attrs.evolve(LP, id="lp-99")), "actor.id",
        "is not the allocated lead professional"),
    Row("PLAN-HAS-ACTIONS", _at(P.INTERVENTION), _plan(), _plan(actions=()), "plan.actions",
        "add at least one action"),
    Row("PLAN-AGREED-BY-FAMILY-AND-SCHOOL", _at(P.INTERVENTION), _plan(),
        _plan(agreed_by_school=False), "plan.agreed_by_school", "the school has not agreed"),
    Row("CLOSE-REASON-ALLOWED", _at(P.INTERVENTION),
        _cmd(CloseCase, LP, reason=ClosureReason.CONSENT_WITHDRAWN),
        _cmd(CloseCase, LP, reason=ClosureReason.ATTENDANCE_RECOVERED), "reason",
        "allowed: consent_withdrawn, moved_away, stepped_up"),
    Row("CLOSE-MASH-OUTCOME", _decided(MashOutcome.ADVICE_SIGNPOSTING),
        _cmd(CloseCase, COORD, reason=ClosureReason.MASH_OUTCOME_NOT_EARLY_HELP),
        _cmd(CloseCase, COORD, reason=ClosureReason.MASH_OUTCOME_NOT_EARLY_HELP),
        "reason", "MASH decided on early help: allocate"),
]  # fmt: skip

# Rows whose refused case needs a different setup from the passing one.
BAD_SETUP: dict[str, Callable[[Lifecycle], Case]] = {
    "ALLOCATE-EARLY-HELP-ONLY": _decided(MashOutcome.NO_FURTHER_ACTION),
    "DECISION-FEEDBACK-OWED": _after_feedback,
    "SCHOOL-CONTACT-OWED": _after_school_contact,
    "CLOSE-MASH-OUTCOME": _decided(MashOutcome.EARLY_HELP),
}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.rule_id)
def test_rule_passes(row: Row, lifecycle: Lifecycle) -> None:
    """The passing command is accepted and leaves an event."""
    case = row.setup(lifecycle)
    command = row.good(case)
    if isinstance(command, OpenCase):
        case = lifecycle.open(command)
    else:
        before = case.version
        case.execute(command)
        assert case.version == before + 1


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.rule_id)
def test_rule_refuses_with_message(row: Row, lifecycle: Lifecycle) -> None:
    """The breaking command is refused by that rule, naming the field, with the message."""
    case = BAD_SETUP.get(row.rule_id, row.setup)(lifecycle)
    command = row.bad(case)
    version = case.version
    give = lifecycle.open if isinstance(command, OpenCase) else case.execute
    with pytest.raises(PolicyViolation) as info:
        give(command)  # type: ignore[operator]
    hits = [v for v in info.value.violations if v.rule_id == row.rule_id]
    assert hits, info.value.rule_ids
    assert any(v.field == row.field for v in hits), [v.field for v in hits]
    assert any(row.message in v.message for v in hits), [v.message for v in hits]
    assert row.rule_id in str(info.value)
    assert case.version == version


def test_every_refusing_rule_has_a_row() -> None:
    """A rule that refuses cannot land without its pass/refuse/message tests."""
    refusing = {r.id for r in CATALOGUE.values() if r.severity is Severity.REFUSE}
    assert refusing == {row.rule_id for row in ROWS}


def test_all_failures_are_reported_at_once(lifecycle: Lifecycle) -> None:
    """A contact with many gaps is refused once, listing every failed rule in catalogue order."""
    case = drive(lifecycle, State.CONTACT_AGREED)
    command = _contact(
        iacf_actions_taken=(), iacf_concern=None, iacf_attendance_panel_involved=None,
        eha=None, chronology=(),
    )(case)  # fmt: skip
    with pytest.raises(PolicyViolation) as info:
        case.execute(command)
    assert info.value.rule_ids == (
        "IACF-ACTIONS", "IACF-PANEL", "IACF-CONCERN", "CONTACT-EHA", "CONTACT-CHRONOLOGY",
    )  # fmt: skip


def test_thin_answers_warn_but_are_accepted(lifecycle: Lifecycle) -> None:
    """IACF-THIN: brief answers and a short chronology are accepted with warnings."""
    case = drive(lifecycle, State.CONTACT_AGREED)
    command = _contact(iacf_concern="Brief.", chronology=synthetic_chronology(START.date(), 1))(
        case
    )
    assert case.check(command).warnings == case.check(command).warnings  # dry run is pure
    event = case.execute(command)
    fields = {(w.rule_id, w.field) for w in event.warnings}
    assert ("IACF-THIN", "iacf.concern") in fields
    assert ("IACF-THIN", "chronology") in fields
    assert any("the more information you include" in w.message for w in event.warnings)


def test_full_answers_do_not_warn(lifecycle: Lifecycle) -> None:
    """A full IACF and chronology give no IACF-THIN warning."""
    case = drive(lifecycle, State.CONTACT_AGREED)
    assert case.execute(_contact()(case)).warnings == ()


def test_thin_threshold_is_a_policy_setting() -> None:
    """Policy.thin_text_chars decides what is thin."""
    from chronic_na import Policy

    strict = Lifecycle(Policy(thin_text_chars=10_000))
    case = drive(strict, State.CONTACT_AGREED)
    assert any(w.field == "iacf.concern" for w in case.execute(_contact()(case)).warnings)


def test_step_back_never_requires_fifty_percent(lifecycle: Lifecycle) -> None:
    """Stepping back with attendance still below 50% is accepted, with the policy's note."""
    case = drive(lifecycle, State.MAINTENANCE_PLAN_AGREED)
    low = AttendanceSummary(present=10, unauthorised=180)
    event = case.execute(_cmd(StepBackToSchool, LP, attendance=low)(case))
    assert case.state is State.STEPPED_BACK
    assert [w.rule_id for w in event.warnings] == ["STEP-BACK-BELOW-50-ALLOWED"]


def test_step_back_at_or_above_fifty_percent_has_no_note(lifecycle: Lifecycle) -> None:
    """At 50% or more there is nothing to note."""
    case = drive(lifecycle, State.MAINTENANCE_PLAN_AGREED)
    half = AttendanceSummary(present=95, unauthorised=95)
    assert case.execute(_cmd(StepBackToSchool, LP, attendance=half)(case)).warnings == ()


def test_severe_absence_policy_opens_at_exactly_fifty_percent() -> None:
    """A Policy choosing DfE's severe absence identifies exactly 50% attendance."""
    from chronic_na import Policy, Threshold

    half = AttendanceSummary(present=95, unauthorised=95)
    command = attrs.evolve(happy_commands()[0], attendance=half)
    with pytest.raises(PolicyViolation):
        Lifecycle.for_policy().open(command)
    case = Lifecycle(Policy(identification_threshold=Threshold.SEVERE_ABSENCE)).open(command)
    assert case.state is State.IDENTIFIED


def test_reopen_plan_review_needs_reason(lifecycle: Lifecycle) -> None:
    """REASON-GIVEN applies to reopening a plan review as well."""
    case = drive(lifecycle, State.PLAN_REVIEW)
    case.execute(_cmd(RecordPlanWorking, COORD, plan_summary="Synthetic plan.")(case))
    with pytest.raises(PolicyViolation, match="REASON-GIVEN"):
        case.execute(_cmd(ReopenPlanReview, COORD, reason="")(case))
    case.execute(_cmd(ReopenPlanReview, COORD, reason="Synthetic: plan stopped working.")(case))
    assert case.state is State.PLAN_REVIEW


def test_reopen_case_needs_reason(lifecycle: Lifecycle) -> None:
    """A closed case is reopened only with a reason, back to the state it closed from."""
    case = drive(lifecycle, State.INTERVENTION)
    case.execute(_cmd(CloseCase, LP, reason=ClosureReason.MOVED_AWAY)(case))
    with pytest.raises(PolicyViolation, match="REASON-GIVEN"):
        case.execute(_cmd(ReopenCase, EHM, reason=" ")(case))
    case.execute(_cmd(ReopenCase, EHM, reason="Synthetic: closed in error.")(case))
    assert case.state is State.INTERVENTION
    assert case.closed_at is None
    assert case.intervention_ended_at is None
