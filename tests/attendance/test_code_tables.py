"""The code tables: categories exactly as in domain.md §1, chosen by date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chronic_na.attendance import (
    CODES_2024,
    CODES_PRE_2024,
    REGULATIONS_2024_IN_FORCE,
    Category,
    Session,
    WithdrawnCodeRefused,
    check_session_mark,
    table_for,
)
from chronic_na.errors import InvalidInput

# domain.md §1, written out independently of the library's table.
DOMAIN_2024 = {
    Category.PRESENT: "/ \\ L",
    Category.APPROVED_ACTIVITY: "K V P W B",
    Category.AUTHORISED: "C C1 C2 M J1 S I R T E",
    Category.UNAUTHORISED: "G N O U",
    Category.NOT_POSSIBLE: "D X Q Y1 Y2 Y3 Y4 Y5 Y6 Y7 Z #",
}


@pytest.mark.parametrize("category", list(Category))
def test_2024_table_matches_domain(category: Category) -> None:
    assert CODES_2024.codes_in(category, include_withdrawn=False) == set(
        DOMAIN_2024[category].split()
    )


def test_withdrawn_codes_are_counted_as_dfe_counts_them() -> None:
    assert CODES_2024.category("H") is Category.AUTHORISED
    assert CODES_2024.category("J") is Category.APPROVED_ACTIVITY
    assert set(CODES_2024.withdrawn) == {"H", "J", "Y", "F"}
    for code in CODES_2024.withdrawn:
        assert CODES_2024.is_withdrawn(code)
        with pytest.raises(WithdrawnCodeRefused, match="withdrawn"):
            CODES_2024.category(code, strict=True)


def test_pre_2024_table_has_h_authorised_and_j_approved_and_no_2024_codes() -> None:
    assert CODES_PRE_2024.category("H", strict=True) is Category.AUTHORISED
    assert CODES_PRE_2024.category("J", strict=True) is Category.APPROVED_ACTIVITY
    for new in ("K", "C1", "C2", "J1", "Q", "Y1", "Y7"):
        with pytest.raises(InvalidInput, match="not an attendance code"):
            CODES_PRE_2024.category(new)


@given(st.sampled_from(sorted(CODES_2024.all_codes() & CODES_PRE_2024.all_codes())))
def test_codes_in_both_tables_count_the_same(code: str) -> None:
    assert CODES_2024.category(code) is CODES_PRE_2024.category(code)


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2040, 12, 31)))
def test_table_is_chosen_by_session_date(day: dt.date) -> None:
    table = table_for(day)
    assert table.applies_on(day)
    assert (table is CODES_2024) == (day >= REGULATIONS_2024_IN_FORCE)


def test_boundary_day_of_the_2024_regulations() -> None:
    assert table_for(dt.date(2024, 8, 18)) is CODES_PRE_2024
    assert table_for(dt.date(2024, 8, 19)) is CODES_2024


@given(st.text(min_size=1, max_size=3).filter(lambda c: c not in CODES_2024.all_codes()))
def test_unknown_code_is_a_clear_error(code: str) -> None:
    with pytest.raises(InvalidInput, match="not an attendance code in the 2024"):
        CODES_2024.category(code, field="mark 1")


def test_present_marks_must_match_the_session() -> None:
    check_session_mark("/", Session.AM)
    check_session_mark("\\", Session.PM)
    with pytest.raises(InvalidInput, match="AM present mark but the session is PM"):
        check_session_mark("/", Session.PM)
    with pytest.raises(InvalidInput, match="PM present mark but the session is AM"):
        check_session_mark("\\", Session.AM)


def test_categories_know_possible_and_attendance() -> None:
    assert [c for c in Category if not c.is_possible] == [Category.NOT_POSSIBLE]
    assert {c for c in Category if c.is_attendance} == {
        Category.PRESENT,
        Category.APPROVED_ACTIVITY,
    }
