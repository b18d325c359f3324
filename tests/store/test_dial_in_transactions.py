"""Which transactions a PIN check opens, and the SQLite WAL kept small off the request path.

The right PIN (the common case, hundreds of callers a minute at a conference's start) is
decided in a read-only transaction: on SQLite it never queues behind the booking writers.
Only a wrong guess opens a write transaction (to count it, under the counters' lock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from booking.services.dialin import DialInService, DialInStatus
from booking.settings import BookingSettings
from booking.store.engine import make_engine, wal_checkpointer
from booking.store.migrate import upgrade
from booking.store.unit_of_work import SqlTransaction, SqlUnitOfWork
from tests.store.conftest import SQLITE_ONLY, Store
from tests.support.poll import until_sync


class CountingUnitOfWork(SqlUnitOfWork):
    """The real unit of work, counting the transactions it opens by kind."""

    def __init__(self, store: Store) -> None:
        super().__init__(store.engine)
        self.opened: list[str] = []

    @contextmanager
    def __call__(self, read_only: bool = False) -> Iterator[SqlTransaction]:
        self.opened.append("read" if read_only else "write")
        with super().__call__(read_only) as repo:
            yield repo


def test_the_right_pin_opens_only_a_read_only_transaction(store: Store) -> None:
    booked = store.service().book(store.clock.now(), 60, seats=5)
    uow = CountingUnitOfWork(store)
    dialin = DialInService(uow, store.clock, BookingSettings())

    outcome = dialin.dial_in(booked.room.conference_number, booked.room.pin, "+420601000001")

    assert outcome.admitted
    assert uow.opened == ["read"]


def test_a_wrong_pin_is_counted_in_a_write_transaction_and_a_right_one_writes_nothing(store: Store) -> None:
    booked = store.service().book(store.clock.now(), 60, seats=5)
    uow = CountingUnitOfWork(store)
    dialin = DialInService(uow, store.clock, BookingSettings(pin_per_caller=2))
    number, caller = booked.room.conference_number, "+420601000002"

    wrong = dialin.dial_in(number, "000000", caller)
    assert wrong.status is DialInStatus.BAD_CREDENTIALS and wrong.delay_s == 1
    assert uow.opened == ["read", "write"]

    uow.opened.clear()
    assert dialin.dial_in(number, booked.room.pin, caller).admitted
    assert uow.opened == ["read"]  # a right PIN forgets nothing: guessers cannot reset their count

    second = dialin.dial_in(number, "000000", caller)
    assert second.status is DialInStatus.BAD_CREDENTIALS and second.delay_s == 2
    store.clock.advance(timedelta(seconds=1))
    locked = dialin.dial_in(number, booked.room.pin, caller)
    assert locked.status is DialInStatus.CALLER_LOCKED and locked.reservation is None


@SQLITE_ONLY
def test_the_wal_is_checkpointed_in_the_background_not_in_a_commit(store: Store) -> None:
    checkpointer = wal_checkpointer(store.engine)
    assert checkpointer is not None
    service = store.service(system_capacity=10_000)
    start = store.clock.now() + timedelta(days=1)
    for i in range(3 * 50):
        service.book(start + timedelta(minutes=i), 60, seats=1)

    # the thread runs a checkpoint every 50 commits
    until_sync(lambda: checkpointer.checkpoints >= 2, 10, "two background checkpoints")
    with store.engine.connect() as conn:  # a pooled connection: our PRAGMAs are set on it
        autocheckpoint = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
    assert autocheckpoint is not None and autocheckpoint > 1000  # SQLite's own stays out of the way
    # The background checkpoints moved the WAL's frames into the database file without waiting
    # on a lock (not busy): once all are moved, the next writer starts the WAL from its beginning.
    assert checkpointer.last is not None
    busy, _frames, moved = checkpointer.last
    assert busy == 0 and moved > 0, checkpointer.last


@SQLITE_ONLY
def test_engines_on_one_file_share_one_checkpointer(empty_url: str) -> None:
    upgrade(empty_url)
    a, b = make_engine(empty_url), make_engine(empty_url)
    try:
        assert wal_checkpointer(a) is wal_checkpointer(b) is not None
    finally:
        a.dispose()
        b.dispose()
