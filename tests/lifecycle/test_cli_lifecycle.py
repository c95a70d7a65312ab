"""``chronic-na lifecycle``: the diagram, rules and page printed from the code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chronic_na.cli import main
from chronic_na.diagram import lifecycle_markdown, mermaid, rules_markdown
from chronic_na.rules import CATALOGUE

DOCS = Path(__file__).resolve().parents[2] / "docs" / "lifecycle.md"


@pytest.mark.parametrize(
    ("action", "render"),
    [("diagram", mermaid), ("rules", rules_markdown), ("docs", lifecycle_markdown)],
)
def test_each_action_prints_what_the_code_renders(
    action: str, render: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each action exits 0 and prints exactly its renderer's text."""
    assert callable(render)
    assert main(["lifecycle", action]) == 0
    out = capsys.readouterr().out
    assert out.rstrip("\n") == render().rstrip("\n")


def test_rules_lists_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    """Every rule id in the catalogue appears in the printed table."""
    main(["lifecycle", "rules"])
    out = capsys.readouterr().out
    assert all(f"`{rule_id}`" in out for rule_id in CATALOGUE)


def test_docs_is_the_committed_page() -> None:
    """The installed command prints the committed docs/lifecycle.md, byte for byte."""
    done = subprocess.run(
        [sys.executable, "-m", "chronic_na", "lifecycle", "docs"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout == DOCS.read_text(encoding="utf-8")


def test_an_unknown_action_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """argparse refuses an unknown action with exit 2."""
    with pytest.raises(SystemExit) as info:
        main(["lifecycle", "nonsense"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
