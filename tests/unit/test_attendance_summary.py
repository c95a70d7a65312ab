"""The attendance summary: exact rates and the three thresholds at their boundaries."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chronic_na import (
    AttendanceSummary,
    InvalidInput,
    Threshold,
    is_persistently_absent,
    is_severely_absent,
    meets_policy_trigger,
)

counts = st.integers(min_value=0, max_value=10_000)
summaries = st.builds(
    AttendanceSummary,
    present=counts,
    approved_activity=counts,
    authorised=counts,
    unauthorised=counts,
)


def test_rates_are_exact_fractions() -> None:
    """Rates are Fractions of whole session counts, with no rounding."""
    s = AttendanceSummary(present=100, approved_activity=10, authorised=30, unauthorised=50)
    assert s.possible == 190
    assert s.attendance_rate == Fraction(110, 190)
    assert s.absence_rate == Fraction(80, 190)
    assert s.authorised_rate == Fraction(30, 190)
    assert s.unauthorised_rate == Fraction(50, 190)


def test_zero_possible_sessions_have_no_rate_and_meet_no_threshold() -> None:
    """With no possible sessions every rate is undefined (None), not 0 or 1."""
    s = AttendanceSummary(present=0)
    assert s.attendance_rate is None
    assert s.absence_rate is None
    assert not meets_policy_trigger(s)
    assert not is_severely_absent(s)
    assert not is_persistently_absent(s)


def test_exactly_fifty_percent_policy_and_dfe_disagree() -> None:
    """At exactly 50% attendance the policy's trigger is NOT met, DfE's severe absence IS."""
    half = AttendanceSummary(present=95, unauthorised=95)
    assert half.attendance_rate == Fraction(1, 2)
    assert not meets_policy_trigger(half)
    assert is_severely_absent(half)
    assert not Threshold.POLICY_TRIGGER.is_met(half)
    assert Threshold.SEVERE_ABSENCE.is_met(half)


def test_one_session_either_side_of_fifty_percent() -> None:
    """One session below the half meets both; one above meets neither."""
    below = AttendanceSummary(present=94, unauthorised=96)
    above = AttendanceSummary(present=96, unauthorised=94)
    assert meets_policy_trigger(below)
    assert is_severely_absent(below)
    assert not meets_policy_trigger(above)
    assert not is_severely_absent(above)


def test_persistent_absence_boundary_is_inclusive() -> None:
    """Absence of exactly 10% is persistent absence; just under is not."""
    assert is_persistently_absent(AttendanceSummary(present=90, authorised=10))
    assert not is_persistently_absent(AttendanceSummary(present=91, authorised=10))


@pytest.mark.parametrize("field", ["present", "approved_activity", "authorised", "unauthorised"])
@pytest.mark.parametrize("value", [-1, 1.5, "3", True, None])
def test_bad_counts_name_the_field(field: str, value: object) -> None:
    """A negative or non-integer count is InvalidInput naming the field."""
    kwargs: dict[str, object] = {"present": 1, field: value}
    with pytest.raises(InvalidInput) as info:
        AttendanceSummary(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@given(summaries)
def test_policy_trigger_matches_integer_definition(s: AttendanceSummary) -> None:
    """Policy trigger == 'attended * 2 < possible' with possible > 0."""
    possible = s.present + s.approved_activity + s.authorised + s.unauthorised
    attended = s.present + s.approved_activity
    assert meets_policy_trigger(s) == (possible > 0 and 2 * attended < possible)
    if possible:
        assert s.attendance_rate is not None
        assert meets_policy_trigger(s) == (s.attendance_rate < Fraction(1, 2))


@given(summaries)
def test_severe_absence_matches_integer_definition(s: AttendanceSummary) -> None:
    """Severe absence == 'absent * 2 >= possible' with possible > 0."""
    absent = s.authorised + s.unauthorised
    assert is_severely_absent(s) == (s.possible > 0 and 2 * absent >= s.possible)
    if s.possible:
        assert s.absence_rate is not None
        assert is_severely_absent(s) == (s.absence_rate >= Fraction(1, 2))


@given(summaries)
def test_persistent_absence_matches_integer_definition(s: AttendanceSummary) -> None:
    """Persistent absence == 'absent * 10 >= possible' with possible > 0."""
    absent = s.authorised + s.unauthorised
    assert is_persistently_absent(s) == (s.possible > 0 and 10 * absent >= s.possible)


@given(summaries)
def test_rates_add_to_one_and_checks_only_disagree_at_the_half(s: AttendanceSummary) -> None:
    """Attendance and absence add to 1; trigger and severe differ only at exactly 50%."""
    if s.possible:
        assert s.attendance_rate is not None
        assert s.absence_rate is not None
        assert s.attendance_rate + s.absence_rate == 1
        if meets_policy_trigger(s) != is_severely_absent(s):
            assert s.attendance_rate == Fraction(1, 2)


@given(summaries, summaries)
def test_summaries_add_per_category(a: AttendanceSummary, b: AttendanceSummary) -> None:
    """Adding summaries adds each category and the possible sessions."""
    c = a + b
    assert c.possible == a.possible + b.possible
    assert c.attended == a.attended + b.attended
