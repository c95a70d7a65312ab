"""The rule catalogue: every rule the pathway enforces, with its source.

Each :class:`Rule` has a stable id, a one-line statement, a severity, the
exact sentence of the policy (or of national guidance, as summarised in
``domain.md``) it comes from, and a check. The lifecycle table names which
rules guard which command; deadline rules are checked against the time a
caller asks about.

* ``REFUSE`` rules refuse a command; every failure is reported at once in one
  :class:`~chronic_na.errors.PolicyViolation`.
* ``WARN`` rules accept the command and record a warning with its event.
* ``DEADLINE`` rules compute due times from event times and the
  :class:`~chronic_na.policy.Policy`, and report what is overdue at a time.

Messages are for caseworkers: they say what to do, and never quote case text.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Protocol

import attrs

from chronic_na.errors import Violation
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
    ReopenCase,
    ReopenPlanReview,
    SendAdditionalInformationFeedback,
    State,
    StepBackToSchool,
    SubmitContact,
)
from chronic_na.policy import Policy, is_before
from chronic_na.records import (
    ClosureReason,
    Contact,
    ESOStatus,
    FamilyDiscussionStatus,
    MaintenancePlan,
    MashDecision,
    MashOutcome,
    PlanAssessment,
)

__all__ = [
    "CATALOGUE",
    "POLICY_SENTENCES",
    "CaseFacts",
    "Deadline",
    "DutyKind",
    "Obligation",
    "Rule",
    "RuleContext",
    "SentenceMapping",
    "Severity",
    "Source",
    "compute_deadlines",
    "rule",
    "split_sentences",
]


class Severity(enum.Enum):
    """What a failed rule does."""

    REFUSE = "refuse"
    WARN = "warn"
    DEADLINE = "deadline"


class Source(enum.Enum):
    """Where a rule's quoted sentence comes from."""

    POLICY = "policy"
    """``top-tips-chronic-non-attendance-2018.txt``: the local authority's policy."""
    NATIONAL = "national"
    """National law or statutory guidance, as summarised in ``domain.md``."""
    DESIGN = "design"
    """A modelling decision recorded in ``domain.md`` (section 7) or ``docs/decisions.md``."""


class DutyKind(enum.Enum):
    """Things owed by a time: obligations beside the state, and state deadlines."""

    MASH_DECISION = "mash_decision"
    DECISION_FEEDBACK = "decision_feedback"
    ADDITIONAL_INFORMATION_FEEDBACK = "additional_information_feedback"
    SCHOOL_CONTACT = "school_contact"
    INTERVENTION_END = "intervention_end"


OBLIGATION_KINDS = frozenset(
    {
        DutyKind.DECISION_FEEDBACK,
        DutyKind.ADDITIONAL_INFORMATION_FEEDBACK,
        DutyKind.SCHOOL_CONTACT,
    }
)


@attrs.frozen
class Obligation:
    """Something owed to the school, tracked beside the state.

    Created by an event (a MASH decision, additional information, an
    allocation or hand-over), met by a command of its own, and still owed
    after the case closes until it is met.
    """

    kind: DutyKind
    number: int
    """1-based: the decision, piece of information, or allocation it is for."""
    owed_since: dt.datetime
    met_at: dt.datetime | None = None


@attrs.frozen
class Deadline:
    """A due time computed from an event time and the policy.

    ``due`` is exclusive: the duty is overdue at or after it. ``void`` marks a
    state deadline the case left behind (a case closed before MASH decided).
    """

    rule_id: str
    kind: DutyKind
    number: int
    owed_since: dt.datetime
    due: dt.datetime
    met_at: dt.datetime | None = None
    void: bool = False

    @property
    def last_day(self) -> dt.date:
        """The last calendar day on which the duty is met in time (``due`` is
        the midnight that ends it, in the policy calendar's timezone)."""
        return (self.due - dt.timedelta(microseconds=1)).date()

    @property
    def is_obligation(self) -> bool:
        """Whether this is an obligation to the school (it outlives the case)."""
        return self.kind in OBLIGATION_KINDS

    def is_open(self) -> bool:
        """Still owed: not met and not void."""
        return self.met_at is None and not self.void

    def is_overdue(self, at: dt.datetime) -> bool:
        """Owed and past due at ``at``."""
        return self.is_open() and not is_before(at, self.due)

    @property
    def met_late(self) -> bool:
        """Met, but after it was due."""
        return self.met_at is not None and not is_before(self.met_at, self.due)


class CaseFacts(Protocol):
    """What the rules read from a case (``chronic_na.lifecycle.Case`` provides it)."""

    @property
    def case_id(self) -> str: ...
    @property
    def state(self) -> State: ...
    @property
    def contact(self) -> Contact | None: ...
    @property
    def decisions(self) -> Sequence[tuple[dt.datetime, MashDecision]]: ...
    @property
    def obligations(self) -> Sequence[Obligation]: ...
    @property
    def lead_professional(self) -> str | None: ...
    @property
    def intervention_started_at(self) -> dt.datetime | None: ...
    @property
    def intervention_ended_at(self) -> dt.datetime | None: ...
    @property
    def closed_at(self) -> dt.datetime | None: ...
    @property
    def closed_from(self) -> State | None: ...


@attrs.frozen
class RuleContext:
    """What a check sees: the case, the policy, and the command (``None`` when
    asking what blocks a command before it is written)."""

    case: CaseFacts
    policy: Policy
    command: Command | None = None
    closure_reasons: Mapping[State, frozenset[ClosureReason]] = attrs.field(factory=dict)
    """The lifecycle table's closure reasons allowed in each state."""


Check = Callable[[RuleContext], Iterator[Violation]]


@attrs.frozen
class Rule:
    """One rule of the catalogue."""

    id: str
    statement: str
    severity: Severity
    source: Source
    quote: str
    """The exact sentence the rule comes from (word for word)."""
    check: Check = attrs.field(repr=False)
    precondition: bool = False
    """True if the check reads only the case, so it can say what blocks a
    command before the command is written (``next_steps``)."""
    applies_to: tuple[type[Command], ...] | None = None
    """The command types the check reads (subclasses included); ``None`` if it
    reads only the case and the actor, so any command may carry it. A
    lifecycle table that attaches the rule to another command is refused."""


CATALOGUE: dict[str, Rule] = {}
"""Every rule, by id, in the order they are declared (and checked)."""


def rule(
    rule_id: str,
    statement: str,
    *,
    severity: Severity = Severity.REFUSE,
    source: Source = Source.POLICY,
    quote: str,
    precondition: bool = False,
    applies_to: tuple[type[Command], ...] | None = None,
) -> Callable[[Check], Check]:
    """Declare a rule: decorate its check function."""

    def register(check: Check) -> Check:
        if rule_id in CATALOGUE:
            raise ValueError(f"duplicate rule id {rule_id}")
        CATALOGUE[rule_id] = Rule(
            rule_id, statement, severity, source, quote, check, precondition, applies_to
        )
        return check

    return register


_WITH_REASON: tuple[type[Command], ...] = (
    ReopenPlanReview,
    CorrectContact,
    HandOverLeadProfessional,
    ReopenCase,
)
"""The commands that carry a free-text ``reason`` (``REASON-GIVEN``)."""


def _blank(text: str | None) -> bool:
    return text is None or not text.strip()


# --------------------------------------------------------------------------- quotes

Q_HEADER = "Pupil attendance is irregular to a degree of less than 50%; legal threshold met"
Q_IDENTIFY = (
    "The MASH Tier 2 Coordinators will proactively identify children with attendance below 50% "
    "and work with schools to agree a way forward."
)
Q_PLAN_WORKING = "If there is already a plan in place which is working, this will continue."
Q_NO_EFFECTIVE_PLAN = (
    "Where there is not an effective plan, they will agree and support a contact to the "
    "Early Help and Prevention Team."
)
Q_IACF = "Contacts to MASH must be submitted using the 'Interagency Contact Form' (IACF)."
Q_EHA_EXPECTED = (
    "In most cases, it is expected that an Early Help Assessment (EHA) will already be in place."
)
Q_EHA_SUBMIT = "The EHA should be submitted alongside the IACF."
Q_UNABLE = (
    "Where the school have been unable to engage the family in a meaningful way, "
    "the IACF will be sufficient."
)
Q_MORE_INFO = (
    "When completing an IACF remember; the more information you include, the more robust "
    "the decision making process."
)
Q_INCLUDE = "Make sure you include information about:"
Q_ACTIONS = "the actions you have taken"
Q_HOME = (
    "what home factors are involved that you are aware of; e.g. separation anxiety, "
    "parental mental health, DV, substance misuse"
)
Q_SCHOOL = (
    "what school based issues are involved; e.g. peer conflict, isolation, poor academic "
    "ability or discipline issues"
)
Q_WORKED = "what has worked; have there been any external agencies involved"
Q_NOT_WORKED = "what has been done that hasn't worked"
Q_PATTERNS = "any patterns in the non-attendance or is this a sudden deterioration"
Q_PANEL = "are the Attendance Panel involved"
Q_ESO = (
    "is there is an Education Supervision Order in place; what is the plan and are there "
    "any results"
)
Q_CONCERN = "why you are concerned and confirmation you've discussed this with the family"
Q_CHRONOLOGY = "You should include a chronology of your engagement with the family."
Q_FEEDBACK = (
    "The school submitting a contact to MASH will receive feedback about the decision made "
    "and should be contacted by the allocated lead professional."
)
Q_ADDITIONAL = (
    "Where schools submit additional information to MASH, further feedback that it has been "
    "considered, alongside existing information, will be sent."
)
Q_SIX_MONTHS = (
    "A lead professional from the Early Help and Prevention Team will work with the family "
    "for up to 6 months."
)
Q_CHALLENGES = (
    "They will identify all of the challenges the family have and work alongside them to "
    "take positive steps forward."
)
Q_MAINTENANCE = (
    "At the end of the intervention, the majority of families will have made progress and a "
    "'maintenance plan' will be agreed with them and the school."
)
Q_ACTIONS_PLAN = "This plan will include actions to sustain and continue improving attendance."
Q_BELOW_50 = "In the most challenging cases, attendance may have improved but not to or above 50%."
Q_STEP_BACK = (
    "In these cases, families will still be stepped to school with a 'maintenance plan' that "
    "sustains and continues to improve attendance."
)
Q_TITLE = "Early Help and Prevention Top Tips - Supporting Chronic Non-attendance (Dec 2018)"

# National guidance and design, quoted from domain.md (markdown emphasis removed).
N_ONE_WORKING_DAY = (
    "Children's social care decides on a referral within one working day "
    "(Working Together to Safeguard Children 2023)."
)
N_ONLY_EARLY_HELP = (
    "Only early help continues on this pathway; the others end it with a recorded outcome."
)
N_WHO_WHAT_WHY = (
    "What that asks of software: record who did what, when and why, append-only, and never "
    "overwrite a decision; record what was shared, with whom and why; keep retention "
    "configurable; put no sensitive text in logs, reprs or error messages; synthetic data "
    "only in tests and examples."
)
D_CLOSE_REASONS = (
    "close with a reason allowed in that state (moved away anywhere; attendance recovered "
    "before a contact; MASH outcome other than early help; consent withdrawn or step-up "
    "during intervention)"
)
D_HAND_OVER = "The lead professional can be handed over."
N_CONSENT = "Early help is consent-based; the family helps write the plan."


# --------------------------------------------------------------------------- identification


@rule(
    "TRIGGER-MET",
    "A case is opened only for a pupil whose attendance meets the policy's trigger "
    "(attendance below 50% by default).",
    quote=Q_IDENTIFY,
    applies_to=(OpenCase,),
)
def _trigger_met(ctx: RuleContext) -> Iterator[Violation]:
    cmd = ctx.command
    assert isinstance(cmd, OpenCase)
    threshold = ctx.policy.identification_threshold
    if not threshold.is_met(cmd.attendance):
        if cmd.attendance.possible == 0:
            why = "there are no possible sessions, so attendance is undefined"
        else:
            why = f"the attendance given does not meet the trigger ({threshold.description})"
        yield Violation("TRIGGER-MET", "attendance", f"{why}; no case is opened")


@rule(
    "LINKED-CASE-DIFFERENT",
    "A case opened again for a child stepped back links to an earlier case, not to itself.",
    source=Source.NATIONAL,
    quote="A child stepped back and identified again starts a new episode linked to the "
    "earlier one.",
    applies_to=(OpenCase,),
)
def _linked_case(ctx: RuleContext) -> Iterator[Violation]:
    cmd = ctx.command
    assert isinstance(cmd, OpenCase)
    if cmd.previous_case_id is not None and cmd.previous_case_id == cmd.case_id:
        yield Violation(
            "LINKED-CASE-DIFFERENT",
            "previous_case_id",
            "names this case itself; give the id of the earlier case",
        )


# --------------------------------------------------------------------------- plans


@rule(
    "NO-CONTACT-WHILE-PLAN-WORKS",
    "No contact is agreed while a plan already in place is working; that plan continues.",
    quote=Q_PLAN_WORKING,
    applies_to=(AgreeContact,),
)
def _no_contact_while_plan_works(ctx: RuleContext) -> Iterator[Violation]:
    cmd = ctx.command
    assert isinstance(cmd, AgreeContact)
    if cmd.plan_assessment is PlanAssessment.PLAN_WORKING:
        yield Violation(
            "NO-CONTACT-WHILE-PLAN-WORKS",
            "plan_assessment",
            "a plan in place is working: record that it continues (record_plan_working) "
            "instead of agreeing a contact",
        )


@rule(
    "REASON-GIVEN",
    "Reopening, correcting and handing over record why, in a reason that is not blank.",
    source=Source.NATIONAL,
    quote=N_WHO_WHAT_WHY,
    applies_to=_WITH_REASON,
)
def _reason_given(ctx: RuleContext) -> Iterator[Violation]:
    reason = getattr(ctx.command, "reason", None)
    if isinstance(reason, str) and _blank(reason):
        yield Violation("REASON-GIVEN", "reason", "give the reason for this step")


@rule(
    "PLAN-SUMMARY-GIVEN",
    "Recording that an existing plan is working says what the plan is.",
    quote=Q_PLAN_WORKING,
    applies_to=(RecordPlanWorking,),
)
def _plan_summary(ctx: RuleContext) -> Iterator[Violation]:
    if _blank(getattr(ctx.command, "plan_summary", None)):
        yield Violation(
            "PLAN-SUMMARY-GIVEN", "plan_summary", "describe the plan that is in place and working"
        )


# --------------------------------------------------------------------------- the contact


def _contact_cmd(ctx: RuleContext) -> SubmitContact:
    cmd = ctx.command
    assert isinstance(cmd, SubmitContact)
    return cmd


@rule(
    "IACF-ACTIONS", "The IACF lists the actions the school has taken.", quote=Q_ACTIONS,
    applies_to=(SubmitContact,),
)
def _iacf_actions(ctx: RuleContext) -> Iterator[Violation]:
    iacf = _contact_cmd(ctx).iacf
    if not any(not _blank(a) for a in iacf.actions_taken):
        yield Violation("IACF-ACTIONS", "iacf.actions_taken", "list the actions you have taken")


@rule(
    "IACF-HOME-FACTORS",
    "The IACF says which home factors are involved (or that none are known).",
    quote=Q_HOME,
    applies_to=(SubmitContact,),
)
def _iacf_home(ctx: RuleContext) -> Iterator[Violation]:
    iacf = _contact_cmd(ctx).iacf
    if not iacf.home_factors and _blank(iacf.home_factors_other):
        yield Violation(
            "IACF-HOME-FACTORS",
            "iacf.home_factors",
            "say which home factors are involved, or choose 'none known'",
        )


@rule(
    "IACF-SCHOOL-ISSUES",
    "The IACF says which school-based issues are involved (or that none are known).",
    quote=Q_SCHOOL,
    applies_to=(SubmitContact,),
)
def _iacf_school(ctx: RuleContext) -> Iterator[Violation]:
    iacf = _contact_cmd(ctx).iacf
    if not iacf.school_issues and _blank(iacf.school_issues_other):
        yield Violation(
            "IACF-SCHOOL-ISSUES",
            "iacf.school_issues",
            "say which school-based issues are involved, or choose 'none known'",
        )


@rule(
    "IACF-WORKED",
    "The IACF says what has worked, and whether any external agencies have been involved "
    "(naming them, or none).",
    quote=Q_WORKED,
    applies_to=(SubmitContact,),
)
def _iacf_worked(ctx: RuleContext) -> Iterator[Violation]:
    iacf = _contact_cmd(ctx).iacf
    if _blank(iacf.what_has_worked):
        yield Violation(
            "IACF-WORKED",
            "iacf.what_has_worked",
            "say what has worked (write 'nothing yet' if so)",
        )
    if iacf.external_agencies is None or any(_blank(a) for a in iacf.external_agencies):
        yield Violation(
            "IACF-WORKED",
            "iacf.external_agencies",
            "say whether any external agencies have been involved: list them, or none",
        )


@rule(
    "IACF-NOT-WORKED", "The IACF says what has been done that has not worked.", quote=Q_NOT_WORKED,
    applies_to=(SubmitContact,),
)
def _iacf_not_worked(ctx: RuleContext) -> Iterator[Violation]:
    if _blank(_contact_cmd(ctx).iacf.what_has_not_worked):
        yield Violation(
            "IACF-NOT-WORKED",
            "iacf.what_has_not_worked",
            "say what has been done that hasn't worked",
        )


@rule(
    "IACF-PATTERNS",
    "The IACF describes any pattern in the non-attendance, or a sudden deterioration.",
    quote=Q_PATTERNS,
    applies_to=(SubmitContact,),
)
def _iacf_patterns(ctx: RuleContext) -> Iterator[Violation]:
    patterns = _contact_cmd(ctx).iacf.patterns
    if patterns is None or _blank(patterns.description):
        yield Violation(
            "IACF-PATTERNS",
            "iacf.patterns",
            "describe any pattern in the non-attendance, or say it is a sudden deterioration",
        )


@rule(
    "IACF-PANEL", "The IACF says whether the Attendance Panel is involved.", quote=Q_PANEL,
    applies_to=(SubmitContact,),
)
def _iacf_panel(ctx: RuleContext) -> Iterator[Violation]:
    if _contact_cmd(ctx).iacf.attendance_panel_involved is None:
        yield Violation(
            "IACF-PANEL",
            "iacf.attendance_panel_involved",
            "say whether the Attendance Panel is involved",
        )


@rule(
    "IACF-ESO",
    "The IACF says whether an Education Supervision Order is in place and, if so, its plan "
    "and results.",
    quote=Q_ESO,
    applies_to=(SubmitContact,),
)
def _iacf_eso(ctx: RuleContext) -> Iterator[Violation]:
    eso = _contact_cmd(ctx).iacf.education_supervision_order
    field = "iacf.education_supervision_order"
    if eso.status is ESOStatus.NOT_ANSWERED:
        yield Violation("IACF-ESO", field, "say whether an Education Supervision Order is in place")
    elif eso.status is ESOStatus.IN_PLACE:
        if _blank(eso.plan):
            yield Violation("IACF-ESO", f"{field}.plan", "give the order's plan")
        if _blank(eso.results):
            yield Violation(
                "IACF-ESO", f"{field}.results", "say what results the order has had (or 'none yet')"
            )


@rule(
    "IACF-CONCERN",
    "The IACF says why the school is concerned.",
    quote=Q_CONCERN,
    applies_to=(SubmitContact,),
)
def _iacf_concern(ctx: RuleContext) -> Iterator[Violation]:
    if _blank(_contact_cmd(ctx).iacf.concern):
        yield Violation("IACF-CONCERN", "iacf.concern", "say why you are concerned")


@rule(
    "IACF-FAMILY-DISCUSSED",
    "The IACF confirms the concern was discussed with the family, or says why the school "
    "could not engage them.",
    quote=Q_CONCERN,
    applies_to=(SubmitContact,),
)
def _iacf_family(ctx: RuleContext) -> Iterator[Violation]:
    discussion = _contact_cmd(ctx).iacf.family_discussion
    field = "iacf.family_discussion"
    if discussion is None:
        yield Violation(
            "IACF-FAMILY-DISCUSSED",
            field,
            "confirm you have discussed this with the family, or say you tried and why it failed",
        )
    elif discussion.status is FamilyDiscussionStatus.ATTEMPTED and _blank(
        discussion.reason_not_engaged
    ):
        yield Violation(
            "IACF-FAMILY-DISCUSSED",
            f"{field}.reason_not_engaged",
            "say why the family could not be engaged in the discussion",
        )


@rule(
    "CONTACT-EHA",
    "A contact includes an Early Help Assessment, unless the school could not engage the "
    "family, in which case it gives the reason.",
    quote=Q_EHA_SUBMIT,
    applies_to=(SubmitContact,),
)
def _contact_eha(ctx: RuleContext) -> Iterator[Violation]:
    cmd = _contact_cmd(ctx)
    if cmd.eha is None and _blank(cmd.unable_to_engage_reason):
        yield Violation(
            "CONTACT-EHA",
            "eha",
            "submit the Early Help Assessment with the IACF, or give the reason the school "
            "could not engage the family (unable_to_engage_reason)",
        )


@rule(
    "CONTACT-EHA-OR-REASON-NOT-BOTH",
    "A contact with an EHA does not also claim the family could not be engaged.",
    quote=Q_UNABLE,
    applies_to=(SubmitContact,),
)
def _contact_not_both(ctx: RuleContext) -> Iterator[Violation]:
    cmd = _contact_cmd(ctx)
    if cmd.eha is not None and not _blank(cmd.unable_to_engage_reason):
        yield Violation(
            "CONTACT-EHA-OR-REASON-NOT-BOTH",
            "unable_to_engage_reason",
            "an EHA is attached, so the family was engaged: remove the unable-to-engage reason, "
            "or remove the EHA",
        )


@rule(
    "CONTACT-CHRONOLOGY",
    "A contact includes a chronology of the school's engagement with the family, none of it "
    "dated after the contact.",
    quote=Q_CHRONOLOGY,
    applies_to=(SubmitContact,),
)
def _contact_chronology(ctx: RuleContext) -> Iterator[Violation]:
    cmd = _contact_cmd(ctx)
    if not cmd.chronology:
        yield Violation(
            "CONTACT-CHRONOLOGY",
            "chronology",
            "add a chronology of your engagement with the family",
        )
        return
    # A correction puts right the contact as it was submitted: its chronology
    # may not run past the original submission (later news is additional information).
    contact = ctx.case.contact
    submitted = contact.submitted_at if isinstance(cmd, CorrectContact) and contact else cmd.at
    today = ctx.policy.calendar.local_date(submitted)
    for i, entry in enumerate(cmd.chronology):
        if entry.on > today:
            yield Violation(
                "CONTACT-CHRONOLOGY",
                f"chronology[{i}].on",
                "is dated after the contact; correct the date",
            )
        if _blank(entry.summary):
            yield Violation("CONTACT-CHRONOLOGY", f"chronology[{i}].summary", "say what happened")


@rule(
    "IACF-THIN",
    "Thin answers are accepted with a warning: the more information, the more robust the decision.",
    severity=Severity.WARN,
    quote=Q_MORE_INFO,
    applies_to=(SubmitContact,),
)
def _iacf_thin(ctx: RuleContext) -> Iterator[Violation]:
    cmd = _contact_cmd(ctx)
    iacf = cmd.iacf
    limit = ctx.policy.thin_text_chars
    items: list[tuple[str, str | None]] = [
        ("iacf.actions_taken", " ".join(iacf.actions_taken) or None),
        ("iacf.what_has_worked", iacf.what_has_worked),
        ("iacf.what_has_not_worked", iacf.what_has_not_worked),
        ("iacf.patterns", iacf.patterns.description if iacf.patterns else None),
        ("iacf.concern", iacf.concern),
    ]
    for field, text in items:
        if text is not None and text.strip() and len(text.strip()) < limit:
            yield Violation(
                "IACF-THIN",
                field,
                f"is brief ({len(text.strip())} characters; {limit} or more suggested): the "
                "more information you include, the more robust the decision",
            )
    if 0 < len(cmd.chronology) < ctx.policy.thin_chronology_entries:
        yield Violation(
            "IACF-THIN",
            "chronology",
            f"has {len(cmd.chronology)} entr{'y' if len(cmd.chronology) == 1 else 'ies'} "
            f"({ctx.policy.thin_chronology_entries} or more suggested)",
        )


# --------------------------------------------------------------------------- MASH


@rule(
    "MASH-DECISION-COMPLETE",
    "A MASH decision records its decision maker (the actor), outcome, time and rationale; "
    "the time is after the contact, not before an earlier decision, and not after the "
    "recording.",
    source=Source.NATIONAL,
    quote=N_WHO_WHAT_WHY,
    applies_to=(RecordMashDecision,),
)
def _decision_complete(ctx: RuleContext) -> Iterator[Violation]:
    cmd = ctx.command
    assert isinstance(cmd, RecordMashDecision)
    decision = cmd.decision
    if decision.decision_maker != cmd.actor.id:
        yield Violation(
            "MASH-DECISION-COMPLETE",
            "decision.decision_maker",
            "must be the person recording the decision (the actor)",
        )
    if _blank(decision.rationale):
        yield Violation(
            "MASH-DECISION-COMPLETE", "decision.rationale", "record why the decision was made"
        )
    if is_before(cmd.at, decision.decided_at):
        yield Violation(
            "MASH-DECISION-COMPLETE",
            "decision.decided_at",
            "is later than the time the decision is recorded",
        )
    contact = ctx.case.contact
    if contact is not None and is_before(decision.decided_at, contact.submitted_at):
        yield Violation(
            "MASH-DECISION-COMPLETE",
            "decision.decided_at",
            "is earlier than the contact it decides on",
        )
    decisions = ctx.case.decisions
    if decisions and is_before(decision.decided_at, decisions[-1][1].decided_at):
        yield Violation(
            "MASH-DECISION-COMPLETE",
            "decision.decided_at",
            "is earlier than the case's latest decision, which a further decision supersedes",
        )


@rule(
    "ALLOCATE-EARLY-HELP-ONLY",
    "A lead professional is allocated only after a MASH decision for early help.",
    source=Source.NATIONAL,
    quote=N_ONLY_EARLY_HELP,
    precondition=True,
)
def _allocate_early_help(ctx: RuleContext) -> Iterator[Violation]:
    decisions = ctx.case.decisions
    if not decisions or decisions[-1][1].outcome is not MashOutcome.EARLY_HELP:
        yield Violation(
            "ALLOCATE-EARLY-HELP-ONLY",
            "decision.outcome",
            "MASH did not decide on early help: close the case with the MASH outcome instead",
        )


@rule(
    "LEAD-PROFESSIONAL-NAMED",
    "An allocation or hand-over names a lead professional, different from the current one.",
    source=Source.DESIGN,
    quote=D_HAND_OVER,
    applies_to=(AllocateLeadProfessional, HandOverLeadProfessional),
)
def _lead_named(ctx: RuleContext) -> Iterator[Violation]:
    cmd = ctx.command
    assert isinstance(cmd, AllocateLeadProfessional | HandOverLeadProfessional)
    if _blank(cmd.lead_professional):
        yield Violation(
            "LEAD-PROFESSIONAL-NAMED", "lead_professional", "name the lead professional (staff id)"
        )
    elif cmd.lead_professional == ctx.case.lead_professional:
        yield Violation(
            "LEAD-PROFESSIONAL-NAMED",
            "lead_professional",
            "is already the lead professional; hand over to someone else",
        )


# --------------------------------------------------------------------------- obligations


@rule(
    "DECISION-FEEDBACK-OWED",
    "Feedback on a MASH decision is sent only when a decision awaits feedback.",
    quote=Q_FEEDBACK,
    precondition=True,
)
def _decision_feedback_owed(ctx: RuleContext) -> Iterator[Violation]:
    if not any(
        o.kind is DutyKind.DECISION_FEEDBACK and o.met_at is None for o in ctx.case.obligations
    ):
        yield Violation(
            "DECISION-FEEDBACK-OWED",
            "decision",
            "no MASH decision is awaiting feedback to the school",
        )


@rule(
    "ADDITIONAL-FEEDBACK-OWED",
    "Further feedback is sent for a piece of additional information that awaits it.",
    quote=Q_ADDITIONAL,
    precondition=True,
)
def _additional_feedback_owed(ctx: RuleContext) -> Iterator[Violation]:
    owed = {
        o.number
        for o in ctx.case.obligations
        if o.kind is DutyKind.ADDITIONAL_INFORMATION_FEEDBACK and o.met_at is None
    }
    cmd = ctx.command
    if isinstance(cmd, SendAdditionalInformationFeedback):
        if cmd.information_number not in owed:
            yield Violation(
                "ADDITIONAL-FEEDBACK-OWED",
                "information_number",
                "no additional information with this number awaits feedback"
                + (f"; awaiting: {', '.join(map(str, sorted(owed)))}" if owed else ""),
            )
    elif not owed:
        yield Violation(
            "ADDITIONAL-FEEDBACK-OWED",
            "information_number",
            "no additional information awaits feedback",
        )


@rule(
    "SCHOOL-CONTACT-OWED",
    "The lead professional's contact with the school is recorded when one is owed.",
    quote=Q_FEEDBACK,
    precondition=True,
)
def _school_contact_owed(ctx: RuleContext) -> Iterator[Violation]:
    if not any(
        o.kind is DutyKind.SCHOOL_CONTACT and o.met_at is None for o in ctx.case.obligations
    ):
        yield Violation(
            "SCHOOL-CONTACT-OWED",
            "lead_professional",
            "no contact with the school is owed (it was already recorded)",
        )


@rule(
    "ACTOR-IS-LEAD-PROFESSIONAL",
    "Only the allocated lead professional works with the family and records that work.",
    quote=Q_SIX_MONTHS,
)
def _actor_is_lead(ctx: RuleContext) -> Iterator[Violation]:
    cmd = ctx.command
    assert cmd is not None
    if cmd.actor.id != ctx.case.lead_professional:
        yield Violation(
            "ACTOR-IS-LEAD-PROFESSIONAL",
            "actor.id",
            "is not the allocated lead professional for this case; ask the Early Help manager "
            "to hand the case over first",
        )


# --------------------------------------------------------------------------- the end


@rule(
    "PLAN-HAS-ACTIONS",
    "A maintenance plan has at least one action to sustain and improve attendance.",
    quote=Q_ACTIONS_PLAN,
    applies_to=(AgreeMaintenancePlan,),
)
def _plan_actions(ctx: RuleContext) -> Iterator[Violation]:
    plan = _plan(ctx)
    if not any(not _blank(a) for a in plan.actions):
        yield Violation(
            "PLAN-HAS-ACTIONS",
            "plan.actions",
            "add at least one action to sustain and continue improving attendance",
        )


@rule(
    "PLAN-AGREED-BY-FAMILY-AND-SCHOOL",
    "A maintenance plan is agreed with the family and with the school.",
    quote=Q_MAINTENANCE,
    applies_to=(AgreeMaintenancePlan,),
)
def _plan_agreed(ctx: RuleContext) -> Iterator[Violation]:
    plan = _plan(ctx)
    if not plan.agreed_by_family:
        yield Violation(
            "PLAN-AGREED-BY-FAMILY-AND-SCHOOL",
            "plan.agreed_by_family",
            "the family has not agreed the plan",
        )
    if not plan.agreed_by_school:
        yield Violation(
            "PLAN-AGREED-BY-FAMILY-AND-SCHOOL",
            "plan.agreed_by_school",
            "the school has not agreed the plan",
        )


def _plan(ctx: RuleContext) -> MaintenancePlan:
    cmd = ctx.command
    assert isinstance(cmd, AgreeMaintenancePlan)
    return cmd.plan


@rule(
    "STEP-BACK-BELOW-50-ALLOWED",
    "Stepping back never requires attendance at or above 50%; below it, the step goes ahead "
    "with a note that the maintenance plan carries the work on.",
    severity=Severity.WARN,
    quote=Q_STEP_BACK,
    applies_to=(StepBackToSchool,),
)
def _step_back_below_50(ctx: RuleContext) -> Iterator[Violation]:
    cmd = ctx.command
    assert isinstance(cmd, StepBackToSchool)
    summary = cmd.attendance
    if summary is not None and summary.possible and summary.attended * 2 < summary.possible:
        yield Violation(
            "STEP-BACK-BELOW-50-ALLOWED",
            "attendance",
            "is still below 50%: stepped back with the maintenance plan, as the policy allows",
        )


@rule(
    "CLOSE-REASON-ALLOWED",
    "A case closes only with a reason allowed in its current state (see the lifecycle table).",
    source=Source.DESIGN,
    quote=D_CLOSE_REASONS,
    applies_to=(CloseCase,),
)
def _close_reason(ctx: RuleContext) -> Iterator[Violation]:
    # The allowed reasons per state are data of the lifecycle table, which
    # passes them in the context.
    cmd = ctx.command
    assert isinstance(cmd, CloseCase)
    allowed = ctx.closure_reasons.get(ctx.case.state, frozenset())
    if cmd.reason not in allowed:
        yield Violation(
            "CLOSE-REASON-ALLOWED",
            "reason",
            f"cannot close a case that is {ctx.case.state.value} for this reason; allowed: "
            + (", ".join(sorted(r.value for r in allowed)) or "none"),
        )


@rule(
    "CLOSE-MASH-OUTCOME",
    "Closing for a MASH outcome other than early help needs such a decision.",
    source=Source.NATIONAL,
    quote=N_ONLY_EARLY_HELP,
    applies_to=(CloseCase,),
)
def _close_mash_outcome(ctx: RuleContext) -> Iterator[Violation]:
    cmd = ctx.command
    assert isinstance(cmd, CloseCase)
    if cmd.reason is ClosureReason.MASH_OUTCOME_NOT_EARLY_HELP:
        decisions = ctx.case.decisions
        if decisions and decisions[-1][1].outcome is MashOutcome.EARLY_HELP:
            yield Violation(
                "CLOSE-MASH-OUTCOME",
                "reason",
                "MASH decided on early help: allocate a lead professional instead",
            )


# --------------------------------------------------------------------------- deadlines


@rule(
    "MASH-DECISION-DUE",
    "MASH decides on a contact within one working day (configurable).",
    severity=Severity.DEADLINE,
    source=Source.NATIONAL,
    quote=N_ONE_WORKING_DAY,
)
def _mash_due(ctx: RuleContext) -> Iterator[Violation]:
    yield from _overdue(ctx, DutyKind.MASH_DECISION, "the MASH decision is overdue")


@rule(
    "DECISION-FEEDBACK-DUE",
    "The school receives feedback on every MASH decision, by a due time.",
    severity=Severity.DEADLINE,
    quote=Q_FEEDBACK,
)
def _feedback_due(ctx: RuleContext) -> Iterator[Violation]:
    yield from _overdue(ctx, DutyKind.DECISION_FEEDBACK, "feedback to the school is overdue")


@rule(
    "ADDITIONAL-FEEDBACK-DUE",
    "The school receives further feedback on every piece of additional information.",
    severity=Severity.DEADLINE,
    quote=Q_ADDITIONAL,
)
def _additional_due(ctx: RuleContext) -> Iterator[Violation]:
    yield from _overdue(
        ctx,
        DutyKind.ADDITIONAL_INFORMATION_FEEDBACK,
        "feedback on additional information is overdue",
    )


@rule(
    "SCHOOL-CONTACT-DUE",
    "The allocated lead professional contacts the school, by a due time.",
    severity=Severity.DEADLINE,
    quote=Q_FEEDBACK,
)
def _school_contact_due(ctx: RuleContext) -> Iterator[Violation]:
    yield from _overdue(
        ctx, DutyKind.SCHOOL_CONTACT, "the lead professional's contact with the school is overdue"
    )


@rule(
    "INTERVENTION-LIMIT",
    "The intervention ends at most 6 calendar months after it starts (configurable).",
    severity=Severity.DEADLINE,
    quote=Q_SIX_MONTHS,
)
def _intervention_limit(ctx: RuleContext) -> Iterator[Violation]:
    yield from _overdue(
        ctx,
        DutyKind.INTERVENTION_END,
        "the intervention has run past its limit: agree the maintenance plan",
    )


def _overdue(ctx: RuleContext, kind: DutyKind, message: str) -> Iterator[Violation]:
    at = ctx.command.at if ctx.command is not None else None
    if at is None:
        return
    for d in compute_deadlines(ctx.case, ctx.policy):
        if d.kind is kind and d.is_overdue(at):
            yield Violation(d.rule_id, f"{kind.value}[{d.number}]", message)


_DEADLINE_RULE = {
    DutyKind.MASH_DECISION: "MASH-DECISION-DUE",
    DutyKind.DECISION_FEEDBACK: "DECISION-FEEDBACK-DUE",
    DutyKind.ADDITIONAL_INFORMATION_FEEDBACK: "ADDITIONAL-FEEDBACK-DUE",
    DutyKind.SCHOOL_CONTACT: "SCHOOL-CONTACT-DUE",
    DutyKind.INTERVENTION_END: "INTERVENTION-LIMIT",
}


def compute_deadlines(case: CaseFacts, policy: Policy) -> tuple[Deadline, ...]:
    """Every due time of ``case`` under ``policy``, computed from its event times.

    Obligations to the school stay listed (and owed) after the case closes.
    """
    cal = policy.calendar
    out: list[Deadline] = []
    contact = case.contact
    if contact is not None:
        decided = case.decisions[0][1].decided_at if case.decisions else None
        out.append(
            Deadline(
                _DEADLINE_RULE[DutyKind.MASH_DECISION],
                DutyKind.MASH_DECISION,
                1,
                contact.submitted_at,
                cal.due_after_working_days(contact.submitted_at, policy.mash_decision_working_days),
                met_at=decided,
                void=decided is None and case.closed_at is not None,
            )
        )
    days = {
        DutyKind.DECISION_FEEDBACK: policy.decision_feedback_working_days,
        DutyKind.ADDITIONAL_INFORMATION_FEEDBACK: (
            policy.additional_information_feedback_working_days
        ),
        DutyKind.SCHOOL_CONTACT: policy.lead_professional_contact_working_days,
    }
    for o in case.obligations:
        out.append(
            Deadline(
                _DEADLINE_RULE[o.kind],
                o.kind,
                o.number,
                o.owed_since,
                cal.due_after_working_days(o.owed_since, days[o.kind]),
                met_at=o.met_at,
            )
        )
    started = case.intervention_started_at
    if started is not None:
        out.append(
            Deadline(
                _DEADLINE_RULE[DutyKind.INTERVENTION_END],
                DutyKind.INTERVENTION_END,
                1,
                started,
                cal.due_after_months(started, policy.intervention_months),
                met_at=case.intervention_ended_at,
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- sentences


@attrs.frozen
class SentenceMapping:
    """How one sentence of the policy is implemented: rule ids, or why none."""

    sentence: str
    rule_ids: tuple[str, ...] = ()
    note: str = ""


def split_sentences(text: str) -> list[str]:
    """Split the policy text into sentences: one per line or bullet, then at a
    full stop followed by a capital letter ("e.g. separation" stays whole)."""
    out: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("- "):
            line = line[2:].strip()
        if not line:
            continue
        out.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", line) if s.strip())
    return out


_TABLE_ONLY = "enforced by the lifecycle table (which states a command is open in)"

POLICY_SENTENCES: Mapping[str, SentenceMapping] = {
    m.sentence: m
    for m in (
        SentenceMapping(Q_HEADER, ("TRIGGER-MET",)),
        SentenceMapping(Q_TITLE, note="the document's title; constrains nothing"),
        SentenceMapping(Q_IDENTIFY, ("TRIGGER-MET",)),
        SentenceMapping(Q_PLAN_WORKING, ("NO-CONTACT-WHILE-PLAN-WORKS", "PLAN-SUMMARY-GIVEN")),
        SentenceMapping(Q_NO_EFFECTIVE_PLAN, ("NO-CONTACT-WHILE-PLAN-WORKS",)),
        SentenceMapping(
            Q_IACF,
            note="the contact is an IACF by construction: submit_contact takes an "
            "InteragencyContactForm; " + _TABLE_ONLY,
        ),
        SentenceMapping(Q_EHA_EXPECTED, ("CONTACT-EHA",)),
        SentenceMapping(Q_EHA_SUBMIT, ("CONTACT-EHA",)),
        SentenceMapping(Q_UNABLE, ("CONTACT-EHA", "CONTACT-EHA-OR-REASON-NOT-BOTH")),
        SentenceMapping(Q_MORE_INFO, ("IACF-THIN",)),
        SentenceMapping(
            Q_INCLUDE,
            (
                "IACF-ACTIONS",
                "IACF-HOME-FACTORS",
                "IACF-SCHOOL-ISSUES",
                "IACF-WORKED",
                "IACF-NOT-WORKED",
                "IACF-PATTERNS",
                "IACF-PANEL",
                "IACF-ESO",
                "IACF-CONCERN",
                "IACF-FAMILY-DISCUSSED",
            ),
        ),
        SentenceMapping(Q_ACTIONS, ("IACF-ACTIONS",)),
        SentenceMapping(Q_HOME, ("IACF-HOME-FACTORS",)),
        SentenceMapping(Q_SCHOOL, ("IACF-SCHOOL-ISSUES",)),
        SentenceMapping(Q_WORKED, ("IACF-WORKED",)),
        SentenceMapping(Q_NOT_WORKED, ("IACF-NOT-WORKED",)),
        SentenceMapping(Q_PATTERNS, ("IACF-PATTERNS",)),
        SentenceMapping(Q_PANEL, ("IACF-PANEL",)),
        SentenceMapping(Q_ESO, ("IACF-ESO",)),
        SentenceMapping(Q_CONCERN, ("IACF-CONCERN", "IACF-FAMILY-DISCUSSED")),
        SentenceMapping(Q_CHRONOLOGY, ("CONTACT-CHRONOLOGY",)),
        SentenceMapping(
            Q_FEEDBACK,
            (
                "DECISION-FEEDBACK-OWED",
                "DECISION-FEEDBACK-DUE",
                "SCHOOL-CONTACT-OWED",
                "SCHOOL-CONTACT-DUE",
            ),
        ),
        SentenceMapping(Q_ADDITIONAL, ("ADDITIONAL-FEEDBACK-OWED", "ADDITIONAL-FEEDBACK-DUE")),
        SentenceMapping(Q_SIX_MONTHS, ("INTERVENTION-LIMIT", "ACTOR-IS-LEAD-PROFESSIONAL")),
        SentenceMapping(
            Q_CHALLENGES,
            note="describes the lead professional's practice with the family; nothing a "
            "system can check beyond recording reviews (record_review)",
        ),
        SentenceMapping(Q_MAINTENANCE, ("PLAN-AGREED-BY-FAMILY-AND-SCHOOL",)),
        SentenceMapping(Q_ACTIONS_PLAN, ("PLAN-HAS-ACTIONS",)),
        SentenceMapping(Q_BELOW_50, ("STEP-BACK-BELOW-50-ALLOWED",)),
        SentenceMapping(
            Q_STEP_BACK,
            ("STEP-BACK-BELOW-50-ALLOWED",),
            note="step_back_to_school is open only once a maintenance plan is agreed "
            "(" + _TABLE_ONLY + ")",
        ),
    )
}
"""Every sentence of the policy text, mapped to the rules that implement it
or to a note saying why it constrains nothing a system can check."""
