"""The store contract, on every backend (SQLite and PostgreSQL).

One suite, parametrised by the ``backend`` fixture: append with the version
last seen, at most one open case per pupil, load, queries, the audit stream,
the unit of work, checkpoints, keys, erasure, and translated driver errors.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import attrs
import pytest

from chronic_na import ConcurrencyConflict, InvalidInput, PolicyViolation, SchemaError, StoreError
from chronic_na.lifecycle import Case, Lifecycle
from chronic_na.pathway import (
    CloseCase,
    Command,
    OpenCase,
    RecordMashDecision,
    State,
    SubmitAdditionalInformation,
)
from chronic_na.records import Actor, ClosureReason, MashOutcome, Role
from chronic_na.rules import DutyKind
from chronic_na.store import (
    CaseErased,
    CaseExists,
    Checkpoint,
    ErasureRefused,
    NoSuchCase,
    OpenCaseExists,
    SQLStore,
)
from chronic_na.testing import ACTORS, LONDON, full_pathway
from conftest import StoreFactory

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)
KEY = b"synthetic-test-key-0123456789"


def commands(n: int, days_later: int = 0, **options: Any) -> list[Command]:
    return list(
        full_pathway(
            f"C-{n:03d}",
            START + dt.timedelta(days=days_later),
            pupil=f"P{n:06d}",
            school=f"SCH-{n % 2:04d}",
            **options,
        )
    )


def opened(store: SQLStore, n: int, steps: int = 1, **options: Any) -> Case:
    """Case ``n`` opened and taken ``steps`` commands along the happy path."""
    cmds = commands(n, **options)
    first = cmds[0]
    assert isinstance(first, OpenCase)
    case = store.open_case(first)
    for command in cmds[1:steps]:
        store.execute(command)
    return store.load(case.case_id) if steps > 1 else case


def live(n: int, steps: int, **options: Any) -> Case:
    cmds = commands(n, **options)
    lifecycle = Lifecycle.for_policy()
    case = lifecycle.open(cmds[0])  # type: ignore[arg-type]
    for command in cmds[1:steps]:
        case.execute(command)
    return case


# --------------------------------------------------------------------------- append and load


def test_a_saved_case_loads_equal_to_the_live_one(store: SQLStore) -> None:
    case = live(1, 12)
    assert store.save(case, 0) == 12
    loaded = store.load(case.case_id)
    assert loaded == case
    assert loaded.state is State.STEPPED_BACK
    assert store.version(case.case_id) == 12


def test_appends_in_batches_and_a_save_with_nothing_new_writes_nothing(store: SQLStore) -> None:
    case = live(1, 4)
    store.save(case, 0)
    for command in commands(1)[4:8]:
        case.execute(command)
    store.save(case, 4)
    head = store.checkpoint()
    assert store.save(case, case.version) == 8
    assert store.checkpoint() == head
    assert store.load(case.case_id) == case


def test_a_stale_version_is_a_conflict_and_writes_nothing(store: SQLStore) -> None:
    """The rule: append with the version the writer last saw (optimistic concurrency)."""
    first = opened(store, 1, steps=3)
    mine, theirs = store.load(first.case_id), store.load(first.case_id)
    nxt = commands(1)[3]
    theirs.execute(nxt)
    store.save(theirs, 3)
    head = store.checkpoint()
    mine.execute(nxt)
    with pytest.raises(ConcurrencyConflict) as caught:
        store.save(mine, 3)
    assert (caught.value.expected, caught.value.actual) == (3, 4)
    assert "reload the case and try again" in str(caught.value)
    assert store.checkpoint() == head
    assert store.load(first.case_id) == theirs
    assert store.verify().ok


def test_a_new_case_whose_id_is_taken_is_a_conflict(store: SQLStore) -> None:
    """A conflict of its own kind (CaseExists): the id is taken, not the version stale."""
    opened(store, 1)
    with pytest.raises(CaseExists, match="a new case needs a new id"):
        store.save(live(1, 1), 0)


def test_unit_of_work_loads_executes_and_saves(store: SQLStore) -> None:
    opened(store, 1)
    event = store.execute(commands(1)[1])
    assert event.number == 2
    assert store.version("C-001") == 2
    assert store.load("C-001").state is State.PLAN_REVIEW


def test_a_refused_command_saves_nothing(store: SQLStore) -> None:
    opened(store, 1, steps=4)
    decide = commands(1)[4]
    assert isinstance(decide, RecordMashDecision)
    bad = attrs.evolve(decide, decision=attrs.evolve(decide.decision, decision_maker="mash-99"))
    head = store.checkpoint()
    with pytest.raises(PolicyViolation):
        store.execute(bad)
    assert store.checkpoint() == head
    assert store.version("C-001") == 4


def test_save_refuses_bad_arguments(store: SQLStore) -> None:
    case = live(1, 2)
    with pytest.raises(InvalidInput, match="expected_version"):
        store.save(case, 3)
    with pytest.raises(InvalidInput, match="expected_version"):
        store.save(case, -1)
    with pytest.raises(InvalidInput, match="case"):
        store.save("C-001", 0)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="open_case"):
        store.execute(commands(1)[0])


def test_loading_a_missing_case(store: SQLStore) -> None:
    with pytest.raises(NoSuchCase, match="C-404"):
        store.load("C-404")
    assert store.version("C-404") == 0


# ---------------------------------------------------------------- one open case per pupil


def test_a_second_open_case_for_a_pupil_is_refused_naming_the_open_one(store: SQLStore) -> None:
    opened(store, 1, steps=3)
    second = attrs.evolve(commands(1)[0], case_id="C-SECOND")
    assert isinstance(second, OpenCase)
    with pytest.raises(OpenCaseExists) as caught:
        store.open_case(second)
    assert caught.value.open_case_id == "C-001"
    assert "C-001" in str(caught.value)
    assert "P000001" not in str(caught.value)
    assert [c.case_id for c in store.cases()] == ["C-001"]


def test_after_stepping_back_a_new_linked_case_may_be_opened(store: SQLStore) -> None:
    opened(store, 1, steps=12)
    again = attrs.evolve(
        commands(1, days_later=200)[0], case_id="C-AGAIN", previous_case_id="C-001"
    )
    assert isinstance(again, OpenCase)
    store.open_case(again)
    (summary,) = store.cases(pupil="P000001", open_only=True)
    assert summary.case_id == "C-AGAIN"
    assert summary.previous_case_id == "C-001"


def test_after_closing_a_new_linked_case_may_be_opened(store: SQLStore) -> None:
    opened(store, 1, steps=2)
    store.execute(
        CloseCase(
            case_id="C-001",
            actor=ACTORS[Role.COORDINATOR],
            at=START + dt.timedelta(days=3),
            reason=ClosureReason.MOVED_AWAY,
        )
    )
    again = attrs.evolve(
        commands(1, days_later=30)[0], case_id="C-AGAIN", previous_case_id="C-001"
    )
    assert isinstance(again, OpenCase)
    store.open_case(again)
    assert {c.case_id for c in store.cases(pupil="P000001")} == {"C-001", "C-AGAIN"}


# --------------------------------------------------------------------------- queries


def test_queries_by_state_school_and_pupil(store: SQLStore) -> None:
    opened(store, 1, steps=12)
    opened(store, 2, steps=5)
    opened(store, 3, steps=5)
    opened(store, 4, steps=1)
    assert [c.case_id for c in store.cases(state=State.MASH_DECIDED)] == ["C-002", "C-003"]
    assert [c.case_id for c in store.cases(school="SCH-0000")] == ["C-002", "C-004"]
    assert [c.case_id for c in store.cases(pupil="P000003")] == ["C-003"]
    assert [c.case_id for c in store.cases(open_only=True)] == ["C-002", "C-003", "C-004"]
    assert [c.case_id for c in store.cases(state=State.MASH_DECIDED, school="SCH-0001")] == [
        "C-003"
    ]
    assert store.cases(state=State.CLOSED) == ()
    summary = store.cases(pupil="P000001")[0]
    assert (summary.state, summary.version, summary.is_open) == (State.STEPPED_BACK, 12, False)
    with pytest.raises(InvalidInput, match="state"):
        store.cases(state="closed")  # type: ignore[arg-type]


def test_due_and_overdue_at_a_time(store: SQLStore) -> None:
    """A decision owes the school feedback: due, then overdue; met, it is gone."""
    case = opened(store, 1, steps=5)
    (decision,) = case.decisions
    decided_at = decision[0]
    (feedback,) = [d for d in case.deadlines() if d.kind is DutyKind.DECISION_FEEDBACK]
    before, after = feedback.due - dt.timedelta(seconds=1), feedback.due
    assert [(d.case_id, d.kind) for d in store.due(before)] == [
        ("C-001", DutyKind.DECISION_FEEDBACK)
    ]
    assert store.overdue(before) == ()
    (late,) = store.overdue(after)
    assert (late.case_id, late.kind, late.number) == ("C-001", DutyKind.DECISION_FEEDBACK, 1)
    assert late.due == feedback.due
    assert late.owed_since == decided_at
    store.execute(commands(1)[5])  # send the feedback
    assert store.overdue(after) == ()
    with pytest.raises(InvalidInput, match="at"):
        store.overdue(dt.datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose


def test_an_obligation_owed_outlives_the_closed_case(store: SQLStore) -> None:
    case = opened(store, 1, steps=4)
    decide = commands(1)[4]
    assert isinstance(decide, RecordMashDecision)
    nfa = attrs.evolve(
        decide, decision=attrs.evolve(decide.decision, outcome=MashOutcome.NO_FURTHER_ACTION)
    )
    store.execute(nfa)
    store.execute(
        CloseCase(
            case_id=case.case_id,
            actor=ACTORS[Role.COORDINATOR],
            at=nfa.at + dt.timedelta(hours=1),
            reason=ClosureReason.MASH_OUTCOME_NOT_EARLY_HELP,
        )
    )
    much_later = nfa.at + dt.timedelta(days=90)
    assert [(d.case_id, d.kind) for d in store.overdue(much_later)] == [
        ("C-001", DutyKind.DECISION_FEEDBACK)
    ]
    assert store.cases(state=State.CLOSED)[0].is_open is False


def test_the_audit_stream_is_every_event_in_store_order(store: SQLStore) -> None:
    opened(store, 1, steps=3)
    opened(store, 2, steps=2)
    store.execute(commands(1)[3])
    rows = list(store.events(batch=2))
    assert [r.seq for r in rows] == list(range(1, 7))
    assert [(r.case_id, r.number) for r in rows] == [
        ("C-001", 1),
        ("C-001", 2),
        ("C-001", 3),
        ("C-002", 1),
        ("C-002", 2),
        ("C-001", 4),
    ]
    assert rows[0].type == "open_case"
    assert rows[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
    assert [r.seq for r in store.events(after=4)] == [5, 6]
    assert all("Synthetic" not in repr(r) for r in rows)  # payloads stay out of reprs
    assert any("Synthetic" in (r.payload or "") for r in rows)


# --------------------------------------------------------------------------- integrity


def test_an_untouched_store_verifies_against_its_checkpoint(store: SQLStore) -> None:
    assert store.verify().ok
    assert store.checkpoint() == Checkpoint(0, "0" * 64)
    opened(store, 1, steps=6)
    checkpoint = store.checkpoint()
    assert checkpoint.seq == 6
    opened(store, 2, steps=3)
    result = store.verify(against=checkpoint)
    assert result.ok, result.problems
    assert result.events == 9
    assert result.head == store.checkpoint()
    assert Checkpoint.parse(str(checkpoint)) == checkpoint
    result.raise_for_problems()


def test_a_checkpoint_from_another_history_does_not_verify(store: SQLStore) -> None:
    opened(store, 1, steps=3)
    forged = Checkpoint(2, "a" * 64)
    result = store.verify(against=forged)
    assert not result.ok
    assert "differs from the checkpoint" in str(result.problems[0])
    beyond = Checkpoint(99, "a" * 64)
    assert "past the end of the log" in str(store.verify(against=beyond).problems[0])
    with pytest.raises(StoreError, match="does not verify"):
        store.verify(against=forged).raise_for_problems()


def test_checkpoint_text_is_checked() -> None:
    for text in ("", "12", "x:" + "a" * 64, "3:" + "a" * 63, "3:" + "g" * 64):
        with pytest.raises(InvalidInput, match="SEQ:HASH"):
            Checkpoint.parse(text)


def test_a_keyed_store_needs_its_key(store_factory: StoreFactory) -> None:
    keyed = store_factory(key=KEY)
    opened(keyed, 1, steps=3)
    assert keyed.keyed
    assert keyed.verify().ok
    keyless = store_factory()
    assert keyless.keyed
    with pytest.raises(StoreError, match="keyed"):
        keyless.verify()
    with pytest.raises(StoreError, match="keyed"):
        keyless.execute(commands(1)[3])
    assert keyless.load("C-001").version == 3  # reading needs no key
    wrong = store_factory(key=b"another-synthetic-key-987654")
    assert not wrong.verify().ok


def test_a_plain_store_refuses_a_key(store_factory: StoreFactory) -> None:
    plain = store_factory()
    opened(plain, 1)
    assert not plain.keyed
    with pytest.raises(StoreError, match="not keyed"):
        store_factory(key=KEY).execute(commands(1)[1])
    with pytest.raises(InvalidInput, match="key"):
        store_factory(key=b"short")


def test_reopening_the_store_keeps_everything(store_factory: StoreFactory) -> None:
    first = store_factory()
    case = opened(first, 1, steps=7)
    head = first.checkpoint()
    first.close()
    again = store_factory()
    assert again.load("C-001") == case
    assert again.checkpoint() == head
    assert again.verify().ok


# --------------------------------------------------------------------------- retention


def finished(store: SQLStore, n: int) -> Case:
    return opened(store, n, steps=12)


def test_erasure_removes_personal_data_and_the_store_still_verifies(
    store_factory: StoreFactory,
) -> None:
    store = store_factory(retention=dt.timedelta(days=365))
    case = finished(store, 1)
    opened(store, 2, steps=3)
    auditor = Actor("dpo-01", Role.AUDITOR)
    assert case.stepped_back_at is not None
    with pytest.raises(ErasureRefused, match="retention"):
        store.erase(
            "C-001",
            actor=auditor,
            at=case.stepped_back_at + dt.timedelta(days=364),
            reason="Synthetic: retention ended.",
        )
    at = case.stepped_back_at + dt.timedelta(days=366)
    store.erase("C-001", actor=auditor, at=at, reason="Synthetic: retention ended.")
    with pytest.raises(CaseErased):
        store.load("C-001")
    (summary,) = store.cases(state=State.STEPPED_BACK)
    assert summary.erased
    assert summary.pupil is None
    rows = [r for r in store.events() if r.case_id == "C-001"]
    assert all(r.payload is None for r in rows[:-1])
    assert rows[-1].type == "erasure"
    assert rows[-1].number is None
    assert store.verify().ok
    assert store.load("C-002").version == 3
    assert store.cases(pupil="P000001") == ()


def test_erasure_is_refused_while_open_or_owing(store: SQLStore) -> None:
    auditor = Actor("dpo-01", Role.AUDITOR)
    late = START + dt.timedelta(days=4000)
    opened(store, 1, steps=3)
    with pytest.raises(ErasureRefused, match="still open"):
        store.erase("C-001", actor=auditor, at=late, reason="Synthetic.")
    opened(store, 2, steps=4)
    decide = commands(2)[4]
    assert isinstance(decide, RecordMashDecision)
    store.execute(
        attrs.evolve(
            decide, decision=attrs.evolve(decide.decision, outcome=MashOutcome.NO_FURTHER_ACTION)
        )
    )
    store.execute(
        CloseCase(
            case_id="C-002",
            actor=ACTORS[Role.COORDINATOR],
            at=decide.at + dt.timedelta(hours=1),
            reason=ClosureReason.MASH_OUTCOME_NOT_EARLY_HELP,
        )
    )
    with pytest.raises(ErasureRefused, match="owes the school"):
        store.erase("C-002", actor=auditor, at=late, reason="Synthetic.")
    with pytest.raises(InvalidInput, match="reason"):
        store.erase("C-002", actor=auditor, at=late, reason=" ")
    assert store.verify().ok


def test_a_command_for_an_erased_case_is_refused(store: SQLStore) -> None:
    case = finished(store, 1)
    assert case.stepped_back_at is not None
    store.erase(
        "C-001",
        actor=Actor("dpo-01", Role.AUDITOR),
        at=case.stepped_back_at + dt.timedelta(days=1),
        reason="Synthetic.",
    )
    info = SubmitAdditionalInformation(
        case_id="C-001",
        actor=ACTORS[Role.SCHOOL],
        at=START + dt.timedelta(days=400),
        summary="Synthetic.",
    )
    with pytest.raises(CaseErased):
        store.execute(info)


# --------------------------------------------------------------------------- bad stored data


def test_an_unreadable_stored_event_is_a_schema_error_naming_where(store: SQLStore) -> None:
    opened(store, 1, steps=5)
    _raw_update(
        store,
        "UPDATE chronic_na_events SET payload = "
        'REPLACE(payload, \'"outcome":"early_help"\', \'"outcome":"maybe"\') '
        "WHERE case_id = 'C-001' AND number = 5",
    )
    with pytest.raises(SchemaError) as caught:
        store.load("C-001")
    error = caught.value
    assert (error.case_id, error.position) == ("C-001", 5)
    assert error.field == "command.decision.outcome"
    assert "maybe" not in str(error)
    assert not store.verify().ok  # and the edit is seen


def _raw_update(store: SQLStore, sql: str) -> None:
    with store._transaction() as cur:
        cur.execute(sql)


# --------------------------------------------------------------------------- driver errors


def test_sqlite_driver_errors_become_store_errors(tmp_path: Any) -> None:
    from chronic_na.store import SQLiteStore

    path = tmp_path / "not-a-store.sqlite"
    path.write_bytes(b"ZZ-MARKER not a database " * 100)
    with pytest.raises(StoreError, match=r"SQLite could not .* \(SQLITE_NOTADB\)") as caught:
        SQLiteStore(path)
    assert "ZZ-MARKER" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.driver_error is not None  # type: ignore[attr-defined]
    with pytest.raises(InvalidInput, match="synchronous"):
        SQLiteStore(tmp_path / "s.sqlite", synchronous="SOMETIMES")


@pytest.mark.postgres
def test_postgres_driver_errors_become_store_errors() -> None:
    from conftest import pg_dsn

    pg_dsn()
    from chronic_na.store.postgres import PostgresStore

    with pytest.raises(StoreError, match="PostgreSQL could not connect"):
        PostgresStore("postgresql://nobody@127.0.0.1:1/none", connect_timeout=2)
    with pytest.raises(InvalidInput, match="schema"):
        PostgresStore(pg_dsn(), schema='x"; DROP TABLE y; --')


def test_a_constraint_the_driver_enforces_is_translated(store: SQLStore) -> None:
    """The partial unique index backs up the one-open-case rule even if the
    check before it were bypassed: the driver's error comes out as a StoreError."""
    opened(store, 1)
    with pytest.raises(StoreError) as caught:
        _raw_update(
            store,
            "INSERT INTO chronic_na_cases (case_id, pupil, school, state, "
            "version, is_open, previous_case_id, erased) VALUES "
            "('C-X', 'P000001', 'SCH-0001', 'identified', 1, 1, NULL, 0)",
        )
    assert "P000001" not in str(caught.value)
