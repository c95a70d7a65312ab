"""Generated documentation is fresh, and every example runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chronic_na.diagram import lifecycle_markdown, mermaid

ROOT = Path(__file__).resolve().parents[2]


def test_lifecycle_doc_is_fresh() -> None:
    """docs/lifecycle.md equals what the code generates.

    Regenerate it with ``python -m chronic_na.diagram``.
    """
    assert (ROOT / "docs" / "lifecycle.md").read_text(encoding="utf-8") == lifecycle_markdown()


def test_mermaid_shows_every_state_and_move() -> None:
    """The diagram names every state and every command that moves a case."""
    from chronic_na.lifecycle import DEFAULT_TABLE
    from chronic_na.pathway import State

    text = mermaid()
    for state in State:
        if state is not State.NEW:
            assert state.value in text
    for t in DEFAULT_TABLE.transitions:
        if t.dest is not None:
            assert t.name in text


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(path: Path, tmp_path: Path) -> None:
    """Every example runs to completion in a fresh interpreter (in a scratch folder)."""
    result = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "an example should show its reader something"


def test_there_are_examples() -> None:
    """The examples folder is not empty (so the test above cannot pass vacuously)."""
    assert any(p.name == "walkthrough.py" for p in EXAMPLES)
