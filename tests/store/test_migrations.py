"""Migrations build exactly the schema of ``booking/store/tables.py``, from empty, and undo cleanly."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import timedelta

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

import booking.store
from booking.domain.clock import FakeClock
from booking.services.booking import BookingService
from booking.services.dialin import DialInService
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.migrate import alembic_config, downgrade, upgrade
from booking.store.tables import metadata
from booking.store.unit_of_work import SqlUnitOfWork
from tests.store.conftest import T0

# Every table module of the store registers its tables in the one MetaData.
for _module in pkgutil.iter_modules(booking.store.__path__, "booking.store."):
    importlib.import_module(_module.name)
TABLES = set(metadata.tables)


def _revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def _schema_diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _index_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        insp = inspect(engine)
        return {str(ix["name"]) for table in TABLES for ix in insp.get_indexes(table)}
    finally:
        engine.dispose()


def test_upgrade_from_empty_builds_exactly_the_declared_schema(empty_url: str) -> None:
    assert _tables(empty_url) == set()
    upgrade(empty_url)
    assert _tables(empty_url) == TABLES
    assert _schema_diff(empty_url) == []
    declared = {str(ix.name) for table in metadata.tables.values() for ix in table.indexes}
    assert declared <= _index_names(empty_url)


def test_downgrade_to_empty_and_upgrade_again(empty_url: str) -> None:
    upgrade(empty_url)
    downgrade(empty_url, "base")
    assert _tables(empty_url) == set()
    upgrade(empty_url)
    assert _tables(empty_url) == TABLES
    assert _schema_diff(empty_url) == []


def test_every_step_down_and_up_keeps_the_bookings(empty_url: str) -> None:
    """Each revision undone and redone on a database holding a booking (SQLite rebuilds
    tables in batch mode, with foreign keys pointing at them)."""
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        svc = BookingService(SqlUnitOfWork(engine), FakeClock(T0), BookingSettings())
        booked = svc.book(T0 + timedelta(days=1), 60, 5)
    finally:
        engine.dispose()
    revisions = _revisions()
    for older in reversed(revisions[:-1]):
        downgrade(empty_url, older)
    for newer in revisions[1:]:
        upgrade(empty_url, newer)
    assert _schema_diff(empty_url) == []
    engine = make_engine(empty_url)
    try:
        dialin = DialInService(SqlUnitOfWork(engine), FakeClock(T0), BookingSettings())
        outcome = dialin.dial_in(booked.room.conference_number, booked.room.pin)
        assert outcome.reservation is not None
        assert outcome.reservation.id == booked.id
        assert outcome.reservation.seats == 5
    finally:
        engine.dispose()


def test_0015_adds_the_moderator_options_off_to_existing_bookings(empty_url: str) -> None:
    """0015's downgrade drops the two options and nothing else; a booking that was made
    without them (as before 0015) gets them off when 0015 runs again."""
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        svc = BookingService(SqlUnitOfWork(engine), FakeClock(T0), BookingSettings())
        booked = svc.book(T0 + timedelta(days=1), 60, 5)
        assert booked.id is not None
        svc.edit(booked.room.profile_id, booked.id, wait_for_moderator=True, end_with_moderator=True)
        assert svc.get(booked.room.profile_id, booked.id).wait_for_moderator
    finally:
        engine.dispose()
    downgrade(empty_url, "0013")
    engine = make_engine(empty_url)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("reservations")}
        assert not {"wait_for_moderator", "end_with_moderator"} & columns
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM reservations")).scalar_one() == 1
    finally:
        engine.dispose()
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        svc = BookingService(SqlUnitOfWork(engine), FakeClock(T0), BookingSettings())
        again = svc.get(booked.room.profile_id, booked.id)
        assert (again.wait_for_moderator, again.end_with_moderator) == (False, False)
        assert again.room == booked.room
    finally:
        engine.dispose()
