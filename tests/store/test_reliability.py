"""Reliability of the store, shown by real OS processes (issue 4, section 5).

Every writer here is a separate OS process (``_writer_process.py``, forked
by a ``multiprocessing`` fork server) with its own connection, on both
backends (SQLite in a file, PostgreSQL on the test server). Each writer tells
the parent, message by message over a pipe, every append it is about to make
(with a signature of each new event) and whether that append returned or
raised ``ConcurrencyConflict``, before it goes on; a message written to a
pipe survives its writer being killed. The parent then reads the store with
a connection of its own and compares it with those reports, event by event.

What is shown:

- several writers appending to the same case at once lose and duplicate
  nothing, and every writer whose append was refused was told so
  (``ConcurrencyConflict``), in lockstep (exactly one winner a round) and
  running freely;
- several writers appending to different cases at once keep one unbroken
  store-wide chain;
- a writer killed with SIGKILL (just before the commit, just after it, and at
  random points) leaves a store that opens and verifies, in which every
  append that returned is present and the one in flight is wholly present or
  wholly absent.

No assertion depends on timing: the random kills only choose where a writer
dies, and every outcome they can produce is checked.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Iterator
from multiprocessing import forkserver
from pathlib import Path
from typing import Any

import _writer_process
import attrs
import pytest
from _writer_process import OPENING_EVENTS, opened_case, signature

from chronic_na.store import NoSuchCase, SQLStore
from conftest import make_store

# A writer costs a fork of a server that has already imported (and warmed up)
# the library, not a new interpreter: the trials stay quick.
CONTEXT = multiprocessing.get_context("forkserver")
HANG = 120.0
"""Seconds of silence after which a writer is taken to hang (a failure, not a timing assertion:
a healthy writer says something within milliseconds)."""

KILL_POINTS = ["before-commit", "after-commit", "random"]
KILL_TRIALS = {"sqlite": 30, "postgres": 30}
"""Trials per kill point: 90 on SQLite and 90 on PostgreSQL."""


# --------------------------------------------------------------------------- the parent's side

STARTED: list[Writer] = []


@pytest.fixture(scope="module", autouse=True)
def _fork_server() -> None:
    """Start the fork server with ``_writer_process`` preloaded.

    Python 3.11's fork server does not take the parent's ``sys.path`` for its
    preloads, so this directory is put on its ``PYTHONPATH``. Were a fork
    server already running (started elsewhere without the preload), the
    writers would import the module themselves: slower, as correct.
    """
    here = str(Path(__file__).parent)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(
            "PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
        )
        CONTEXT.set_forkserver_preload(["_writer_process"])
        forkserver.ensure_running()


@pytest.fixture(autouse=True)
def _no_writer_left_behind() -> Iterator[None]:
    """A test that fails half-way leaves no writer running."""
    yield
    while STARTED:
        writer = STARTED.pop()
        writer.proc.kill()
        writer.proc.join()
        writer.conn.close()


@attrs.define
class Append:
    """One append a writer reported: what it tried, and what happened."""

    writer: int
    attempt: int
    expected: int
    events: list[str]
    outcome: str | None = None
    """``"ok"``, ``"conflict"``, or ``None`` if the writer never said (it was killed)."""
    version: int | None = None
    actual: int | None = None


class Writer:
    """One writer process, and what it has said so far."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.number: int = config["writer"]
        self.conn, theirs = CONTEXT.Pipe()
        self.proc = CONTEXT.Process(target=_writer_process.main, args=(config, theirs))
        self.proc.start()
        theirs.close()
        self.messages: list[dict[str, Any]] = []
        STARTED.append(self)

    def errors(self) -> str:
        return "\n".join(m["error"] for m in self.messages if "error" in m)

    def read(self) -> dict[str, Any]:
        """The writer's next message (it must send one)."""
        if not self.conn.poll(HANG):
            pytest.fail(f"writer {self.number} hung")
        try:
            message: dict[str, Any] = self.conn.recv()
        except EOFError:
            pytest.fail(f"writer {self.number} stopped talking:\n{self.errors()}")
        self.messages.append(message)
        assert "error" not in message, message["error"]
        return message

    def send(self, order: str) -> None:
        self.conn.send(order)

    def kill(self) -> None:
        """SIGKILL."""
        self.proc.kill()

    def finish(self) -> int:
        """Read the rest of what the writer says until it ends; its exit status."""
        while True:
            if not self.conn.poll(HANG):
                self.proc.kill()
                pytest.fail(f"writer {self.number} hung")
            try:
                self.messages.append(self.conn.recv())
            except EOFError:  # it has ended (a message cut short by a kill was never said)
                break
        self.proc.join()
        code = self.proc.exitcode
        assert code is not None
        self.conn.close()
        self.proc.close()
        STARTED.remove(self)
        return code

    def stop(self) -> None:
        """Tell a writer in lockstep to end (if it is still listening)."""
        with contextlib.suppress(OSError):
            self.send("stop")

    def appends(self) -> list[Append]:
        """Every append the writer reported trying, with its outcome."""
        found: dict[int, Append] = {}
        for m in self.messages:
            if "try" in m:
                found[m["try"]] = Append(self.number, m["try"], m["expected"], m["events"])
            elif "ok" in m:
                found[m["ok"]].outcome, found[m["ok"]].version = "ok", m["version"]
            elif "conflict" in m:
                append = found[m["conflict"]]
                assert m["expected"] == append.expected
                append.outcome, append.actual = "conflict", m["actual"]
        return list(found.values())


def config(
    location: dict[str, Any], case_id: str, writer: int, mode: str, **more: Any
) -> dict[str, Any]:
    """A writer's configuration (see ``_writer_process.py``); its pupil is its own."""
    return {
        "location": location,
        "case_id": case_id,
        "pupil": f"P{writer + 1:06d}",
        "writer": writer,
        "mode": mode,
        "seed": writer,
        **more,
    }


def stored(store: SQLStore, case_id: str) -> list[str]:
    """The signatures of the case's stored events, in order ([] if it is not in the store)."""
    try:
        case = store.load(case_id)
    except NoSuchCase:
        return []
    return [signature(e) for e in case.events]


def open_shared_case(store: SQLStore, case_id: str) -> list[str]:
    """Open the case the writers share; its events' signatures."""
    case = opened_case(case_id, "P900001")
    store.save(case, 0)
    return [signature(e) for e in case.events]


def check_one_case(store: SQLStore, case_id: str, base: list[str], appends: list[Append]) -> None:
    """The case holds exactly ``base`` and the returned appends, each once, in version order;
    every refused append was refused for a version the case really had."""
    assert all(a.outcome is not None for a in appends), "every writer heard back"
    returned = sorted((a for a in appends if a.outcome == "ok"), key=lambda a: a.expected)
    version, expected, versions = len(base), list(base), {len(base)}
    for a in returned:
        assert a.expected == version, f"two appends accepted after version {a.expected}"
        assert a.version == a.expected + len(a.events)
        version = a.version
        versions.add(version)
        expected.extend(a.events)
    have = stored(store, case_id)
    assert have == expected
    assert len(set(have)) == len(have), "an event stored twice"
    kept = set(have)
    for a in appends:
        if a.outcome == "conflict":
            assert a.actual in versions, a
            assert a.actual != a.expected, a
            assert kept.isdisjoint(a.events), "a refused append was stored"
    assert store.version(case_id) == version


def check_chain(store: SQLStore, events: int) -> None:
    """The store verifies, and holds ``events`` rows numbered 1 to ``events`` without a gap."""
    result = store.verify()
    assert result.ok, [str(p) for p in result.problems]
    assert result.events == events
    assert result.head == store.checkpoint()
    assert [e.seq for e in store.events()] == list(range(1, events + 1))


# --------------------------------------------------------------------------- concurrent writers


WRITERS = 4


def test_writers_in_lockstep_on_one_case_one_wins_each_round_the_rest_are_told(
    store_location: dict[str, Any],
) -> None:
    """Four processes load the same version of one case, then all append at once,
    round after round: each round exactly one append is stored and the other three
    writers get ConcurrencyConflict naming the winner's version; nothing else is
    stored, and the chain verifies."""
    rounds = 6
    with make_store(store_location) as store:
        base = open_shared_case(store, "C-LOCK")
    writers = [Writer(config(store_location, "C-LOCK", w, "rounds"))
               for w in range(WRITERS)]  # fmt: skip
    try:
        for w in writers:
            assert "ready" in w.read()
        version = len(base)
        for _ in range(rounds):
            for w in writers:
                w.send("load")
            assert {w.read()["expected"] for w in writers} == {version}
            for w in writers:
                w.send("save")
            outcomes = []
            for w in writers:
                tried = w.read()
                assert tried["expected"] == version
                outcomes.append((tried, w.read()))
            won = [(t, o) for t, o in outcomes if "ok" in o]
            assert len(won) == 1, outcomes
            tried, ok = won[0]
            assert ok["version"] == version + len(tried["events"])
            for _, o in outcomes:
                if o is not ok:
                    assert o == {"conflict": o.get("conflict"), "expected": version,
                                 "actual": ok["version"]}  # fmt: skip
            version = ok["version"]
    finally:
        for w in writers:
            w.stop()
        codes = [w.finish() for w in writers]
    assert codes == [0] * WRITERS, [w.errors() for w in writers]
    appends = [a for w in writers for a in w.appends()]
    assert sum(a.outcome == "conflict" for a in appends) == rounds * (WRITERS - 1)
    with make_store(store_location) as store:
        check_one_case(store, "C-LOCK", base, appends)
        check_chain(store, version)


def test_writers_running_freely_on_one_case_lose_and_duplicate_nothing(
    store_location: dict[str, Any],
) -> None:
    """Four processes append to one case as fast as they can, each reloading before
    every append: every append that returned is stored exactly once, at the
    version it was accepted at; every other append raised ConcurrencyConflict
    (for a version the case really had) and left nothing; the chain verifies."""
    attempts = 12
    with make_store(store_location) as store:
        base = open_shared_case(store, "C-FREE")
    writers = [Writer(config(store_location, "C-FREE", w, "free", attempts=attempts))
               for w in range(WRITERS)]  # fmt: skip
    codes = [w.finish() for w in writers]
    assert codes == [0] * WRITERS, [w.errors() for w in writers]
    appends = [a for w in writers for a in w.appends()]
    assert len(appends) == WRITERS * attempts
    with make_store(store_location) as store:
        check_one_case(store, "C-FREE", base, appends)
        check_chain(store, store.version("C-FREE"))


def test_writers_on_different_cases_keep_one_unbroken_chain(store_location: dict[str, Any]) -> None:
    """Four processes, each opening and appending to a case of its own, at once,
    starting on an empty store (so they also race to create the tables): every
    append returns, each case holds exactly its writer's appends, and the
    store-wide chain verifies with its sequence numbers 1..N without a gap."""
    attempts = 10
    writers = [
        Writer(config(store_location, f"C-OWN-{w}", w, "free", attempts=attempts))
        for w in range(WRITERS)
    ]
    codes = [w.finish() for w in writers]
    assert codes == [0] * WRITERS, [w.errors() for w in writers]
    total = 0
    with make_store(store_location) as store:
        for w in writers:
            appends = w.appends()
            assert [a.outcome for a in appends] == ["ok"] * attempts
            check_one_case(store, f"C-OWN-{w.number}", [], appends)
            total += store.version(f"C-OWN-{w.number}")
        check_chain(store, total)


# --------------------------------------------------------------------------- killed writers


def in_flight_and_returned(appends: list[Append]) -> tuple[Append | None, list[str]]:
    """The append the writer died in (if any), and the events of those that returned."""
    assert all(a.outcome != "conflict" for a in appends), "a lone writer was refused"
    unfinished = [a for a in appends if a.outcome is None]
    assert len(unfinished) <= 1
    assert not unfinished or unfinished[0] is appends[-1], (
        "a writer went on after an unfinished append"
    )
    returned: list[str] = []
    for a in appends:
        if a.outcome == "ok":
            assert a.expected == len(returned)
            returned.extend(a.events)
    return (unfinished[0] if unfinished else None), returned


@pytest.mark.slow
@pytest.mark.parametrize("where", KILL_POINTS)
def test_a_writer_killed_with_sigkill_loses_no_returned_append_and_leaves_no_half_append(
    store_location: dict[str, Any], where: str
) -> None:
    """A writer appending in a loop is killed with SIGKILL: by itself just before
    the backend's commit, just after it, or by the parent after a random delay.
    After every kill the store opens (with a new connection) and verifies; every
    append the writer reported as returned is present; the append in flight is
    wholly absent if the kill came before the commit, wholly present if it came
    after, and one or the other at a random point (never a part of its batch).
    A kill can land in the opening batch of nine events. The trials share one
    store, so each writer also starts on a store a killed writer left.

    30 trials per kill point on each backend (90 on SQLite, 90 on PostgreSQL).
    """
    rng = random.Random(f"{where}-{store_location['backend']}")
    with make_store(store_location):
        pass  # the tables exist before the first writer starts
    total = 0
    kept: dict[str, list[str]] = {}
    for trial in range(KILL_TRIALS[store_location["backend"]]):
        case_id = f"K-{trial:03d}"
        more: dict[str, Any] = {}
        if where != "random":
            # 0 is the opening batch; later appends are 1-3 reviews.
            more["kill"] = {"attempt": rng.randrange(5), "where": where}
        writer = Writer(config(store_location, case_id, trial, "loop", **more))
        if where == "random":
            assert "ready" in writer.read()
            time.sleep(rng.uniform(0.0, 0.1))
            writer.kill()
        code = writer.finish()
        assert code == -signal.SIGKILL, f"trial {trial}: exit {code}\n{writer.errors()}"
        appends = writer.appends()
        in_flight, returned = in_flight_and_returned(appends)
        if where != "random":
            assert in_flight is not None
            assert in_flight.attempt == more["kill"]["attempt"]
        with make_store(store_location) as store:
            result = store.verify()
            assert result.ok, (trial, [str(p) for p in result.problems])
            have = stored(store, case_id)
            if in_flight is None or where == "before-commit":
                assert have == returned, trial
            elif where == "after-commit":
                assert have == returned + in_flight.events, trial
            else:
                assert have in (returned, returned + in_flight.events), trial
            kept[case_id] = have
            total += len(have)
            assert result.events == total, f"trial {trial}: rows in the log that no case holds"
    # At the end: every trial's case is as it was left, the chain is whole, and
    # the store still takes appends after the last kill.
    with make_store(store_location) as store:
        for case_id, have in kept.items():
            assert stored(store, case_id) == have
        check_chain(store, total)
        store.save(opened_case("K-END", "P900002"), 0)
        check_chain(store, total + OPENING_EVENTS)
