"""Helpers for testing code that embeds chronic_na: synthetic documents,
actors and whole pathways, and Hypothesis strategies.

Nothing in the library imports this module. Every value it makes is
synthetic: references like ``P000001`` and neutral placeholder text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from chronic_na.attendance.summary import AttendanceSummary
from chronic_na.pathway import (
    AgreeContact,
    AgreeMaintenancePlan,
    AllocateLeadProfessional,
    BeginPlanReview,
    Command,
    OpenCase,
    RecordMashDecision,
    RecordReview,
    RecordSchoolContact,
    SendDecisionFeedback,
    StartIntervention,
    StepBackToSchool,
    SubmitContact,
)
from chronic_na.records import (
    Actor,
    ChronologyEntry,
    EducationSupervisionOrder,
    EHAReference,
    EngagementKind,
    ESOStatus,
    FamilyDiscussion,
    FamilyDiscussionStatus,
    HomeFactor,
    InteragencyContactForm,
    MaintenancePlan,
    MashDecision,
    MashOutcome,
    PatternKind,
    PatternsItem,
    PlanAssessment,
    PupilRef,
    Role,
    SchoolIssue,
)

__all__ = [
    "ACTORS",
    "LONDON",
    "complete_iacf",
    "full_pathway",
    "synthetic_chronology",
    "synthetic_text",
]

LONDON = ZoneInfo("Europe/London")

ACTORS: dict[Role, Actor] = {
    Role.COORDINATOR: Actor("coord-01", Role.COORDINATOR),
    Role.SCHOOL: Actor("school-dsl-01", Role.SCHOOL),
    Role.MASH_DECISION_MAKER: Actor("mash-01", Role.MASH_DECISION_MAKER),
    Role.EARLY_HELP_MANAGER: Actor("ehm-01", Role.EARLY_HELP_MANAGER),
    Role.LEAD_PROFESSIONAL: Actor("lp-01", Role.LEAD_PROFESSIONAL),
    Role.FAMILY: Actor("family-01", Role.FAMILY),
    Role.ATTENDANCE_PANEL: Actor("panel-01", Role.ATTENDANCE_PANEL),
    Role.AUDITOR: Actor("audit-01", Role.AUDITOR),
}
"""One synthetic actor per role."""


def synthetic_text(label: str, chars: int = 60) -> str:
    """Neutral placeholder text of at least ``chars`` characters (no case content)."""
    base = f"Synthetic {label} text for testing only. "
    return (base * (chars // len(base) + 1))[: max(chars, len(label))]


def complete_iacf(text: str | None = None) -> InteragencyContactForm:
    """An IACF with every item answered (optionally every free-text field = ``text``)."""

    def t(label: str) -> str:
        return text if text is not None else synthetic_text(label)

    return InteragencyContactForm(
        actions_taken=(t("actions"),),
        home_factors=frozenset({HomeFactor.SEPARATION_ANXIETY}),
        home_factors_other=t("home factors other"),
        school_issues=frozenset({SchoolIssue.PEER_CONFLICT}),
        school_issues_other=t("school issues other"),
        what_has_worked=t("what has worked"),
        external_agencies=(t("agency"),),
        what_has_not_worked=t("what has not worked"),
        patterns=PatternsItem(PatternKind.LONG_STANDING, t("patterns")),
        attendance_panel_involved=False,
        education_supervision_order=EducationSupervisionOrder(
            ESOStatus.IN_PLACE, plan=t("eso plan"), results=t("eso results")
        ),
        concern=t("concern"),
        family_discussion=FamilyDiscussion(FamilyDiscussionStatus.CONFIRMED),
    )


def synthetic_chronology(
    until: dt.date, entries: int = 3, text: str | None = None
) -> tuple[ChronologyEntry, ...]:
    """``entries`` chronology entries, a week apart, ending on ``until``."""
    kinds = list(EngagementKind)
    return tuple(
        ChronologyEntry(
            until - dt.timedelta(days=7 * (entries - 1 - i)),
            kinds[i % len(kinds)],
            text if text is not None else synthetic_text(f"chronology {i}"),
        )
        for i in range(entries)
    )


def full_pathway(
    case_id: str,
    start: dt.datetime,
    *,
    pupil: str = "P000001",
    school: str = "SCH-0001",
    text: str | None = None,
    actors: dict[Role, Actor] | None = None,
) -> Iterator[Command]:
    """Every command of one case from opening to stepping back, in order, a
    working day or so apart (times are synthetic, from ``start``)."""
    a = actors or ACTORS
    step = iter(range(1000))

    def at() -> dt.datetime:
        return start + dt.timedelta(hours=26 * next(step))

    lp = a[Role.LEAD_PROFESSIONAL]
    yield OpenCase(
        case_id=case_id,
        actor=a[Role.COORDINATOR],
        at=at(),
        pupil=PupilRef(pupil),
        school=school,
        attendance=AttendanceSummary(present=80, authorised=30, unauthorised=80),
        attendance_as_of=start.date(),
    )
    yield BeginPlanReview(case_id=case_id, actor=a[Role.COORDINATOR], at=at())
    yield AgreeContact(
        case_id=case_id,
        actor=a[Role.COORDINATOR],
        at=at(),
        plan_assessment=PlanAssessment.NO_PLAN,
    )
    submitted = at()
    yield SubmitContact(
        case_id=case_id,
        actor=a[Role.SCHOOL],
        at=submitted,
        iacf=complete_iacf(text),
        eha=EHAReference("EHA-0001", submitted.date() - dt.timedelta(days=30)),
        chronology=synthetic_chronology(submitted.date(), text=text),
    )
    decided = at()
    mdm = a[Role.MASH_DECISION_MAKER]
    yield RecordMashDecision(
        case_id=case_id,
        actor=mdm,
        at=decided,
        decision=MashDecision(
            MashOutcome.EARLY_HELP,
            mdm.id,
            decided,
            text if text is not None else synthetic_text("rationale"),
        ),
    )
    yield SendDecisionFeedback(
        case_id=case_id,
        actor=mdm,
        at=at(),
        summary=text if text is not None else synthetic_text("feedback"),
    )
    yield AllocateLeadProfessional(
        case_id=case_id, actor=a[Role.EARLY_HELP_MANAGER], at=at(), lead_professional=lp.id
    )
    yield RecordSchoolContact(
        case_id=case_id,
        actor=lp,
        at=at(),
        summary=text if text is not None else synthetic_text("school contact"),
    )
    yield StartIntervention(case_id=case_id, actor=lp, at=at())
    yield RecordReview(
        case_id=case_id,
        actor=lp,
        at=at(),
        summary=text if text is not None else synthetic_text("review"),
        attendance=AttendanceSummary(present=120, authorised=20, unauthorised=50),
    )
    yield AgreeMaintenancePlan(
        case_id=case_id,
        actor=lp,
        at=at(),
        plan=MaintenancePlan(
            (text if text is not None else synthetic_text("plan action"),),
            agreed_by_family=True,
            agreed_by_school=True,
        ),
    )
    yield StepBackToSchool(
        case_id=case_id,
        actor=lp,
        at=at(),
        attendance=AttendanceSummary(present=85, authorised=10, unauthorised=95),
    )

