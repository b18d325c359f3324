"""Migration 0014 (issue 19) on both backends: the reservations booked before it are not
recorded, the recordings table appears, and going back drops both cleanly."""

from __future__ import annotations

from sqlalchemy import inspect

from booking.domain.clock import FakeClock
from booking.services.booking import BookingService
from booking.services.recordings import RecordingService
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.migrate import downgrade, upgrade
from booking.store.unit_of_work import SqlUnitOfWork
from tests.store.conftest import T0


def test_0014_adds_the_record_option_off_and_the_recordings(empty_url: str) -> None:
    upgrade(empty_url, "0013")
    engine = make_engine(empty_url)
    try:
        assert "recordings" not in inspect(engine).get_table_names()
        with engine.begin() as conn:  # a booking made before the migration, as 0013 stores it
            conn.exec_driver_sql(
                "INSERT INTO profiles (id, name, language, created_at) VALUES (1, 'acme', 'en', '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO rooms (id, conference_number, pin, admin_pin, profile_id, created_at) "
                "VALUES (1, '123456', '111111111', '222222222', 1, '2026-01-01')"
            )
            conn.exec_driver_sql(
                "INSERT INTO reservations (id, room_id, kind, seats, created_at) "
                "VALUES (1, 1, 'anytime', 5, '2026-01-01')"
            )
    finally:
        engine.dispose()
    upgrade(empty_url, "0014")
    engine = make_engine(empty_url)
    try:  # 0014 alone: read raw (today's repositories read the later migrations' columns too)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT record FROM reservations WHERE id = 1").scalar_one() in (
                0,
                False,
            )
        assert "recordings" in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        uow, clock = SqlUnitOfWork(engine), FakeClock(T0)
        old = BookingService(uow, clock, BookingSettings()).get(1, 1)
        assert old.record is False
        made = RecordingService(uow, clock).started(1, "s", "/rec/1-s.wav")
        assert [r.id for r in RecordingService(uow, clock).for_organizer(1, 1)] == [made.id]
    finally:
        engine.dispose()
    downgrade(empty_url, "0013")
    engine = make_engine(empty_url)
    try:
        insp = inspect(engine)
        assert "recordings" not in insp.get_table_names()
        assert "record" not in {c["name"] for c in insp.get_columns("reservations")}
    finally:
        engine.dispose()
