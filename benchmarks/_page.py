"""What every benchmark page renderer shares: write the page from its JSON, or
check (``--check``, used by the staleness tests) that the committed page is
what the JSON gives."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_or_check(render: Callable[[Any], str], results: Path, page: Path, script: str) -> int:
    """Render ``results`` into ``page``; with ``--check``, exit 1 if ``page`` is stale."""
    text = render(json.loads(results.read_text()))
    if "--check" in sys.argv:
        if not page.exists() or page.read_text() != text:
            print(f"{page} is stale: run python benchmarks/{script}", file=sys.stderr)
            return 1
        return 0
    page.write_text(text)
    return 0
