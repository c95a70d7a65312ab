"""Events and records to and from JSON: round trips, golden files, upcasting,
and malformed data refused with a SchemaError that names where, never what."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import attrs
import pytest
from events_strategies import TEXT, events, sample_commands, sample_events, vary_record
from hypothesis import given
from hypothesis import strategies as st

from chronic_na import AttendanceSummary, InvalidInput, SchemaError
from chronic_na.lifecycle import Event, Lifecycle
from chronic_na.pathway import COMMAND_TYPES, BeginPlanReview, SendAdditionalInformationFeedback
from chronic_na.records import (
    Actor,
    Contact,
    EHAReference,
    MaintenancePlan,
    MashDecision,
    PupilRef,
    Role,
)
from chronic_na.serialization import (
    COMMANDS_BY_TYPE,
    UPCASTERS,
    decode_event,
    dump_event,
    encode_event,
    load_event,
    make_converter,
    record_from_json,
    record_to_json,
)
from chronic_na.testing import LONDON, complete_iacf, full_pathway, synthetic_chronology

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "events"
REGENERATE = bool(os.environ.get("CHRONIC_NA_REGENERATE_GOLDEN"))


# --------------------------------------------------------------------------- round trips


@given(events())
def test_every_event_round_trips(event: Event) -> None:
    """decode(encode(e)) == e, and encoding again gives the same bytes."""
    text = encode_event(event)
    back = decode_event(text)
    assert back == event
    assert encode_event(back) == text


@given(events())
def test_the_direct_writer_gives_exactly_the_canonical_json_of_the_converter(
    event: Event,
) -> None:
    """encode_event writes JSON directly (the store's hot path); it must give the very
    text of json.dumps over the converter's unstructured dict, byte for byte, since
    the hash chain covers a digest of that text."""
    canonical = json.dumps(
        dump_event(event), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    assert encode_event(event) == canonical


def test_the_sample_covers_every_command_type() -> None:
    """The round trip and the golden files cover every command type."""
    assert {e.command.name for e in sample_events().values()} == {c.name for c in COMMAND_TYPES}
    assert set(COMMANDS_BY_TYPE) == {c.name for c in COMMAND_TYPES}


RECORDS: list[Any] = [
    Actor("coord-01", Role.COORDINATOR),
    PupilRef("P000001"),
    complete_iacf(),
    synthetic_chronology(dt.date(2026, 1, 5))[0],
    EHAReference("EHA-0001", dt.date(2026, 1, 2)),
    MashDecision(
        *attrs.astuple(
            next(c.decision for c in sample_commands().values() if hasattr(c, "decision")),
            recurse=False,
        )
    ),
    MaintenancePlan(("Synthetic action.",), True, True),
    AttendanceSummary(
        present=80,
        authorised=30,
        unauthorised=80,
        per_code=(("/", 40), ("\\", 40), ("O", 80), ("I", 30)),
    ),
    Contact(
        complete_iacf(),
        None,
        "Synthetic reason.",
        synthetic_chronology(dt.date(2026, 1, 5)),
        dt.datetime(2026, 1, 5, 9, tzinfo=LONDON),
    ),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_every_record_type_round_trips(record: Any) -> None:
    assert record_from_json(record_to_json(record), type(record)) == record


@given(st.data())
def test_varied_records_round_trip(data: st.DataObject) -> None:
    """Every record type, its free text, times, enums and flags varied."""
    record = data.draw(st.sampled_from(RECORDS[2:]).flatmap(vary_record))
    assert record_from_json(record_to_json(record), type(record)) == record


def test_a_replayed_case_from_json_equals_the_live_one() -> None:
    lifecycle = Lifecycle.for_policy()
    commands = list(full_pathway("C-1", dt.datetime(2026, 10, 24, 23, 30, tzinfo=LONDON)))
    case = lifecycle.open(commands[0])  # type: ignore[arg-type]
    for command in commands[1:]:
        case.execute(command)
    rebuilt = lifecycle.replay(decode_event(encode_event(e)) for e in case.events)
    assert rebuilt == case
    assert rebuilt.deadlines() == case.deadlines()


def test_a_time_keeps_its_zone_across_a_clock_change() -> None:
    """01:30 happens twice in London on 25 Oct 2026: each reads back as itself."""
    for fold in (0, 1):
        at = dt.datetime(2026, 10, 25, 1, 30, fold=fold, tzinfo=LONDON)
        command = BeginPlanReview(case_id="C-1", actor=Actor("coord-01", Role.COORDINATOR), at=at)
        back = record_from_json(record_to_json(command), BeginPlanReview)
        assert back.at == at
        assert back.at.utcoffset() == at.utcoffset()
        assert back.at.tzinfo is LONDON


def test_a_local_time_that_does_not_exist_is_refused() -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        BeginPlanReview(case_id="C-1", actor=Actor("coord-01", Role.COORDINATOR),
                        at=dt.datetime(2026, 3, 29, 1, 30, tzinfo=LONDON))  # fmt: skip


def test_json_is_canonical() -> None:
    """Sorted keys, no white space, sets as sorted lists: the same event, the same bytes."""
    event = sample_events()["submit_contact"]
    text = encode_event(event)
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False)  # fmt: skip
    home = json.loads(text)["command"]["iacf"]["home_factors"]
    assert home == sorted(home)


def test_the_converter_is_built_anew_and_registers_nothing_globally() -> None:
    import cattrs

    assert make_converter() is not make_converter()
    with pytest.raises(cattrs.BaseValidationError):  # the global converter stays lax
        make_converter().structure({"id": 5, "role": "school"}, Actor)
    assert cattrs.structure({"id": 5, "role": "school"}, Actor).id == "5"


# --------------------------------------------------------------------------- golden files


def golden_path(tag: str, version: int) -> Path:
    return GOLDEN / f"{tag}.v{version}.json"


def test_golden_files_exist_for_every_type_and_version() -> None:
    """One stored example per command type and per schema version it has had."""
    for kind in COMMAND_TYPES:
        for version in range(1, kind.schema_version + 1):
            assert golden_path(kind.name, version).is_file(), f"{kind.name} v{version}"
    stored = {p.name for p in GOLDEN.glob("*.json")}
    expected = {golden_path(k.name, v).name for k in COMMAND_TYPES
                for v in range(1, k.schema_version + 1)}  # fmt: skip
    assert stored == expected


@pytest.mark.parametrize("tag", sorted(sample_events()))
def test_current_golden_file_reads_back_and_is_written_the_same(tag: str) -> None:
    """The stored example of the current version decodes to the sample event,
    and the sample event still encodes to exactly those bytes."""
    event = sample_events()[tag]
    path = golden_path(tag, type(event.command).schema_version)
    text = json.dumps(dump_event(event), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    stored = path.read_text(encoding="utf-8")
    assert decode_event(stored) == event
    assert stored == text, "the stored shape changed: bump schema_version and add an upcaster"


def test_every_past_version_has_an_upcaster_and_its_golden_file_reads_as_current() -> None:
    for kind in COMMAND_TYPES:
        for version in range(1, kind.schema_version):
            assert (kind.name, version) in UPCASTERS
            event = decode_event(golden_path(kind.name, version).read_text(encoding="utf-8"))
            assert event == sample_events()[kind.name]


def test_a_v1_event_is_read_as_v2() -> None:
    """send_additional_information_feedback v1 stored the number as ``number``."""
    stored = json.loads(golden_path("send_additional_information_feedback", 1).read_text())
    assert stored["schema"] == 1
    assert "number" in stored["command"]
    assert "information_number" not in stored["command"]
    event = load_event(stored)
    assert isinstance(event.command, SendAdditionalInformationFeedback)
    assert event.command.information_number == stored["command"]["number"]
    assert SendAdditionalInformationFeedback.schema_version == 2


@pytest.mark.parametrize("tag", ["submit_contact", "correct_contact"])
def test_a_v1_contact_without_agencies_reads_as_not_answered(tag: str) -> None:
    """Version 1 could not tell 'no agencies' from 'not answered' (both []); read as v2
    it is not answered (None), never a claim of none. A v1 list reads as it was."""
    stored = json.loads(golden_path(tag, 1).read_text(encoding="utf-8"))
    assert stored["schema"] == 1
    listed = load_event(stored)
    assert listed.command.iacf.external_agencies == tuple(  # type: ignore[attr-defined]
        stored["command"]["iacf"]["external_agencies"]
    )
    stored["command"]["iacf"]["external_agencies"] = []
    event = load_event(stored)
    assert event.command.iacf.external_agencies is None  # type: ignore[attr-defined]
    current = json.loads(encode_event(event))
    assert current["schema"] == 2
    assert current["command"]["iacf"]["external_agencies"] is None


def test_without_its_upcaster_a_v1_event_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import chronic_na.serialization as serialization

    monkeypatch.setattr(serialization, "UPCASTERS", {})
    stored = golden_path("send_additional_information_feedback", 1).read_text()
    with pytest.raises(SchemaError, match="no upcaster from version 1") as caught:
        decode_event(stored, case_id="C-0001")
    assert caught.value.field == "schema"


def test_a_version_newer_than_the_library_is_refused() -> None:
    data = dump_event(sample_events()["begin_plan_review"])
    data["schema"] = 2
    with pytest.raises(SchemaError, match="newer than this library reads"):
        load_event(data)


# --------------------------------------------------------------------------- bad data

MARKER = "ZZ-MARKER-7f3a91"


def _bad(event: Event, change: Any) -> dict[str, Any]:
    data = dump_event(event)
    change(data)
    return data


BAD: dict[str, tuple[str, Any, str]] = {
    "unknown type": ("submit_contact", lambda d: d.update(type=MARKER), "type"),
    "not an object": ("submit_contact", lambda d: d.update(command=[MARKER]), "command"),
    "missing field": ("record_mash_decision",
                      lambda d: d["command"]["decision"].pop("rationale"),
                      "command.decision.rationale"),
    "unknown field": ("record_mash_decision",
                      lambda d: d["command"]["decision"].update({MARKER: MARKER}),
                      "command.decision"),
    "wrong type": ("record_mash_decision",
                   lambda d: d["command"]["decision"].update(rationale=7),
                   "command.decision.rationale"),
    "unknown enum": ("record_mash_decision",
                     lambda d: d["command"]["decision"].update(outcome=MARKER),
                     "command.decision.outcome"),
    "naive time": ("begin_plan_review", lambda d: d["command"].update(at="2026-01-05T09:00:00"),
                   "command.at"),
    "bad time": ("begin_plan_review", lambda d: d["command"].update(at=MARKER), "command.at"),
    "bad zone": ("begin_plan_review",
                 lambda d: d["command"].update(at=f"2026-01-05T09:00:00+00:00[{MARKER}]"),
                 "command.at"),
    "string for a number": ("send_additional_information_feedback",
                            lambda d: d["command"].update(information_number="1"),
                            "command.information_number"),
    "bool for a number": ("send_additional_information_feedback",
                          lambda d: d["command"].update(information_number=True),
                          "command.information_number"),
    "bad reference": ("open_case", lambda d: d["command"]["pupil"].update(value=MARKER + " x"),
                      "command.pupil"),
    "number for text": ("submit_contact", lambda d: d["command"]["iacf"].update(concern=5),
                        "command.iacf.concern"),
    "text for a list": ("submit_contact",
                        lambda d: d["command"]["iacf"].update(actions_taken=MARKER),
                        "command.iacf.actions_taken"),
    "text for a list that may be null": (
        "submit_contact", lambda d: d["command"]["iacf"].update(external_agencies=MARKER),
        "command.iacf.external_agencies"),
    "other case": ("begin_plan_review", lambda d: d["command"].update(case_id="C-OTHER"),
                   "command.case_id"),
    "bad warning": ("submit_contact", lambda d: d.update(warnings=[{"rule_id": MARKER}]),
                    "warnings[0]"),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_data_gets_a_schema_error_naming_where_not_what(name: str) -> None:
    tag, change, field = BAD[name]
    event = sample_events()[tag]
    data = _bad(event, change)
    with pytest.raises(SchemaError) as caught:
        load_event(data, case_id=event.case_id, position=event.number)
    error = caught.value
    assert error.case_id == event.case_id
    assert error.position == event.number
    assert error.field.startswith(field), error.field
    assert MARKER not in str(error)
    assert MARKER not in repr(error)
    assert f"case {event.case_id}, event {event.number}" in str(error)


def test_an_envelope_that_disagrees_with_where_it_is_stored_is_refused() -> None:
    event = sample_events()["begin_plan_review"]
    with pytest.raises(SchemaError, match="does not match"):
        load_event(dump_event(event), case_id="C-OTHER")
    with pytest.raises(SchemaError, match="does not match its stored position"):
        load_event(dump_event(event), position=event.number + 1)
    with pytest.raises(SchemaError, match="not valid JSON"):
        decode_event("{" + MARKER)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
    | st.just(MARKER),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@given(st.data())
def test_any_corruption_is_read_or_refused_with_a_schema_error(data: st.DataObject) -> None:
    """Replace any part of a stored event with any JSON value: the result is an
    event or a SchemaError (never another exception, never a half-built event),
    and the error never quotes the stored value."""
    event = data.draw(st.sampled_from(list(sample_events().values())))
    stored = dump_event(event)
    path = data.draw(st.sampled_from(_paths(stored)[1:]))
    replacement = data.draw(JSON_VALUES)
    target: Any = stored
    for key in path[:-1]:
        target = target[key]
    if data.draw(st.booleans()) and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = replacement
    error: SchemaError | None = None
    try:
        back = load_event(json.loads(json.dumps(stored)))
    except SchemaError as caught:
        error = caught
    if error is not None:
        if path != ("case_id",):  # a case id is named in errors: that is where
            assert MARKER not in str(error)
        assert error.field
    else:
        assert isinstance(back, Event)
        assert encode_event(back)  # whole and writable again
