"""``chronic-na lifecycle``: the pathway as the code runs it.

``diagram`` prints the Mermaid state diagram, ``rules`` the rule catalogue as
a Markdown table, and ``docs`` the whole generated lifecycle page (what
``docs/lifecycle.md`` holds). All three are read from the default lifecycle
table and rule catalogue, so they cannot drift from the code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from chronic_na.cli import EXIT_OK
from chronic_na.diagram import lifecycle_markdown, mermaid, rules_markdown

__all__ = ["register"]


_ACTIONS: dict[str, tuple[str, Callable[[], str]]] = {
    "diagram": ("the states and moves as a Mermaid stateDiagram-v2", mermaid),
    "rules": ("the rule catalogue as a Markdown table", rules_markdown),
    "docs": ("the whole lifecycle page (docs/lifecycle.md)", lifecycle_markdown),
}


def register(subparsers: Any) -> None:
    """Add the ``lifecycle`` sub-command and its actions to ``subparsers``."""
    parser = subparsers.add_parser(
        "lifecycle",
        help="print the pathway: diagram, rules, docs",
        description="Print the pathway's states, moves and rules, read from the code.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, (help_text, _) in _ACTIONS.items():
        action = actions.add_parser(name, help=help_text)
        action.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    _, render = _ACTIONS[args.action]
    text = render()
    print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK
