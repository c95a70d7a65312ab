"""A store writer in its own OS process, for ``test_reliability.py``.

:func:`main` is the target of a ``multiprocessing`` process (the parent
starts it with the ``forkserver`` method, this module preloaded, so that a
writer costs a fork rather than a new interpreter). The writer opens the
store named in its configuration and appends to one case, telling its parent
everything over a pipe (a ``multiprocessing`` connection), one message per
step, sent before it goes on (a message written to a pipe survives the
writer being killed):

- ``{"ready": PID}`` once the store is open;
- ``{"try": A, "expected": V, "events": [SIGNATURE, ...]}`` before append
  ``A`` (``V`` the version it loaded; one signature per new event);
- then ``{"ok": A, "version": N}`` once the append returned, or
  ``{"conflict": A, "expected": V, "actual": N}`` if it raised
  ``ConcurrencyConflict``;
- ``{"done": true}`` at the end, or ``{"error": TRACEBACK}`` (exit status 1)
  on any other error. A killed writer never gets there.

Modes (``config["mode"]``):

- ``"free"``: ``attempts`` appends, one after another, as fast as it can;
- ``"rounds"``: in lockstep with the parent, which sends orders: ``load``
  loads the case and prepares the next append (answering ``{"loaded": A,
  "expected": V}``), ``save`` appends it, ``stop`` ends;
- ``"loop"``: appends until killed. With ``kill`` (``{"attempt": A,
  "where": "before-commit" | "after-commit"}``) it sends itself SIGKILL in
  append ``A``, just before or just after the backend's real commit.

The case is opened by the writer's first append when it is not yet in the
store (nine events in one batch, up to the start of the intervention); every
later append is one to three reviews, each with a summary naming the
writer, the append and the event, so that the parent can tell every stored
event's origin. Everything is synthetic (``chronic_na.testing``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import random
import signal
import sys
import traceback
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any

from chronic_na.errors import ConcurrencyConflict
from chronic_na.lifecycle import Case, Event, Lifecycle
from chronic_na.pathway import OpenCase, RecordReview
from chronic_na.records import Role
from chronic_na.store import NoSuchCase, SQLiteStore, SQLStore
from chronic_na.testing import ACTORS, LONDON, full_pathway

with contextlib.suppress(ImportError):  # preloaded in the fork server when installed
    import chronic_na.store.postgres  # noqa: F401

START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=LONDON)
OPENING_EVENTS = 9
"""OpenCase to StartIntervention: the case is then in the intervention, where reviews repeat."""

LIFECYCLE = Lifecycle.for_policy()


def open_store(location: dict[str, Any]) -> SQLStore:
    """The store at ``location`` (the ``store_location`` fixture's keyword arguments)."""
    if location["backend"] == "sqlite":
        return SQLiteStore(location["path"], lifecycle=LIFECYCLE)
    from chronic_na.store.postgres import PostgresStore

    return PostgresStore(location["dsn"], schema=location["schema"], lifecycle=LIFECYCLE)


def signature(event: Event) -> str:
    """What tells one stored event from another: its kind and any summary."""
    return f"{event.kind}:{getattr(event.command, 'summary', '')}"


def opened_case(case_id: str, pupil: str) -> Case:
    """A new case, not yet saved, taken to the start of the intervention."""
    commands = list(full_pathway(case_id, START, pupil=pupil))[:OPENING_EVENTS]
    first = commands[0]
    assert isinstance(first, OpenCase)
    case = LIFECYCLE.open(first)
    for command in commands[1:]:
        case.execute(command)
    return case


def add_reviews(case: Case, writer: int, attempt: int, count: int) -> None:
    """``count`` reviews, a minute apart after the case's last event."""
    assert case.last_event_at is not None
    for i in range(count):
        case.execute(
            RecordReview(
                case_id=case.case_id,
                actor=ACTORS[Role.LEAD_PROFESSIONAL],
                at=case.last_event_at + dt.timedelta(minutes=1),
                summary=f"Synthetic review: writer {writer}, append {attempt}, event {i}",
            )
        )


class Writer:
    """One writer: its store, its case, and what it tells its parent."""

    def __init__(self, config: dict[str, Any], conn: Connection) -> None:
        self.config = config
        self.conn = conn
        self.case_id: str = config["case_id"]
        self.writer: int = config["writer"]
        self.rng = random.Random(config.get("seed", 0))
        self.store = open_store(config["location"])
        self.attempt = 0
        self.mode: str = config["mode"]
        self.case: Case | None = None
        self.kill_where: str | None = None
        self._wrap_transaction()

    def say(self, **message: Any) -> None:
        self.conn.send(message)

    def _wrap_transaction(self) -> None:
        # In this process only: the store's own transaction, with a point
        # just before its real commit (the body has run without error) and
        # one just after it, where the writer may kill itself.
        real = self.store._transaction

        @contextlib.contextmanager
        def transaction() -> Iterator[Any]:
            try:
                with real() as cur:
                    yield cur
                    if self.kill_where == "before-commit":
                        os.kill(os.getpid(), signal.SIGKILL)
            except BaseException:
                self.kill_where = None  # that append never committed: no kill carries over
                raise
            if self.kill_where == "after-commit":
                os.kill(os.getpid(), signal.SIGKILL)

        self.store._transaction = transaction  # type: ignore[method-assign]

    def prepare(self) -> tuple[Case, int]:
        """The case with this attempt's new events, and the version it was loaded at.

        A writer in a loop loads the case once and then goes on from its own
        copy (it is the case's only writer), so that its time goes on appending.
        """
        if self.mode == "loop" and self.case is not None:
            case = self.case
        else:
            try:
                case = self.store.load(self.case_id)
            except NoSuchCase:
                return opened_case(self.case_id, self.config["pupil"]), 0
        loaded = case.version
        add_reviews(case, self.writer, self.attempt, self.rng.randint(1, 3))
        return case, loaded

    def save(self, case: Case, loaded: int) -> None:
        self.say(**{"try": self.attempt, "expected": loaded,
                    "events": [signature(e) for e in case.events_after(loaded)]})  # fmt: skip
        kill = self.config.get("kill")
        if kill is not None and kill["attempt"] == self.attempt:
            self.kill_where = kill["where"]
        try:
            version = self.store.save(case, loaded)
        except ConcurrencyConflict as conflict:
            self.say(conflict=self.attempt, expected=conflict.expected, actual=conflict.actual)
        else:
            self.case = case
            self.say(ok=self.attempt, version=version)
        self.attempt += 1

    def run(self) -> None:
        self.say(ready=os.getpid())
        mode = self.mode
        if mode == "free":
            for _ in range(self.config["attempts"]):
                self.save(*self.prepare())
        elif mode == "loop":
            while True:
                self.save(*self.prepare())
        elif mode == "rounds":
            prepared: tuple[Case, int] | None = None
            while True:
                order = self.conn.recv()
                if order == "load":
                    prepared = self.prepare()
                    self.say(loaded=self.attempt, expected=prepared[1])
                elif order == "save":
                    assert prepared is not None
                    self.save(*prepared)
                    prepared = None
                else:
                    break
        else:
            raise ValueError(f"unknown mode {mode!r}")
        self.store.close()
        self.say(done=True)


def warm_up() -> None:
    """Take one case through a store in memory, so that what the library builds
    on first use is built once, in the fork server, not in every writer."""
    case = opened_case("C-WARM", "P999999")
    add_reviews(case, 0, 0, 1)
    store = SQLiteStore(":memory:", lifecycle=LIFECYCLE)
    store.save(case, 0)
    store.load(case.case_id)
    store.verify()
    store.close()


warm_up()


def main(config: dict[str, Any], conn: Connection) -> None:
    """Run one writer (the target of its process)."""
    try:
        Writer(config, conn).run()
    except BaseException:
        conn.send({"error": traceback.format_exc()})
        sys.exit(1)
