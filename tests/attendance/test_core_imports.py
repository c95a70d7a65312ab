"""Importing the core library must not import any dataframe or database library."""

from __future__ import annotations

import subprocess
import sys

HEAVY = (
    "polars", "pandas", "pyarrow", "narwhals", "numpy", "dask", "distributed", "pyspark",
    "duckdb", "psycopg", "psycopg2",
)  # fmt: skip
CORE = (
    "chronic_na", "chronic_na.attendance", "chronic_na.policy", "chronic_na.records",
    "chronic_na.pathway", "chronic_na.rules", "chronic_na.lifecycle", "chronic_na.serialization",
    "chronic_na.diagram", "chronic_na.store", "chronic_na.store.sqlite", "chronic_na.cli",
    "chronic_na.cli.lifecycle", "chronic_na.cli.store", "chronic_na.testing",
)  # fmt: skip
"""Every module that needs no extra: the store's default backend and the command line
included (the command line imports its sub-commands' extras only when they run)."""


def test_core_imports_no_heavy_dependency() -> None:
    code = (
        f"import sys, {', '.join(CORE)}\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"importing the core pulled in: {out}"


def test_the_check_itself_can_fail() -> None:
    """The same probe sees a heavy module once something imports it."""
    code = (
        "import sys, chronic_na.attendance.frames\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert "narwhals" in out
