"""docs/policy.md lists every Policy setting with the default the code has,
and its example runs."""

from __future__ import annotations

import re
from pathlib import Path

import attrs
import pytest

from chronic_na import Policy, WorkingCalendar

PAGE = (Path(__file__).resolve().parents[2] / "docs" / "policy.md").read_text(encoding="utf-8")
ROWS = {
    m.group(1): (m.group(2), m.group(3))
    for m in re.finditer(r"^\| `(\w+)` \| `([^`]+)` \| ([a-z ]+) \|", PAGE, re.MULTILINE)
}


def _shown(value: object) -> str:
    if isinstance(value, WorkingCalendar):
        return "WorkingCalendar()" if value == WorkingCalendar() else repr(value)
    if hasattr(value, "name") and type(value).__module__.startswith("chronic_na"):
        return f"{type(value).__name__}.{value.name}"  # an enum member
    return repr(value)


@pytest.mark.parametrize("field", attrs.fields(Policy), ids=lambda f: f.name)
def test_every_setting_is_in_the_table_with_its_default(field: attrs.Attribute[object]) -> None:
    """Each field of Policy has a row whose default is the code's default and whose
    source is one of policy, national or our choice."""
    assert field.name in ROWS, f"{field.name} is missing from docs/policy.md"
    default, source = ROWS[field.name]
    assert default == _shown(getattr(Policy(), field.name))
    assert source in {"policy", "national", "our choice"}


def test_no_row_names_a_setting_the_code_does_not_have() -> None:
    assert set(ROWS) == {f.name for f in attrs.fields(Policy)}


def test_the_example_runs() -> None:
    """The page's Python example runs as written."""
    (example,) = re.findall(r"```python\n(.*?)```", PAGE, re.DOTALL)
    namespace: dict[str, object] = {}
    exec(compile(example, "docs/policy.md", "exec"), namespace)
    assert namespace["policy"].mash_decision_working_days == 3  # type: ignore[attr-defined]
