"""The lifecycle table: states, commands, sources, destinations, rules and
roles, declared once as data.

Everything else is derived from it: the ``transitions`` machine, the
diagram, the rule documentation, the Hypothesis state machine and replay.
A broken table is refused when it is validated (:func:`validate_table`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from chronic_na.errors import InvalidLifecycle
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
from chronic_na.records import ClosureReason, Role
from chronic_na.rules import CATALOGUE, Rule

__all__ = ["DEFAULT_TABLE", "LifecycleTable", "Transition", "validate_table"]

S = State
R = Role


def _states(value: Iterable[State]) -> frozenset[State]:
    return frozenset(value)


def _roles(value: Iterable[Role]) -> frozenset[Role]:
    return frozenset(value)


@attrs.frozen
class Transition:
    """One row of the table: a command, where it is open, where it leads,
    who may give it and which rules guard it.

    ``dest`` is ``None`` for a command that records something without moving
    the case (an internal transition). ``restore`` marks the reopen command:
    it returns a closed case to the state it was closed from.
    """

    command: type[Command]
    sources: frozenset[State] = attrs.field(converter=_states)
    dest: State | None
    roles: frozenset[Role] = attrs.field(converter=_roles)
    rules: tuple[str, ...] = ()
    restore: bool = False

    @property
    def name(self) -> str:
        """The command's trigger name."""
        return self.command.name


@attrs.frozen(eq=False)
class LifecycleTable:
    """The whole table: its rows, initial and final states and closure reasons.

    Compared and hashed by identity, so that a lifecycle's machine is built
    once per table object.
    """

    transitions: tuple[Transition, ...]
    initial: State = State.NEW
    finals: frozenset[State] = frozenset({State.STEPPED_BACK, State.CLOSED})
    closure_reasons: Mapping[State, frozenset[ClosureReason]] = attrs.field(factory=dict)
    """The reasons ``close_case`` accepts in each state."""

    def by_command(self) -> dict[type[Command], Transition]:
        """Rows keyed by command type."""
        return {t.command: t for t in self.transitions}

    def states(self) -> tuple[State, ...]:
        """Every state, in declaration order."""
        return tuple(State)


BEFORE_CONTACT = frozenset(
    {S.IDENTIFIED, S.PLAN_REVIEW, S.EXISTING_PLAN_CONTINUES, S.CONTACT_AGREED}
)
OPEN_AFTER_CONTACT = frozenset(
    {S.CONTACT_SUBMITTED, S.MASH_DECIDED, S.ALLOCATED, S.INTERVENTION, S.MAINTENANCE_PLAN_AGREED}
)
AFTER_DECISION = frozenset(
    {
        S.MASH_DECIDED,
        S.ALLOCATED,
        S.INTERVENTION,
        S.MAINTENANCE_PLAN_AGREED,
        S.STEPPED_BACK,
        S.CLOSED,
    }
)
AFTER_ALLOCATION = frozenset(
    {S.ALLOCATED, S.INTERVENTION, S.MAINTENANCE_PLAN_AGREED, S.STEPPED_BACK, S.CLOSED}
)
NON_FINAL = frozenset(set(State) - {S.NEW, S.STEPPED_BACK, S.CLOSED})

IACF_RULES = (
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
    "CONTACT-EHA",
    "CONTACT-EHA-OR-REASON-NOT-BOTH",
    "CONTACT-CHRONOLOGY",
    "IACF-THIN",
)

_MR = ClosureReason.MOVED_AWAY
_AR = ClosureReason.ATTENDANCE_RECOVERED
_MASH = ClosureReason.MASH_OUTCOME_NOT_EARLY_HELP
_CW = ClosureReason.CONSENT_WITHDRAWN
_SU = ClosureReason.STEPPED_UP

DEFAULT_TABLE = LifecycleTable(
    transitions=(
        Transition(OpenCase, {S.NEW}, S.IDENTIFIED, {R.COORDINATOR},
                   ("TRIGGER-MET", "LINKED-CASE-DIFFERENT")),
        Transition(BeginPlanReview, {S.IDENTIFIED}, S.PLAN_REVIEW, {R.COORDINATOR}),
        Transition(RecordPlanWorking, {S.PLAN_REVIEW}, S.EXISTING_PLAN_CONTINUES,
                   {R.COORDINATOR}, ("PLAN-SUMMARY-GIVEN",)),
        Transition(ReopenPlanReview, {S.EXISTING_PLAN_CONTINUES}, S.PLAN_REVIEW,
                   {R.COORDINATOR}, ("REASON-GIVEN",)),
        Transition(AgreeContact, {S.PLAN_REVIEW}, S.CONTACT_AGREED, {R.COORDINATOR},
                   ("NO-CONTACT-WHILE-PLAN-WORKS",)),
        Transition(SubmitContact, {S.CONTACT_AGREED}, S.CONTACT_SUBMITTED, {R.SCHOOL},
                   IACF_RULES),
        Transition(CorrectContact, OPEN_AFTER_CONTACT, None, {R.EARLY_HELP_MANAGER},
                   ("REASON-GIVEN", *IACF_RULES)),
        # A further decision (on additional information, or after a manager
        # reopens a case closed on a decision made in error) supersedes the
        # latest one; every decision stays on record and owes its own feedback.
        Transition(RecordMashDecision, {S.CONTACT_SUBMITTED, S.MASH_DECIDED}, S.MASH_DECIDED,
                   {R.MASH_DECISION_MAKER}, ("MASH-DECISION-COMPLETE",)),
        Transition(SendDecisionFeedback, AFTER_DECISION, None,
                   {R.MASH_DECISION_MAKER, R.COORDINATOR}, ("DECISION-FEEDBACK-OWED",)),
        Transition(SubmitAdditionalInformation, OPEN_AFTER_CONTACT, None, {R.SCHOOL}),
        Transition(SendAdditionalInformationFeedback, OPEN_AFTER_CONTACT | AFTER_DECISION,
                   None, {R.MASH_DECISION_MAKER, R.COORDINATOR}, ("ADDITIONAL-FEEDBACK-OWED",)),
        Transition(AllocateLeadProfessional, {S.MASH_DECIDED}, S.ALLOCATED,
                   {R.EARLY_HELP_MANAGER}, ("ALLOCATE-EARLY-HELP-ONLY", "LEAD-PROFESSIONAL-NAMED")),
        Transition(HandOverLeadProfessional,
                   {S.ALLOCATED, S.INTERVENTION, S.MAINTENANCE_PLAN_AGREED}, None,
                   {R.EARLY_HELP_MANAGER}, ("LEAD-PROFESSIONAL-NAMED", "REASON-GIVEN")),
        Transition(RecordSchoolContact, AFTER_ALLOCATION, None, {R.LEAD_PROFESSIONAL},
                   ("SCHOOL-CONTACT-OWED", "ACTOR-IS-LEAD-PROFESSIONAL")),
        Transition(StartIntervention, {S.ALLOCATED}, S.INTERVENTION, {R.LEAD_PROFESSIONAL},
                   ("ACTOR-IS-LEAD-PROFESSIONAL",)),
        Transition(RecordReview, {S.INTERVENTION}, None, {R.LEAD_PROFESSIONAL},
                   ("ACTOR-IS-LEAD-PROFESSIONAL",)),
        # Agreed again before stepping back, a revised plan supersedes the earlier one.
        Transition(AgreeMaintenancePlan, {S.INTERVENTION, S.MAINTENANCE_PLAN_AGREED},
                   S.MAINTENANCE_PLAN_AGREED,
                   {R.LEAD_PROFESSIONAL},
                   ("ACTOR-IS-LEAD-PROFESSIONAL", "PLAN-HAS-ACTIONS",
                    "PLAN-AGREED-BY-FAMILY-AND-SCHOOL")),
        Transition(StepBackToSchool, {S.MAINTENANCE_PLAN_AGREED}, S.STEPPED_BACK,
                   {R.LEAD_PROFESSIONAL},
                   ("ACTOR-IS-LEAD-PROFESSIONAL", "STEP-BACK-BELOW-50-ALLOWED")),
        Transition(CloseCase, NON_FINAL, S.CLOSED,
                   {R.COORDINATOR, R.EARLY_HELP_MANAGER, R.LEAD_PROFESSIONAL},
                   ("CLOSE-REASON-ALLOWED", "CLOSE-MASH-OUTCOME")),
        Transition(ReopenCase, {S.CLOSED}, None, {R.EARLY_HELP_MANAGER}, ("REASON-GIVEN",),
                   restore=True),
    ),
    closure_reasons={
        S.IDENTIFIED: frozenset({_MR, _AR}),
        S.PLAN_REVIEW: frozenset({_MR, _AR}),
        S.EXISTING_PLAN_CONTINUES: frozenset({_MR, _AR}),
        S.CONTACT_AGREED: frozenset({_MR, _AR}),
        S.CONTACT_SUBMITTED: frozenset({_MR}),
        S.MASH_DECIDED: frozenset({_MR, _MASH}),
        S.ALLOCATED: frozenset({_MR, _CW, _SU}),
        S.INTERVENTION: frozenset({_MR, _CW, _SU}),
        S.MAINTENANCE_PLAN_AGREED: frozenset({_MR, _CW, _SU}),
    },
)  # fmt: skip
"""The pathway of the 2018 policy (see docs/lifecycle.md for the diagram)."""


def _destinations(t: Transition) -> Iterable[State]:
    # A restoring command returns a case to a state it has already been in, so
    # it adds no edge: a state reachable only by restoring is unreachable.
    return () if t.dest is None or t.restore else (t.dest,)


def validate_table(
    table: LifecycleTable, catalogue: Mapping[str, Rule] = CATALOGUE
) -> LifecycleTable:
    """Check the table and return it; raise :class:`InvalidLifecycle` listing
    every problem: unknown states, roles or rule ids, a command declared
    twice, a rule attached to a command it does not read, an unreachable
    state, a non-final state with no way to a final one, closure reasons for
    states ``close_case`` is not open in, a final state with a way out other
    than a restore."""
    problems: list[str] = []
    seen: set[type[Command]] = set()
    for t in table.transitions:
        # The table is data a caller may build: check types at run time too.
        command: object = t.command
        label = command.__name__ if isinstance(command, type) else repr(command)
        if not (isinstance(command, type) and issubclass(command, Command)):
            problems.append(f"{label}: not a Command type")
            continue
        if t.command in seen:
            problems.append(f"{label}: declared twice")
        seen.add(t.command)
        sources: frozenset[object] = t.sources
        dest: object = t.dest
        roles: frozenset[object] = t.roles
        for src in sources:
            if not isinstance(src, State):
                problems.append(f"{label}: unknown source state {src!r}")
        if dest is not None and not isinstance(dest, State):
            problems.append(f"{label}: unknown destination state {dest!r}")
        if not t.sources:
            problems.append(f"{label}: open in no state")
        if not t.roles:
            problems.append(f"{label}: no role may give it")
        for role in roles:
            if not isinstance(role, Role):
                problems.append(f"{label}: unknown role {role!r}")
        for rule_id in t.rules:
            if rule_id not in catalogue:
                problems.append(f"{label}: unknown rule id {rule_id!r}")
                continue
            reads = catalogue[rule_id].applies_to
            if reads is not None and not issubclass(t.command, reads):
                problems.append(
                    f"{label}: rule {rule_id} reads "
                    f"{' or '.join(c.__name__ for c in reads)}, not this command"
                )
        if t.restore and t.dest is not None:
            problems.append(f"{label}: a restoring command has no fixed destination")
    if problems:
        raise InvalidLifecycle(problems)

    edges: dict[State, set[State]] = {s: set() for s in State}
    for t in table.transitions:
        for src in t.sources:
            edges[src].update(_destinations(t))
    reachable = {table.initial}
    frontier = [table.initial]
    while frontier:
        for nxt in edges[frontier.pop()]:
            if nxt not in reachable:
                reachable.add(nxt)
                frontier.append(nxt)
    for s in State:
        if s not in reachable:
            problems.append(f"state {s.value!r} is unreachable from {table.initial.value!r}")
    for s in State:
        if s in table.finals or s not in reachable:
            continue
        seen_states = {s}
        frontier = [s]
        ok = False
        while frontier and not ok:
            for nxt in edges[frontier.pop()]:
                if nxt in table.finals:
                    ok = True
                    break
                if nxt not in seen_states:
                    seen_states.add(nxt)
                    frontier.append(nxt)
        if not ok:
            problems.append(f"state {s.value!r} has no way to a final state")
    close = next((t for t in table.transitions if t.command is CloseCase), None)
    for s, reasons in table.closure_reasons.items():
        if close is None or s not in close.sources:
            problems.append(f"closure reasons given for {s.value!r}, where close_case is not open")
        if not reasons:
            problems.append(f"no closure reason allowed in {s.value!r}")
    if close is not None:
        for s in close.sources:
            if s not in table.closure_reasons:
                problems.append(f"close_case is open in {s.value!r} but no reason is allowed there")
    for t in table.transitions:
        for s in t.sources & table.finals:
            if t.dest is not None and not t.restore:
                problems.append(
                    f"{t.command.__name__}: leaves final state {s.value!r} for {t.dest.value!r}"
                )
    if problems:
        raise InvalidLifecycle(problems)
    return table
