"""docs/benchmarks-lifecycle.md is generated from the committed benchmark JSON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_benchmark_page_is_not_stale() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "render_lifecycle.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
