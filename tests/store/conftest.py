"""Store fixtures: one contract, every backend.

``store_factory`` makes fresh, empty stores of the backend the test is
parametrised with: SQLite in a scratch file, and PostgreSQL in a schema of
its own on the server ``CHRONIC_NA_PG_DSN`` names. Without that variable the
PostgreSQL tests skip, saying why; under ``.ci/run`` (which starts a server
and sets ``CHRONIC_NA_PG_REQUIRED``) a skipped PostgreSQL test fails the run
instead (see tests/conftest.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from chronic_na.store import SQLiteStore, SQLStore

PG_DSN = os.environ.get("CHRONIC_NA_PG_DSN")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

StoreFactory = Callable[..., SQLStore]


def pg_dsn() -> str:
    """The test server's DSN, or skip (saying why)."""
    if not PG_DSN:
        pytest.skip("no PostgreSQL server: set CHRONIC_NA_PG_DSN (bash .ci/postgres starts one)")
    return PG_DSN


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(pg_dsn(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend's name: ``sqlite`` or ``postgres``."""
    name: str = request.param
    if name == "postgres":
        pg_dsn()
    return name


@pytest.fixture
def store_location(backend: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Where a fresh store lives: keyword arguments for :func:`make_store`."""
    if backend == "sqlite":
        yield {"backend": "sqlite", "path": str(tmp_path / "store.sqlite")}
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield {"backend": "postgres", "dsn": pg_dsn(), "schema": schema}
    drop_schema(schema)


def make_store(location: dict[str, Any], **options: Any) -> SQLStore:
    """A store at ``location`` (from the ``store_location`` fixture)."""
    if location["backend"] == "sqlite":
        return SQLiteStore(location["path"], **options)
    from chronic_na.store.postgres import PostgresStore

    return PostgresStore(location["dsn"], schema=location["schema"], **options)


@pytest.fixture
def store_factory(store_location: dict[str, Any]) -> Iterator[StoreFactory]:
    """Opens stores on one fresh location (several may be open at once); closes them after."""
    opened: list[SQLStore] = []

    def factory(**options: Any) -> SQLStore:
        store = make_store(store_location, **options)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store(store_factory: StoreFactory) -> SQLStore:
    """A fresh, empty store on the backend under test."""
    return store_factory()
