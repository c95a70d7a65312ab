"""Benchmark: the SQLite store against raw ``sqlite3``, appending and loading a million events.

Default size: 100,000 cases x 10 events = 1,000,000 events. Each case's 10
events are made through the public API, outside every timed region: the
first 10 commands of ``chronic_na.testing.full_pathway`` (``open_case`` to
``record_review``), opened with ``Lifecycle.open`` and executed with
``Case.execute`` (every rule checked), a distinct pupil and case id per case.
Cases are made in chunks of ``--chunk`` (default 1,000), and each chunk is
appended by both sides before the next is made, the side that goes first
alternating chunk by chunk, so that both files grow together and both sides
meet the same machine noise.

Both sides run in this one process, each on its own file in the same
directory, with the same settings: ``journal_mode=WAL``, the same
``synchronous`` (``--synchronous``, default ``NORMAL``), ``BEGIN IMMEDIATE``
and one commit per case's batch of 10 events.

Append, timed per case:

* **library**: ``SQLiteStore.save(case, 0)``, the public save that trusts
  nothing it is given: the case replayed from its own events with the
  store's lifecycle and compared with the case given (refused if they
  differ; this check is also timed on its own, inside the append),
  encoding the events (cattrs, canonical JSON), the payload digests and the
  hash chain, the version check, the one-open-case-per-pupil check
  and the new-case link check (the pupil's earlier cases; none here), the 10
  event rows, the case's projection row and its open deadlines (from the
  replayed case), the head of the chain; one transaction.
* **baseline**: a table ``(seq, case_id, number, type, schema, payload)``
  (``seq`` the integer primary key, ``UNIQUE (case_id, number)`` so that a
  case can be read back by index); for each event a plain dict built by
  hand-written code from the event's command (keys written in sorted order),
  ``json.dumps``'d, all inside the timed loop; the 10 rows inserted with one
  ``executemany``; one transaction. The baseline's payloads are checked to be
  byte for byte the library's (every row, after the run).

Load, after both connections are closed and the files reopened, every case
in the same shuffled order on both sides, alternating by chunk:

* **library**: ``SQLiteStore.load(case_id)``: select, decode (strict cattrs
  structuring, envelope, schema and position checks), and
  ``Lifecycle.replay`` to a ``Case``.
* **baseline**: select ``(number, type, schema, payload)``, ``json.loads``,
  and build the same attrs records, commands and ``Event`` objects with
  hand-written constructor calls (no converter, no envelope checks), then the
  same ``Lifecycle.replay`` to the same ``Case``. Its decode and replay are
  timed apart, so that the library can also be compared with the baseline's
  events alone (the stricter ratio). A sample of cases is checked equal on
  both sides.

Usage::

    python benchmarks/store.py                     # full size: 100,000 cases, 1,000,000 events
    python benchmarks/store.py --cases 2000 --no-write
    python benchmarks/store.py --cases 5000 --profile append   # cProfile the library side

Writes ``benchmarks/results/store.json`` (with the commit id); then run
``python benchmarks/render_store.py`` to regenerate ``docs/benchmarks-store.md``.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import gc
import io
import itertools
import json
import os
import platform
import pstats
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from chronic_na.attendance.summary import AttendanceSummary
from chronic_na.errors import Violation
from chronic_na.lifecycle import Case, Event, Lifecycle
from chronic_na.pathway import (
    AgreeContact,
    AgreeMaintenancePlan,
    AllocateLeadProfessional,
    BeginPlanReview,
    Command,
    OpenCase,
    RecordMashDecision,
    RecordReview,
    RecordSchoolContact,
    SendDecisionFeedback,
    StartIntervention,
    StepBackToSchool,
    SubmitContact,
)
from chronic_na.records import (
    Actor,
    ChronologyEntry,
    EducationSupervisionOrder,
    EHAReference,
    EngagementKind,
    ESOStatus,
    FamilyDiscussion,
    FamilyDiscussionStatus,
    HomeFactor,
    InteragencyContactForm,
    MaintenancePlan,
    MashDecision,
    MashOutcome,
    PatternKind,
    PatternsItem,
    PlanAssessment,
    PupilRef,
    Role,
    SchoolIssue,
)
from chronic_na.store import SQLiteStore
from chronic_na.testing import LONDON, full_pathway

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_CASE = 10
FULL_CASES = 100_000
START = dt.datetime(2025, 9, 8, 9, 0, tzinfo=LONDON)
APPEND_TARGET = 2.0
LOAD_TARGET = 1.5


# ---------------------------------------------------------------- the cases


def make_case(lifecycle: Lifecycle, i: int) -> Case:
    """Case ``i``: the first 10 commands of the full pathway, through the public API."""
    case_id = f"C{i:07d}"
    start = START + dt.timedelta(minutes=7 * (i % 10_000))
    commands = itertools.islice(
        full_pathway(case_id, start, pupil=f"P{i:07d}", school=f"SCH-{i % 300:04d}"),
        EVENTS_PER_CASE,
    )
    case = lifecycle.open(next(commands))  # type: ignore[arg-type]
    for command in commands:
        case.execute(command)
    assert case.version == EVENTS_PER_CASE
    return case


# ---------------------------------------------------------------- baseline: writing
# Plain dicts by hand, keys in sorted order, so that json.dumps gives the
# library's canonical bytes without sort_keys.


def _w_dt(value: dt.datetime) -> str:
    # ISO 8601 with the offset and, for an IANA zone, its name in brackets (RFC 9557).
    zone = value.tzinfo
    if isinstance(zone, ZoneInfo):
        return f"{value.isoformat()}[{zone.key}]"
    return value.isoformat()


def _d_actor(a: Actor) -> dict[str, Any]:
    return {"id": a.id, "role": a.role.value}


def _d_att(s: AttendanceSummary | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "approved_activity": s.approved_activity,
        "authorised": s.authorised,
        "per_code": [[c, n] for c, n in s.per_code],
        "present": s.present,
        "unauthorised": s.unauthorised,
    }


def _d_iacf(f: InteragencyContactForm) -> dict[str, Any]:
    eso, fam, pat = f.education_supervision_order, f.family_discussion, f.patterns
    return {
        "actions_taken": list(f.actions_taken),
        "attendance_panel_involved": f.attendance_panel_involved,
        "concern": f.concern,
        "education_supervision_order": {
            "plan": eso.plan, "results": eso.results, "status": eso.status.value,
        },
        "external_agencies": list(f.external_agencies),
        "family_discussion": None if fam is None else {
            "reason_not_engaged": fam.reason_not_engaged, "status": fam.status.value,
        },
        "home_factors": sorted(m.value for m in f.home_factors),
        "home_factors_other": f.home_factors_other,
        "patterns": None if pat is None else {
            "description": pat.description, "kind": pat.kind.value,
        },
        "school_issues": sorted(m.value for m in f.school_issues),
        "school_issues_other": f.school_issues_other,
        "what_has_not_worked": f.what_has_not_worked,
        "what_has_worked": f.what_has_worked,
    }  # fmt: skip


def _w_open(c: OpenCase) -> dict[str, Any]:
    return {
        "actor": _d_actor(c.actor), "at": _w_dt(c.at), "attendance": _d_att(c.attendance),
        "attendance_as_of": c.attendance_as_of.isoformat(), "case_id": c.case_id,
        "previous_case_id": c.previous_case_id, "pupil": {"value": c.pupil.value},
        "school": c.school,
    }  # fmt: skip


def _w_bare(c: Command) -> dict[str, Any]:
    return {"actor": _d_actor(c.actor), "at": _w_dt(c.at), "case_id": c.case_id}


def _w_agree(c: AgreeContact) -> dict[str, Any]:
    return {"actor": _d_actor(c.actor), "at": _w_dt(c.at), "case_id": c.case_id,
            "plan_assessment": c.plan_assessment.value}  # fmt: skip


def _w_submit(c: SubmitContact) -> dict[str, Any]:
    eha = c.eha
    return {
        "actor": _d_actor(c.actor), "at": _w_dt(c.at), "case_id": c.case_id,
        "chronology": [
            {"family_engaged": e.family_engaged, "kind": e.kind.value, "on": e.on.isoformat(),
             "summary": e.summary}
            for e in c.chronology
        ],
        "eha": None if eha is None else {
            "completed_on": eha.completed_on.isoformat(), "reference": eha.reference,
        },
        "iacf": _d_iacf(c.iacf), "unable_to_engage_reason": c.unable_to_engage_reason,
    }  # fmt: skip


def _w_decision(c: RecordMashDecision) -> dict[str, Any]:
    d = c.decision
    return {
        "actor": _d_actor(c.actor), "at": _w_dt(c.at), "case_id": c.case_id,
        "decision": {"decided_at": _w_dt(d.decided_at), "decision_maker": d.decision_maker,
                     "outcome": d.outcome.value, "rationale": d.rationale},
    }  # fmt: skip


def _w_summary(c: SendDecisionFeedback | RecordSchoolContact) -> dict[str, Any]:
    return {"actor": _d_actor(c.actor), "at": _w_dt(c.at), "case_id": c.case_id,
            "summary": c.summary}  # fmt: skip


def _w_allocate(c: AllocateLeadProfessional) -> dict[str, Any]:
    return {"actor": _d_actor(c.actor), "at": _w_dt(c.at), "case_id": c.case_id,
            "lead_professional": c.lead_professional}  # fmt: skip


def _w_review(c: RecordReview) -> dict[str, Any]:
    return {
        "actor": _d_actor(c.actor),
        "at": _w_dt(c.at),
        "attendance": _d_att(c.attendance),
        "case_id": c.case_id,
        "summary": c.summary,
    }


def _w_plan(c: AgreeMaintenancePlan) -> dict[str, Any]:
    p = c.plan
    return {"actor": _d_actor(c.actor), "at": _w_dt(c.at), "case_id": c.case_id,
            "plan": {"actions": list(p.actions), "agreed_by_family": p.agreed_by_family,
                     "agreed_by_school": p.agreed_by_school}}  # fmt: skip


def _w_step_back(c: StepBackToSchool) -> dict[str, Any]:
    return {"actor": _d_actor(c.actor), "at": _w_dt(c.at),
            "attendance": _d_att(c.attendance), "case_id": c.case_id}  # fmt: skip


WRITERS: dict[type, Callable[[Any], dict[str, Any]]] = {
    OpenCase: _w_open,
    BeginPlanReview: _w_bare,
    AgreeContact: _w_agree,
    SubmitContact: _w_submit,
    RecordMashDecision: _w_decision,
    SendDecisionFeedback: _w_summary,
    AllocateLeadProfessional: _w_allocate,
    RecordSchoolContact: _w_summary,
    StartIntervention: _w_bare,
    RecordReview: _w_review,
    AgreeMaintenancePlan: _w_plan,
    StepBackToSchool: _w_step_back,
}

BASELINE_DDL = (
    "CREATE TABLE events (seq INTEGER PRIMARY KEY, case_id TEXT NOT NULL, number INTEGER,"
    " type TEXT NOT NULL, schema INTEGER NOT NULL, payload TEXT, UNIQUE (case_id, number))"
)
BASELINE_INSERT = (
    "INSERT INTO events (seq, case_id, number, type, schema, payload) VALUES (?, ?, ?, ?, ?, ?)"
)


def connect(path: Path, synchronous: str) -> sqlite3.Connection:
    """The baseline's connection, with the store's settings."""
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Baseline:
    """Raw sqlite3: one table, one transaction per case, json.dumps of plain dicts."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self.conn = connect(path, synchronous)
        self.conn.execute(BASELINE_DDL)
        self.seq = 0

    def append(self, events: list[Event]) -> None:
        dumps = json.dumps
        rows = []
        seq = self.seq
        for e in events:
            c = e.command
            seq += 1
            kind = c.name
            schema = type(c).schema_version
            payload = dumps(
                {"case_id": e.case_id, "command": WRITERS[type(c)](c), "number": e.number,
                 "schema": schema, "type": kind,
                 "warnings": [{"field": w.field, "message": w.message, "rule_id": w.rule_id}
                              for w in e.warnings]},
                ensure_ascii=False, separators=(",", ":"),
            )  # fmt: skip
            rows.append((seq, e.case_id, e.number, kind, schema, payload))
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.executemany(BASELINE_INSERT, rows)
        self.conn.commit()
        self.seq = seq


# ---------------------------------------------------------------- baseline: reading
# json.loads, then the same records built by hand-written constructor calls.

_date = dt.date.fromisoformat
_iso = dt.datetime.fromisoformat
_ZONES: dict[str, ZoneInfo] = {}


def _dt(text: str) -> dt.datetime:
    if text[-1] != "]":
        return _iso(text)
    text, _, key = text[:-1].partition("[")
    zone = _ZONES.get(key)
    if zone is None:
        zone = _ZONES[key] = ZoneInfo(key)
    return _iso(text).astimezone(zone)


def _r_actor(d: dict[str, Any]) -> Actor:
    return Actor(d["id"], Role(d["role"]))


def _r_att(d: dict[str, Any] | None) -> AttendanceSummary | None:
    if d is None:
        return None
    return AttendanceSummary(d["present"], d["approved_activity"], d["authorised"],
                             d["unauthorised"], [(c, n) for c, n in d["per_code"]])  # fmt: skip


def _r_iacf(d: dict[str, Any]) -> InteragencyContactForm:
    eso, fam, pat = d["education_supervision_order"], d["family_discussion"], d["patterns"]
    return InteragencyContactForm(
        actions_taken=tuple(d["actions_taken"]),
        home_factors=frozenset(HomeFactor(v) for v in d["home_factors"]),
        home_factors_other=d["home_factors_other"],
        school_issues=frozenset(SchoolIssue(v) for v in d["school_issues"]),
        school_issues_other=d["school_issues_other"],
        what_has_worked=d["what_has_worked"],
        external_agencies=tuple(d["external_agencies"]),
        what_has_not_worked=d["what_has_not_worked"],
        patterns=None if pat is None else PatternsItem(PatternKind(pat["kind"]),
                                                       pat["description"]),
        attendance_panel_involved=d["attendance_panel_involved"],
        education_supervision_order=EducationSupervisionOrder(
            ESOStatus(eso["status"]), eso["plan"], eso["results"]
        ),
        concern=d["concern"],
        family_discussion=None if fam is None else FamilyDiscussion(
            FamilyDiscussionStatus(fam["status"]), fam["reason_not_engaged"]
        ),
    )  # fmt: skip


def _r_open(d: dict[str, Any]) -> OpenCase:
    return OpenCase(
        case_id=d["case_id"], actor=_r_actor(d["actor"]), at=_dt(d["at"]),
        pupil=PupilRef(d["pupil"]["value"]), school=d["school"],
        attendance=_r_att(d["attendance"]),  # type: ignore[arg-type]
        attendance_as_of=_date(d["attendance_as_of"]), previous_case_id=d["previous_case_id"],
    )  # fmt: skip


def _r_begin(d: dict[str, Any]) -> BeginPlanReview:
    return BeginPlanReview(case_id=d["case_id"], actor=_r_actor(d["actor"]), at=_dt(d["at"]))


def _r_agree(d: dict[str, Any]) -> AgreeContact:
    return AgreeContact(case_id=d["case_id"], actor=_r_actor(d["actor"]), at=_dt(d["at"]),
                        plan_assessment=PlanAssessment(d["plan_assessment"]))  # fmt: skip


def _r_submit(d: dict[str, Any]) -> SubmitContact:
    eha = d["eha"]
    return SubmitContact(
        case_id=d["case_id"], actor=_r_actor(d["actor"]), at=_dt(d["at"]),
        iacf=_r_iacf(d["iacf"]),
        eha=None if eha is None else EHAReference(eha["reference"], _date(eha["completed_on"])),
        unable_to_engage_reason=d["unable_to_engage_reason"],
        chronology=tuple(
            ChronologyEntry(_date(e["on"]), EngagementKind(e["kind"]), e["summary"],
                            e["family_engaged"])
            for e in d["chronology"]
        ),
    )  # fmt: skip


def _r_decision(d: dict[str, Any]) -> RecordMashDecision:
    m = d["decision"]
    return RecordMashDecision(
        case_id=d["case_id"], actor=_r_actor(d["actor"]), at=_dt(d["at"]),
        decision=MashDecision(MashOutcome(m["outcome"]), m["decision_maker"],
                              _dt(m["decided_at"]), m["rationale"]),
    )  # fmt: skip


def _r_feedback(d: dict[str, Any]) -> SendDecisionFeedback:
    return SendDecisionFeedback(case_id=d["case_id"], actor=_r_actor(d["actor"]),
                                at=_dt(d["at"]), summary=d["summary"])  # fmt: skip


def _r_allocate(d: dict[str, Any]) -> AllocateLeadProfessional:
    return AllocateLeadProfessional(
        case_id=d["case_id"],
        actor=_r_actor(d["actor"]),
        at=_dt(d["at"]),
        lead_professional=d["lead_professional"],
    )


def _r_school_contact(d: dict[str, Any]) -> RecordSchoolContact:
    return RecordSchoolContact(case_id=d["case_id"], actor=_r_actor(d["actor"]),
                               at=_dt(d["at"]), summary=d["summary"])  # fmt: skip


def _r_start(d: dict[str, Any]) -> StartIntervention:
    return StartIntervention(case_id=d["case_id"], actor=_r_actor(d["actor"]), at=_dt(d["at"]))


def _r_review(d: dict[str, Any]) -> RecordReview:
    return RecordReview(case_id=d["case_id"], actor=_r_actor(d["actor"]), at=_dt(d["at"]),
                        summary=d["summary"], attendance=_r_att(d["attendance"]))  # fmt: skip


def _r_plan(d: dict[str, Any]) -> AgreeMaintenancePlan:
    p = d["plan"]
    return AgreeMaintenancePlan(
        case_id=d["case_id"], actor=_r_actor(d["actor"]), at=_dt(d["at"]),
        plan=MaintenancePlan(tuple(p["actions"]), p["agreed_by_family"], p["agreed_by_school"]),
    )  # fmt: skip


def _r_step_back(d: dict[str, Any]) -> StepBackToSchool:
    return StepBackToSchool(case_id=d["case_id"], actor=_r_actor(d["actor"]), at=_dt(d["at"]),
                            attendance=_r_att(d["attendance"]))  # fmt: skip


READERS: dict[str, Callable[[dict[str, Any]], Command]] = {
    "open_case": _r_open,
    "begin_plan_review": _r_begin,
    "agree_contact": _r_agree,
    "submit_contact": _r_submit,
    "record_mash_decision": _r_decision,
    "send_decision_feedback": _r_feedback,
    "allocate_lead_professional": _r_allocate,
    "record_school_contact": _r_school_contact,
    "start_intervention": _r_start,
    "record_review": _r_review,
    "agree_maintenance_plan": _r_plan,
    "step_back_to_school": _r_step_back,
}

BASELINE_SELECT = (
    "SELECT number, type, schema, payload FROM events WHERE case_id = ? ORDER BY number"
)


def baseline_events(conn: sqlite3.Connection, case_id: str) -> list[Event]:
    """Select, json.loads, and the same Event objects by hand-written constructors."""
    loads = json.loads
    rows = conn.execute(BASELINE_SELECT, (case_id,)).fetchall()
    events = []
    for number, kind, _schema, payload in rows:
        data = loads(payload)
        events.append(
            Event(data["case_id"], number, READERS[kind](data["command"]),
                  tuple(Violation(w["rule_id"], w["field"], w["message"])
                        for w in data["warnings"]))
        )  # fmt: skip
    return events


# ---------------------------------------------------------------- the run


def _chunks(total: int, size: int) -> Iterator[range]:
    for first in range(0, total, size):
        yield range(first, min(first + size, total))


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _src_tree(commit: str = "HEAD") -> str | None:
    """The git tree id of ``src`` at ``commit``: the same library sources, whatever else
    the commits changed."""
    try:
        return subprocess.run(
            ["git", "rev-parse", f"{commit}:src"], cwd=ROOT, capture_output=True, text=True,
            check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "run_at": result["run_at"],
        "commit": result["commit"],
        "append_ratio": result["append"]["ratio"],
        "load_ratio": result["load"]["ratio"],
    }


def _other_runs(result: dict[str, Any], previous_path: Path) -> list[dict[str, Any]]:
    """Earlier full-size runs of the same library sources (from the results file this
    run replaces), so that a repeat run adds to the record instead of hiding one."""
    if not result["settings"]["full_size"] or not previous_path.exists():
        return []
    previous = json.loads(previous_path.read_text())
    tree = result.get("src_tree")
    before = previous.get("src_tree") or _src_tree(previous.get("commit", ""))
    if tree is None or before != tree or not previous["settings"]["full_size"]:
        return []
    if previous.get("src_modified_since_commit") or result.get("src_modified_since_commit"):
        return []
    return [_summary(previous), *previous.get("other_runs", [])]


def _dirty() -> bool | None:
    try:
        out = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "src"],
            cwd=ROOT, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return bool(out.strip())


def _size_mib(path: Path) -> float:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            total += p.stat().st_size
    return total / 2**20


def _progress(label: str, done: int, total: int, t0: float) -> None:
    print(f"  {label}: {done:,}/{total:,} cases, {time.perf_counter() - t0:.0f}s elapsed",
          file=sys.stderr, flush=True)  # fmt: skip


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    cases_total = args.cases
    sync = args.synchronous
    lib_path, base_path = workdir / "library.sqlite", workdir / "baseline.sqlite"
    lifecycle = Lifecycle.for_policy()
    profile = cProfile.Profile() if args.profile else None

    def profiled(phase: str) -> AbstractContextManager[Any]:
        return profile if (profile is not None and args.profile == phase) else nullcontext()

    # ------------------------------------------------------------ append
    store = SQLiteStore(lib_path, lifecycle=lifecycle, synchronous=sync)
    baseline = Baseline(base_path, sync)
    build = lib_append = base_append = 0.0
    # The part of the library's append that is the check of the case given
    # (replay with the store's lifecycle, comparison), timed inside the append.
    check_time = [0.0]
    rebuilt = store._rebuilt

    def timed_check(case: Case, events: tuple[Event, ...]) -> Case:
        t0 = time.perf_counter()
        try:
            return rebuilt(case, events)
        finally:
            check_time[0] += time.perf_counter() - t0

    store._rebuilt = timed_check  # type: ignore[method-assign]
    t_start = time.perf_counter()
    report_every = max(1, (cases_total // args.chunk) // 10)
    for n, chunk in enumerate(_chunks(cases_total, args.chunk)):
        t0 = time.perf_counter()
        cases = [make_case(lifecycle, i) for i in chunk]
        build += time.perf_counter() - t0
        gc.collect()
        for side in ("library", "baseline") if n % 2 == 0 else ("baseline", "library"):
            if side == "library":
                with profiled("append"):
                    t0 = time.perf_counter()
                    for case in cases:
                        store.save(case, 0)
                    lib_append += time.perf_counter() - t0
            else:
                t0 = time.perf_counter()
                for case in cases:
                    baseline.append(case.events)
                base_append += time.perf_counter() - t0
        if (n + 1) % report_every == 0:
            _progress("append", chunk.stop, cases_total, t_start)
    del cases
    store.close()
    baseline.conn.close()

    # ------------------------------------------------------------ checks and reopen
    check = sqlite3.connect(base_path)
    check.execute("ATTACH DATABASE ? AS lib", (str(lib_path),))
    rows = check.execute("SELECT count(*) FROM events").fetchone()[0]
    lib_rows = check.execute("SELECT count(*) FROM lib.chronic_na_events").fetchone()[0]
    differing = check.execute(
        "SELECT count(*) FROM events b JOIN lib.chronic_na_events l ON l.seq = b.seq "
        "WHERE l.payload IS NOT b.payload OR l.case_id IS NOT b.case_id "
        "OR l.number IS NOT b.number OR l.type IS NOT b.type OR l.schema IS NOT b.schema"
    ).fetchone()[0]
    check.close()
    same_rows = rows == lib_rows == cases_total * EVENTS_PER_CASE and differing == 0
    sizes = {"library_mib": _size_mib(lib_path), "baseline_mib": _size_mib(base_path)}

    store = SQLiteStore(lib_path, lifecycle=lifecycle, synchronous=sync)
    conn = connect(base_path, sync)
    for c in (store._conn, conn):  # the same starting point for both files
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    verified = store.verify().ok if args.verify else None

    # ------------------------------------------------------------ load
    order = [f"C{i:07d}" for i in range(cases_total)]
    random.Random(args.seed).shuffle(order)
    sample_every = max(1, cases_total // 200)
    lib_load = base_decode = base_replay = 0.0
    lib_sample: dict[str, Case] = {}
    base_sample: dict[str, Case] = {}
    replay = lifecycle.replay
    load = store.load
    t_start = time.perf_counter()
    clock = time.perf_counter
    for n, first in enumerate(range(0, cases_total, args.chunk)):
        ids = order[first : first + args.chunk]
        gc.collect()
        for side in ("library", "baseline") if n % 2 == 0 else ("baseline", "library"):
            if side == "library":
                with profiled("load"):
                    t0 = clock()
                    for k, case_id in enumerate(ids):
                        case = load(case_id)
                        if k % sample_every == 0:
                            lib_sample[case_id] = case
                    lib_load += clock() - t0
            else:
                decode = rebuild = 0.0
                for k, case_id in enumerate(ids):
                    t0 = clock()
                    events = baseline_events(conn, case_id)
                    t1 = clock()
                    case = replay(events)
                    t2 = clock()
                    decode += t1 - t0
                    rebuild += t2 - t1
                    if k % sample_every == 0:
                        base_sample[case_id] = case
                base_decode += decode
                base_replay += rebuild
        if (n + 1) % report_every == 0:
            _progress("load", min(first + args.chunk, cases_total), cases_total, t_start)
    store.close()
    conn.close()

    # The sample against freshly made cases too, field by field and event by event.
    same_cases = bool(lib_sample) and all(
        lib_sample[k] == base_sample[k] == make_case(lifecycle, int(k[1:])) for k in lib_sample
    )
    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue(), file=sys.stderr)

    events = cases_total * EVENTS_PER_CASE
    base_load = base_decode + base_replay

    def per_event_us(seconds: float) -> float:
        return seconds / events * 1e6

    return {
        "benchmark": "store",
        "commit": _commit(),
        "src_tree": _src_tree(),
        "src_modified_since_commit": _dirty(),
        # A benchmark records when it ran; the library itself never reads the clock.
        "run_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),  # noqa: TID251
        "machine": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "cpus": os.cpu_count(),
            "note": "shared, noisy machine; one run, both sides interleaved chunk by chunk",
        },
        "settings": {
            "cases": cases_total,
            "events_per_case": EVENTS_PER_CASE,
            "events": events,
            "full_size": cases_total == FULL_CASES,
            "chunk": args.chunk,
            "journal_mode": "WAL",
            "synchronous": sync,
            "transaction": "one BEGIN IMMEDIATE ... COMMIT per case (its 10 events), both sides",
            "keyed": False,
        },
        "build_seconds": build,
        "append": {
            "library_seconds": lib_append,
            "baseline_seconds": base_append,
            "library_us_per_event": per_event_us(lib_append),
            "baseline_us_per_event": per_event_us(base_append),
            "library_events_per_second": events / lib_append,
            "baseline_events_per_second": events / base_append,
            "ratio": lib_append / base_append,
            "target": APPEND_TARGET,
            "met": lib_append / base_append <= APPEND_TARGET,
            "library_check_seconds": check_time[0],
            "ratio_without_check": (lib_append - check_time[0]) / base_append,
        },
        "load": {
            "library_seconds": lib_load,
            "baseline_seconds": base_load,
            "baseline_decode_seconds": base_decode,
            "baseline_replay_seconds": base_replay,
            "library_us_per_event": per_event_us(lib_load),
            "baseline_us_per_event": per_event_us(base_load),
            "ratio": lib_load / base_load,
            "ratio_vs_events_only": lib_load / base_decode,
            "target": LOAD_TARGET,
            "met": lib_load / base_load <= LOAD_TARGET,
            "met_vs_events_only": lib_load / base_decode <= LOAD_TARGET,
        },
        "checks": {
            "rows": rows,
            "same_rows_and_payloads": same_rows,
            "differing_rows": differing,
            "sampled_cases": len(lib_sample),
            "sampled_cases_equal": same_cases,
            "library_verifies": verified,
        },
        "files": sizes,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=FULL_CASES)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--synchronous", choices=("NORMAL", "FULL"), default="NORMAL")
    parser.add_argument("--seed", type=int, default=20260720)
    parser.add_argument("--dir", type=Path, default=None, help="where the two files are made")
    parser.add_argument("--verify", action="store_true", help="also verify the library's chain")
    parser.add_argument(
        "--profile",
        choices=("append", "load"),
        default=None,
        help="cProfile the library side of one phase (no JSON is written)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/store.json")
    parser.add_argument("--no-write", action="store_true", help="print the JSON, write nothing")
    args = parser.parse_args()
    if args.cases < 1 or args.chunk < 1:
        parser.error("--cases and --chunk must be positive")

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        result = run(args, Path(tmp))
    a, lo = result["append"], result["load"]
    print(
        f"append: library {a['library_seconds']:.1f}s, baseline {a['baseline_seconds']:.1f}s, "
        f"ratio {a['ratio']:.2f} (target {a['target']}); "
        f"load: library {lo['library_seconds']:.1f}s, baseline {lo['baseline_seconds']:.1f}s "
        f"(decode {lo['baseline_decode_seconds']:.1f}s + replay "
        f"{lo['baseline_replay_seconds']:.1f}s), ratio {lo['ratio']:.2f} "
        f"({lo['ratio_vs_events_only']:.2f} vs events only; target {lo['target']}); "
        f"checks {result['checks']}",
        file=sys.stderr,
    )
    if not (args.no_write or args.profile):
        result["other_runs"] = _other_runs(result, args.out)
    text = json.dumps(result, indent=2) + "\n"
    if args.no_write or args.profile:
        print(text)
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
