"""The same identification on Dask, on a small local cluster with several partitions."""

from __future__ import annotations

import datetime as dt

import pytest

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pl = pytest.importorskip("polars")

from chronic_na.attendance import Threshold  # noqa: E402
from chronic_na.attendance.frames import identify_register  # noqa: E402

AS_OF = dt.date(2025, 12, 1)


def _register() -> pl.DataFrame:
    days = [
        d
        for d in (dt.date(2025, 9, 1) + dt.timedelta(days=i) for i in range(28))
        if d.weekday() < 5
    ]
    rows = []
    for p in range(120):
        for k, day in enumerate(days):
            for session, present in (("AM", "/"), ("PM", "\\")):
                absent = (p * 7 + k * 3 + (session == "PM")) % 10 < p % 10
                code = ("I", "O", "N", "H")[(p + k) % 4] if absent else present
                rows.append((f"P{p:06d}", day, session, code))
    return pl.DataFrame(rows, schema=["pupil", "date", "session", "code"], orient="row")


# Narwhals announces that Dask support will move to a separate package; the
# API used here is unchanged by that move.
@pytest.mark.filterwarnings("ignore:Dask support is moving:FutureWarning")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_dask_on_a_local_cluster_matches_in_memory() -> None:
    register = _register()
    expected = {
        t: identify_register(register, as_of=AS_OF, threshold=t)
        for t in (Threshold.POLICY_TRIGGER, Threshold.SEVERE_ABSENCE)
    }
    assert len(expected[Threshold.POLICY_TRIGGER]) > 0  # the comparison is not vacuous
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        frame = dd.from_pandas(register.to_pandas(), npartitions=4)
        assert frame.npartitions == 4
        for threshold, cohort in expected.items():
            assert identify_register(frame, as_of=AS_OF, threshold=threshold) == cohort
