"""The store tier: every test runs on SQLite (a WAL file database) and on a real PostgreSQL.

PostgreSQL is one throwaway cluster for the whole session (``conference_ivr/cluster/postgres.py``),
started the first time a PostgreSQL test needs it; each test gets its own fresh database.
It never skips: if the cluster cannot start, the PostgreSQL tests fail with the server's log.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from booking.domain.clock import FakeClock
from booking.services.booking import BookingService
from booking.services.dialin import DialInService
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from booking.store.unit_of_work import SqlUnitOfWork
from conference_ivr.cluster.postgres import Postgres, running_postgres

BACKENDS = ["sqlite", "postgresql"]
# For the few checks that only mean something on SQLite (its busy handler, its VM step count).
SQLITE_ONLY = pytest.mark.parametrize("empty_url", ["sqlite"], indirect=True)
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the fake clock's "now"
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with running_postgres() as pg:
        yield pg


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'booking.db'}"
    pg: Postgres = request.getfixturevalue("postgres")
    return pg.create_database(f"test_{next(_databases)}")


@dataclass
class Store:
    url: str
    engine: Engine
    clock: FakeClock

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def service(self, **settings: object) -> BookingService:
        return BookingService(SqlUnitOfWork(self.engine), self.clock, BookingSettings(**settings))

    @property
    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    def dialin(self, **settings: object) -> DialInService:
        """The dial-in decisions under the same rules as ``service(**settings)``."""
        return DialInService(SqlUnitOfWork(self.engine), self.clock, BookingSettings(**settings))


@pytest.fixture
def store(empty_url: str) -> Iterator[Store]:
    """A migrated database, its engine and a fake clock at T0."""
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        yield Store(empty_url, engine, FakeClock(T0))
    finally:
        engine.dispose()


@pytest.fixture
def service(store: Store) -> BookingService:
    """A service on the migrated store with a small capacity (10 seats)."""
    return store.service(system_capacity=10)


@pytest.fixture
def dialin(store: Store) -> DialInService:
    """The dial-in decisions beside ``service`` (default rules)."""
    return store.dialin()
