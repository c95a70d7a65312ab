"""docs/benchmarks-store.md is generated from the committed benchmark JSON, and says plainly
whether each target was met."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent.parent
SCRIPT = ROOT / "benchmarks" / "render_store.py"
RESULTS = ROOT / "benchmarks" / "results" / "store.json"


def _renderer() -> ModuleType:
    if str(SCRIPT.parent) not in sys.path:  # the renderers share benchmarks/_page.py
        sys.path.insert(0, str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("render_store", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_page_is_not_stale() -> None:
    """The page on disk is exactly what the committed JSON renders to."""
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def test_page_states_the_figures_and_targets() -> None:
    """The ratios, the targets, the settings and the commit appear on the page."""
    result = json.loads(RESULTS.read_text())
    page = _renderer().render(result)
    assert result["commit"] in page
    assert f"{result['append']['ratio']:.2f}" in page
    assert f"{result['load']['ratio']:.2f}" in page
    assert f"synchronous={result['settings']['synchronous']}" in page
    assert result["machine"]["note"] in page


def test_a_missed_target_is_said_plainly() -> None:
    """A ratio over its target is reported as NOT met, and a reduced run says so."""
    result = json.loads(RESULTS.read_text())
    missed = copy.deepcopy(result)
    missed["append"].update(ratio=2.4, met=False)
    missed["settings"].update(full_size=False, cases=2000)
    page = _renderer().render(missed)
    assert "the append target (2.0x) is NOT met (2.40x)" in page
    assert "REDUCED size" in page


def test_other_runs_of_the_same_sources_are_shown() -> None:
    """A repeat run keeps the earlier ones of the same sources on the page, with how many
    met each target."""
    result = json.loads(RESULTS.read_text())
    repeated = copy.deepcopy(result)
    repeated["append"].update(ratio=1.90, met=True)
    repeated["other_runs"] = [
        {"run_at": "2026-01-01T00:00:00+00:00", "commit": "a" * 40, "append_ratio": 2.01,
         "load_ratio": 1.30},
    ]  # fmt: skip
    page = _renderer().render(repeated)
    assert "2026-01-01T00:00:00+00:00 (commit `aaaaaaa`): append 2.01x, load 1.30x" in page
    assert "Over all 2 runs the append target is met in 1" in page
    repeated["other_runs"] = []
    assert "Other full-size runs" not in _renderer().render(repeated)


def test_the_check_of_the_case_given_is_shown_apart() -> None:
    """When the run timed the replay check inside the append, the page gives its share and
    the ratio without it."""
    result = json.loads(RESULTS.read_text())
    timed = copy.deepcopy(result)
    timed["append"].update(
        library_seconds=40.0, library_check_seconds=4.0, ratio_without_check=1.80
    )
    page = _renderer().render(timed)
    assert "4.0 s (10%) is the check of the case given" in page
    assert "the append ratio would be 1.80x" in page
