"""No case text in a ``repr``, an error message, a log record or the CLI's output.

A unique marker string (``MK`` and 32 hex digits from ``uuid4``) is placed
in every free-text field of every command and record, one marker per field
occurrence. The free-text fields are found by introspection (attrs fields
typed ``str``, ``str | None`` or ``tuple[str, ...]``, in every command type
of :data:`chronic_na.pathway.COMMAND_TYPES`, the records they hold and the
records of :mod:`chronic_na.records`), less a short list of pseudonymous
identifiers; so a new free-text field is covered without touching this file,
and a new identifier has to be named here, with why it is not free text.

A whole case is then driven through the pathway with those markers, with
refused commands of every kind along the way, and the test asserts that no
marker shows in: the repr and str of every command, record, event and the
case; every error raised (str, repr, args, each violation, the formatted
exception); every log record (any logger, DEBUG and up); the dry runs,
next steps, deadlines and obligations; and the CLI's output, for the
sub-commands that free text can reach (``identify`` on a register whose
cells hold text in the wrong column, ``store`` on a store holding the case).

Each check first confirms that the markers really are in the data it looks
at (in the events' JSON, the case's fields), so that none passes vacuously.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import json
import logging
import re
import sqlite3
import subprocess
import sys
import traceback
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chronic_na import (
    AttendanceSummary,
    ChronicNAError,
    InvalidInput,
    NotAuthorised,
    Policy,
    PolicyViolation,
    SchemaError,
    TransitionNotAllowed,
)
from chronic_na import records as records_module
from chronic_na.lifecycle import Case, Lifecycle
from chronic_na.pathway import (
    COMMAND_TYPES,
    AgreeContact,
    AgreeMaintenancePlan,
    AllocateLeadProfessional,
    BeginPlanReview,
    CloseCase,
    Command,
    CorrectContact,
    HandOverLeadProfessional,
    OpenCase,
    RecordMashDecision,
    RecordPlanWorking,
    RecordReview,
    RecordSchoolContact,
    ReopenCase,
    ReopenPlanReview,
    SendAdditionalInformationFeedback,
    SendDecisionFeedback,
    StartIntervention,
    State,
    StepBackToSchool,
    SubmitAdditionalInformation,
    SubmitContact,
)
from chronic_na.records import (
    Actor,
    ChronologyEntry,
    ClosureReason,
    EducationSupervisionOrder,
    EHAReference,
    ESOStatus,
    FamilyDiscussion,
    FamilyDiscussionStatus,
    InteragencyContactForm,
    MaintenancePlan,
    MashDecision,
    MashOutcome,
    PlanAssessment,
    PupilRef,
    Role,
)
from chronic_na.testing import ACTORS, LONDON, complete_iacf, full_pathway, synthetic_chronology

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)  # a Monday
COORD = ACTORS[Role.COORDINATOR]
SCHOOL = ACTORS[Role.SCHOOL]
MDM = ACTORS[Role.MASH_DECISION_MAKER]
EHM = ACTORS[Role.EARLY_HELP_MANAGER]
LP = ACTORS[Role.LEAD_PROFESSIONAL]
LP2 = Actor("lp-02", Role.LEAD_PROFESSIONAL)

Attempt = tuple[str, Callable[[], object], type[Exception]]
"""What to try, and the error it must raise."""

# --------------------------------------------------------------------------- the fields

IDENTIFIERS: dict[tuple[type, str], str] = {
    (Command, "case_id"): "the application's id for the case (shown in messages by design)",
    (Actor, "id"): "a pseudonymous staff id (validated as a reference)",
    (PupilRef, "value"): "the pseudonymous pupil reference (validated as a reference)",
    (EHAReference, "reference"): "the EHA's reference (validated as a reference)",
    (MashDecision, "decision_maker"): "the decision maker's staff id (validated as a reference)",
    (OpenCase, "school"): "the school's id (e.g. its DfE number); shown in the case's repr",
    (OpenCase, "previous_case_id"): "the id of the earlier case this one follows",
    (AllocateLeadProfessional, "lead_professional"): "the lead professional's staff id",
    (HandOverLeadProfessional, "lead_professional"): "the new lead professional's staff id",
}
"""String fields that hold identifiers, not text written about a child or family."""


def _is_identifier(cls: type, name: str) -> bool:
    return any(issubclass(cls, owner) and name == n for owner, n in IDENTIFIERS)


def _text_kind(tp: Any) -> str | None:
    """'text' for ``str``, 'texts' for ``tuple[str, ...]``, either of them ``| None``
    as well; else None."""
    if tp is str:
        return "text"
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2:
        (other,) = (a for a in args if a is not type(None))
        return _text_kind(other)
    if origin is tuple and args == (str, ...):
        return "texts"
    return None


def _attrs_classes_in(tp: Any) -> Iterator[type]:
    if isinstance(tp, type) and attrs.has(tp):
        yield tp
    for arg in typing.get_args(tp):
        yield from _attrs_classes_in(arg)


def free_text_fields(roots: Iterable[type]) -> dict[tuple[type, str], str]:
    """Every free-text field of ``roots`` and the attrs classes they hold: (class, name) -> kind."""
    found: dict[tuple[type, str], str] = {}
    seen: set[type] = set()
    todo = list(roots)
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        hints = typing.get_type_hints(cls)
        for f in attrs.fields(cls):
            kind = _text_kind(hints[f.name])
            if kind is not None and not _is_identifier(cls, f.name):
                found[(cls, f.name)] = kind
            todo.extend(_attrs_classes_in(hints[f.name]))
    return found


RECORD_TYPES = tuple(
    obj
    for name in records_module.__all__
    if isinstance(obj := getattr(records_module, name), type) and attrs.has(obj)
)
FREE_TEXT = free_text_fields((*COMMAND_TYPES, *RECORD_TYPES))
COMMAND_FREE_TEXT = free_text_fields(COMMAND_TYPES)


def _name(key: tuple[type, str]) -> str:
    return f"{key[0].__name__}.{key[1]}"


def test_free_text_fields_are_found_by_introspection() -> None:
    """The introspection finds the free text we know of (so it is not vacuous), and
    every identifier named above still exists."""
    names = {_name(k) for k in FREE_TEXT}
    assert len(names) >= 25, sorted(names)
    assert {
        "InteragencyContactForm.actions_taken",
        "InteragencyContactForm.concern",
        "InteragencyContactForm.external_agencies",
        "EducationSupervisionOrder.plan",
        "FamilyDiscussion.reason_not_engaged",
        "ChronologyEntry.summary",
        "MashDecision.rationale",
        "MaintenancePlan.actions",
        "CloseCase.note",
        "ReopenCase.reason",
        "CorrectContact.reason",
        "Contact.unable_to_engage_reason",
    } <= names
    for owner, field_name in IDENTIFIERS:
        assert field_name in attrs.fields_dict(owner), (owner, field_name)
    assert not any(_name(k) == "Actor.id" for k in FREE_TEXT)


# --------------------------------------------------------------------------- markers

MARKER = re.compile(r"MK[0-9a-f]{32}")


class Markers:
    """Unique markers, each remembered with the field it was put in."""

    def __init__(self) -> None:
        self.where: dict[str, str] = {}
        self.placed: set[tuple[type, str]] = set()

    def new(self, where: str) -> str:
        marker = f"MK{uuid.uuid4().hex}"
        self.where[marker] = where
        return marker

    def mark(self, obj: Any, where: str = "") -> Any:
        """``obj`` with every free-text field (also those left ``None``) holding a new marker."""
        cls = type(obj)
        if not attrs.has(cls):
            if isinstance(obj, tuple):
                return tuple(self.mark(v, f"{where}[{i}]") for i, v in enumerate(obj))
            return obj
        changes: dict[str, Any] = {}
        hints = typing.get_type_hints(cls)
        for f in attrs.fields(cls):
            if not f.init:
                continue
            path = f"{where or cls.__name__}.{f.name}"
            kind = _text_kind(hints[f.name])
            if kind is not None and not _is_identifier(cls, f.name):
                self.placed.add((cls, f.name))
                if kind == "text":
                    changes[f.name] = self.new(path)
                else:
                    changes[f.name] = (self.new(f"{path}[0]"), self.new(f"{path}[1]"))
            else:
                value = getattr(obj, f.name)
                marked = self.mark(value, path)
                if marked is not value:
                    changes[f.name] = marked
        return attrs.evolve(obj, **changes) if changes else obj

    def found_in(self, text: str) -> list[str]:
        return [m for m in MARKER.findall(text) if m in self.where]


class Observer:
    """Everything the library shows: reprs, errors, logs. Checked for markers at the end."""

    def __init__(self, markers: Markers) -> None:
        self.markers = markers
        self.shown: list[tuple[str, str]] = []
        self.errors = 0
        self.raised: list[BaseException] = []

    def show(self, label: str, text: str) -> None:
        self.shown.append((label, text))

    def value(self, label: str, obj: object) -> None:
        """The repr and str of ``obj`` and of every value it holds."""
        for path, item in _walk(obj, label):
            self.show(f"repr {path}", repr(item))
            self.show(f"str {path}", str(item))

    def error(self, label: str, exc: BaseException) -> None:
        self.errors += 1
        self.raised.append(exc)
        self.show(f"str {label}", str(exc))
        self.show(f"repr {label}", repr(exc))
        self.show(f"args {label}", repr(exc.args))
        self.show(f"traceback {label}", "".join(traceback.format_exception(exc)))
        for i, v in enumerate(getattr(exc, "violations", ())):
            self.value(f"{label}.violations[{i}]", v)

    def attempt(
        self, label: str, action: Callable[[], object], expected: type[BaseException]
    ) -> None:
        """Run ``action``, which must raise ``expected``; record the error."""
        with pytest.raises(expected) as info:
            action()
        self.error(label, info.value)

    def leaks(self) -> list[str]:
        out = []
        for label, text in self.shown:
            for marker in self.markers.found_in(text):
                out.append(f"{self.markers.where[marker]} shown in {label}")
        return out


def _walk(obj: object, path: str, depth: int = 0) -> Iterator[tuple[str, object]]:
    """``obj`` and every record it holds (attrs instances: the reprs the library writes).

    Bare strings and tuples are not shown: their repr is Python's, and a
    caller who prints a field has asked for its text.
    """
    if depth > 8:
        return
    if attrs.has(type(obj)):
        yield path, obj
        for f in attrs.fields(type(obj)):
            if f.name != "lifecycle":
                yield from _walk(getattr(obj, f.name), f"{path}.{f.name}", depth + 1)
    elif isinstance(obj, (tuple, list, frozenset, set)):
        for i, item in enumerate(obj):
            yield from _walk(item, f"{path}[{i}]", depth + 1)


def _texts_held(obj: object) -> Iterator[tuple[tuple[type, str], str]]:
    """(class, field) and the text of every free-text value ``obj`` holds."""
    for _, item in _walk(obj, ""):
        cls = type(item)
        if attrs.has(cls) and not isinstance(item, enum.Enum):
            for f in attrs.fields(cls):
                key = (cls, f.name)
                if key in FREE_TEXT:
                    value = getattr(item, f.name)
                    for text in value if isinstance(value, tuple) else (value,):
                        if isinstance(text, str):
                            yield key, text


# --------------------------------------------------------------------------- the case


def _markable_iacf() -> InteragencyContactForm:
    """A complete IACF whose every free-text field may hold text: an Education
    Supervision Order in place, and the discussion with the family attempted."""
    return attrs.evolve(
        complete_iacf(),
        family_discussion=FamilyDiscussion(FamilyDiscussionStatus.ATTEMPTED, "placeholder"),
        education_supervision_order=EducationSupervisionOrder(
            ESOStatus.IN_PLACE, "placeholder", "placeholder"
        ),
    )


def _base_commands(case_id: str) -> list[Command]:
    """Every command type, in an order the pathway accepts, with placeholder text.

    Chosen so that every optional free-text field can hold text: the school
    could not engage the family (no EHA; the reason given), an Education
    Supervision Order in place, the family discussion attempted.
    """
    clock = itertools.count(1)

    def at() -> dt.datetime:
        return START + dt.timedelta(hours=2 * next(clock))

    def ids(**kw: Any) -> dict[str, Any]:
        return {"case_id": case_id, "at": at(), **kw}

    placeholder = "placeholder"
    iacf = _markable_iacf()
    chronology = synthetic_chronology(START.date())
    commands: list[Command] = [
        OpenCase(
            **ids(actor=COORD),
            pupil=PupilRef("P000001"),
            school="SCH-0001",
            attendance=AttendanceSummary(present=80, authorised=30, unauthorised=80),
            attendance_as_of=START.date(),
        ),
        BeginPlanReview(**ids(actor=COORD)),
        RecordPlanWorking(**ids(actor=COORD), plan_summary=placeholder),
        ReopenPlanReview(**ids(actor=COORD), reason=placeholder),
        AgreeContact(**ids(actor=COORD), plan_assessment=PlanAssessment.PLAN_NOT_EFFECTIVE),
        SubmitContact(
            **ids(actor=SCHOOL),
            iacf=iacf,
            eha=None,
            unable_to_engage_reason=placeholder,
            chronology=chronology,
        ),
        SubmitAdditionalInformation(**ids(actor=SCHOOL), summary=placeholder),
        CorrectContact(
            **ids(actor=EHM),
            iacf=iacf,
            eha=None,
            unable_to_engage_reason=placeholder,
            chronology=chronology,
            reason=placeholder,
        ),
    ]
    decided = at()
    commands += [
        RecordMashDecision(case_id=case_id, actor=MDM, at=decided,
                           decision=MashDecision(MashOutcome.EARLY_HELP, MDM.id, decided,
                                                 placeholder)),
        SendDecisionFeedback(**ids(actor=MDM), summary=placeholder),
        SendAdditionalInformationFeedback(**ids(actor=COORD), information_number=1,
                                          summary=placeholder),
        AllocateLeadProfessional(**ids(actor=EHM), lead_professional=LP.id),
        RecordSchoolContact(**ids(actor=LP), summary=placeholder),
        StartIntervention(**ids(actor=LP)),
        RecordReview(**ids(actor=LP), summary=placeholder,
                     attendance=AttendanceSummary(present=120, authorised=20, unauthorised=50)),
        HandOverLeadProfessional(**ids(actor=EHM), lead_professional=LP2.id, reason=placeholder),
        RecordSchoolContact(**ids(actor=LP2), summary=placeholder),
        CloseCase(**ids(actor=EHM), reason=ClosureReason.CONSENT_WITHDRAWN, note=placeholder),
        ReopenCase(**ids(actor=EHM), reason=placeholder),
        AgreeMaintenancePlan(**ids(actor=LP2), plan=MaintenancePlan(
            (placeholder,), agreed_by_family=True, agreed_by_school=True)),
        StepBackToSchool(**ids(actor=LP2),
                         attendance=AttendanceSummary(present=85, authorised=10, unauthorised=95)),
    ]  # fmt: skip
    return commands


def _later(case: Case, hours: float = 1) -> dt.datetime:
    assert case.last_event_at is not None
    return case.last_event_at + dt.timedelta(minutes=60 * hours)


def _refusals(case: Case, m: Markers) -> list[Attempt]:
    """Commands carrying markers that the case must refuse now, with the error expected."""
    at = _later(case)
    cid = case.case_id
    state = case.state
    out: list[Attempt] = []

    def give(command: Command) -> Callable[[], object]:
        return lambda: case.execute(command)

    review = m.mark(RecordReview(case_id=cid, actor=LP, at=at, summary="x"))
    out.append(("command for another case",
                give(attrs.evolve(review, case_id="C-OTHER")), InvalidInput))  # fmt: skip
    earlier = attrs.evolve(review, at=at - dt.timedelta(days=30))
    out.append(("command earlier than the last event", give(earlier), InvalidInput))
    if state is State.PLAN_REVIEW:
        working = m.mark(RecordPlanWorking(case_id=cid, actor=SCHOOL, at=at, plan_summary="x"))
        out.append(("plan working by the school", give(working), NotAuthorised))
    if state is State.CONTACT_AGREED:
        full = m.mark(SubmitContact(
            case_id=cid, actor=SCHOOL, at=at,
            iacf=_markable_iacf(),
            unable_to_engage_reason="x", chronology=synthetic_chronology(at.date()),
        ))  # fmt: skip
        gaps = attrs.evolve(
            full,
            iacf=attrs.evolve(full.iacf, actions_taken=(), concern=None),
            chronology=(
                *full.chronology,
                attrs.evolve(full.chronology[0], on=at.date() + dt.timedelta(days=3)),
            ),
        )
        both = attrs.evolve(full, eha=EHAReference("EHA-1", at.date()))
        out += [
            ("contact with gaps", give(gaps), PolicyViolation),
            ("contact with an EHA and a reason", give(both), PolicyViolation),
            ("additional information before the contact",
             give(m.mark(SubmitAdditionalInformation(case_id=cid, actor=SCHOOL, at=at,
                                                     summary="x"))), TransitionNotAllowed),
        ]  # fmt: skip
    if state is State.CONTACT_SUBMITTED:
        decision = m.mark(RecordMashDecision(
            case_id=cid, actor=MDM, at=at,
            decision=MashDecision(MashOutcome.EARLY_HELP, "mash-02", at + dt.timedelta(hours=1),
                                  "x"),
        ))  # fmt: skip
        correction = m.mark(CorrectContact(
            case_id=cid, actor=COORD, at=at, iacf=_markable_iacf(), eha=None,
            unable_to_engage_reason="x", chronology=(), reason="x"))  # fmt: skip
        out += [
            ("decision by someone else, after the recording", give(decision), PolicyViolation),
            ("correction by a coordinator", give(correction), NotAuthorised),
            ("correction with a blank reason and no chronology",
             give(attrs.evolve(correction, actor=EHM, reason=" ")), PolicyViolation),
        ]  # fmt: skip
    if state is State.MASH_DECIDED:
        hand_over = m.mark(HandOverLeadProfessional(
            case_id=cid, actor=EHM, at=at, lead_professional="lp-03", reason="x"))  # fmt: skip
        out.append(("hand-over before allocation", give(hand_over), TransitionNotAllowed))
    if state is State.INTERVENTION:
        lead = Actor(case.lead_professional or "lp-01", Role.LEAD_PROFESSIONAL)
        plan = m.mark(AgreeMaintenancePlan(case_id=cid, actor=lead, at=at,
                                           plan=MaintenancePlan(("x",))))  # fmt: skip
        stranger = attrs.evolve(review, actor=Actor("lp-99", Role.LEAD_PROFESSIONAL))
        out += [
            ("plan not agreed by the family or the school", give(plan), PolicyViolation),
            ("review by someone not the lead professional", give(stranger), PolicyViolation),
            ("close with a reason not allowed here",
             give(m.mark(CloseCase(case_id=cid, actor=EHM, at=at,
                                   reason=ClosureReason.ATTENDANCE_RECOVERED, note="x"))),
             PolicyViolation),
        ]  # fmt: skip
    if state is State.CLOSED:
        reopen = m.mark(ReopenCase(case_id=cid, actor=COORD, at=at, reason="x"))
        out += [
            ("review while closed", give(review), TransitionNotAllowed),
            ("reopen by a coordinator", give(reopen), NotAuthorised),
            ("reopen with a blank reason",
             give(attrs.evolve(reopen, actor=EHM, reason="  ")), PolicyViolation),
        ]  # fmt: skip
    if state is State.STEPPED_BACK:
        out += [
            ("reopen after stepping back",
             give(m.mark(ReopenCase(case_id=cid, actor=EHM, at=at, reason="x"))),
             TransitionNotAllowed),
            ("close after stepping back",
             give(m.mark(CloseCase(case_id=cid, actor=EHM, at=at,
                                   reason=ClosureReason.MOVED_AWAY, note="x"))),
             TransitionNotAllowed),
        ]  # fmt: skip
    return out


def _bad_records(m: Markers) -> list[Attempt]:
    """Records and values built wrongly, with markers in the offending values."""
    a, b = m.new("bad value"), m.new("bad value")
    day = START.date()
    return [
        ("reason given with a confirmed discussion",
         lambda: FamilyDiscussion(FamilyDiscussionStatus.CONFIRMED, a), InvalidInput),
        ("plan of an order not in place",
         lambda: EducationSupervisionOrder(ESOStatus.NONE, a, b), InvalidInput),
        ("actions as one text", lambda: InteragencyContactForm(actions_taken=a), InvalidInput),
        ("agencies with a number", lambda: InteragencyContactForm(external_agencies=(a, 3)),
         InvalidInput),
        ("home factor as text", lambda: InteragencyContactForm(home_factors={a}), InvalidInput),
        ("text where a pattern goes", lambda: InteragencyContactForm(patterns=a), InvalidInput),
        ("text as a date", lambda: ChronologyEntry(a, records_module.EngagementKind.LETTER, b),
         InvalidInput),
        ("text as an outcome", lambda: MashDecision(a, "mash-01", START, b), InvalidInput),
        ("a name as decision maker", lambda: MashDecision(
            MashOutcome.EARLY_HELP, f"Ms {a}", START, b), InvalidInput),
        ("a name as an actor id", lambda: Actor(f"{a} Smith", Role.SCHOOL), InvalidInput),
        ("a name as the pupil", lambda: PupilRef(f"{a} Smith"), InvalidInput),
        ("text as an EHA reference", lambda: EHAReference(f"{a} b", day), InvalidInput),
        ("text as a closure reason",
         lambda: CloseCase(case_id="C-1", actor=COORD, at=START, reason=a, note=b), InvalidInput),
        ("text as a plan assessment",
         lambda: AgreeContact(case_id="C-1", actor=COORD, at=START, plan_assessment=a),
         InvalidInput),
        ("text as attendance", lambda: RecordReview(
            case_id="C-1", actor=LP, at=START, summary=a, attendance=b), InvalidInput),
        ("text as a time", lambda: RecordReview(case_id="C-1", actor=LP, at=a, summary=b),
         InvalidInput),
        ("text as the actor", lambda: RecordReview(case_id="C-1", actor=a, at=START, summary=b),
         InvalidInput),
        ("a case id that is not printable",
         lambda: BeginPlanReview(case_id=f"{a}\n", actor=COORD, at=START), InvalidInput),
        ("text as a count", lambda: AttendanceSummary(present=a), InvalidInput),  # type: ignore[arg-type]
        ("text as a policy setting", lambda: Policy(thin_text_chars=a), InvalidInput),  # type: ignore[arg-type]
        ("text as a policy", lambda: Lifecycle(a), InvalidInput),  # type: ignore[arg-type]
        ("an unknown keyword", lambda: RecordReview(  # type: ignore[call-arg]
            case_id="C-1", actor=LP, at=START, summary=a, comment=b), TypeError),
    ]  # fmt: skip


def _bad_payloads(case: Case, m: Markers) -> list[Attempt]:
    """Stored events corrupted with markers in the offending values."""
    from chronic_na.serialization import decode_event, encode_event, record_from_json

    event = next(e for e in case.events if isinstance(e.command, SubmitContact))
    good = json.loads(encode_event(event))

    def corrupt(change: Callable[[dict[str, Any]], None]) -> Callable[[], object]:
        data = json.loads(json.dumps(good))
        change(data)
        text = json.dumps(data)
        return lambda: decode_event(text, case_id=case.case_id, position=event.number)

    def set_at(d: dict[str, Any]) -> None:
        d["command"]["at"] = m.new("bad time")

    def set_outcome(d: dict[str, Any]) -> None:
        d["command"]["iacf"]["home_factors"] = [m.new("bad enum")]

    def set_text_to_object(d: dict[str, Any]) -> None:
        d["command"]["iacf"]["concern"] = {"text": m.new("bad text")}

    def set_actor(d: dict[str, Any]) -> None:
        d["command"]["actor"]["id"] = f"Ms {m.new('bad id')}"

    def set_tuple(d: dict[str, Any]) -> None:
        # (A bare string here is read as a tuple of characters, not refused:
        # see the audit notes; a number is refused.)
        d["command"]["iacf"]["actions_taken"] = [m.new("bad tuple"), 7]

    def set_date(d: dict[str, Any]) -> None:
        d["command"]["chronology"][0]["on"] = m.new("bad date")

    def set_extra(d: dict[str, Any]) -> None:
        d["command"]["iacf"]["comment"] = m.new("extra value")

    return [
        (f"stored event: {f.__name__}", corrupt(f), SchemaError)
        for f in (set_at, set_outcome, set_text_to_object, set_actor, set_tuple, set_date,
                  set_extra)
    ] + [
        ("not JSON", lambda: decode_event(f"{{{m.new('bad json')}"), SchemaError),
        ("a record from JSON with a wrong field",
         lambda: record_from_json(json.dumps({"summary": m.new("bad record")}), MashDecision),
         SchemaError),
    ]  # fmt: skip


def _observe_case(obs: Observer, case: Case, label: str) -> None:
    obs.value(f"{label} case", case)
    for step in case.next_steps():
        obs.value(f"{label} next step {step.command}", step)
    for d in (*case.deadlines(), *case.owed_obligations()):
        obs.value(f"{label} deadline", d)
    at = _later(case, 24 * 400)
    for d in (*case.overdue(at), *case.due(at)):
        obs.value(f"{label} due/overdue", d)


def drive_marked_case(
    obs: Observer, m: Markers, case_id: str = "C-MARK-1", lifecycle: Lifecycle | None = None
) -> Case:
    """The whole pathway with a marker in every free-text field, refusals on the way."""
    lifecycle = lifecycle or Lifecycle.for_policy()
    case: Case | None = None
    for i, base in enumerate(_base_commands(case_id)):
        command = m.mark(base)
        obs.value(f"command {i} {command.name}", command)
        if case is None:
            assert isinstance(command, OpenCase)
            obs.value("dry run of open_case", lifecycle.check(Case(case_id, lifecycle), command))
            obs.attempt(
                "open_case given to execute for another case",
                lambda c=command: lifecycle.execute(Case("C-OTHER", lifecycle), c),
                InvalidInput,
            )
            obs.attempt(
                "open below the trigger",
                lambda c=command: lifecycle.open(
                    attrs.evolve(c, attendance=AttendanceSummary(present=95, unauthorised=95))
                ),
                PolicyViolation,
            )
            case = lifecycle.open(command)
            event = case.events[-1]
        else:
            for label, action, expected in _refusals(case, m):
                before = case.version
                obs.attempt(label, action, expected)
                assert case.version == before
            obs.value(f"dry run of {command.name}", case.check(command))
            event = case.execute(command)
        obs.value(f"event {event.number}", event)
        _observe_case(obs, case, f"after {command.name}")
    assert case is not None
    assert case.state is State.STEPPED_BACK
    for label, action, expected in _bad_records(m) + _bad_payloads(case, m):
        obs.attempt(label, action, expected)
    obs.attempt("a naive time for overdue", lambda: case.overdue(m.new("naive")), InvalidInput)
    replayed = lifecycle.replay(case.events)
    assert replayed == case
    obs.value("replayed case", replayed)
    return case


# --------------------------------------------------------------------------- tests


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="chronic_na")
    return caplog


def _log_texts(caplog: pytest.LogCaptureFixture) -> Iterator[tuple[str, str]]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        yield f"log {record.name}", formatter.format(record)
        yield f"log args {record.name}", repr(record.args)


def test_a_whole_case_never_shows_its_text(logs: pytest.LogCaptureFixture) -> None:
    """Markers in every free-text field never appear in a repr, an error or a log record."""
    m = Markers()
    obs = Observer(m)
    case = drive_marked_case(obs, m)

    # Not vacuous: every free-text field of every command got a marker, every
    # command type was given, the markers are in the data and errors were raised.
    assert m.placed >= set(COMMAND_FREE_TEXT), sorted(map(_name, set(COMMAND_FREE_TEXT) - m.placed))
    assert {type(e.command) for e in case.events} == set(COMMAND_TYPES)
    held = {key for key, text in _texts_held(case) if MARKER.fullmatch(text)}
    assert held | m.placed >= set(FREE_TEXT), sorted(map(_name, set(FREE_TEXT) - held - m.placed))
    from chronic_na.serialization import encode_event

    stored = set(m.found_in("".join(encode_event(e) for e in case.events)))
    given_ = {x for e in case.events for x in m.found_in(str(attrs.asdict(e.command)))}
    assert len(given_) >= 40
    assert given_ <= stored
    assert obs.errors >= 50
    assert {PolicyViolation, NotAuthorised, TransitionNotAllowed, InvalidInput, SchemaError} <= {
        type(e) for e in obs.raised
    }
    assert any("accepted" in r.getMessage() for r in logs.records)
    assert any("refused" in r.getMessage() for r in logs.records)

    obs.shown.extend(_log_texts(logs))
    assert obs.leaks() == []


def test_full_pathway_with_one_text_never_shows_it(logs: pytest.LogCaptureFixture) -> None:
    """chronic_na.testing.full_pathway(text=...) puts one text in every field: never shown."""
    m = Markers()
    obs = Observer(m)
    marker = m.new("full_pathway(text=)")
    lifecycle = Lifecycle.for_policy()
    commands = list(full_pathway("C-FULL-1", START, text=marker))
    case = lifecycle.open(commands[0])
    for command in commands[1:]:
        obs.value(command.name, command)
        obs.value(f"event {command.name}", case.execute(command))
        _observe_case(obs, case, command.name)
    from chronic_na.serialization import encode_event

    assert marker in "".join(encode_event(e) for e in case.events)
    obs.shown.extend(_log_texts(logs))
    assert obs.leaks() == []


# --------------------------------------------------------------------------- property

TEMPLATES: list[Command] = _base_commands("C-PROP-1")
_TEMPLATE_PATHS: list[tuple[int, tuple[str | int, ...]]] = []


def _text_paths(obj: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    cls = type(obj)
    if isinstance(obj, tuple):
        for i, v in enumerate(obj):
            yield from _text_paths(v, (*path, i))
        return
    if not attrs.has(cls):
        return
    hints = typing.get_type_hints(cls)
    for f in attrs.fields(cls):
        kind = _text_kind(hints[f.name])
        if kind is not None and not _is_identifier(cls, f.name):
            yield (*path, f.name) if kind == "text" else (*path, f.name, 0)
        else:
            yield from _text_paths(getattr(obj, f.name), (*path, f.name))


for _i, _template in enumerate(TEMPLATES):
    _TEMPLATE_PATHS.extend((_i, p) for p in _text_paths(_template))


def _set(obj: Any, path: tuple[str | int, ...], value: object) -> Any:
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(obj) if obj else [None]
        items[head] = _set(items[head], rest, value) if rest else value
        return tuple(items)
    current = getattr(obj, head)
    return attrs.evolve(obj, **{head: _set(current, rest, value) if rest else value})


PRINTABLE = st.text(
    alphabet=st.characters(categories=["L", "M", "N", "P", "S", "Zs"]), min_size=6, max_size=80
)


@settings(max_examples=200, suppress_health_check=[HealthCheck.filter_too_much])
@given(where=st.sampled_from(_TEMPLATE_PATHS), text=PRINTABLE)
def test_repr_never_contains_free_text(where: tuple[int, tuple[str | int, ...]], text: str) -> None:
    """Random printable text in a random free-text field never shows in any repr."""
    index, path = where
    placeholder = _set(TEMPLATES[index], path, "-" * len(text))
    shown_anyway = "".join(repr(item) for _, item in _walk(placeholder, ""))
    assume(text not in shown_anyway and repr(text)[1:-1] not in shown_anyway)
    command = _set(TEMPLATES[index], path, text)
    for _, item in _walk(command, ""):
        shown = repr(item) + str(item)
        assert text not in shown
        assert repr(text)[1:-1] not in shown


def _owner_of(obj: Any, path: tuple[str | int, ...]) -> tuple[type, str]:
    """The (class, field) a text path ends in (the last field name on the path)."""
    last = max(i for i, step in enumerate(path) if isinstance(step, str))
    for step in path[:last]:
        obj = obj[step] if isinstance(step, int) else getattr(obj, step)
    name = path[last]
    assert isinstance(name, str)
    return type(obj), name


def test_property_covers_every_command_free_text_field() -> None:
    """The property test samples every free-text field of every command type."""
    reached = {_owner_of(TEMPLATES[index], path) for index, path in _TEMPLATE_PATHS}
    assert set(COMMAND_FREE_TEXT) <= reached, sorted(map(_name, set(COMMAND_FREE_TEXT) - reached))


# --------------------------------------------------------------------------- the CLI
#
# `chronic-na identify` reads registers: pupil references, dates, sessions and
# codes, none of them free text. Free text reaches it only in a broken file
# (text in a cell where a date, a session or a code belongs), so the checks
# below put markers in those cells. Pupil references are printed by design
# (they are pseudonymous ids), so no marker goes there.
#
# `chronic-na store` reads a store that holds whole cases, free text
# included: its summary, verify and checkpoint actions are run on a store
# holding the marked case, before and after the store is tampered with.


def _register(tmp_path: Path, name: str, cell: tuple[int, str, str] | None = None) -> Path:
    """A small synthetic register (CSV); ``cell`` = (row, column, text) replaced."""
    rows = []
    for p in range(3):
        for d in range(10):
            day = dt.date(2025, 9, 1) + dt.timedelta(days=d)
            if day.weekday() > 4:
                continue
            for session, present in (("AM", "/"), ("PM", "\\")):
                code = "I" if (d + p) % 5 < p + 2 else present
                rows.append({"pupil": f"P{p:06d}", "date": day.isoformat(), "session": session,
                             "code": code})  # fmt: skip
    if cell is not None:
        row, column, text = cell
        rows[row][column] = text
    lines = ["pupil,date,session,code"] + [
        ",".join(r[c] for c in ("pupil", "date", "session", "code")) for r in rows
    ]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from chronic_na.cli import main

    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_cli_identify_never_prints_text_from_a_wrong_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> None:
    """Text in a date, session or code cell is reported by row and column, never printed."""
    pytest.importorskip("polars")
    from chronic_na.cli import EXIT_BAD_FILE, EXIT_OK

    m = Markers()
    obs = Observer(m)
    good = _register(tmp_path, "good.csv")
    for output in ("table", "csv", "json"):
        code, text = _cli(["identify", str(good), "--as-of", "2025-09-30", "--patterns",
                           "--format", output], capsys)  # fmt: skip
        assert code == EXIT_OK, text
        assert "P000002" in text  # the register's cohort is printed (not vacuous)
        obs.show(f"identify --format {output}", text)
    for row, column in ((0, "code"), (7, "code"), (3, "session"), (5, "date")):
        text_in_cell = m.new(f"register {column} cell")
        bad = _register(tmp_path, f"bad-{column}-{row}.csv", (row, column, text_in_cell))
        assert text_in_cell in bad.read_text(encoding="utf-8")
        for output in ("table", "json"):
            code, text = _cli(["identify", str(bad), "--as-of", "2025-09-30", "--format", output],
                              capsys)  # fmt: skip
            assert code == EXIT_BAD_FILE, text
            assert f"row {row + 2}" in text or "pupil P0000" in text, text  # says where
            obs.show(f"identify {column} cell, --format {output}", text)
    obs.shown.extend(_log_texts(logs))
    assert obs.leaks() == []


def test_cli_entry_point_never_prints_text_from_a_wrong_cell(tmp_path: Path) -> None:
    """The installed ``chronic-na`` command, in its own process: exit 3, no text from the cell."""
    pytest.importorskip("polars")
    m = Markers()
    marker = m.new("register code cell")
    bad = _register(tmp_path, "bad.csv", (4, "code", f"{marker} and more words"))
    script = Path(sys.executable).with_name("chronic-na")
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "chronic_na"]
    proc = subprocess.run(
        [*argv, "identify", str(bad), "--as-of", "2025-09-30"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "row 6" in proc.stderr, proc.stderr
    assert m.found_in(proc.stdout + proc.stderr) == []


def test_cli_store_never_prints_case_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> None:
    """``chronic-na store`` on a store holding the marked case: summary, verify, checkpoint,
    a tampered store and an erased case print no marker."""
    from chronic_na.store import SQLiteStore

    m = Markers()
    obs = Observer(m)
    path = tmp_path / "store.sqlite"
    lifecycle = Lifecycle.for_policy()
    with SQLiteStore(path, lifecycle=lifecycle) as store:
        case = drive_marked_case(obs, m, "C-STORE-1", lifecycle)
        store.save(case, 0)
        # The same pupil identified again: a new case linked to the earlier one.
        again = attrs.evolve(_base_commands("C-STORE-2")[0], previous_case_id="C-STORE-1")
        other = lifecycle.open(m.mark(again))
        store.save(other, 0)
        loaded = store.load("C-STORE-1")
        assert loaded == case
        obs.value("loaded case", loaded)
        for row in store.events():
            obs.value(f"stored event {row.seq}", row)
        for summary in store.cases():
            obs.value("case summary", summary)
    with sqlite3.connect(path) as db:
        payloads = "".join(p for (p,) in db.execute("SELECT payload FROM chronic_na_events"))
    assert len(m.found_in(payloads)) >= 40  # the text is in the store (not vacuous)

    at = (START + dt.timedelta(days=40)).isoformat()
    for argv in (["store", "summary", str(path), "--at", at], ["store", "verify", str(path)],
                 ["store", "checkpoint", str(path)]):  # fmt: skip
        code, text = _cli(argv, capsys)
        assert code == 0, text
        obs.show(" ".join(argv[:2]), text)

    # Tamper: edit a marker inside a payload, and break another payload's JSON.
    with sqlite3.connect(path) as db:
        (seq, payload) = db.execute(
            "SELECT seq, payload FROM chronic_na_events WHERE type = 'submit_contact'"
        ).fetchone()
        first = m.found_in(payload)[0]
        edited = payload.replace(first, m.new("edited in the store"))
        db.execute("UPDATE chronic_na_events SET payload = ? WHERE seq = ?", (edited, seq))
        db.execute("UPDATE chronic_na_events SET payload = substr(payload, 1, 60) || ? "
                   "WHERE type = 'record_review'", (m.new("cut payload"),))  # fmt: skip
    code, text = _cli(["store", "verify", str(path)], capsys)
    assert code == 1, text
    assert "edited" in text
    obs.show("store verify (tampered)", text)
    code, text = _cli(["store", "summary", str(path), "--at", at], capsys)
    obs.show("store summary (tampered)", text)
    with SQLiteStore(path, lifecycle=lifecycle) as store:
        obs.attempt("load a tampered case", lambda: store.load("C-STORE-1"), SchemaError)
        result = store.verify()
        assert not result.ok
        obs.value("verification", result)
        obs.attempt("raise for problems", result.raise_for_problems, ChronicNAError)
    obs.shown.extend(_log_texts(logs))
    assert obs.leaks() == []


def test_cli_store_after_erasure_never_prints_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> None:
    """Erasing a finished case (the reason is free text, kept in the erasure record):
    neither the store's errors and logs nor the CLI show it."""
    from chronic_na.store import SQLiteStore

    m = Markers()
    obs = Observer(m)
    path = tmp_path / "store.sqlite"
    lifecycle = Lifecycle.for_policy()
    with SQLiteStore(path, lifecycle=lifecycle) as store:
        case = drive_marked_case(obs, m, "C-ERASE-1", lifecycle)
        store.save(case, 0)
        later = _later(case, 24)
        store.erase("C-ERASE-1", actor=EHM, at=later, reason=m.new("erasure reason"))
        obs.attempt("load an erased case", lambda: store.load("C-ERASE-1"), ChronicNAError)
        for row in store.events():
            obs.value(f"stored row {row.seq}", row)
        for summary in store.cases():
            obs.value("case summary", summary)
    for argv in (["store", "verify", str(path)],
                 ["store", "summary", str(path), "--at", later.isoformat()]):  # fmt: skip
        code, text = _cli(argv, capsys)
        assert code == 0, text
        obs.show(" ".join(argv[:2]), text)
    obs.shown.extend(_log_texts(logs))
    assert any("erased" in r.getMessage() for r in logs.records)
    assert obs.leaks() == []
