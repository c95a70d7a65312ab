"""The default store: SQLite from the standard library, in WAL mode.

A file path (or ``":memory:"``). Writers are serialised by SQLite itself
(``BEGIN IMMEDIATE``, waiting up to ``timeout`` seconds for another
process's write to finish); readers never block writers (WAL).
``synchronous="FULL"`` (the default) makes every returned append durable
across a power cut as well as a crash; ``"NORMAL"`` survives a crash of the
process but may lose the last appends on a power cut, and is faster.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from typing import Any, Final

from chronic_na.errors import ChronicNAError, InvalidInput, StoreError
from chronic_na.lifecycle import Lifecycle
from chronic_na.store.base import Cursor, SQLStore

__all__ = ["SQLiteStore"]

# The projection's tables are keyed by their primary key (WITHOUT ROWID): one
# b-tree fewer for each to write on every append. Stores made before read the same.
_DDL: Final = (
    "CREATE TABLE IF NOT EXISTS chronic_na_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chronic_na_head ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chronic_na_events ("
    " seq INTEGER PRIMARY KEY, case_id TEXT NOT NULL, number INTEGER, type TEXT NOT NULL,"
    " schema INTEGER NOT NULL, payload TEXT, digest TEXT NOT NULL, prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL, UNIQUE (case_id, number))",
    "CREATE TABLE IF NOT EXISTS chronic_na_cases ("
    " case_id TEXT PRIMARY KEY, pupil TEXT, school TEXT, state TEXT NOT NULL,"
    " version INTEGER NOT NULL, is_open INTEGER NOT NULL, previous_case_id TEXT,"
    " erased INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID",
    # Every case of a pupil (for the link check of a new case), and at most one
    # open: the second key is 1 for an open case and NULL otherwise, and NULLs
    # are distinct in a unique index. One index for both, so opening a case
    # writes one index entry. It replaces the partial unique index on (pupil)
    # WHERE is_open = 1 of stores made before.
    "CREATE UNIQUE INDEX IF NOT EXISTS chronic_na_pupil_cases_one_open"
    " ON chronic_na_cases (pupil, (CASE WHEN is_open = 1 THEN 1 END))",
    "DROP INDEX IF EXISTS chronic_na_one_open_case_per_pupil",
    "CREATE INDEX IF NOT EXISTS chronic_na_cases_by_state ON chronic_na_cases (state)",
    "CREATE INDEX IF NOT EXISTS chronic_na_cases_by_school ON chronic_na_cases (school)",
    "CREATE TABLE IF NOT EXISTS chronic_na_deadlines ("
    " case_id TEXT NOT NULL, rule_id TEXT NOT NULL, kind TEXT NOT NULL, number INTEGER NOT NULL,"
    " owed_since TEXT NOT NULL, due TEXT NOT NULL, PRIMARY KEY (case_id, kind, number))"
    " WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS chronic_na_deadlines_by_due ON chronic_na_deadlines (due)",
)

_SYNCHRONOUS: Final = ("OFF", "NORMAL", "FULL", "EXTRA")


class SQLiteStore(SQLStore):
    """A case store in one SQLite file (or in memory).

    One connection per store object, guarded by a lock so that threads may
    share it; open one store per process. See :class:`SQLStore` for
    ``lifecycle``, ``key`` and ``retention``.
    """

    _DDL = _DDL
    _LOCKED_AT_BEGIN = True

    def __init__(
        self,
        path: str | PathLike[str] = ":memory:",
        *,
        lifecycle: Lifecycle | None = None,
        key: bytes | None = None,
        retention: Any = None,
        synchronous: str = "FULL",
        timeout: float = 30.0,
    ) -> None:
        super().__init__(lifecycle=lifecycle, key=key, retention=retention)
        if synchronous not in _SYNCHRONOUS:
            raise InvalidInput("synchronous", f"must be one of {', '.join(_SYNCHRONOUS)}")
        self.path = str(path)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(f"PRAGMA synchronous={synchronous}")
            self._conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        except sqlite3.Error as exc:
            raise _translate(exc, "open") from None
        self._setup()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        with self._lock:
            try:
                cur = self._conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc, "begin a write") from None
            try:
                yield cur
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):  # the original error matters more
                    self._conn.rollback()
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc, "write") from None
                raise
            try:
                self._conn.commit()
            except sqlite3.Error as exc:
                self._conn.rollback()
                raise _translate(exc, "commit") from None

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._lock:
            try:
                cur = self._conn.cursor()
                yield cur
            except sqlite3.Error as exc:
                raise _translate(exc, "read") from None

    def _lock_head(self, cur: Cursor) -> tuple[int, str]:
        # BEGIN IMMEDIATE already holds SQLite's one write lock.
        cur.execute("SELECT seq, hash FROM chronic_na_head WHERE id = 1")
        seq, digest = cur.fetchone()
        return int(seq), str(digest)

    def close(self) -> None:
        """Close the connection (the store object cannot be used after)."""
        with self._lock:
            self._conn.close()


def _translate(exc: sqlite3.Error, doing: str) -> ChronicNAError:
    # The driver's text can quote stored values: keep it out of the message.
    code = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    error = StoreError(f"SQLite could not {doing} ({code})")
    error.driver_error = exc  # type: ignore[attr-defined]
    return error
