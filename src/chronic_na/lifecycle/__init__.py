"""The pathway as a validated, event-recording state machine.

One lifecycle table (:mod:`chronic_na.lifecycle.table`) declares states,
commands, roles and rules; a :class:`Lifecycle` (one per policy) fires one
``transitions`` machine built from it (one per table, shared by every policy)
and carries any number of :class:`Case` objects through it, recording one
:class:`Event` per accepted command.
"""

from chronic_na.lifecycle.case import Case, Event
from chronic_na.lifecycle.engine import CheckResult, Lifecycle, NextStep
from chronic_na.lifecycle.table import DEFAULT_TABLE, LifecycleTable, Transition, validate_table

__all__ = [
    "DEFAULT_TABLE",
    "Case",
    "CheckResult",
    "Event",
    "Lifecycle",
    "LifecycleTable",
    "NextStep",
    "Transition",
    "validate_table",
]
