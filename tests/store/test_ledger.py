"""The capacity ledger (booking.store.ledger) stays what a sweep of the bookings says, after any
sequence of bookings, edits, extensions, approvals, rejections and deletions, on both backends;
migration 0013 builds it from the bookings already stored."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from booking.domain import capacity, ledger
from booking.domain.capacity import Booked
from booking.domain.errors import CapacityExceeded, NotFound, RuleViolation
from booking.domain.model import ReservationKind, ReservationStatus
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.ledger import SlotLedger
from booking.store.migrate import upgrade
from booking.store.reservations import ReservationRepository
from booking.store.tables import capacity_slots, reservations
from booking.store.unit_of_work import SqlUnitOfWork
from tests.store.bulk import load_bookings
from tests.store.conftest import T0, Store

_days = itertools.count(1)
CAPACITY = 25

# An operation: (what, which earlier booking, start in seconds from the example's day, length in
# seconds, seats). Starts and lengths fall on seconds, so slots are met and missed alike.
ops = st.lists(
    st.tuples(
        st.sampled_from(["book", "book", "edit", "delete", "extend", "queue"]),
        st.integers(0, 20),
        st.integers(0, 8 * 3600).map(lambda s: s - s % 30),
        st.integers(60, 4 * 3600).map(lambda s: s - s % 30),
        st.integers(1, 12),
    ),
    min_size=1,
    max_size=14,
)


def _confirmed(store: Store, exclude: int | None = None) -> list[Booked]:
    r = reservations.c
    q = select(r.starts_at, r.ends_at, r.seats).where(r.status == "active", r.starts_at.is_not(None))
    if exclude is not None:
        q = q.where(r.id != exclude)
    with store.engine.connect() as conn:
        return [Booked(s, e, n) for s, e, n in conn.execute(q)]


def _assert_ledger_is_the_sweep(
    store: Store, slot: timedelta, windows: list[tuple[datetime, datetime]]
) -> None:
    booked = _confirmed(store)
    expected = ledger.build(booked, slot)
    with store.engine.connect() as conn:
        kept = {int(i): (c, p) for i, c, p in conn.execute(select(capacity_slots))}
        repo = ReservationRepository(conn)
        assert repo.ledger.slot() == slot
        for start, end in windows:
            assert repo.ledger_peak(start, end) == capacity.peak(booked, start, end)[0], (start, end)
            held, busiest = repo.ledger_busiest(start, end)
            assert (held, busiest) == capacity.peak(booked, start, end)
    # A slot nothing holds any more may stay, at zero.
    assert {i: v for i, v in kept.items() if v != (0, 0)} == expected


@pytest.mark.parametrize("minutes", [1, 15])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sequence=ops)
def test_the_ledger_agrees_with_a_sweep_after_any_changes(
    store: Store, minutes: int, sequence: list[tuple[str, int, int, int, int]]
) -> None:
    day = T0 + timedelta(days=next(_days) % 25 + 1)  # each example its own day, mostly
    service = store.service(system_capacity=CAPACITY, capacity_slot_minutes=minutes)
    profile = service.profile_named(f"ledger-{minutes}")
    made: list[int] = []
    windows = []
    for what, which, offset, length, seats in sequence:
        start = day + timedelta(seconds=offset)
        end = start + timedelta(seconds=length)
        windows.append((start, end))
        mine = made[which % len(made)] if made else None
        try:
            if what == "book" or mine is None:
                made.append(
                    service.request(
                        profile.id, BookingRequest(ReservationKind.PANEL, start, end, seats), operator=True
                    ).id
                )
            elif what == "edit":
                service.edit(profile.id, mine, starts_at=start, ends_at=end, seats=seats)
            elif what == "delete":
                service.delete(profile.id, mine)
            elif what == "extend":
                r = service.reservation(mine)
                assert r is not None and r.ends_at is not None
                service.try_extend(mine, r.ends_at + timedelta(seconds=length))
            else:  # over the seat limit: queued, then approved or rejected
                queued = service.request(
                    profile.id, BookingRequest(ReservationKind.PANEL, start, end, 31), operator=True
                )
                assert queued.status is ReservationStatus.PENDING
                if seats % 2:
                    service.approve(queued.id)
                else:
                    service.reject(queued.id, "no")
                made.append(queued.id)
        except CapacityExceeded:
            # Refused exactly when the sweep says so (without the booking being changed).
            if what in ("book", "edit"):
                others = _confirmed(store, exclude=mine if what == "edit" else None)
                assert capacity.peak(others, start, end)[0] + seats > CAPACITY
        except (RuleViolation, NotFound):
            pass  # refused: rolled back, the ledger with it
    _assert_ledger_is_the_sweep(store, timedelta(minutes=minutes), windows)


def test_the_migration_builds_the_ledger_from_the_bookings_stored(empty_url: str) -> None:
    upgrade(empty_url, "0012")
    engine = make_engine(empty_url)
    try:
        load_bookings(engine, 400, T0, 3, T0, seed=5, ledger=False)  # as 0012 held them
    finally:
        engine.dispose()
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        store = Store(empty_url, engine, None)  # type: ignore[arg-type]
        hours = [(T0 + timedelta(minutes=37 * k), T0 + timedelta(minutes=37 * k + 90)) for k in range(80)]
        _assert_ledger_is_the_sweep(store, timedelta(minutes=1), hours)
    finally:
        engine.dispose()


def test_a_ledger_kept_in_other_slots_is_rebuilt_at_the_next_check(store: Store) -> None:
    service = store.service(system_capacity=10, capacity_slot_minutes=15)
    service.book(T0 + timedelta(days=1, minutes=7), 50, 6)
    with store.engine.connect() as conn:
        assert SlotLedger(conn).slot() == timedelta(minutes=15)
    other = store.service(system_capacity=10, capacity_slot_minutes=5)
    with pytest.raises(CapacityExceeded):  # refused: the rebuild is rolled back with it
        other.book(T0 + timedelta(days=1, minutes=50), 60, 5)
    with store.engine.connect() as conn:
        assert SlotLedger(conn).slot() == timedelta(minutes=15)
    other.book(T0 + timedelta(days=1, minutes=50), 60, 4)  # 6 + 4: exactly full
    with store.engine.connect() as conn:
        assert SlotLedger(conn).slot() == timedelta(minutes=5)
    _assert_ledger_is_the_sweep(
        store, timedelta(minutes=5), [(T0 + timedelta(days=1), T0 + timedelta(days=1, hours=2))]
    )


def test_a_connection_that_saw_another_slot_length_reads_the_new_one(store: Store) -> None:
    # Each connection remembers the slot length it read last, and checks it in the same
    # statement as the slots: one rebuilt meanwhile by another process is read anew.
    day = T0 + timedelta(days=1)
    store.service(system_capacity=50).book(day + timedelta(minutes=10), 30, 7)  # 1-minute slots
    other = make_engine(store.url)
    try:
        settings = BookingSettings(system_capacity=50, capacity_slot_minutes=15)
        BookingService(SqlUnitOfWork(other), store.clock, settings).book(day + timedelta(minutes=20), 30, 5)
    finally:
        other.dispose()
    with store.engine.connect() as conn:
        repo = ReservationRepository(conn)
        assert repo.ledger_peak(day + timedelta(minutes=25), day + timedelta(minutes=26)) == 12
        assert repo.ledger.slot() == timedelta(minutes=15)


def test_a_fortnight_long_panel_window_is_kept_exactly(store: Store) -> None:
    # R24's longest window (14 days: 20 160 one-minute slots), booked, edited and deleted
    # beside short bookings that start and end inside slots.
    service = store.service(system_capacity=40, panel_max_window_days=14)
    profile = service.profile_named("fortnight")
    day = T0 + timedelta(days=1)
    request = BookingRequest(ReservationKind.PANEL, day + timedelta(seconds=30), day + timedelta(days=14), 9)
    long = service.request(profile.id, request, operator=True)
    for k in range(6):
        service.book(day + timedelta(days=2 * k, minutes=7, seconds=20), 45, 10 + k, profile="fortnight")
    windows = [(day + timedelta(days=k, minutes=k), day + timedelta(days=k, hours=3)) for k in range(14)]
    windows.append((day, day + timedelta(days=14)))
    _assert_ledger_is_the_sweep(store, timedelta(minutes=1), windows)
    with pytest.raises(CapacityExceeded):  # 26 beside the largest short one (15): 41 > 40
        service.edit(profile.id, long.id, seats=26)
    service.edit(profile.id, long.id, seats=25, starts_at=day + timedelta(hours=1))
    _assert_ledger_is_the_sweep(store, timedelta(minutes=1), windows)
    service.delete(profile.id, long.id)
    _assert_ledger_is_the_sweep(store, timedelta(minutes=1), windows)
