"""DfE's published 2025/26 figures, rebuilt from their per-code counts.

Each fully numeric row's per-code session counts go through
``summary_from_code_counts`` with the 2024 table; the category totals must
equal the published ones (or be within DfE's small-cell rounding) and the
rates must equal the published percentages to 0.01 percentage points.
"""

from __future__ import annotations

import csv
from fractions import Fraction
from pathlib import Path

import pytest

from chronic_na.attendance import CODES_2024, FindingKind, summary_from_code_counts

DATA = Path(__file__).parent.parent / "data" / "dfe" / "dfe-attendance-ytd-2025-26.csv"

# DfE's column for each code. `reason_present` is `reason_present_am` +
# `reason_present_pm` (checked below), so only the AM and PM columns are fed.
CODE_COLUMNS = {
    "/": "reason_present_am",
    "\\": "reason_present_pm",
    "L": "reason_l_present_late_before_registers_closed",
    "I": "reason_i_authorised_illness",
    "M": "reason_m_authorised_medical_dental",
    "R": "reason_r_authorised_religious_observance",
    "S": "reason_s_authorised_study_leave",
    "T": "reason_t_authorised_mobile_child",
    "H": "reason_h_authorised_holiday",
    "E": "reason_e_authorised_excluded",
    "C": "reason_c_authorised_other",
    "C1": "reason_c1_authorised_regulated_performance",
    "J1": "reason_j1_authorised_interview",
    "C2": "reason_c2_authorised_temp_reduced_timetable",
    "B": "reason_b_aea_education_off_site",
    "J": "reason_j_aea_interview",
    "P": "reason_p_aea_approved_sporting_activity",
    "V": "reason_v_aea_educational_visit_trip",
    "W": "reason_w_aea_work_experience",
    "K": "reason_k_aea_education_arranged_by_la",
    "G": "reason_g_unauthorised_holiday",
    "U": "reason_u_unauthorised_late_after_registers_closed",
    "O": "reason_o_other_unauthorised",
    "N": "reason_n_no_reason_yet",
}
TOTALS = {
    "present": "present_sessions",
    "approved_activity": "approved_educational_activity",
    "authorised": "authorised_absence",
    "unauthorised": "unauthorised_absence",
    "possible": "possible_sessions",
}
RATES = {
    "attendance_rate": "attendance_perc",
    "absence_rate": "overall_absence_perc",
    "authorised_rate": "authorised_absence_perc",
    "unauthorised_rate": "unauthorised_absence_perc",
}


def _rows() -> list[dict[str, str]]:
    with DATA.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _numeric(row: dict[str, str]) -> bool:
    return all(row[c] != "c" for c in [*CODE_COLUMNS.values(), *TOTALS.values(), *RATES.values()])


def _label(row: dict[str, str]) -> str:
    place = row["la_name"] or row["region_name"] or row["country_name"]
    return f"{row['geographic_level']}/{place}/{row['education_phase']}"


def test_file_has_the_rows_the_readme_describes() -> None:
    rows = _rows()
    assert len(rows) == 647
    assert sum(_numeric(r) for r in rows) == 643


def test_every_dfe_code_column_is_a_2024_table_code() -> None:
    assert set(CODE_COLUMNS) <= CODES_2024.all_codes()


def test_reason_present_is_am_plus_pm_and_present_sessions_add_late() -> None:
    """Which columns add to which totals (documented in docs/attendance.md)."""
    for row in filter(_numeric, _rows()):
        am, pm = int(row["reason_present_am"]), int(row["reason_present_pm"])
        late = int(row["reason_l_present_late_before_registers_closed"])
        assert int(row["reason_present"]) == am + pm, _label(row)
        assert int(row["present_sessions"]) == am + pm + late, _label(row)


def test_published_totals_and_rates_are_reproduced(capsys: pytest.CaptureFixture[str]) -> None:
    exact, differing, withdrawn_rows = 0, [], 0
    for row in filter(_numeric, _rows()):
        counts = {code: int(row[column]) for code, column in CODE_COLUMNS.items()}
        summary, findings = summary_from_code_counts(counts)
        if findings:
            withdrawn_rows += 1
            assert {f.code for f in findings} <= {"H", "J"}
            assert all(f.kind is FindingKind.WITHDRAWN_CODE for f in findings)
        possible = int(row["possible_sessions"])
        tolerance = max(50, possible // 1_000_000)
        diffs = {}
        for attribute, column in TOTALS.items():
            diff = getattr(summary, attribute) - int(row[column])
            assert abs(diff) <= tolerance, (_label(row), attribute, diff)
            if diff:
                diffs[attribute] = diff
        for attribute, column in RATES.items():
            rate = getattr(summary, attribute)
            assert rate is not None
            published = Fraction(row[column])
            assert abs(rate * 100 - published) <= Fraction(1, 100), (_label(row), attribute)
        if diffs:
            differing.append((_label(row), diffs))
        else:
            exact += 1
    with capsys.disabled():
        print(f"\nDfE rows reproduced exactly: {exact} of {exact + len(differing)}")
        print(f"rows with withdrawn codes H/J counted as DfE counts them: {withdrawn_rows}")
        for label, diffs in differing:
            print(f"  within small-cell tolerance: {label}: {diffs}")
    assert exact + len(differing) == 643
    assert withdrawn_rows == 88
