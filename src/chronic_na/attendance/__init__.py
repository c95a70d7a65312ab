"""Attendance: exact summaries, the thresholds, code tables and cohorts.

Importing this package imports no dataframe library; the dataframe entry
points live in their own modules and need the ``dataframes`` extra.
"""

from chronic_na.attendance.summary import (
    AttendanceSummary,
    Threshold,
    is_persistently_absent,
    is_severely_absent,
    meets_policy_trigger,
)

__all__ = [
    "AttendanceSummary",
    "Threshold",
    "is_persistently_absent",
    "is_severely_absent",
    "meets_policy_trigger",
]
