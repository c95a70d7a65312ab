"""``chronic-na``: the command line.

Each sub-command lives in its own module under ``chronic_na.cli`` and exposes
``register(subparsers)``; a module is imported only when the command line
runs, so the library itself never imports the command line's dependencies.

Exit codes (documented in ``docs/cli.md``):

* 0: success
* 1: the command ran and found a problem (e.g. a store that does not verify)
* 2: usage error (bad arguments)
* 3: a file could not be read or has a bad row, column or value
* 4: the library refused the operation (``--strict`` met a withdrawn code; a keyed
  store opened without its key)
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

__all__ = ["EXIT_BAD_FILE", "EXIT_FOUND_PROBLEM", "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_FOUND_PROBLEM = 1
EXIT_USAGE = 2
EXIT_BAD_FILE = 3
EXIT_REFUSED = 4

# Sub-command modules, in the order `--help` lists them. A module that cannot
# be imported (an optional extra missing) is left out of the menu, not fatal.
_SUBCOMMAND_MODULES = (
    "chronic_na.cli.identify",
    "chronic_na.cli.lifecycle",
    "chronic_na.cli.store",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="chronic-na",
        description=(
            "The chronic non-attendance pathway: identify a cohort, print the lifecycle, "
            "check a store."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # that sub-command is not part of this build yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = args.handler
    code: int = handler(args)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
