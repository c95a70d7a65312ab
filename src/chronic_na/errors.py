"""The library's one error hierarchy.

Every error the library raises is a :class:`ChronicNAError`. Messages name
fields, rule ids, positions and states, never the free text of a case: case
data is about children, and error messages end up in logs.

This module sits at the bottom of the import graph so that every other module
can raise these errors without an import cycle.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

__all__ = [
    "ChronicNAError",
    "ConcurrencyConflict",
    "IntegrityError",
    "InvalidInput",
    "InvalidLifecycle",
    "NotAuthorised",
    "PolicyViolation",
    "SchemaError",
    "StoreError",
    "TransitionNotAllowed",
    "Violation",
]


class ChronicNAError(Exception):
    """Base class of every error raised by chronic_na."""


class InvalidInput(ChronicNAError, ValueError):
    """A value has the wrong type, shape or range.

    ``field`` names the offending field (dotted for nested records), ``reason``
    says what was expected. The offending value itself is never included.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NotAuthorised(ChronicNAError):
    """The actor's role may not give this command."""

    def __init__(self, command: str, role: str, allowed: Iterable[str]) -> None:
        self.command = command
        self.role = role
        self.allowed = tuple(sorted(allowed))
        super().__init__(
            f"role {role!r} may not {command}; allowed roles: {', '.join(self.allowed)}"
        )


class TransitionNotAllowed(ChronicNAError):
    """The command is not open in the case's current state."""

    def __init__(self, command: str, state: str, open_in: Iterable[str]) -> None:
        self.command = command
        self.state = state
        self.open_in = tuple(sorted(open_in))
        super().__init__(
            f"cannot {command} while the case is {state!r}; "
            f"it is open only in: {', '.join(self.open_in) or 'no state'}"
        )


@attrs.frozen
class Violation:
    """One failed rule: its stable id, the field at fault, and what to do.

    ``message`` is written for a caseworker and never quotes case text.
    """

    rule_id: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule_id}] {self.field}: {self.message}"


class PolicyViolation(ChronicNAError):
    """A command broke one or more rules of the policy; nothing was changed.

    ``violations`` holds every failed rule at once, so that a form can show
    all of them together.
    """

    def __init__(self, command: str, violations: Sequence[Violation]) -> None:
        if not violations:
            raise ValueError("PolicyViolation needs at least one violation")
        self.command = command
        self.violations = tuple(violations)
        lines = "\n".join(f"  - {v}" for v in self.violations)
        super().__init__(f"{command} refused by {len(self.violations)} rule(s):\n{lines}")

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of the failed rules, in the order they were checked."""
        return tuple(v.rule_id for v in self.violations)


class InvalidLifecycle(ChronicNAError):
    """A lifecycle table is broken (refused when the lifecycle is built).

    ``problems`` lists every problem found: unreachable states, states with
    no way to a final state, unknown rule ids or roles, and the like.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"the lifecycle table is broken:\n{lines}")


class StoreError(ChronicNAError):
    """A problem with the durable store (a translated driver error)."""


class ConcurrencyConflict(StoreError):
    """Another writer appended to the case since this writer loaded it."""

    def __init__(self, case_id: str, expected: int, actual: int) -> None:
        self.case_id = case_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"case {case_id}: expected version {expected}, but the store has {actual}; "
            "reload the case and try again"
        )


class IntegrityError(StoreError):
    """The store's hash chain does not verify, or a uniqueness rule was broken."""


class SchemaError(ChronicNAError):
    """Stored data could not be read back into records.

    Names the case, the event's position and the field; never the value.
    """

    def __init__(self, case_id: str | None, position: int | None, field: str, reason: str) -> None:
        self.case_id = case_id
        self.position = position
        self.field = field
        self.reason = reason
        where = f"case {case_id}" if case_id is not None else "stored data"
        if position is not None:
            where += f", event {position}"
        super().__init__(f"{where}, field {field}: {reason}")
