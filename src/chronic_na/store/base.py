"""The store contract and what every SQL backend shares.

A store keeps each case as its events, appended with the version the writer
last saw (optimistic concurrency) in one transaction, and keeps a small
projection of each case (state, school, pupil reference, open deadlines) for
queries. Every event gets a store-wide sequence number and a hash chained
through the whole store:

``hash[n] = H(hash[n-1], seq, case_id, number, type, schema, sha256(payload))``

with ``H`` SHA-256, or HMAC-SHA-256 under a key held outside the database.
The chain covers a digest of the payload rather than the payload itself, so
that the personal data of a case past its retention period can be erased
(the payload removed, an erasure record appended) and the store still
verifies. :meth:`SQLStore.verify` walks the whole log and names every
edited, deleted, inserted or reordered event; a :class:`Checkpoint` kept
outside the store proves nothing before it was rewritten or cut.

Backends (:mod:`chronic_na.store.sqlite`, :mod:`chronic_na.store.postgres`)
supply a connection, a transaction and the SQL that differs; everything else
is here, so the two cannot drift apart.
"""

from __future__ import annotations

import abc
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from json.encoder import encode_basestring_ascii as _json_str
from typing import Any, Final, Protocol

import attrs

from chronic_na.attendance.codes import REFERENCE
from chronic_na.errors import (
    ConcurrencyConflict,
    IntegrityError,
    InvalidInput,
    SchemaError,
    StoreError,
)
from chronic_na.lifecycle import Case, Event, Lifecycle
from chronic_na.pathway import Command, OpenCase, State
from chronic_na.records import Actor
from chronic_na.rules import DutyKind
from chronic_na.serialization import decode_event, encode_event

__all__ = [
    "CaseDeadline",
    "CaseErased",
    "CaseExists",
    "CaseLinkRefused",
    "CaseSummary",
    "Checkpoint",
    "ErasureRefused",
    "NoSuchCase",
    "OpenCaseExists",
    "Problem",
    "SQLStore",
    "StoredEvent",
    "Verification",
]

log = logging.getLogger("chronic_na.store")

SCHEMA_VERSION: Final = 1
"""The version of the store's own tables (``meta.store_schema``)."""
GENESIS: Final = "0" * 64
"""The hash before the first event."""
ERASURE: Final = "erasure"
"""The type of the store record that says a case's personal data was erased."""


# The statements of an append (written with ``?``; see ``SQLStore._sql``).
# The head of the chain (read inside the write lock, see
# ``SQLStore._LOCKED_AT_BEGIN``), the case's stored version and whether it is
# open or erased, and the pupil's other open case, in one statement.
_CHECK_COLUMNS: Final = (
    "SELECT h.seq, h.hash, c.version, c.is_open, c.erased,"
    " (SELECT case_id FROM chronic_na_cases"
    "  WHERE pupil = ? AND is_open = 1 AND case_id <> ? LIMIT 1)"
)
_CHECK_FROM: Final = (
    " FROM chronic_na_head h LEFT JOIN chronic_na_cases c ON c.case_id = ? WHERE h.id = 1"
)
_SQL_CHECK: Final = _CHECK_COLUMNS + _CHECK_FROM
# For a new case, also the pupil's most recently opened case in the store: the
# one whose first event came last (an erased case no longer has a pupil).
_SQL_CHECK_NEW: Final = (
    _CHECK_COLUMNS
    + ", (SELECT p.case_id FROM chronic_na_cases p JOIN chronic_na_events f"
    "  ON f.case_id = p.case_id AND f.number = 1 WHERE p.pupil = ? ORDER BY f.seq DESC LIMIT 1)"
    + _CHECK_FROM
)
# The case a new case is linked to: its pupil, whether it is open or erased, and
# where its first event is in the store; and where a case's first event is.
_SQL_LINKED: Final = (
    "SELECT c.pupil, c.is_open, c.erased, e.seq FROM chronic_na_cases c"
    " JOIN chronic_na_events e ON e.case_id = c.case_id AND e.number = 1 WHERE c.case_id = ?"
)
_SQL_OPENED_AT: Final = "SELECT seq FROM chronic_na_events WHERE case_id = ? AND number = 1"
_NOT_ITS_EVENTS: Final = (
    "does not match its own events (its fields were changed, or it was not built by the "
    "lifecycle): build a case with Lifecycle.open and execute, or load it from the store"
)
_SQL_INSERT_EVENT: Final = (
    "INSERT INTO chronic_na_events (seq, case_id, number, type, schema, payload, digest,"
    " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQL_INSERT_CASE: Final = (
    "INSERT INTO chronic_na_cases (case_id, pupil, school, state, version, is_open,"
    " previous_case_id, erased) VALUES (?, ?, ?, ?, ?, ?, ?, 0)"
)
_SQL_UPDATE_CASE: Final = (
    "UPDATE chronic_na_cases SET state = ?, version = ?, is_open = ? WHERE case_id = ?"
)
_SQL_DELETE_DEADLINES: Final = "DELETE FROM chronic_na_deadlines WHERE case_id = ?"
_SQL_INSERT_DEADLINE: Final = (
    "INSERT INTO chronic_na_deadlines (case_id, rule_id, kind, number, owed_since, due)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


# --------------------------------------------------------------------------- errors


class NoSuchCase(StoreError, LookupError):
    """No case with this id is in the store.

    The message names the id only if it has the shape of a case reference
    (:data:`~chronic_na.attendance.codes.REFERENCE`); any other text given as
    an id (a name, a note) is described by its length, never repeated.
    """

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        if isinstance(case_id, str) and REFERENCE.fullmatch(case_id):
            text = f"case {case_id}: not in the store"
        else:
            size = len(case_id) if isinstance(case_id, str) else 0
            text = (
                f"no case with the id given is in the store (the id is not a case "
                f"reference: {size} characters, not shown); case ids are references "
                "such as C-0001"
            )
        super().__init__(text)


class CaseExists(ConcurrencyConflict):
    """A new case (saved with ``expected_version`` 0) has an id the store
    already holds: a new case needs a new id."""

    def __init__(self, case_id: str, actual: int) -> None:
        self.case_id = case_id
        self.expected = 0
        self.actual = actual
        StoreError.__init__(
            self,
            f"case {case_id}: that case id is already taken in the store (version {actual}); "
            "a new case needs a new id (to add to the stored case, load it instead)",
        )


class OpenCaseExists(StoreError):
    """The pupil already has an open case: at most one open case per pupil."""

    def __init__(self, case_id: str, open_case_id: str) -> None:
        self.case_id = case_id
        self.open_case_id = open_case_id
        super().__init__(
            f"case {case_id}: the pupil already has an open case, {open_case_id}; "
            "work on that case, or close it before opening another"
        )


class CaseLinkRefused(StoreError):
    """A new case is not linked to the pupil's earlier case as it must be.

    A child stepped back (or closed) and identified again starts a new case
    linked to the earlier one (``previous_case_id``): the pupil's most
    recently opened earlier case in the store, finished, and the same
    pupil's. ``expected`` is the case id the new case should be linked to
    (``None``: no link, the pupil has no earlier case in the store);
    ``reason`` is one of :attr:`MISSING`, :attr:`NOT_IN_STORE`,
    :attr:`ANOTHER_PUPIL`, :attr:`NOT_LATEST`, :attr:`STILL_OPEN`. The
    message names case ids only (pseudonymous references), never the pupil.
    """

    MISSING: Final = "missing"
    """No link given, but the pupil has an earlier case."""
    NOT_IN_STORE: Final = "not_in_store"
    """The linked case is not in the store."""
    ANOTHER_PUPIL: Final = "another_pupil"
    """The linked case is another pupil's."""
    NOT_LATEST: Final = "not_latest"
    """The linked case is not the pupil's most recently opened earlier case."""
    STILL_OPEN: Final = "still_open"
    """The linked case is still open."""

    def __init__(
        self, case_id: str, previous_case_id: str | None, expected: str | None, reason: str
    ) -> None:
        self.case_id = case_id
        self.previous_case_id = previous_case_id
        self.expected = expected
        self.reason = reason
        to_expected = (
            f"link it to {expected}, the pupil's most recently opened earlier case"
            if expected is not None
            else "open it without a link: the pupil has no earlier case in the store"
        )
        if reason == self.MISSING:
            text = f"it is not linked to an earlier case, but the pupil has one; {to_expected}"
        elif reason == self.NOT_IN_STORE:
            text = f"linked to {previous_case_id}, which is not in the store; {to_expected}"
        elif reason == self.ANOTHER_PUPIL:
            text = f"linked to {previous_case_id}, another pupil's case; {to_expected}"
        elif reason == self.NOT_LATEST:
            text = f"linked to {previous_case_id}, but the pupil has a later case; {to_expected}"
        else:
            text = (
                f"linked to {previous_case_id}, which is still open; step it back or close "
                "it before saving a case that follows it"
            )
        super().__init__(f"case {case_id}: {text}")


class CaseErased(StoreError):
    """The case's personal data was erased: its events can no longer be read."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        super().__init__(f"case {case_id}: its personal data was erased at the end of retention")


class ErasureRefused(StoreError):
    """The case may not be erased yet (it is open, owes the school something,
    or its retention period has not ended)."""

    def __init__(self, case_id: str, reason: str) -> None:
        self.case_id = case_id
        self.reason = reason
        super().__init__(f"case {case_id}: not erased: {reason}")


# --------------------------------------------------------------------------- values


@attrs.frozen
class Checkpoint:
    """The head of the chain: the last sequence number and its hash.

    Keep it outside the store (printed, in another system); ``str()`` gives
    ``SEQ:HASH`` and :meth:`parse` reads it back.
    """

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """A checkpoint from ``SEQ:HASH`` (as printed by ``chronic-na store checkpoint``)."""
        seq, sep, digest = text.strip().partition(":")
        if not sep or not seq.isdigit() or len(digest) != 64 or not _is_hex(digest):
            raise InvalidInput("checkpoint", "must be SEQ:HASH (a number, a colon, 64 hex digits)")
        return cls(int(seq), digest.lower())


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)


@attrs.frozen
class StoredEvent:
    """One row of the log, as stored: for audit exports and verification.

    ``number`` is ``None`` for a store record (an erasure); ``payload`` is
    ``None`` once the case's personal data has been erased. The payload is
    not shown in the ``repr``.
    """

    seq: int
    case_id: str
    number: int | None
    type: str
    schema: int
    payload: str | None = attrs.field(repr=False)
    digest: str
    prev_hash: str
    hash: str


@attrs.frozen
class CaseSummary:
    """A case as the store's projection knows it (no free text)."""

    case_id: str
    pupil: str | None
    """The pseudonymous pupil reference (``None`` once erased)."""
    school: str | None
    state: State
    version: int
    is_open: bool
    previous_case_id: str | None
    erased: bool


@attrs.frozen
class CaseDeadline:
    """An open deadline of a case (met and void ones are not kept)."""

    case_id: str
    rule_id: str
    kind: DutyKind
    number: int
    owed_since: dt.datetime
    due: dt.datetime


@attrs.frozen
class Problem:
    """One thing :meth:`SQLStore.verify` found wrong, and where."""

    seq: int | None
    case_id: str | None
    number: int | None
    what: str

    def __str__(self) -> str:
        where = []
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        if self.case_id is not None:
            where.append(f"case {self.case_id}")
        if self.number is not None:
            where.append(f"event {self.number}")
        return f"{', '.join(where) or 'store'}: {self.what}"


@attrs.frozen
class Verification:
    """What :meth:`SQLStore.verify` found: every problem, the events read, the head."""

    problems: tuple[Problem, ...]
    events: int
    head: Checkpoint
    keyed: bool

    @property
    def ok(self) -> bool:
        """Whether the whole chain verified."""
        return not self.problems

    def raise_for_problems(self) -> None:
        """Raise :class:`~chronic_na.errors.IntegrityError` listing the problems, if any."""
        if self.problems:
            lines = "\n".join(f"  - {p}" for p in self.problems[:50])
            more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
            raise IntegrityError(
                f"the store does not verify ({len(self.problems)} problem(s)):\n{lines}{more}"
            )


# --------------------------------------------------------------------------- hashing


def payload_digest(payload: str) -> str:
    """SHA-256 of a stored payload's UTF-8 bytes, in hex."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def chain_hash(
    prev: str,
    seq: int,
    case_id: str,
    number: int | None,
    kind: str,
    schema: int,
    digest: str,
    key: bytes | None,
) -> str:
    """The hash of one row, chained to the one before it: SHA-256 (or HMAC-SHA-256
    under ``key``) of the JSON array ``[prev, seq, case_id, number, type, schema,
    digest]``, compact."""
    if (
        type(prev) is str and type(seq) is int and type(case_id) is str
        and (number is None or type(number) is int) and type(kind) is str
        and type(schema) is int and type(digest) is str
    ):  # fmt: skip
        message = _chain_message(
            _json_str(prev), seq, _json_str(case_id), number, _json_str(kind), schema,
            _json_str(digest),
        )  # fmt: skip
    else:  # pragma: no cover - a row read back with types of its own: the long way
        message = json.dumps(
            [prev, seq, case_id, number, kind, schema, digest], separators=(",", ":")
        ).encode("utf-8")
    return _sign(message, key)


def _chain_message(
    prev_json: str, seq: int, case_json: str, number: int | None, kind_json: str, schema: int,
    digest_json: str,
) -> bytes:  # fmt: skip
    # What json.dumps([...], separators=(",", ":")) writes for these parts, the
    # strings already in their (ASCII) JSON form: one place for the format,
    # shared by chain_hash and the append path.
    number_json = "null" if number is None else str(number)
    return (
        f"[{prev_json},{seq},{case_json},{number_json},{kind_json},{schema},{digest_json}]"
    ).encode("ascii")


def _sign(message: bytes, key: bytes | None) -> str:
    if key is not None:
        return hmac.new(key, message, hashlib.sha256).hexdigest()
    return hashlib.sha256(message).hexdigest()


def _utc(instant: dt.datetime) -> str:
    # Fixed width and UTC, so that text comparison is time comparison in SQL.
    utc = instant.astimezone(dt.UTC)
    if utc.year >= 1000:  # the same text as the strftime below, faster
        return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # pragma: no cover - no such dates here


def _from_utc(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _aware(name: str, at: object) -> dt.datetime:
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(name, "must be a timezone-aware datetime")
    return at


# --------------------------------------------------------------------------- backend protocol


class Cursor(Protocol):
    """The DB-API cursor operations the store uses."""

    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]], /) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int = ..., /) -> list[Any]: ...


class SQLStore(abc.ABC):
    """A durable case store on SQL: the contract, the chain and the queries.

    Subclasses give :meth:`_transaction` (a cursor inside one transaction
    that commits on success and rolls back on error, with writers
    serialised), :meth:`_read` (a cursor for reading), the SQL that differs
    (:attr:`_DDL`), and translate their driver's errors into
    :class:`~chronic_na.errors.StoreError`.

    ``lifecycle`` is the pathway cases are rebuilt with and deadlines
    computed by; ``key`` (bytes held outside the database) makes the chain
    an HMAC, so that someone with write access to the database alone cannot
    recompute it; ``retention`` (see :meth:`erase`) is how long a finished
    case is kept before its personal data may be erased.
    """

    _PLACEHOLDER = "?"
    _DDL: tuple[str, ...] = ()
    _LOCKED_AT_BEGIN = False
    """Whether :meth:`_transaction` already holds the store's one write lock when
    it yields (SQLite's ``BEGIN IMMEDIATE``): then an append reads the head with
    its checks in one statement. Otherwise the head row is locked first, by a
    statement of its own, so that the checks (a later statement, with a later
    snapshot under PostgreSQL's READ COMMITTED) see every append committed
    before the lock was taken."""

    def __init__(
        self,
        *,
        lifecycle: Lifecycle | None = None,
        key: bytes | None = None,
        retention: Any = None,
    ) -> None:
        if lifecycle is not None and not isinstance(lifecycle, Lifecycle):
            raise InvalidInput("lifecycle", "must be a Lifecycle")
        if key is not None and (not isinstance(key, bytes) or len(key) < 16):
            raise InvalidInput("key", "must be bytes, at least 16 of them")
        self.lifecycle = lifecycle or Lifecycle.for_policy()
        self._key = key
        self.retention = retention

    # ------------------------------------------------------------------ backend hooks

    @abc.abstractmethod
    def _transaction(self) -> AbstractContextManager[Cursor]:
        """A cursor in one write transaction, serialised with every other writer."""

    @abc.abstractmethod
    def _read(self) -> AbstractContextManager[Cursor]:
        """A cursor for reading (a consistent snapshot where the backend has one)."""

    @abc.abstractmethod
    def _lock_head(self, cur: Cursor) -> tuple[int, str]:
        """Inside a write transaction: lock and return the chain's head (seq, hash)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection."""

    def __enter__(self) -> SQLStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sql(self, text: str) -> str:
        return text if self._PLACEHOLDER == "?" else text.replace("?", self._PLACEHOLDER)

    def _setup(self) -> None:
        """Create the tables if they are missing, and check the store's settings."""
        algorithm = "hmac-sha256" if self._key is not None else "sha256"
        with self._transaction() as cur:
            for statement in self._DDL:
                cur.execute(statement)
            cur.execute(self._sql("SELECT value FROM chronic_na_meta WHERE key = ?"), ("chain",))
            row = cur.fetchone()
            if row is None:
                cur.executemany(
                    self._sql("INSERT INTO chronic_na_meta (key, value) VALUES (?, ?)"),
                    [("chain", algorithm), ("store_schema", str(SCHEMA_VERSION))],
                )
                cur.execute(
                    self._sql("INSERT INTO chronic_na_head (id, seq, hash) VALUES (1, 0, ?)"),
                    (GENESIS,),
                )
                self._algorithm = algorithm
                return
            self._algorithm = row[0]
            cur.execute(
                self._sql("SELECT value FROM chronic_na_meta WHERE key = ?"), ("store_schema",)
            )
            (schema,) = cur.fetchone()
        if int(schema) > SCHEMA_VERSION:
            raise StoreError(
                f"the store's tables are version {schema}, newer than this library "
                f"reads ({SCHEMA_VERSION}): upgrade chronic_na"
            )

    @property
    def keyed(self) -> bool:
        """Whether the store's chain is an HMAC (needs the key to verify or append)."""
        return self._algorithm == "hmac-sha256"

    def _require_key_for_writing(self) -> None:
        if self.keyed and self._key is None:
            raise StoreError("this store's chain is keyed (HMAC): open it with its key to write")
        if not self.keyed and self._key is not None:
            raise StoreError("this store's chain is not keyed: open it without a key")

    # ------------------------------------------------------------------ writing

    def save(self, case: Case, expected_version: int) -> int:
        """Append ``case``'s events after ``expected_version``, atomically.

        ``expected_version`` is the version the writer loaded (0 for a new
        case). Returns the case's new version. Nothing is written if any of
        these is raised:

        - :class:`~chronic_na.errors.InvalidInput` (``case``) if the case
          does not follow from its own events (its fields were set by hand,
          or it was not built by :meth:`Lifecycle.open` and ``execute``), or
          if its first ``expected_version`` events are not the stored
          case's: the case is replayed with the store's lifecycle and
          compared, before anything is locked;
        - :class:`CaseExists` if a new case's id is taken;
          :class:`~chronic_na.errors.ConcurrencyConflict` if another writer
          has appended since ``expected_version`` (reload and decide again);
        - :class:`CaseErased` if the case was erased since it was loaded;
        - :class:`OpenCaseExists` if the case is open and the pupil already
          has another open case (named);
        - :class:`CaseLinkRefused` if a new case is not linked to the
          pupil's earlier case as it must be (see :class:`CaseLinkRefused`).

        The projection and the deadlines are computed from the replayed
        case, never from the fields given.
        """
        if not isinstance(case, Case):
            raise InvalidInput("case", "must be a Case")
        if type(expected_version) is not int or not 0 <= expected_version <= case.version:
            raise InvalidInput("expected_version", "must be a whole number from 0 to the case's")
        if expected_version == case.version:
            return case.version
        events = case.events  # built once: replayed, compared and appended
        verified = self._rebuilt(case, events)
        if expected_version:
            self._check_stored_prefix(verified, events, expected_version)
        return self._append(verified, expected_version, events[expected_version:])

    def _rebuilt(self, case: Case, events: tuple[Event, ...]) -> Case:
        """``case`` replayed from ``events`` (its own) with the store's lifecycle,
        if that gives the case back; otherwise :class:`InvalidInput`."""
        case_id = case.case_id
        try:
            replayed = self.lifecycle.replay(events)
        except (SchemaError, InvalidInput):
            replayed = None
        # Replay takes the case id from the events, and load also checks each
        # command's: a case whose id was changed by hand would not load.
        if (
            replayed is None
            or replayed != case
            or any(event.command.case_id != case_id for event in events)
        ):
            raise InvalidInput("case", _NOT_ITS_EVENTS)
        return replayed

    def _check_stored_prefix(
        self, case: Case, events: tuple[Event, ...], expected_version: int
    ) -> None:
        """Refuse a case whose first ``expected_version`` events are not the
        stored case's: appended after them, its events would not rebuild it."""
        rows = self._stored_rows(case.case_id, expected_version)
        if len(rows) != expected_version:
            return  # not the version expected: the append reports the conflict
        if self._decoded(case.case_id, rows) != list(events[:expected_version]):
            raise InvalidInput(
                "case",
                f"its first {expected_version} events are not the stored case's: load the "
                "case from the store, give it the commands, and save it with the version "
                "loaded",
            )

    def _append(self, case: Case, expected_version: int, new: Sequence[Event]) -> int:
        """Append ``new`` (the events of ``case`` after ``expected_version``) in
        one transaction, with the projection and deadlines of ``case``.

        ``case`` is trusted: built or loaded by this store and changed only by
        ``execute``, or checked by :meth:`save`.
        """
        self._require_key_for_writing()
        case_id = case.case_id
        # Everything that does not depend on the head is done before the
        # write lock is taken: the payloads, their digests, the projection.
        prepared = []
        for event in new:
            payload = encode_event(event)
            prepared.append((event.number, event.kind, type(event.command).schema_version,
                             payload, payload_digest(payload)))  # fmt: skip
        summary_row = self._summary_row(case)
        deadlines = self._deadline_rows(case)
        pupil = case.pupil.value if case.pupil is not None else None
        open_pupil = pupil if case.is_open else None
        with self._transaction() as cur:
            # The head is read inside the write lock (so appends by other
            # processes since the last save are chained to, and the checks
            # below see every append committed before), with what the
            # version, erasure, one-open-case and (for a new case) link checks
            # read, in one statement.
            if not self._LOCKED_AT_BEGIN:
                self._lock_head(cur)
            latest = None
            if expected_version == 0:
                cur.execute(self._sql(_SQL_CHECK_NEW), (open_pupil, case_id, pupil, case_id))
                seq, head, actual, stored_open, erased, other, latest = cur.fetchone()
            else:
                cur.execute(self._sql(_SQL_CHECK), (open_pupil, case_id, case_id))
                seq, head, actual, stored_open, erased, other = cur.fetchone()
            seq = int(seq)
            if actual is None:
                actual = 0
            if actual != expected_version:
                if expected_version == 0:
                    raise CaseExists(case_id, actual)
                raise ConcurrencyConflict(case_id, expected_version, actual)
            if erased:
                raise CaseErased(case_id)
            if open_pupil is not None and not stored_open and other is not None:
                raise OpenCaseExists(case_id, other)
            if expected_version == 0 and (latest is not None or case.previous_case_id):
                refused = self._link_refused(cur, case, pupil, latest)
                if refused is not None:
                    raise refused
            inserts = self._chain_rows(seq, head, case_id, prepared)
            cur.executemany(self._sql(_SQL_INSERT_EVENT), inserts)
            if stored_open is None:  # a new case: nothing to replace
                cur.execute(self._sql(_SQL_INSERT_CASE), summary_row)
            else:
                cur.execute(self._sql(_SQL_UPDATE_CASE), (*summary_row[3:6], case_id))
                cur.execute(self._sql(_SQL_DELETE_DEADLINES), (case_id,))
            if deadlines:
                cur.executemany(self._sql(_SQL_INSERT_DEADLINE), deadlines)
            seq, head = inserts[-1][0], inserts[-1][8]
            cur.execute(self._sql("UPDATE chronic_na_head SET seq = ?, hash = ? WHERE id = 1"),
                        (seq, head))  # fmt: skip
        log.debug(
            "case %s: appended events %d-%d", case.case_id, expected_version + 1, case.version
        )
        return case.version

    def _link_refused(
        self, cur: Cursor, case: Case, pupil: str | None, latest: str | None
    ) -> CaseLinkRefused | None:
        """Inside the write transaction: why a new case's link to the pupil's
        earlier case is refused, or ``None``.

        ``latest`` is the pupil's most recently opened case in the store. An
        erased case has no pupil any more, so a link to one cannot be checked
        against the pupil: it is accepted unless a case of the pupil still in
        the store was opened after it.
        """
        case_id, previous = case.case_id, case.previous_case_id
        if previous is None:
            if latest is None:
                return None
            return CaseLinkRefused(case_id, None, latest, CaseLinkRefused.MISSING)
        cur.execute(self._sql(_SQL_LINKED), (previous,))
        row = cur.fetchone()
        if row is None:
            return CaseLinkRefused(case_id, previous, latest, CaseLinkRefused.NOT_IN_STORE)
        linked_pupil, linked_open, linked_erased, linked_seq = row
        if linked_erased:
            if latest is None:
                return None
            cur.execute(self._sql(_SQL_OPENED_AT), (latest,))
            (latest_seq,) = cur.fetchone()
            if int(latest_seq) < int(linked_seq):
                return None
            return CaseLinkRefused(case_id, previous, latest, CaseLinkRefused.NOT_LATEST)
        if linked_pupil != pupil:
            return CaseLinkRefused(case_id, previous, latest, CaseLinkRefused.ANOTHER_PUPIL)
        if previous != latest:
            return CaseLinkRefused(case_id, previous, latest, CaseLinkRefused.NOT_LATEST)
        if linked_open:
            return CaseLinkRefused(case_id, previous, latest, CaseLinkRefused.STILL_OPEN)
        return None

    def _chain_rows(
        self, seq: int, head: str, case_id: str, prepared: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        """The rows to insert for ``prepared`` events, chained on from ``(seq, head)``.

        The hashes of :func:`chain_hash` (which :meth:`verify` recomputes),
        with the case id written as JSON once per case rather than per row.
        """
        key = self._key
        case_json = _json_str(case_id)
        rows = []
        for number, kind, schema, payload, digest in prepared:
            seq += 1
            message = _chain_message(
                _json_str(head), seq, case_json, number, _json_str(kind), schema,
                _json_str(digest),
            )  # fmt: skip
            new = _sign(message, key)
            rows.append((seq, case_id, number, kind, schema, payload, digest, head, new))
            head = new
        return rows

    @staticmethod
    def _summary_row(case: Case) -> tuple[Any, ...]:
        return (
            case.case_id,
            case.pupil.value if case.pupil is not None else None,
            case.school,
            case.state.value,
            case.version,
            1 if case.is_open else 0,
            case.previous_case_id,
        )

    def _deadline_rows(self, case: Case) -> list[tuple[Any, ...]]:
        return [
            (case.case_id, d.rule_id, d.kind.value, d.number, _utc(d.owed_since), _utc(d.due))
            for d in self.lifecycle.deadlines(case)
            if d.is_open()
        ]

    def open_case(self, command: OpenCase) -> Case:
        """Open a case and save it.

        Refused (nothing saved) with :class:`CaseExists` if the case id is
        taken, :class:`OpenCaseExists` if the pupil already has an open case,
        or :class:`CaseLinkRefused` if the case is not linked to the pupil's
        earlier case as it must be (``previous_case_id``).
        """
        case = self.lifecycle.open(command)
        self._append(case, 0, case.events)  # built here: nothing to check it against
        return case

    def execute(self, command: Command) -> Event:
        """The unit of work: load the command's case, give it the command, and
        save the new event with the version loaded, in one call.

        Raises what the command raises (nothing is saved), or
        :class:`~chronic_na.errors.ConcurrencyConflict` if another writer
        appended in between (reload and decide again).
        """
        if isinstance(command, OpenCase):
            raise InvalidInput("command", "use open_case to open a case")
        if not isinstance(command, Command):
            raise InvalidInput("command", "must be a Command")
        case = self.load(command.case_id)
        loaded = case.version
        event = case.execute(command)
        # Loaded here and changed only by the lifecycle: no need to replay it.
        self._append(case, loaded, (event,))
        return event

    # ------------------------------------------------------------------ reading

    def load(self, case_id: str) -> Case:
        """The case rebuilt from its stored events.

        Raises :class:`NoSuchCase`, :class:`CaseErased`, or
        :class:`~chronic_na.errors.SchemaError` (naming the event and field)
        if a stored event cannot be read; never a half-built case.
        """
        if not isinstance(case_id, str):
            raise InvalidInput("case_id", "must be a str")
        if not REFERENCE.fullmatch(case_id):  # every stored case id is a reference
            raise NoSuchCase(case_id)
        rows = self._stored_rows(case_id)
        if not rows:
            raise NoSuchCase(case_id)
        return self.lifecycle.replay(self._decoded(case_id, rows))

    def _stored_rows(self, case_id: str, through: int | None = None) -> list[Any]:
        """(number, payload) of the case's stored events in order, up to event
        ``through`` if given."""
        sql = (
            "SELECT number, payload FROM chronic_na_events WHERE case_id = ? "
            "AND number IS NOT NULL"
        )
        params: tuple[Any, ...] = (case_id,)
        if through is not None:
            sql += " AND number <= ?"
            params = (case_id, through)
        with self._read() as cur:
            cur.execute(self._sql(sql + " ORDER BY number"), params)
            return cur.fetchall()

    @staticmethod
    def _decoded(case_id: str, rows: Sequence[Any]) -> list[Event]:
        """The events of ``rows`` (from :meth:`_stored_rows`); :class:`CaseErased`
        if the case was erased, :class:`~chronic_na.errors.SchemaError` naming
        the event if one cannot be read or is out of place."""
        events = []
        for position, (number, payload) in enumerate(rows, start=1):
            if payload is None:
                raise CaseErased(case_id)
            if number != position:
                raise SchemaError(case_id, position, "number", f"stored as event {number}")
            events.append(decode_event(payload, case_id=case_id, position=position))
        return events

    def version(self, case_id: str) -> int:
        """The case's stored version (0 if it is not in the store)."""
        with self._read() as cur:
            cur.execute(
                self._sql("SELECT version FROM chronic_na_cases WHERE case_id = ?"), (case_id,)
            )
            row = cur.fetchone()
        return int(row[0]) if row is not None else 0

    def cases(
        self,
        *,
        state: State | None = None,
        school: str | None = None,
        pupil: str | None = None,
        open_only: bool = False,
    ) -> tuple[CaseSummary, ...]:
        """The cases matching every filter given, ordered by case id."""
        where, params = [], []
        if state is not None:
            if not isinstance(state, State):
                raise InvalidInput("state", "must be a State")
            where.append("state = ?")
            params.append(state.value)
        if school is not None:
            where.append("school = ?")
            params.append(school)
        if pupil is not None:
            where.append("pupil = ?")
            params.append(pupil)
        if open_only:
            where.append("is_open = 1")
        sql = (
            "SELECT case_id, pupil, school, state, version, is_open, previous_case_id, erased "
            "FROM chronic_na_cases"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY case_id"
        )
        with self._read() as cur:
            cur.execute(self._sql(sql), params)
            rows = cur.fetchall()
        return tuple(
            CaseSummary(r[0], r[1], r[2], State(r[3]), int(r[4]), bool(r[5]), r[6], bool(r[7]))
            for r in rows
        )

    def overdue(self, at: dt.datetime) -> tuple[CaseDeadline, ...]:
        """Every open deadline past due at ``at``, by due time."""
        return self._deadlines("due <= ?", _aware("at", at))

    def due(self, at: dt.datetime) -> tuple[CaseDeadline, ...]:
        """Every open deadline not yet past due at ``at``, by due time."""
        return self._deadlines("due > ?", _aware("at", at))

    def _deadlines(self, condition: str, at: dt.datetime) -> tuple[CaseDeadline, ...]:
        with self._read() as cur:
            cur.execute(
                self._sql(
                    "SELECT case_id, rule_id, kind, number, owed_since, due "
                    f"FROM chronic_na_deadlines WHERE {condition} ORDER BY due, case_id, kind"
                ),
                (_utc(at),),
            )
            rows = cur.fetchall()
        return tuple(
            CaseDeadline(r[0], r[1], DutyKind(r[2]), int(r[3]), _from_utc(r[4]), _from_utc(r[5]))
            for r in rows
        )

    def events(self, *, after: int = 0, batch: int = 1000) -> Iterator[StoredEvent]:
        """Every row of the log in store order (after sequence ``after``), for an audit export."""
        last = after
        while True:
            with self._read() as cur:
                cur.execute(
                    self._sql(
                        "SELECT seq, case_id, number, type, schema, payload, digest, prev_hash, "
                        "hash FROM chronic_na_events WHERE seq > ? ORDER BY seq LIMIT ?"
                    ),
                    (last, batch),
                )
                rows = cur.fetchall()
            for r in rows:
                yield StoredEvent(
                    int(r[0]), r[1], r[2], r[3], int(r[4]), r[5], r[6], r[7], r[8]
                )
            if len(rows) < batch:
                return
            last = int(rows[-1][0])

    # ------------------------------------------------------------------ integrity

    def checkpoint(self) -> Checkpoint:
        """The chain's head now: keep it outside the store."""
        with self._read() as cur:
            cur.execute("SELECT seq, hash FROM chronic_na_head WHERE id = 1")
            seq, digest = cur.fetchone()
        return Checkpoint(int(seq), digest)

    def verify(self, against: Checkpoint | None = None) -> Verification:
        """Walk the whole log and report every problem found.

        Detects an edited payload (its digest), an edited row (its hash), a
        deleted, inserted or reordered event (the chain and the sequence), a
        case's events out of order, a payload removed without an erasure
        record, and a cut tail (the head). With ``against``, also proves that
        the chain up to that checkpoint is the one that was kept. A keyed
        store needs its key.
        """
        if against is not None and not isinstance(against, Checkpoint):
            raise InvalidInput("against", "must be a Checkpoint")
        if self.keyed and self._key is None:
            raise StoreError("this store's chain is keyed (HMAC): verify it with its key")
        problems: list[Problem] = []
        running = GENESIS
        expected_seq = 1
        numbers: dict[str, int] = {}
        removed: dict[str, int] = {}
        erased: set[str] = set()
        count = 0
        at_checkpoint: str | None = None

        def check(row: StoredEvent) -> None:
            nonlocal count, running, expected_seq, at_checkpoint
            count += 1
            where = (row.seq, row.case_id, row.number)
            if row.seq != expected_seq:
                gap = row.seq > expected_seq
                what = f"expected seq {expected_seq}: events are missing" if gap else "out of order"
                problems.append(Problem(*where, what))
            expected_seq = row.seq + 1
            if row.payload is None:
                if row.type == ERASURE:
                    problems.append(Problem(*where, "an erasure record has no payload"))
                else:
                    removed.setdefault(row.case_id, row.seq)
            elif payload_digest(row.payload) != row.digest:
                problems.append(Problem(*where, "payload does not match its digest: edited"))
            if row.prev_hash != running:
                problems.append(Problem(*where, "not chained to the event before it: "
                                        "an event was inserted, deleted or moved"))  # fmt: skip
            recomputed = chain_hash(
                row.prev_hash, row.seq, row.case_id, row.number, row.type, row.schema,
                row.digest, self._key,
            )  # fmt: skip
            if recomputed != row.hash:
                problems.append(Problem(*where, "hash does not match the row: edited"))
            running = row.hash
            if row.type == ERASURE:
                erased.add(row.case_id)
            elif row.number is None:
                problems.append(Problem(*where, "an event without a position in its case"))
            else:
                want = numbers.get(row.case_id, 0) + 1
                if row.number != want:
                    problems.append(Problem(*where, f"expected event {want} of the case"))
                numbers[row.case_id] = row.number
            if against is not None and row.seq == against.seq:
                at_checkpoint = row.hash

        last = 0
        for row in self.events():
            check(row)
            last = row.seq
        # Appends that landed while we read: read on to the head we see now.
        head = self.checkpoint()
        while head.seq > last:
            more = list(self.events(after=last))
            if not more:
                break
            for row in more:
                check(row)
                last = row.seq
            head = self.checkpoint()
        for case_id, seq in removed.items():
            if case_id not in erased:
                problems.append(
                    Problem(seq, case_id, None, "payload removed without an erasure record")
                )
        if head.seq != expected_seq - 1 or head.hash != running:
            problems.append(Problem(head.seq, None, None,
                                    "the head does not match the last event: the log was cut "
                                    "or the head rewritten"))  # fmt: skip
        if against is not None:
            if against.seq > expected_seq - 1:
                what = "the checkpoint is past the end of the log: it was cut"
                problems.append(Problem(against.seq, None, None, what))
            elif against.seq > 0 and at_checkpoint != against.hash:
                what = "differs from the checkpoint: the log was rewritten"
                problems.append(Problem(against.seq, None, None, what))
        result = Verification(tuple(problems), count, Checkpoint(expected_seq - 1, running),
                              self.keyed)  # fmt: skip
        if problems:
            log.warning("store verification found %d problem(s)", len(problems))
        return result

    # ------------------------------------------------------------------ retention

    def erase(self, case_id: str, *, actor: Actor, at: dt.datetime, reason: str) -> None:
        """Erase a finished case's personal data at the end of retention.

        The events' payloads are removed (their digests stay, so the chain
        still verifies), the pupil reference is removed from the projection,
        and an erasure record (who, when, why) is appended to the chain.
        Refused with :class:`ErasureRefused` while the case is open, while it
        owes the school anything, or before ``retention`` (a
        ``dateutil.relativedelta`` or ``timedelta``) has passed since it was
        stepped back or closed.
        """
        if not isinstance(actor, Actor):
            raise InvalidInput("actor", "must be an Actor")
        _aware("at", at)
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("reason", "must say why the data is erased")
        self._require_key_for_writing()
        case = self.load(case_id)
        if case.is_open:
            raise ErasureRefused(case_id, "the case is still open")
        if case.owed_obligations():
            raise ErasureRefused(case_id, "it still owes the school feedback or contact")
        finished = case.stepped_back_at or case.closed_at
        if finished is None or at < finished:
            raise ErasureRefused(case_id, "'at' is before the case finished")
        if self.retention is not None and at < finished + self.retention:
            raise ErasureRefused(case_id, "its retention period has not ended")
        record = json.dumps(
            {"actor": {"id": actor.id, "role": actor.role.value}, "at": at.isoformat(),
             "reason": reason}, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
        )  # fmt: skip
        with self._transaction() as cur:
            seq, head = self._lock_head(cur)
            cur.execute(
                self._sql("SELECT version FROM chronic_na_cases WHERE case_id = ?"), (case_id,)
            )
            row = cur.fetchone()
            if row is None or int(row[0]) != case.version:
                raise ConcurrencyConflict(case_id, case.version, int(row[0]) if row else 0)
            seq += 1
            digest = payload_digest(record)
            new_head = chain_hash(head, seq, case_id, None, ERASURE, 1, digest, self._key)
            cur.execute(
                self._sql("UPDATE chronic_na_events SET payload = NULL WHERE case_id = ?"),
                (case_id,),
            )
            cur.execute(
                self._sql(
                    "INSERT INTO chronic_na_events (seq, case_id, number, type, schema, payload, "
                    "digest, prev_hash, hash) VALUES (?, ?, NULL, ?, 1, ?, ?, ?, ?)"
                ),
                (seq, case_id, ERASURE, record, digest, head, new_head),
            )
            cur.execute(
                self._sql("UPDATE chronic_na_cases SET pupil = NULL, erased = 1 WHERE case_id = ?"),
                (case_id,),
            )
            cur.execute(self._sql("DELETE FROM chronic_na_deadlines WHERE case_id = ?"),
                        (case_id,))  # fmt: skip
            cur.execute(self._sql("UPDATE chronic_na_head SET seq = ?, hash = ? WHERE id = 1"),
                        (seq, new_head))  # fmt: skip
        log.info("case %s: personal data erased", case_id)
