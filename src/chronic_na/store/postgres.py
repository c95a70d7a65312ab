"""The shared store: PostgreSQL through psycopg 3 (the ``postgres`` extra).

For many caseworkers sharing one store. Writers are serialised on the
chain's head row (``SELECT ... FOR UPDATE``), so the chain stays one line
however many processes append; readers are not blocked. Tables live in a
schema of their own (``chronic_na`` unless told), created on first use.

The connection string (DSN) is an argument: nothing is read from the
environment and nothing connects at import time.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

import psycopg

from chronic_na.errors import ChronicNAError, InvalidInput, StoreError
from chronic_na.lifecycle import Lifecycle
from chronic_na.store.base import Cursor, SQLStore

__all__ = ["PostgresStore"]

_TABLES: Final = (
    "CREATE TABLE IF NOT EXISTS chronic_na_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chronic_na_head ("
    " id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS chronic_na_events ("
    " seq BIGINT PRIMARY KEY, case_id TEXT NOT NULL, number INTEGER, type TEXT NOT NULL,"
    " schema INTEGER NOT NULL, payload TEXT, digest TEXT NOT NULL, prev_hash TEXT NOT NULL,"
    " hash TEXT NOT NULL, UNIQUE (case_id, number))",
    "CREATE TABLE IF NOT EXISTS chronic_na_cases ("
    " case_id TEXT PRIMARY KEY, pupil TEXT, school TEXT, state TEXT NOT NULL,"
    " version INTEGER NOT NULL, is_open INTEGER NOT NULL, previous_case_id TEXT,"
    " erased INTEGER NOT NULL DEFAULT 0)",
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
    " owed_since TEXT NOT NULL, due TEXT NOT NULL, PRIMARY KEY (case_id, kind, number))",
    "CREATE INDEX IF NOT EXISTS chronic_na_deadlines_by_due ON chronic_na_deadlines (due)",
)

_SCHEMA_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_SETUP_LOCK: Final = 0x43484E41  # one advisory lock id for creating the tables


class PostgresStore(SQLStore):
    """A case store in a PostgreSQL database.

    ``dsn`` is a libpq connection string or URI; ``schema`` the PostgreSQL
    schema the tables live in. One connection per store object, guarded by a
    lock so that threads may share it. See :class:`SQLStore` for
    ``lifecycle``, ``key`` and ``retention``.
    """

    _PLACEHOLDER = "%s"

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "chronic_na",
        lifecycle: Lifecycle | None = None,
        key: bytes | None = None,
        retention: Any = None,
        connect_timeout: int = 10,
    ) -> None:
        super().__init__(lifecycle=lifecycle, key=key, retention=retention)
        if not isinstance(dsn, str) or not dsn.strip():
            raise InvalidInput("dsn", "must be a PostgreSQL connection string")
        if not isinstance(schema, str) or not _SCHEMA_NAME.fullmatch(schema):
            raise InvalidInput("schema", "must be a lower-case SQL identifier")
        self.schema = schema
        self._lock = threading.RLock()
        try:
            self._conn = psycopg.connect(dsn, autocommit=True, connect_timeout=connect_timeout)
            # The schema may not exist yet: the setup below creates it.
            self._conn.execute(f'SET search_path TO "{schema}"')
        except psycopg.Error as exc:
            raise _translate(exc, "connect") from None
        self._DDL = (
            f"SELECT pg_advisory_xact_lock({_SETUP_LOCK})",
            f'CREATE SCHEMA IF NOT EXISTS "{schema}"',
            *_TABLES,
        )
        self._setup()

    def __repr__(self) -> str:
        info = self._conn.info
        return f"PostgresStore(host={info.host!r}, dbname={info.dbname!r}, schema={self.schema!r})"

    @contextmanager
    def _transaction(self) -> Iterator[Cursor]:
        with self._lock:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    yield cur
            except psycopg.Error as exc:
                raise _translate(exc, "write") from None

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._lock:
            try:
                with self._conn.cursor() as cur:
                    yield cur
            except psycopg.Error as exc:
                raise _translate(exc, "read") from None

    def _lock_head(self, cur: Cursor) -> tuple[int, str]:
        cur.execute("SELECT seq, hash FROM chronic_na_head WHERE id = 1 FOR UPDATE")
        seq, digest = cur.fetchone()
        return int(seq), str(digest)

    def close(self) -> None:
        """Close the connection (the store object cannot be used after)."""
        with self._lock:
            self._conn.close()


def _translate(exc: psycopg.Error, doing: str) -> ChronicNAError:
    # The server's text can quote stored values (a key's value, a row): keep
    # it out of the message; the SQLSTATE says what kind of error it was.
    state = getattr(exc, "sqlstate", None) or type(exc).__name__
    error = StoreError(f"PostgreSQL could not {doing} (SQLSTATE {state})")
    error.driver_error = exc  # type: ignore[attr-defined]
    return error
