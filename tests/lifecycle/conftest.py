"""Fixtures: a lifecycle, a start time, and cases driven to a given state."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

import pytest

from chronic_na.lifecycle import Case, Lifecycle
from chronic_na.pathway import Command, State
from chronic_na.testing import LONDON, full_pathway

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)  # a Monday


def happy_commands(case_id: str = "C-1", start: dt.datetime = START) -> list[Command]:
    """The full happy pathway for one synthetic case."""
    return list(full_pathway(case_id, start))


def drive(lifecycle: Lifecycle, state: State, case_id: str = "C-1") -> Case:
    """A case taken along the happy path until it reaches ``state``."""
    commands = happy_commands(case_id)
    case = lifecycle.open(commands[0])
    for command in commands[1:]:
        if case.state is state:
            break
        case.execute(command)
    assert case.state is state, f"the happy path does not reach {state}"
    return case


def snapshot(case: Case) -> Case:
    """A copy of ``case`` that later commands given to it do not change."""
    taken = copy.copy(case)
    assert taken == case
    return taken


@pytest.fixture
def lifecycle() -> Lifecycle:
    return Lifecycle.for_policy()


@pytest.fixture
def case_in(lifecycle: Lifecycle) -> Callable[[State], Case]:
    def make(state: State) -> Case:
        return drive(lifecycle, state)

    return make
