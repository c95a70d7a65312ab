"""The :class:`Lifecycle`: one ``transitions`` machine per lifecycle table, many cases.

The machine is built once from the lifecycle table, with no model attached,
and every command fires its trigger on the case (transitions' flyweight
pattern): no machine per case and no ``add_model``, which is quadratic,
never frees a model, fails on slotted classes and silently skips a second
case equal to the first.

A command is checked in a fixed order and refused with exactly one error:
:class:`~chronic_na.errors.InvalidInput`, then
:class:`~chronic_na.errors.NotAuthorised`, then
:class:`~chronic_na.errors.TransitionNotAllowed`, then
:class:`~chronic_na.errors.PolicyViolation` listing every failed rule. A
refused command changes nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

import attrs
from transitions import Machine, MachineError

from chronic_na.errors import (
    ChronicNAError,
    InvalidInput,
    NotAuthorised,
    PolicyViolation,
    SchemaError,
    TransitionNotAllowed,
    Violation,
)
from chronic_na.lifecycle.case import FOLD, Case, Event
from chronic_na.lifecycle.table import DEFAULT_TABLE, LifecycleTable, Transition, validate_table
from chronic_na.pathway import Command, OpenCase, State
from chronic_na.policy import DEFAULT_POLICY, Policy, is_before
from chronic_na.records import Role
from chronic_na.rules import CATALOGUE, Deadline, Rule, RuleContext, Severity, compute_deadlines

__all__ = ["CheckResult", "Lifecycle", "NextStep"]

log = logging.getLogger("chronic_na.lifecycle")


@attrs.frozen
class CheckResult:
    """What a command would do (a dry run): accepted or the one error it would
    raise, and the warnings it would record."""

    command: str
    error: ChronicNAError | None
    warnings: tuple[Violation, ...] = ()

    @property
    def accepted(self) -> bool:
        """Whether the command would be accepted."""
        return self.error is None

    @property
    def violations(self) -> tuple[Violation, ...]:
        """The failed rules, if the command would be refused by the policy."""
        return self.error.violations if isinstance(self.error, PolicyViolation) else ()


@attrs.frozen
class NextStep:
    """A command and whether it is open now; if not, what blocks it."""

    command: str
    roles: frozenset[Role]
    open: bool
    blockers: tuple[Violation, ...] = ()
    """Why it is closed: the state, or rules that already fail on the case alone.
    An open command may still be refused for what it carries."""


@attrs.frozen
class _Compiled:
    transition: Transition
    refuse: tuple[Rule, ...]
    warn: tuple[Rule, ...]
    preconditions: tuple[Rule, ...]
    trigger: Callable[..., bool]
    """The machine's trigger for this command (looked up once, not per command)."""
    sources: tuple[State, ...]
    roles: tuple[Role, ...]
    """``transition.sources`` and ``.roles`` as tuples: membership by identity,
    without a Python-level ``Enum.__hash__`` call per command."""


@functools.lru_cache(maxsize=16)
def _build_machine(table: LifecycleTable) -> Machine:
    machine = Machine(
        model=None,
        states=list(State),
        initial=table.initial,
        auto_transitions=False,
        send_event=False,
    )
    for t in table.transitions:
        sources: list[Any] = sorted(t.sources, key=lambda s: s.value)
        if t.restore:
            for back_to in table.closure_reasons:
                machine.add_transition(
                    t.name, sources, back_to, conditions=[_closed_from_is(back_to)]
                )
        else:
            machine.add_transition(t.name, sources, t.dest)
    return machine


def _closed_from_is(state: State) -> Callable[[State | None], bool]:
    def condition(closed_from: State | None) -> bool:
        return closed_from is state

    return condition


class Lifecycle:
    """The pathway under one :class:`Policy`: opens, checks, executes and replays cases.

    Build it once and share it (it is immutable and thread-compatible);
    :meth:`for_policy` caches one per policy.
    """

    __slots__ = ("_compiled", "_machine", "_rows", "policy", "table")

    def __init__(self, policy: Policy = DEFAULT_POLICY, table: LifecycleTable = DEFAULT_TABLE):
        if not isinstance(policy, Policy):
            raise InvalidInput("policy", "must be a Policy")
        self.policy = policy
        self.table = validate_table(table)
        self._machine = _build_machine(table)
        self._rows = table.by_command()
        self._compiled: dict[type[Command], _Compiled] = {}
        for command_type, t in self._rows.items():
            rules = [CATALOGUE[r] for r in t.rules]
            self._compiled[command_type] = _Compiled(
                t,
                tuple(r for r in rules if r.severity is Severity.REFUSE),
                tuple(r for r in rules if r.severity is Severity.WARN),
                tuple(r for r in rules if r.precondition),
                self._machine.events[t.name].trigger,
                tuple(t.sources),
                tuple(t.roles),
            )

    @staticmethod
    @functools.lru_cache(maxsize=32)
    def for_policy(policy: Policy = DEFAULT_POLICY) -> Lifecycle:
        """The shared lifecycle for ``policy`` (built once)."""
        return Lifecycle(policy)

    # ------------------------------------------------------------------ commands

    def open(self, command: OpenCase) -> Case:
        """Open a case: the command is checked like any other."""
        if not isinstance(command, OpenCase):
            raise InvalidInput("command", "must be an OpenCase to open a case")
        case = Case(command.case_id, self)
        self.execute(case, command)
        return case

    def execute(self, case: Case, command: Command) -> Event:
        """Check ``command`` against the case and, if accepted, record one event.

        Raises exactly one of ``InvalidInput``, ``NotAuthorised``,
        ``TransitionNotAllowed`` or ``PolicyViolation`` (checked in that
        order) and changes nothing if it is refused.
        """
        compiled, warnings = self._admit(case, command)
        t = compiled.transition
        prior = case.state
        try:
            if t.restore:
                fired = compiled.trigger(case, case.closed_from)
            else:
                fired = compiled.trigger(case)
        except MachineError as exc:  # pragma: no cover - _admit checked the source state
            raise TransitionNotAllowed(t.name, prior.value, (s.value for s in t.sources)) from exc
        if not fired:
            raise TransitionNotAllowed(t.name, prior.value, (s.value for s in t.sources))
        FOLD[type(command)](case, command, prior)
        event = Event(case.case_id, case._record(command, warnings), command, warnings)
        if log.isEnabledFor(logging.DEBUG):  # spares building the arguments per command
            log.debug(
                "case %s: %s accepted (event %d, %s -> %s)",
                case.case_id, t.name, event.number, prior.value, case.state.value,
            )  # fmt: skip
        return event

    def check(self, case: Case, command: Command) -> CheckResult:
        """Dry run: the error ``command`` would raise (or ``None``) and its warnings."""
        name = getattr(command, "name", type(command).__name__)
        try:
            _, warnings = self._admit(case, command)
        except ChronicNAError as exc:
            return CheckResult(name, exc)
        return CheckResult(name, None, warnings)

    def _admit(self, case: Case, command: Command) -> tuple[_Compiled, tuple[Violation, ...]]:
        _require_case(case)
        compiled = self._compiled.get(type(command))
        if compiled is None:
            raise InvalidInput(
                "command", f"{type(command).__name__} is not a command of this lifecycle"
            )
        if command.case_id != case.case_id:
            raise InvalidInput("case_id", "does not match the case the command is given to")
        last = case.last_event_at
        if last is not None and is_before(command.at, last):
            raise InvalidInput(
                "at", "is earlier than the case's last event; commands are recorded in time order"
            )
        t = compiled.transition
        role = command.actor.role
        if role not in compiled.roles:
            log.info(
                "case %s: %s refused: role %s not authorised", case.case_id, t.name, role.value
            )
            raise NotAuthorised(t.name, role.value, (r.value for r in t.roles))
        if case.state not in compiled.sources:
            raise TransitionNotAllowed(t.name, case.state.value, (s.value for s in t.sources))
        refuse, warn = compiled.refuse, compiled.warn
        if not (refuse or warn):
            return compiled, ()
        ctx = RuleContext(case, self.policy, command, self.table.closure_reasons)
        if refuse:
            failures = [v for r in refuse for v in r.check(ctx)]
            if failures:
                log.info(
                    "case %s: %s refused by rules %s",
                    case.case_id, t.name, ",".join(dict.fromkeys(v.rule_id for v in failures)),
                )  # fmt: skip
                raise PolicyViolation(t.name, failures)
        if not warn:
            return compiled, ()
        return compiled, tuple(v for r in warn for v in r.check(ctx))

    # ------------------------------------------------------------------ asking

    def next_steps(self, case: Case) -> tuple[NextStep, ...]:
        """Every command of the table: open now or not, and what blocks it."""
        _require_case(case)
        ctx = RuleContext(case, self.policy, None, self.table.closure_reasons)
        steps: list[NextStep] = []
        for compiled in self._compiled.values():
            t = compiled.transition
            if case.state not in t.sources:
                where = ", ".join(sorted(s.value for s in t.sources))
                blocker = Violation(
                    "STATE",
                    "state",
                    f"not open while the case is {case.state.value}; open in: {where}",
                )
                steps.append(NextStep(t.name, t.roles, False, (blocker,)))
                continue
            if t.restore and case.closed_from is None:  # pragma: no cover - closed implies from
                steps.append(NextStep(t.name, t.roles, False, ()))
                continue
            blockers = tuple(v for r in compiled.preconditions for v in r.check(ctx))
            steps.append(NextStep(t.name, t.roles, not blockers, blockers))
        return tuple(steps)

    def deadlines(self, case: Case) -> tuple[Deadline, ...]:
        """Every due time of ``case`` (met, open and void), from its event times."""
        _require_case(case)
        return compute_deadlines(case, self.policy)

    def overdue(self, case: Case, at: dt.datetime) -> tuple[Deadline, ...]:
        """What is owed and past due at ``at``."""
        _aware(at)
        return tuple(d for d in self.deadlines(case) if d.is_overdue(at))

    def due(self, case: Case, at: dt.datetime) -> tuple[Deadline, ...]:
        """What is owed and not yet past due at ``at``."""
        _aware(at)
        return tuple(d for d in self.deadlines(case) if d.is_open() and not d.is_overdue(at))

    # ------------------------------------------------------------------ replay

    def replay(self, events: Iterable[Event]) -> Case:
        """Rebuild a case from its events alone (no rule is checked again).

        Raises :class:`~chronic_na.errors.SchemaError` if the events are not
        one case's unbroken sequence from ``open_case``.
        """
        case: Case | None = None
        compiled_for = self._compiled
        for event in events:
            if not isinstance(event, Event):
                raise InvalidInput("events", "must be Event records (a case's events)")
            if case is None:
                case = Case(event.case_id, self)
            if event.case_id != case.case_id:
                raise SchemaError(case.case_id, event.number, "case_id", "belongs to another case")
            if event.number != case.version + 1:
                raise SchemaError(
                    case.case_id, event.number, "number", f"expected event {case.version + 1}"
                )
            command = event.command
            compiled = compiled_for.get(type(command))
            if compiled is None:
                raise SchemaError(case.case_id, event.number, "command", "unknown command type")
            t = compiled.transition
            prior = case.state
            if prior not in compiled.sources:  # a tuple: membership by identity
                raise SchemaError(
                    case.case_id, event.number, "command", f"{t.name} is not open in {prior.value}"
                )
            if t.restore:
                if case.closed_from is None:
                    raise SchemaError(case.case_id, event.number, "command", "nothing to reopen")
                case.state = case.closed_from
            elif t.dest is not None:
                case.state = t.dest
            FOLD[type(command)](case, command, prior)
            case._record(command, event.warnings)
        if case is None:
            raise SchemaError(None, None, "events", "no events to replay")
        return case


def _require_case(case: object) -> None:
    if not isinstance(case, Case):
        raise InvalidInput("case", "must be a Case (from Lifecycle.open, replay or a store)")


def _aware(at: dt.datetime) -> None:
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("at", "must be a timezone-aware datetime")
