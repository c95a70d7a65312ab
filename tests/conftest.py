"""Shared test configuration: Hypothesis profiles.

``ci`` (selected when the CI environment variable is set) runs more examples
and no deadline; ``dev`` is the quick local default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# Under .ci/run a PostgreSQL server is started and CHRONIC_NA_PG_REQUIRED set:
# there a skipped PostgreSQL test would hide a broken backend, so it fails.
PG_REQUIRED = bool(os.environ.get("CHRONIC_NA_PG_REQUIRED"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if PG_REQUIRED and report.skipped and item.get_closest_marker("postgres") is not None:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid}: a PostgreSQL test skipped under CI "
            "(CHRONIC_NA_PG_REQUIRED is set): the server must be reachable"
        )
