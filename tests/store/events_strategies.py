"""One event of every command type, and Hypothesis strategies that vary them.

``sample_events()`` gives one fixed, synthetic event per command type (the
golden files are these events as stored). ``events()`` varies every
free-text field, time, date, enumeration and flag of such an event, walking
the attrs fields, so that a field added later is varied too.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from typing import Any

import attrs
from hypothesis import strategies as st

from chronic_na.errors import InvalidInput, Violation
from chronic_na.lifecycle import Event
from chronic_na.pathway import (
    COMMAND_TYPES,
    CloseCase,
    Command,
    CorrectContact,
    HandOverLeadProfessional,
    RecordPlanWorking,
    ReopenCase,
    ReopenPlanReview,
    SendAdditionalInformationFeedback,
    SubmitAdditionalInformation,
    SubmitContact,
)
from chronic_na.records import ClosureReason, Role
from chronic_na.testing import ACTORS, LONDON, full_pathway

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)


def sample_commands() -> dict[type[Command], Command]:
    """One synthetic command of every type, with fixed values."""
    commands: dict[type[Command], Command] = {type(c): c for c in full_pathway("C-0001", START)}
    base: dict[str, Any] = {"case_id": "C-0001", "at": START + dt.timedelta(days=30)}
    coordinator, manager = ACTORS[Role.COORDINATOR], ACTORS[Role.EARLY_HELP_MANAGER]
    submit = commands[SubmitContact]
    assert isinstance(submit, SubmitContact)
    extra: list[Command] = [
        RecordPlanWorking(**base, actor=coordinator, plan_summary="Synthetic plan summary."),
        ReopenPlanReview(**base, actor=coordinator, reason="Synthetic reason."),
        CorrectContact(
            **base,
            actor=manager,
            iacf=submit.iacf,
            eha=None,
            unable_to_engage_reason="Synthetic reason the family was not engaged.",
            chronology=submit.chronology,
            reason="Synthetic correction.",
        ),
        SubmitAdditionalInformation(**base, actor=ACTORS[Role.SCHOOL], summary="Synthetic."),
        SendAdditionalInformationFeedback(
            **base,
            actor=ACTORS[Role.MASH_DECISION_MAKER],
            information_number=1,
            summary="Synthetic.",
        ),
        HandOverLeadProfessional(
            **base, actor=manager, lead_professional="lp-02", reason="Synthetic hand-over."
        ),
        CloseCase(**base, actor=coordinator, reason=ClosureReason.MOVED_AWAY, note="Synthetic."),
        ReopenCase(**base, actor=manager, reason="Synthetic reason to reopen."),
    ]
    commands.update({type(c): c for c in extra})
    assert set(commands) == set(COMMAND_TYPES), set(COMMAND_TYPES) - set(commands)
    return {kind: commands[kind] for kind in COMMAND_TYPES}


def sample_events() -> dict[str, Event]:
    """One event of every command type, by type tag (warnings on one of them)."""
    out = {}
    for number, (kind, command) in enumerate(sample_commands().items(), start=1):
        warnings = (Violation("IACF-THIN", "iacf.concern", "is brief"),) if number == 6 else ()
        out[kind.name] = Event(command.case_id, number, command, warnings)
    return out


ZONES = st.sampled_from([dt.UTC, LONDON, dt.timezone(dt.timedelta(hours=-5, minutes=-30))])
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


def _args(kind: Any) -> tuple[Any, ...]:
    return typing.get_args(kind)


def _vary(value: Any, field_type: Any) -> st.SearchStrategy[Any]:
    """A strategy for values like ``value`` (of the annotated ``field_type``)."""
    if attrs.has(type(value)):
        return vary_record(value)
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, enum.Enum):
        return st.sampled_from(list(type(value)))
    if isinstance(value, dt.datetime):
        return st.datetimes(
            min_value=dt.datetime(2000, 1, 1),  # noqa: DTZ001 - naive bounds, zones drawn
            max_value=dt.datetime(2100, 1, 1),  # noqa: DTZ001
            timezones=ZONES,
            allow_imaginary=False,
        )
    if isinstance(value, dt.date):
        return st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))
    if isinstance(value, frozenset) and value and isinstance(next(iter(value)), enum.Enum):
        return st.frozensets(st.sampled_from(list(type(next(iter(value))))))
    if isinstance(value, tuple) and value and attrs.has(type(value[0])):
        return st.lists(vary_record(value[0]), max_size=3).map(tuple)
    if isinstance(value, tuple) and value and isinstance(value[0], str):
        return st.lists(TEXT, max_size=3).map(tuple)
    optional = type(None) in _args(field_type) or isinstance(field_type, types.UnionType)
    if isinstance(value, str):
        return st.one_of(TEXT, st.none()) if optional else TEXT
    return st.just(value)


def vary_record(record: Any) -> st.SearchStrategy[Any]:
    """Records like ``record``: each free-text field, time, enum and flag varied.

    References (ids) keep their values: they have a pattern of their own.
    Combinations the records refuse are filtered out.
    """
    hints = typing.get_type_hints(type(record))
    changes: dict[str, st.SearchStrategy[Any]] = {}
    for field in attrs.fields(type(record)):
        value = getattr(record, field.name)
        free_text = field.repr is not True and isinstance(value, str | tuple | type(None))
        if isinstance(value, str) and not free_text:
            continue  # a reference or code: kept
        if value is None and not free_text:
            continue
        changes[field.name] = _vary(value, hints.get(field.name))

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        drawn = {name: draw(strategy) for name, strategy in changes.items()}
        try:
            return attrs.evolve(record, **drawn)
        except InvalidInput:
            return record

    return build()


@st.composite
def events(draw: st.DrawFn) -> Event:
    """An event of any command type, its documents varied."""
    event = draw(st.sampled_from(list(sample_events().values())))
    command = draw(vary_record(event.command))
    warnings = draw(st.lists(st.builds(Violation, st.sampled_from(["IACF-THIN", "X-1"]), TEXT,
                                       TEXT), max_size=2))  # fmt: skip
    return Event(event.case_id, event.number, command, tuple(warnings))
