"""Identify a cohort from a synthetic register and describe each pupil's pattern.

Runs in a second or two: ``python examples/identify_cohort.py``. Synthetic data
only (pupil references P000000...); needs the ``dataframes`` extra.
"""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

from chronic_na.attendance import Threshold, Window
from chronic_na.attendance.frames import identify_register, patterns_from_register
from chronic_na.policy import DEFAULT_POLICY

AS_OF = dt.date(2025, 12, 12)


def synthetic_register(pupils: int = 300, seed: int = 7) -> pl.DataFrame:
    """An autumn term of marks: most pupils attend, a few fall away suddenly."""
    rng = random.Random(seed)
    days = [
        d
        for d in (dt.date(2025, 9, 1) + dt.timedelta(days=i) for i in range(103))
        if d.weekday() < 5
    ]
    rows = []
    for number in range(pupils):
        base = rng.choice([0.02, 0.05, 0.1, 0.3, 0.6])
        drop_from = rng.choice([None, None, None, days[len(days) * 2 // 3]])
        for day in days:
            chance = 0.85 if drop_from and day >= drop_from else base
            for session, present in (("AM", "/"), ("PM", "\\")):
                code = rng.choice(["I", "O", "N", "M"]) if rng.random() < chance else present
                rows.append((f"P{number:06d}", day, session, code))
    return pl.DataFrame(rows, schema=["pupil", "date", "session", "code"], orient="row")


def main() -> None:
    register = synthetic_register()
    cohort = identify_register(
        register.lazy(),
        as_of=AS_OF,
        window=Window.this_term(),
        threshold=DEFAULT_POLICY.identification_threshold,
    )
    print(
        f"{len(cohort)} of {cohort.considered} pupils meet "
        f"'{cohort.threshold.description}' from {cohort.start} to {cohort.end}"
    )
    patterns = patterns_from_register(register, cohort.pupil_refs[:5], as_of=AS_OF)
    for pupil in cohort.pupils[:5]:
        rate = pupil.summary.attendance_rate
        assert rate is not None
        print(f"{pupil.pupil}: {float(rate):.1%} attendance")
        print(f"    {patterns[pupil.pupil].describe()}")
    severe = identify_register(register, as_of=AS_OF, threshold=Threshold.SEVERE_ABSENCE)
    print(f"DfE severe absence (50% or more absent): {len(severe)} pupils")


if __name__ == "__main__":
    main()
