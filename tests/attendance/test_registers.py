"""Session marks and per-code counts read into summaries; windows; identification."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from attendance_strategies import registers
from hypothesis import given
from hypothesis import strategies as st

from chronic_na.attendance import (
    CODES_2024,
    Category,
    FindingKind,
    Session,
    SessionMark,
    Threshold,
    Window,
    WithdrawnCodeRefused,
    identify,
    identify_marks,
    summarise_marks,
    summary_from_code_counts,
    table_for,
)
from chronic_na.errors import InvalidInput

D = dt.date(2025, 9, 8)  # a Monday


def mark(pupil: str, day: dt.date, session: str, code: str) -> SessionMark:
    return SessionMark(pupil, day, session, code)


@given(registers())
def test_summaries_count_each_mark_in_its_category(marks: list[SessionMark]) -> None:
    """Every mark lands in exactly its table's category; per-code counts add up."""
    register = summarise_marks(marks)
    for pupil, summary in register.summaries.items():
        own = [m for m in marks if m.pupil == pupil]
        expected = Counter(table_for(m.date).category(m.code) for m in own)
        assert summary.present == expected[Category.PRESENT]
        assert summary.approved_activity == expected[Category.APPROVED_ACTIVITY]
        assert summary.authorised == expected[Category.AUTHORISED]
        assert summary.unauthorised == expected[Category.UNAUTHORISED]
        assert dict(summary.per_code) == dict(Counter(m.code for m in own))
        assert summary.possible == len(own) - expected[Category.NOT_POSSIBLE]
    withdrawn = [m for m in marks if CODES_2024.is_withdrawn(m.code)]
    withdrawn.sort(key=lambda m: (m.pupil, m.date, m.session.value))
    assert [(f.pupil, f.date, f.session, f.code) for f in register.findings] == [
        (m.pupil, m.date, m.session, m.code) for m in withdrawn
    ]


@given(registers())
def test_per_code_counts_give_the_same_summary_as_marks(marks: list[SessionMark]) -> None:
    for pupil, summary in summarise_marks(marks).summaries.items():
        counts = Counter(m.code for m in marks if m.pupil == pupil)
        from_counts, _ = summary_from_code_counts(dict(counts))
        assert from_counts == summary


def test_withdrawn_code_is_a_finding_naming_pupil_date_session_code() -> None:
    register = summarise_marks([mark("P000001", D, "AM", "H"), mark("P000001", D, "PM", "\\")])
    (finding,) = register.findings
    assert finding.kind is FindingKind.WITHDRAWN_CODE
    assert (finding.pupil, finding.date, finding.session, finding.code) == (
        "P000001", D, Session.AM, "H",
    )  # fmt: skip
    assert register.summaries["P000001"].authorised == 1
    assert "P000001" in finding.describe()
    assert "2025-09-08" in finding.describe()
    with pytest.raises(WithdrawnCodeRefused, match=r"P000001, 2025-09-08, AM, code 'H'"):
        summarise_marks([mark("P000001", D, "AM", "H")], strict=True)


def test_withdrawn_code_before_2024_is_no_finding() -> None:
    old = dt.date(2023, 9, 11)
    register = summarise_marks([mark("P000001", old, "AM", "H")], strict=True)
    assert register.findings == ()
    assert register.summaries["P000001"].authorised == 1


@pytest.mark.parametrize(
    ("session", "code", "message"),
    [
        ("PM", "/", "AM present mark"),
        ("AM", "\\", "PM present mark"),
        ("AM", "Q9", "not an attendance code"),
    ],
)
def test_bad_marks_are_errors_naming_the_mark(session: str, code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        summarise_marks([mark("P000001", D, "AM", "I"), mark("P000002", D, session, code)])
    assert "mark 2 (pupil P000002, 2025-09-08" in str(caught.value)


def test_duplicate_mark_is_an_error() -> None:
    with pytest.raises(InvalidInput, match="second mark"):
        summarise_marks([mark("P000001", D, "AM", "I"), mark("P000001", D, "AM", "/")])


def test_session_mark_validates_its_fields() -> None:
    with pytest.raises(InvalidInput, match="session"):
        mark("P000001", D, "EVENING", "/")
    with pytest.raises(InvalidInput, match="pupil"):
        mark("", D, "AM", "/")
    with pytest.raises(InvalidInput, match="date"):
        SessionMark("P000001", dt.datetime(2025, 9, 8, tzinfo=dt.UTC), "AM", "/")  # type: ignore[arg-type]


def test_code_counts_reject_bad_counts_and_unknown_codes() -> None:
    with pytest.raises(InvalidInput, match="whole number"):
        summary_from_code_counts({"I": -1})
    with pytest.raises(InvalidInput, match="not an attendance code"):
        summary_from_code_counts({"ZZ": 3})
    with pytest.raises(WithdrawnCodeRefused):
        summary_from_code_counts({"J": 2}, strict=True)
    summary, findings = summary_from_code_counts({"J": 2, "/": 3})
    assert (summary.approved_activity, summary.present, findings[0].sessions) == (2, 3, 2)


def _pupil(attended: int, absent: int) -> list[SessionMark]:
    marks, day = [], D
    codes = ["/"] * attended + ["I"] * absent
    for i, code in enumerate(codes):
        session = "AM" if i % 2 == 0 else "PM"
        if code == "/" and session == "PM":
            code = "\\"
        marks.append(mark("P000777", day, session, code))
        if session == "PM":
            day += dt.timedelta(days=3 if day.weekday() == 4 else 1)
    return marks


@pytest.mark.parametrize(
    ("attended", "absent", "policy", "severe"),
    [(10, 10, False, True), (9, 11, True, True), (11, 9, False, False)],
)
def test_identification_boundary_at_exactly_50_percent(
    attended: int, absent: int, policy: bool, severe: bool
) -> None:
    """Exactly 50% attendance: not the policy's trigger, but DfE's severe absence."""
    as_of = D + dt.timedelta(days=30)
    by_policy = identify_marks(_pupil(attended, absent), as_of=as_of)
    by_severe = identify_marks(
        _pupil(attended, absent), as_of=as_of, threshold=Threshold.SEVERE_ABSENCE
    )
    assert (len(by_policy) == 1) is policy
    assert (len(by_severe) == 1) is severe


class _Policy:
    identification_threshold = Threshold.SEVERE_ABSENCE


def test_identification_accepts_a_policy_like_object() -> None:
    cohort = identify_marks(_pupil(10, 10), as_of=D + dt.timedelta(days=30), threshold=_Policy())
    assert cohort.threshold is Threshold.SEVERE_ABSENCE
    assert len(cohort) == 1


@given(registers(max_pupils=8))
def test_cohort_is_exactly_the_pupils_meeting_the_trigger_in_stable_order(
    marks: list[SessionMark],
) -> None:
    as_of = dt.date(2025, 12, 1)
    cohort = identify_marks(marks, as_of=as_of)
    summaries = summarise_marks(marks).summaries
    expected = {p for p, s in summaries.items() if s.attended * 2 < s.possible}
    assert set(cohort.pupil_refs) == expected
    keys = [(p.summary.attendance_rate, p.pupil) for p in cohort.pupils]
    assert keys == sorted(keys)
    assert identify_marks(list(reversed(marks)), as_of=as_of) == cohort


def test_window_resolution() -> None:
    as_of = dt.date(2026, 3, 11)  # a Wednesday in spring term
    assert Window.year_to_date().resolve(as_of) == (dt.date(2025, 8, 1), as_of)
    assert Window.this_term().resolve(as_of) == (dt.date(2026, 1, 1), as_of)
    assert Window.this_term().resolve(dt.date(2026, 4, 20)) == (
        dt.date(2026, 4, 6),
        dt.date(2026, 4, 20),
    )  # Easter Monday 2026 is 6 April
    assert Window.last_school_weeks(2).resolve(as_of) == (dt.date(2026, 3, 2), as_of)
    # School weeks come from the register: a holiday week does not count.
    days = [dt.date(2026, 2, 9), dt.date(2026, 3, 2), as_of]  # 16 Feb week is half term
    assert Window.last_school_weeks(3).resolve(as_of, days) == (dt.date(2026, 2, 9), as_of)
    with pytest.raises(InvalidInput, match="weeks"):
        Window.last_school_weeks(0)
    with pytest.raises(InvalidInput, match="before start"):
        Window.between(as_of, dt.date(2026, 1, 1))


def test_window_cuts_marks_outside_it() -> None:
    old = mark("P000001", dt.date(2025, 7, 1), "AM", "I")  # previous academic year
    new = mark("P000001", dt.date(2025, 9, 8), "AM", "/")
    cohort = identify_marks([old, new], as_of=dt.date(2025, 9, 30))
    assert cohort.considered == 1
    assert len(cohort) == 0


def test_identify_refuses_a_non_threshold() -> None:
    with pytest.raises(InvalidInput, match="threshold"):
        identify({}, "below 50%", as_of=D, start=D, end=D)  # type: ignore[arg-type]


@given(st.lists(st.integers(0, 40), min_size=4, max_size=4))
def test_summary_addition_merges_per_code_counts(counts: list[int]) -> None:
    a, _ = summary_from_code_counts({"/": counts[0], "I": counts[1]})
    b, _ = summary_from_code_counts({"/": counts[2], "N": counts[3]})
    total = a + b
    assert total.code_count("/") == counts[0] + counts[2]
    assert total.possible == sum(counts)
