"""A booking's cost follows the bookings near its window, not the size of the tables.

Every statement a booking runs is checked with the database's own planner (SQLite: EXPLAIN
QUERY PLAN as the app runs it, no ANALYZE; PostgreSQL: EXPLAIN after ANALYZE, as autovacuum
leaves it): none scans the rooms or reservations tables, and every capacity read (the summed
bound, the exact read near the capacity, a refusal's wider read) is one index range per length
class on ix_reservations_capacity. On SQLite the work is also counted in virtual-machine steps:
thousands more bookings in the fortnight before the window cost none of the reads anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert

from booking.domain.errors import CapacityExceeded
from booking.domain.model import ReservationKind
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.services.dialin import DialInService
from booking.store.pin_attempts import pin_attempts
from booking.store.reservations import ReservationRepository
from booking.store.unit_of_work import SqlUnitOfWork
from booking.store.usage import usage_legs
from booking.store.web_sessions import web_sessions
from booking.web.session import Viewer
from booking.web.session_store import SessionStore
from tests.store.bulk import analyze, load_bookings
from tests.store.conftest import SQLITE_ONLY, T0, Store

WINDOW = T0 + timedelta(days=20)
BUSY = T0 + timedelta(days=5)  # amid the loaded month: many bookings overlap an hour
LONGEST = timedelta(days=14)  # the service's absolute_max_window_days
PANEL = ReservationKind.PANEL
SHORT = [(30, 1), (60, 2), (120, 1)]  # minutes, weight: none of these reaches the window


@contextmanager
def statements(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plan(engine: Engine, statement: str, params: Any) -> str:
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        return "\n".join(str(row[-1]) for row in conn.exec_driver_sql(explain + statement, params))


def full_scans(engine: Engine, text: str) -> list[str]:
    """Plan lines that walk all of rooms or reservations, or all rows of one status."""
    if engine.dialect.name != "sqlite":
        return re.findall(r"^.*Seq Scan on (?:rooms|reservations)\b.*$", text, re.MULTILINE)
    bad = []
    for line in text.splitlines():
        # Walking a partial index of the few pending requests is fine; anything else is not.
        if re.match(
            r"\s*SCAN (rooms|reservations)\b(?! USING (COVERING )?INDEX ix_reservations_pending\b)", line
        ):
            bad.append(line)
        search = re.match(r"\s*SEARCH (?:rooms|reservations) USING .*INDEX \w+ \(([^)]*)\)", line)
        if search:
            columns = {re.split(r"[=<>]", term.strip())[0] for term in search.group(1).split(" AND ")}
            if columns <= {"status", "span_class", "deleted_at"}:  # a few values each: a scan
                bad.append(line)
    return bad


def _load_history(store: Store, count: int, seed: int) -> None:
    """``count`` short bookings in the fortnight before WINDOW: none of them overlaps it."""
    load_bookings(store.engine, count, WINDOW - timedelta(days=14), 12, T0, seed=seed, lengths=SHORT)


def test_every_statement_of_a_booking_uses_an_index(store: Store, dialin: DialInService) -> None:
    # A month, past and future, 20 profiles with ~1000 rooms each: to the planner a new profile
    # looks like one with a thousand rooms (the benchmark's proportions).
    load_bookings(store.engine, 20_000, T0 - timedelta(days=10), 30, T0, profiles_count=20)
    if store.backend == "postgresql":
        analyze(store.engine)
    service: BookingService = store.service(system_capacity=1_000_000, panel_max_seats=30)
    profile = service.profile_named("planner")
    hour = (BUSY, BUSY + timedelta(hours=1))
    with store.engine.connect() as conn:
        held = ReservationRepository(conn).peak_reserved(*hour, LONGEST)
        assert (
            ReservationRepository(conn).seats_overlapping(*hour, LONGEST) > held + 1
        )  # the bound is loose here
    # Room for exactly one more seat at the busiest instant: the bound leaves no room, the exact
    # peak decides (booked); the next seat is refused, with the wider read for its suggestions.
    tight: BookingService = store.service(system_capacity=held + 1)
    one_seat = BookingRequest(PANEL, *hour, 1)
    with statements(store.engine) as booking:
        tight.request(profile.id, one_seat, operator=True)
        with pytest.raises(CapacityExceeded):
            tight.request(profile.id, one_seat, operator=True)
        # Everything a customer, an operator and a caller do, but list.
        mine = service.request(profile.id, BookingRequest(PANEL, WINDOW, WINDOW + timedelta(hours=1), 5))
        assert mine.id is not None
        service.edit(profile.id, mine.id, seats=6)
        big = service.request(profile.id, BookingRequest(PANEL, WINDOW, WINDOW + timedelta(hours=1), 40))
        assert big.id is not None
        service.queue()
        service.approve(big.id)
        dialin.dial_in(mine.room.conference_number, mine.room.pin)
        service.delete(profile.id, mine.id)
        service.book(WINDOW, 60, 5, profile="planner")
    with statements(store.engine) as listing:
        service.visible_reservations(profile.id)
    reads = [(s, p) for s, p in booking if s.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE"))]
    if store.backend == "sqlite":
        # A profile's listing reads its whole history anyway; PostgreSQL may rightly hash-join a
        # profile it estimates at a thousand rooms. SQLite, without statistics, must not walk it all.
        reads += [(s, p) for s, p in listing if s.lstrip().upper().startswith("SELECT")]
    assert reads
    for statement, params in reads:
        text = plan(store.engine, statement, params)
        assert full_scans(store.engine, text) == [], f"{statement}\n{text}"

    # Every capacity read is the ledger's: a range of its slots by their key. None reads the
    # bookings' rows near the window (the sweep before the ledger), not even for a refusal.
    assert not [s for s, _ in reads if "reservations.span_class = " in s]
    ledger = [(s, p) for s, p in reads if "capacity_slots" in s and s.lstrip().upper().startswith("SELECT")]
    assert ledger, "no ledger read seen"
    for statement, params in ledger:
        text = plan(store.engine, statement, params)
        if store.backend == "sqlite":
            assert re.search(r"SEARCH capacity_slots USING (INTEGER PRIMARY KEY|.*INDEX)", text), text
        else:
            assert re.search(
                r"(Index Only Scan|Index Scan|Bitmap Index Scan) using capacity_slots_pkey", text
            ), text


Read = Callable[[ReservationRepository, datetime, datetime, timedelta], object]
READS: dict[str, Read] = {
    "rows": ReservationRepository.booked_overlapping,
    "bound": ReservationRepository.seats_overlapping,
    "exact": ReservationRepository.peak_reserved,
}


def _capacity_steps(store: Store, read: Read) -> tuple[int, object]:
    """SQLite virtual-machine steps (and the answer) of a capacity read for WINDOW, over the
    horizon the service reads for a refusal."""
    assert store.backend == "sqlite"
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    with store.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        driver.set_progress_handler(count, 1)
        try:
            lo, hi = WINDOW - timedelta(hours=24), WINDOW + timedelta(hours=25)  # the service's horizon
            found = read(ReservationRepository(conn), lo, hi, LONGEST)
        finally:
            driver.set_progress_handler(None, 1)
    return steps, found


@SQLITE_ONLY
@pytest.mark.parametrize("read", READS)
def test_capacity_read_ignores_bookings_that_cannot_overlap(store: Store, read: str) -> None:
    service = store.service(system_capacity=1_000_000)
    for i in range(20):  # a few bookings that do overlap the horizon
        service.book(WINDOW + timedelta(hours=i - 10), 90, 1)
    _load_history(store, 2000, seed=1)
    steps_before, found_before = _capacity_steps(store, READS[read])
    _load_history(store, 8000, seed=2)  # five times more bookings, none near the window
    steps_after, found_after = _capacity_steps(store, READS[read])
    # 1 seat for 90 minutes every hour: 20 rows, 20 seats summed, at most 2 held at once.
    expected = {"rows": 20, "bound": 20, "exact": 2}[read]
    assert found_before == found_after
    assert (len(found_after) if isinstance(found_after, list) else found_after) == expected
    assert steps_after <= steps_before * 1.2 + 50, (steps_before, steps_after)


GUARDED = ("pin_attempts", "usage_legs", "web_sessions")


def _walks(engine: Engine, text: str) -> list[str]:
    """Plan lines that read all of a PIN-guard or session table."""
    tables = "|".join(GUARDED)
    if engine.dialect.name != "sqlite":
        return re.findall(rf"^.*Seq Scan on (?:{tables})\b.*$", text, re.MULTILINE)
    return [line for line in text.splitlines() if re.match(rf"\s*SCAN ({tables})\b", line)]


def test_the_pin_guard_and_the_web_sessions_read_by_index(store: Store) -> None:
    """A guessing flood leaves many counters; anytime rooms collect many legs; every signed-in
    request reads a session: none of their statements walks its table."""
    service = store.service(pin_per_conference=3, pin_conference_window_minutes=15)
    dialin = store.dialin(pin_per_conference=3, pin_conference_window_minutes=15)
    r = service.book(None, None, 10)
    assert r.id is not None
    now = store.clock.now()
    with store.engine.begin() as conn:
        conn.execute(
            insert(pin_attempts),
            [
                {"key": f"conference:{n}", "failures": 1, "window_start": now, "locked_until": None}
                for n in range(3000)
            ],
        )
        conn.execute(
            insert(usage_legs),
            [
                {"uniqueid": f"u{n}", "conference_number": r.room.conference_number, "reservation_id": r.id,
                 "caller_number": f"+42060{n % 700:07d}", "role": "participant", "joined_at": now}
                for n in range(3000)
            ],
        )  # fmt: skip
        conn.execute(
            insert(web_sessions),
            [{"id_hash": f"{n:064x}", "subject": f"profile:{n}", "created_at": now,
              "expires_at": now + timedelta(hours=12)} for n in range(3000)],
        )  # fmt: skip
    analyze(store.engine)
    sessions = SessionStore(SqlUnitOfWork(store.engine), store.clock)
    viewer = Viewer("acme", profile_id=1, nonce="a-session-id")
    with statements(store.engine) as seen:
        for _ in range(4):  # past the budget: the known caller's history is read
            dialin.dial_in(r.room.conference_number, "100000000", "+420700000001")
        dialin.dial_in(r.room.conference_number, r.room.pin, "+420600000012")
        dialin.web_sign_in(r.room.conference_number, "100000000", "192.0.2.1")
        sessions.open(viewer, now + timedelta(hours=12))
        assert sessions.is_live(viewer.nonce)
        sessions.revoke(viewer.nonce)
    reads = [
        (s, p)
        for s, p in seen
        if s.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")) and any(t in s for t in GUARDED)
    ]
    touched = {t for s, _ in reads for t in GUARDED if t in s}
    assert touched == set(GUARDED), touched
    for statement, params in reads:
        text = plan(store.engine, statement, params)
        assert _walks(store.engine, text) == [], f"{statement}\n{text}"
