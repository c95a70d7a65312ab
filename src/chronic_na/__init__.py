"""chronic_na: the chronic school non-attendance pathway, executable.

Finds the children whose attendance meets the trigger (below 50%), carries
each case through the pathway as an explicit state machine, refuses every
step the policy does not allow with reasons a caseworker can act on, records
who did what and when, and keeps that record safe.
"""

import logging

from chronic_na.attendance import (
    AttendanceSummary,
    Threshold,
    is_persistently_absent,
    is_severely_absent,
    meets_policy_trigger,
)
from chronic_na.errors import (
    ChronicNAError,
    ConcurrencyConflict,
    IntegrityError,
    InvalidInput,
    NotAuthorised,
    PolicyViolation,
    SchemaError,
    StoreError,
    TransitionNotAllowed,
    Violation,
)
from chronic_na.policy import DEFAULT_POLICY, Policy, WorkingCalendar

__version__ = "0.1.0.dev0"

# A library leaves logging to its application: nothing is printed unless the
# application configures a handler.
logging.getLogger("chronic_na").addHandler(logging.NullHandler())

__all__ = [
    "DEFAULT_POLICY",
    "AttendanceSummary",
    "ChronicNAError",
    "ConcurrencyConflict",
    "IntegrityError",
    "InvalidInput",
    "NotAuthorised",
    "Policy",
    "PolicyViolation",
    "SchemaError",
    "StoreError",
    "Threshold",
    "TransitionNotAllowed",
    "Violation",
    "WorkingCalendar",
    "__version__",
    "is_persistently_absent",
    "is_severely_absent",
    "meets_policy_trigger",
]
