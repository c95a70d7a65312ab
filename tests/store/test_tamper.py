"""Tampering with the stored log is seen by ``verify``, on every backend.

Each test fills a store with a few synthetic cases, then edits the stored
rows behind the store's back, as someone with write access to the database
could: a single-character change to any column of any event, a deleted
event (or a whole case), a forged event inserted (correctly chained to the
event before it), two events swapped. ``verify`` must report a problem, and
the problem must name the event that was touched (or its neighbour in the
chain). After every example the rows are put back as they were and the
store verifies again, so one store serves every example.

Rewriting the whole chain after an edit (recomputing every later hash and
the head) is undetectable without something kept outside the database: a
checkpoint proves it, and so does a key (HMAC) the forger does not hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from chronic_na.errors import StoreError
from chronic_na.pathway import Command, OpenCase
from chronic_na.store import SQLStore
from chronic_na.store.base import GENESIS, chain_hash, payload_digest
from chronic_na.testing import LONDON, full_pathway
from conftest import StoreFactory

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)
COLUMNS = ("seq", "case_id", "number", "type", "schema", "payload", "digest", "prev_hash", "hash")
TEXT_COLUMNS = ("case_id", "type", "payload", "digest", "prev_hash", "hash")
KEY = b"synthetic-tamper-key-0123456789"
STEPS = (12, 7, 4, 9)
"""Commands given to each synthetic case: 32 events in all, interleaved in the log."""

Row = tuple[Any, ...]


def fill(store: SQLStore) -> None:
    """Four synthetic cases, their commands given in turn so the log interleaves them."""
    paths: list[list[Command]] = [
        list(full_pathway(f"C-{n:03d}", START, pupil=f"P{n:06d}", school="SCH-0001"))[:steps]
        for n, steps in enumerate(STEPS, start=1)
    ]
    for path in paths:
        first = path[0]
        assert isinstance(first, OpenCase)
        store.open_case(first)
    for i in range(1, max(STEPS)):
        for path in paths:
            if i < len(path):
                store.execute(path[i])


def rows(store: SQLStore) -> tuple[list[Row], Row]:
    """Every event row in store order, and the head (seq, hash)."""
    with store._read() as cur:
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM chronic_na_events ORDER BY seq")
        events = [tuple(r) for r in cur.fetchall()]
        cur.execute("SELECT seq, hash FROM chronic_na_head WHERE id = 1")
        head = tuple(cur.fetchone())
    return events, head


def write(store: SQLStore, events: Sequence[Row], head: Row) -> None:
    """Replace every event row and the head, in one transaction."""
    marks = ", ".join("?" * len(COLUMNS))
    with store._transaction() as cur:
        cur.execute("DELETE FROM chronic_na_events")
        cur.executemany(
            store._sql(f"INSERT INTO chronic_na_events ({', '.join(COLUMNS)}) VALUES ({marks})"),
            [tuple(r) for r in events],
        )
        cur.execute(store._sql("UPDATE chronic_na_head SET seq = ?, hash = ? WHERE id = 1"), head)


def other_char(old: str, pick: int) -> str:
    """A printable ASCII character other than ``old``."""
    alphabet = [chr(c) for c in range(0x21, 0x7F) if chr(c) != old]
    return alphabet[pick % len(alphabet)]


# --------------------------------------------------------------------------- tampering


def edit_one_character(
    events: list[Row], index: int, column: str, position: int, pick: int
) -> tuple[list[Row], set[int]]:
    """One character (or an integer by one) changed in one column of one event."""
    row = list(events[index])
    at = COLUMNS.index(column)
    value = row[at]
    if column in TEXT_COLUMNS:
        position %= len(value)
        row[at] = value[:position] + other_char(value[position], pick) + value[position + 1 :]
    elif column == "seq":
        row[at] = events[-1][0] + 1 + pick % 5  # moved past the end: a gap where it was
    else:
        row[at] = value + (1 if pick % 2 else -1)
    tampered = [*events[:index], tuple(row), *events[index + 1 :]]
    # The changed row is named; an edited seq is named where it now stands.
    return tampered, {row[0]}


def delete(events: list[Row], index: int) -> tuple[list[Row], set[int]]:
    """One event removed: the next event is named (a gap, a broken link), or for the
    last event the head."""
    seq = events[index][0]
    return [*events[:index], *events[index + 1 :]], {seq, seq + 1}


def insert_forged(events: list[Row], index: int, pick: int) -> tuple[list[Row], set[int]]:
    """A forged event inserted before ``events[index]``, its digest and hash computed
    as the store would (chained to the event before it); later events move up one."""
    seq = events[index][0]
    prev = events[index - 1][-1] if index else GENESIS
    payload = f'{{"forged":{pick}}}'
    digest = payload_digest(payload)
    case_id, number, kind, schema = "C-FORGED", 1, "open_case", 1
    forged = (seq, case_id, number, kind, schema, payload, digest, prev,
              chain_hash(prev, seq, case_id, number, kind, schema, digest, None))  # fmt: skip
    shifted = [(r[0] + 1, *r[1:]) for r in events[index:]]
    return [*events[:index], forged, *shifted], {seq + 1}


def swap(events: list[Row], i: int, j: int) -> tuple[list[Row], set[int]]:
    """Two events exchange places in the log (each keeps everything but its seq)."""
    i, j = sorted((i, j))
    a, b = events[i], events[j]
    tampered = list(events)
    tampered[i] = (a[0], *b[1:])
    tampered[j] = (b[0], *a[1:])
    return tampered, {a[0]}


@st.composite
def tampering(draw: st.DrawFn, count: int) -> tuple[str, tuple[Any, ...]]:
    kind = draw(st.sampled_from(["edit", "delete", "insert", "swap"]))
    index = draw(st.integers(0, count - 1))
    if kind == "edit":
        column = draw(st.sampled_from(COLUMNS))
        return kind, (index, column, draw(st.integers(0, 10_000)), draw(st.integers(0, 200)))
    if kind == "delete":
        return kind, (index,)
    if kind == "insert":
        return kind, (index, draw(st.integers(0, 1_000)))
    other = draw(st.integers(0, count - 2))
    return kind, (index, other if other < index else other + 1)


def apply(events: list[Row], kind: str, args: tuple[Any, ...]) -> tuple[list[Row], set[int]]:
    if kind == "edit":
        return edit_one_character(events, *args)
    if kind == "delete":
        return delete(events, *args)
    if kind == "insert":
        return insert_forged(events, *args)
    return swap(events, *args)


@pytest.fixture
def filled(store: SQLStore) -> Iterator[tuple[SQLStore, list[Row], Row]]:
    fill(store)
    events, head = rows(store)
    assert len(events) == sum(STEPS)
    assert store.verify().ok
    yield store, events, head
    write(store, events, head)
    assert store.verify().ok, "the store was not put back as it was"


def test_any_single_change_deletion_insertion_or_swap_is_detected(
    filled: tuple[SQLStore, list[Row], Row],
) -> None:
    """Every tampering of one event is reported, naming that event (or, for a deletion
    or an insertion, the event after it, whose link to the chain is broken)."""
    store, events, head = filled

    @settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(tampering(len(events)))
    def check(change: tuple[str, tuple[Any, ...]]) -> None:
        tampered, named = apply(events, *change)
        try:
            write(store, tampered, head)
        except StoreError:
            # The database itself refused the edit (a second event with the same case
            # and number): nothing was changed, so there is nothing to detect.
            reject()
        try:
            result = store.verify()
        finally:
            write(store, events, head)
        assert not result.ok, change
        assert named & {p.seq for p in result.problems}, (change, result.problems)

    check()


@pytest.mark.parametrize("index", [0, 13, sum(STEPS) - 1])
def test_a_whole_case_deleted_is_detected(
    filled: tuple[SQLStore, list[Row], Row], index: int
) -> None:
    """Removing every event of one case (the one whose event is at ``index``) breaks
    the store-wide chain; a per-case chain could not see it."""
    store, events, head = filled
    case_id = events[index][1]
    write(store, [r for r in events if r[1] != case_id], head)
    assert not store.verify().ok


def test_a_cut_tail_with_its_head_rewritten_is_caught_by_the_checkpoint(
    filled: tuple[SQLStore, list[Row], Row],
) -> None:
    """Deleting the last events and setting the head to what is left gives a log that
    verifies on its own; the checkpoint kept outside the store proves it was cut."""
    store, events, _ = filled
    checkpoint = store.checkpoint()
    kept = events[:-3]
    write(store, kept, (kept[-1][0], kept[-1][-1]))
    assert store.verify().ok
    result = store.verify(against=checkpoint)
    assert not result.ok
    assert "past the end of the log" in result.problems[0].what


def rechain(events: Sequence[Row], key: bytes | None) -> list[Row]:
    """Every digest and hash recomputed from the payloads, as a forger would."""
    out: list[Row] = []
    prev = GENESIS
    for seq, case_id, number, kind, schema, payload, _, _, _ in events:
        digest = payload_digest(payload)
        hashed = chain_hash(prev, seq, case_id, number, kind, schema, digest, key)
        out.append((seq, case_id, number, kind, schema, payload, digest, prev, hashed))
        prev = hashed
    return out


def _edited_payload(events: list[Row], index: int) -> list[Row]:
    row = list(events[index])
    row[5] = row[5].replace('"summary":"', '"summary":"Edited. ', 1)
    assert row[5] != events[index][5]
    return [*events[:index], tuple(row), *events[index + 1 :]]


def test_a_rewritten_chain_is_caught_by_the_checkpoint(
    filled: tuple[SQLStore, list[Row], Row],
) -> None:
    """An edit followed by a recomputed chain verifies on its own (nothing in the
    database can tell), but not against a checkpoint taken before the edit."""
    store, events, _ = filled
    checkpoint = store.checkpoint()
    index = next(i for i, r in enumerate(events) if '"summary":"' in r[5])
    forged = rechain(_edited_payload(events, index), None)
    write(store, forged, (forged[-1][0], forged[-1][-1]))
    assert store.verify().ok
    result = store.verify(against=checkpoint)
    assert not result.ok
    assert "rewritten" in result.problems[0].what


def test_a_keyed_chain_cannot_be_recomputed_without_its_key(store_factory: StoreFactory) -> None:
    """With the chain keyed (HMAC), a forger who recomputes it without the key is caught
    by verify alone, at the first event the forger touched."""
    store = store_factory(key=KEY)
    fill(store)
    events, _ = rows(store)
    index = next(i for i, r in enumerate(events) if '"summary":"' in r[5])
    for guessed in (None, b"not-the-key"):
        forged = rechain(_edited_payload(events, index), guessed)
        write(store, forged, (forged[-1][0], forged[-1][-1]))
        result = store.verify()
        assert not result.ok
        assert result.problems[0].seq == events[0][0]  # the first event recomputed
    write(store, rechain(events, KEY), (events[-1][0], events[-1][-1]))
    assert store.verify().ok  # recomputed with the real key: the same chain
