"""The deadline rules: each one's check reports its duty overdue exactly from its
due time, naming the rule, the duty and a message, and nothing before it.

``Case.overdue(at)`` and the store's ``overdue(at)`` list the same duties as
:class:`~chronic_na.rules.Deadline` records (rule id, kind, number, due); the
rule's check is the same judgement in the catalogue's form (a ``Violation``), for
applications that show every rule's outcome in one list.
"""

from __future__ import annotations

import datetime as dt

import pytest

from chronic_na.lifecycle import Case, Lifecycle
from chronic_na.pathway import BeginPlanReview, State, SubmitAdditionalInformation
from chronic_na.records import Role
from chronic_na.rules import CATALOGUE, DutyKind, RuleContext, Severity
from chronic_na.testing import ACTORS

from .conftest import drive

US = dt.timedelta(microseconds=1)

CASES: dict[str, tuple[DutyKind, State, str]] = {
    "MASH-DECISION-DUE": (DutyKind.MASH_DECISION, State.CONTACT_SUBMITTED,
                          "the MASH decision is overdue"),
    "DECISION-FEEDBACK-DUE": (DutyKind.DECISION_FEEDBACK, State.MASH_DECIDED,
                              "feedback to the school is overdue"),
    "ADDITIONAL-FEEDBACK-DUE": (DutyKind.ADDITIONAL_INFORMATION_FEEDBACK, State.INTERVENTION,
                                "feedback on additional information is overdue"),
    "SCHOOL-CONTACT-DUE": (DutyKind.SCHOOL_CONTACT, State.ALLOCATED,
                           "the lead professional's contact with the school is overdue"),
    "INTERVENTION-LIMIT": (DutyKind.INTERVENTION_END, State.INTERVENTION,
                           "the intervention has run past its limit: agree the maintenance plan"),
}  # fmt: skip


def test_every_deadline_rule_has_a_row() -> None:
    deadline_rules = {r.id for r in CATALOGUE.values() if r.severity is Severity.DEADLINE}
    assert deadline_rules == set(CASES)


def _owing(lifecycle: Lifecycle, kind: DutyKind, state: State) -> Case:
    case = drive(lifecycle, state)
    if kind is DutyKind.ADDITIONAL_INFORMATION_FEEDBACK:
        assert case.last_event_at is not None
        case.execute(SubmitAdditionalInformation(
            case_id="C-1", actor=ACTORS[Role.SCHOOL], at=case.last_event_at + dt.timedelta(hours=1),
            summary="Synthetic information."))  # fmt: skip
    return case


@pytest.mark.parametrize("rule_id", list(CASES))
def test_the_rule_reports_its_duty_overdue_from_the_due_time(
    rule_id: str, lifecycle: Lifecycle
) -> None:
    kind, state, message = CASES[rule_id]
    case = _owing(lifecycle, kind, state)
    (deadline,) = [d for d in case.deadlines() if d.kind is kind and d.is_open()]
    assert deadline.rule_id == rule_id
    rule = CATALOGUE[rule_id]

    def check(at: dt.datetime) -> list[tuple[str, str, str]]:
        asking = BeginPlanReview(case_id="C-1", actor=ACTORS[Role.COORDINATOR], at=at)
        ctx = RuleContext(case, lifecycle.policy, asking)
        return [(v.rule_id, v.field, v.message) for v in rule.check(ctx)]

    assert check(deadline.due - US) == []
    assert deadline not in case.overdue(deadline.due - US)
    field = f"{kind.value}[{deadline.number}]"
    assert check(deadline.due) == [(rule_id, field, message)]
    assert case.overdue(deadline.due) == (deadline,)


def test_without_a_time_nothing_is_judged_overdue(lifecycle: Lifecycle) -> None:
    """Asked what blocks a command before it is written (no command, so no time),
    a deadline rule reports nothing."""
    case = _owing(lifecycle, DutyKind.MASH_DECISION, State.CONTACT_SUBMITTED)
    ctx = RuleContext(case, lifecycle.policy, None)
    assert list(CATALOGUE["MASH-DECISION-DUE"].check(ctx)) == []
