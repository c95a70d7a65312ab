"""Attendance: exact summaries, the thresholds, code tables, registers, cohorts, patterns.

Importing this package imports no dataframe library; the dataframe entry
points live in :mod:`chronic_na.attendance.frames` and need the
``dataframes`` extra (and ``distributed`` for Dask).
"""

from chronic_na.attendance.codes import (
    CODES_2024,
    CODES_PRE_2024,
    REGULATIONS_2024_IN_FORCE,
    Category,
    CodeTable,
    Session,
    WithdrawnCodeRefused,
    check_session_mark,
    table_for,
)
from chronic_na.attendance.identify import (
    Cohort,
    HasIdentificationThreshold,
    IdentifiedPupil,
    Window,
    WindowKind,
    academic_year_start,
    identify,
    identify_marks,
    resolve_threshold,
    term_start,
)
from chronic_na.attendance.marks import (
    DataQualityFinding,
    FindingKind,
    RegisterSummary,
    SessionMark,
    summarise_marks,
    summary_from_code_counts,
)
from chronic_na.attendance.patterns import (
    AttendancePattern,
    PatternWindow,
    SessionFigures,
    TrendKind,
    UnresolvedN,
    WeekdayFigures,
    analyse_pattern,
    analyse_patterns,
)
from chronic_na.attendance.summary import (
    AttendanceSummary,
    Threshold,
    is_persistently_absent,
    is_severely_absent,
    meets_policy_trigger,
)

__all__ = [
    "CODES_2024",
    "CODES_PRE_2024",
    "REGULATIONS_2024_IN_FORCE",
    "AttendancePattern",
    "AttendanceSummary",
    "Category",
    "CodeTable",
    "Cohort",
    "DataQualityFinding",
    "FindingKind",
    "HasIdentificationThreshold",
    "IdentifiedPupil",
    "PatternWindow",
    "RegisterSummary",
    "Session",
    "SessionFigures",
    "SessionMark",
    "Threshold",
    "TrendKind",
    "UnresolvedN",
    "WeekdayFigures",
    "Window",
    "WindowKind",
    "WithdrawnCodeRefused",
    "academic_year_start",
    "analyse_pattern",
    "analyse_patterns",
    "check_session_mark",
    "identify",
    "identify_marks",
    "is_persistently_absent",
    "is_severely_absent",
    "meets_policy_trigger",
    "resolve_threshold",
    "summarise_marks",
    "summary_from_code_counts",
    "table_for",
    "term_start",
]
