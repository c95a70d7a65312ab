"""One synthetic case through the whole pathway.

Prints each step as it is accepted (with the rules that guarded it and any
warnings), a command the policy refuses and why, the obligations to the
school and the deadlines, and the case's chronology. All data is synthetic.

Run: python examples/walkthrough.py
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from chronic_na import AttendanceSummary, PolicyViolation
from chronic_na.lifecycle import Case, Lifecycle
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
    SendAdditionalInformationFeedback,
    SendDecisionFeedback,
    StartIntervention,
    StepBackToSchool,
    SubmitAdditionalInformation,
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

LONDON = ZoneInfo("Europe/London")
coordinator = Actor("coord-07", Role.COORDINATOR)
school = Actor("school-dsl-12", Role.SCHOOL)
mash = Actor("mash-03", Role.MASH_DECISION_MAKER)
manager = Actor("ehm-02", Role.EARLY_HELP_MANAGER)
lead = Actor("lp-15", Role.LEAD_PROFESSIONAL)

lifecycle = Lifecycle.for_policy()  # the default Policy: trigger below 50%, 6 months
CASE = "CASE-2026-0001"


def t(day: int, hour: int = 10) -> dt.datetime:
    """A synthetic time in January-July 2026 (day 1 = Monday 12 January)."""
    return dt.datetime(2026, 1, 12, hour, tzinfo=LONDON) + dt.timedelta(days=day - 1)


def give(case: Case, command: Command) -> None:
    event = case.execute(command)
    guarded = lifecycle.table.by_command()[type(command)].rules
    line = f"{event.number:>3}  {event.at:%a %d %b %H:%M}  {command.actor.role.value:<20} "
    line += f"{event.kind:<38} -> {case.state.value}"
    print(line)
    if guarded:
        print(f"       rules checked: {', '.join(guarded)}")
    for warning in event.warnings:
        print(f"       warning: {warning}")


print("== Identification ==")
attendance = AttendanceSummary(present=61, approved_activity=2, authorised=40, unauthorised=87)
rate = float(attendance.attendance_rate or 0)
print(f"Attendance {attendance.attended}/{attendance.possible} = {rate:.1%}: "
      "below 50%, so the trigger is met.")  # fmt: skip
case = lifecycle.open(
    OpenCase(case_id=CASE, actor=coordinator, at=t(1), pupil=PupilRef("P-4F7Q2"),
             school="SCH-1043", attendance=attendance, attendance_as_of=dt.date(2026, 1, 9))
)  # fmt: skip
print(f"  1  opened: {case.case_id} for pupil {case.pupil} -> {case.state.value}")

print("\n== Plan check and contact ==")
give(case, BeginPlanReview(case_id=CASE, actor=coordinator, at=t(2)))
refused = AgreeContact(case_id=CASE, actor=coordinator, at=t(3),
                       plan_assessment=PlanAssessment.PLAN_WORKING)  # fmt: skip
try:
    case.execute(refused)
except PolicyViolation as exc:
    print(f"  refused, and nothing changed: {exc.violations[0]}")
give(case, AgreeContact(case_id=CASE, actor=coordinator, at=t(3),
                        plan_assessment=PlanAssessment.PLAN_NOT_EFFECTIVE))  # fmt: skip

iacf = InteragencyContactForm(
    actions_taken=("Synthetic: daily phone calls; first-day calling; meeting with the family.",),
    home_factors=frozenset({HomeFactor.SEPARATION_ANXIETY}),
    school_issues=frozenset({SchoolIssue.ISOLATION}),
    what_has_worked="Synthetic: a key adult at the gate helped on some mornings.",
    external_agencies=("Synthetic: school nursing service",),
    what_has_not_worked="Synthetic: a reduced timetable did not raise attendance.",
    patterns=PatternsItem(PatternKind.PATTERN, "Synthetic: most absences on Mondays."),
    attendance_panel_involved=False,
    education_supervision_order=EducationSupervisionOrder(ESOStatus.NONE),
    concern="Synthetic: attendance has fallen below half this term.",
    family_discussion=FamilyDiscussion(FamilyDiscussionStatus.CONFIRMED),
)
chronology = (
    ChronologyEntry(dt.date(2025, 11, 3), EngagementKind.PHONE_CALL, "Synthetic entry."),
    ChronologyEntry(dt.date(2025, 11, 20), EngagementKind.MEETING, "Synthetic entry."),
)
draft = SubmitContact(case_id=CASE, actor=school, at=t(5), iacf=iacf, chronology=chronology)
check = case.check(draft)
print("  dry run of the draft contact:", "accepted" if check.accepted else "refused")
for v in check.violations:
    print(f"    {v}")
give(case, SubmitContact(case_id=CASE, actor=school, at=t(5), iacf=iacf, chronology=chronology,
                         eha=EHAReference("EHA-88120", dt.date(2025, 12, 1))))  # fmt: skip

print("\n== MASH ==")
for d in case.due(t(5, 15)):
    print(f"  due: {d.kind.value} by the end of {d.last_day:%a %d %b} ({d.rule_id})")
give(case, RecordMashDecision(case_id=CASE, actor=mash, at=t(6), decision=MashDecision(
    MashOutcome.EARLY_HELP, mash.id, t(6), "Synthetic rationale for early help.")))  # fmt: skip
give(case, SubmitAdditionalInformation(case_id=CASE, actor=school, at=t(7), summary="Synthetic."))
print(
    "  owed to the school:",
    ", ".join(f"{o.kind.value} #{o.number}" for o in case.owed_obligations()),
)
give(case, SendDecisionFeedback(case_id=CASE, actor=mash, at=t(7, 14), summary="Synthetic."))
give(case, SendAdditionalInformationFeedback(
    case_id=CASE, actor=mash, at=t(8), information_number=1, summary="Synthetic."))  # fmt: skip

print("\n== Early help ==")
give(case, AllocateLeadProfessional(case_id=CASE, actor=manager, at=t(9),
                                    lead_professional=lead.id))  # fmt: skip
give(case, RecordSchoolContact(case_id=CASE, actor=lead, at=t(10), summary="Synthetic."))
give(case, StartIntervention(case_id=CASE, actor=lead, at=t(15)))
(end,) = [d for d in case.deadlines() if d.rule_id == "INTERVENTION-LIMIT"]
print(f"  the intervention must end by the end of {end.last_day:%d %b %Y} "
      "(6 calendar months)")  # fmt: skip
review_attendance = AttendanceSummary(present=150, authorised=30, unauthorised=120)
give(case, RecordReview(case_id=CASE, actor=lead, at=t(60), summary="Synthetic review.",
                        attendance=review_attendance))  # fmt: skip
give(case, AgreeMaintenancePlan(case_id=CASE, actor=lead, at=t(160), plan=MaintenancePlan(
    ("Synthetic: keep the key adult at the gate.", "Synthetic: weekly check-in."),
    agreed_by_family=True, agreed_by_school=True)))  # fmt: skip
latest = AttendanceSummary(present=170, unauthorised=210)
give(case, StepBackToSchool(case_id=CASE, actor=lead, at=t(161), attendance=latest))

print("\n== Deadlines ==")
for d in case.deadlines():
    status = "met late" if d.met_late else ("met" if d.met_at else "open")
    print(f"  {d.kind.value:<34} due by the end of {d.last_day:%a %d %b %Y}  {status}")
print("  overdue now:", case.overdue(t(200)) or "nothing")

print("\n== Rebuilt from its events ==")
print("  replay equals the live case:", lifecycle.replay(case.events) == case)
print(f"  {case!r}"[:200] + "...")
