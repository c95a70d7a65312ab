"""Synthetic registers for the attendance tests (pupil refs like P000123)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from chronic_na.attendance import CODES_2024, Session, SessionMark

SCHOOL_DAYS = tuple(
    d
    for d in (dt.date(2025, 9, 1) + dt.timedelta(days=i) for i in range(70))
    if d.weekday() < 5
)
# Codes a valid 2024-table mark can carry in either session.
ANY_SESSION_CODES = sorted(CODES_2024.all_codes() - {"/", "\\"})


def present_code(session: Session) -> str:
    """The present mark for ``session``."""
    return "/" if session is Session.AM else "\\"


@st.composite
def registers(draw: st.DrawFn, max_pupils: int = 6, max_days: int = 20) -> list[SessionMark]:
    """A valid synthetic register: each pupil, day and session at most once."""
    pupils = draw(st.lists(st.integers(0, 999_999), min_size=1, max_size=max_pupils, unique=True))
    days = SCHOOL_DAYS[: draw(st.integers(1, max_days))]
    marks = []
    for number in pupils:
        for day in days:
            for session in Session:
                if draw(st.integers(0, 9)) == 0:
                    continue  # not every session is marked
                code = draw(
                    st.one_of(st.just(present_code(session)), st.sampled_from(ANY_SESSION_CODES))
                )
                marks.append(SessionMark(f"P{number:06d}", day, session, code))
    return marks
