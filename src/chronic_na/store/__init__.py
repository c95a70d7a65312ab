"""Durable case stores: an append-only, hash-chained event log.

:class:`SQLiteStore` (standard library, the default) and
:class:`~chronic_na.store.postgres.PostgresStore` (psycopg, the ``postgres``
extra; import it from its own module) keep the same contract,
:class:`SQLStore`, checked by one test suite on both.
"""

from chronic_na.store.base import (
    CaseDeadline,
    CaseErased,
    CaseExists,
    CaseLinkRefused,
    CaseSummary,
    Checkpoint,
    ErasureRefused,
    NoSuchCase,
    OpenCaseExists,
    Problem,
    SQLStore,
    StoredEvent,
    Verification,
)
from chronic_na.store.sqlite import SQLiteStore

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
    "SQLiteStore",
    "StoredEvent",
    "Verification",
]
