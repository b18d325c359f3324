"""A booking's cost follows the bookings near its window, not the size of the tables.

Every statement a booking runs is checked with the database's own planner (SQLite: EXPLAIN
QUERY PLAN as the app runs it, no ANALYZE; PostgreSQL: EXPLAIN after ANALYZE, as autovacuum
leaves it): none scans the rooms or reservations tables, and the capacity read is an index range
on ix_reservations_capacity. On SQLite the work is also counted in virtual-machine steps:
thousands more bookings in the fortnight before the window cost the check nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, event

from booking.domain.model import ReservationKind
from booking.domain.rules import BookingRequest
from booking.service import BookingService
from booking.store.repository import Repository
from tests.store.bulk import analyze, load_bookings
from tests.store.conftest import SQLITE_ONLY, T0, Store

WINDOW = T0 + timedelta(days=20)
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


def test_every_statement_of_a_booking_uses_an_index(store: Store) -> None:
    # A month, past and future, 20 profiles with ~1000 rooms each: to the planner a new profile
    # looks like one with a thousand rooms (the benchmark's proportions).
    load_bookings(store.engine, 20_000, T0 - timedelta(days=10), 30, T0, profiles_count=20)
    if store.backend == "postgresql":
        analyze(store.engine)
    service: BookingService = store.service(system_capacity=1_000_000, panel_max_seats=30)
    profile = service.profile_named("planner")
    with statements(store.engine) as booking:
        # Everything a customer, an operator and a caller do, but list.
        mine = service.request(profile.id, BookingRequest(PANEL, WINDOW, WINDOW + timedelta(hours=1), 5))
        assert mine.id is not None
        service.edit(profile.id, mine.id, seats=6)
        big = service.request(profile.id, BookingRequest(PANEL, WINDOW, WINDOW + timedelta(hours=1), 40))
        assert big.id is not None
        service.queue()
        service.approve(big.id)
        service.dial_in(mine.room.conference_number, mine.room.pin)
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

    # The capacity read selects the three columns a Booked needs, and nothing else.
    capacity_read = re.compile(r"SELECT reservations\.starts_at( AS \w+)?, reservations\.ends_at( AS \w+)?, "
                               r"reservations\.seats\s+FROM")  # fmt: skip
    capacity = [(s, p) for s, p in reads if capacity_read.match(s.lstrip())]
    assert capacity, "the capacity read was not seen"
    for statement, params in capacity:
        text = plan(store.engine, statement, params)
        if store.backend == "sqlite":
            searches = re.findall(r"SEARCH reservations USING (?:COVERING )?INDEX (\w+) \(([^)]*)\)", text)
            assert searches, text
            for index, using in searches:
                assert index == "ix_reservations_capacity", text
                assert "starts_at>?" in using and "starts_at<?" in using, text  # a range, both ends
        else:
            assert re.search(
                r"(Index Only Scan|Index Scan|Bitmap Index Scan) using ix_reservations_capacity", text
            )
            assert "starts_at >=" in text and "starts_at <" in text, text


def _capacity_steps(store: Store) -> tuple[int, int]:
    """SQLite virtual-machine steps (and rows) of the capacity read for WINDOW, as the service asks it."""
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
            rows = Repository(conn).booked_overlapping(lo, hi, timedelta(days=14))
        finally:
            driver.set_progress_handler(None, 1)
    return steps, len(rows)


@SQLITE_ONLY
def test_capacity_read_ignores_bookings_that_cannot_overlap(store: Store) -> None:
    service = store.service(system_capacity=1_000_000)
    for i in range(20):  # a few bookings that do overlap the horizon
        service.book(WINDOW + timedelta(hours=i - 10), 90, 1)
    _load_history(store, 2000, seed=1)
    steps_before, rows_before = _capacity_steps(store)
    _load_history(store, 8000, seed=2)  # five times more bookings, none near the window
    steps_after, rows_after = _capacity_steps(store)
    assert rows_before == rows_after == 20
    assert steps_after <= steps_before * 1.2 + 50, (steps_before, steps_after)
