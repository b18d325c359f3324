"""Seats reserved now and over the next hours, capacity and PIN lockouts, read from the store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from booking.domain.capacity import Booked
from booking.domain.clock import FakeClock
from booking.services.figures import reserved_at
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from conference_ivr.conference.booking_gauges import BookingGauges
from conference_ivr.dialconf.services import Services
from conference_ivr.metrics import Metrics
from tests.support.services import services_on

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    url = f"sqlite:///{tmp_path / 'figures.db'}"
    upgrade(url)
    engine = make_engine(url)
    settings = BookingSettings(system_capacity=50, pin_per_caller=2, pin_base_delay_s=0, pin_max_delay_s=0)
    yield services_on(engine, FakeClock(NOW - timedelta(minutes=30)), settings, tmp_path)
    engine.dispose()


def at(minutes: int) -> datetime:
    return NOW + timedelta(minutes=minutes)


def test_reserved_at_counts_the_bookings_that_hold_seats_at_that_instant() -> None:
    booked = [Booked(at(-30), at(30), 10), Booked(at(30), at(90), 20)]
    assert reserved_at(booked, at(0)) == 10
    assert reserved_at(booked, at(30)) == 20  # [a, b) and [b, c) do not overlap
    assert reserved_at(booked, at(90)) == 0


def test_figures_give_seats_now_and_the_peak_of_each_horizon(services: Services) -> None:
    booking = services.booking
    a = booking.book(at(-30), 60, seats=10)  # until +30
    booking.book(at(30), 60, seats=20)  # +30..+90
    booking.book(at(60), 120, seats=15)  # +60..+180: with the one before, 35 at +60
    booking.book(at(300), 60, seats=5)  # beyond every horizon
    anytime = booking.book(None, None, seats=7)  # anytime rooms hold no seats in advance
    gone = booking.book(at(0), 60, seats=9)
    booking.cancel(gone.id or 0)  # a deleted booking frees its seats
    clock = services.clock
    assert isinstance(clock, FakeClock)
    clock.advance(timedelta(minutes=30))  # now = NOW

    figures = services.figures.read([a.room.conference_number, "999999"])

    assert figures.at == NOW and figures.capacity == 50
    assert figures.reserved == {"now": 10, "1h": 20, "2h": 35, "4h": 35}
    assert figures.live_seats == 0
    assert services.seats.hold(anytime.id or 0, "m1") and services.seats.hold(anytime.id or 0, "m2")
    assert services.figures.read().live_seats == 2  # but its live members do
    running = figures.running[a.room.conference_number]
    assert running is not None and running.seats == 10
    assert figures.running["999999"] is None
    assert figures.lockouts == []
    assert figures.lockouts_by_scope() == {"conference": 0, "caller": 0, "web-conference": 0, "web": 0}


async def test_gauges_follow_the_store_and_lockouts_by_scope(services: Services) -> None:
    r = services.booking.book(at(-30), 120, seats=12)
    for _ in range(2):  # the caller's limit is 2 wrong PINs here
        services.dialin.dial_in(r.room.conference_number, "000000", caller="+420777000111")
    metrics = Metrics()

    figures = await BookingGauges(services.figures, metrics).refresh()

    assert [a.key for a in figures.lockouts] == ["caller:+420777000111"]
    sample = metrics.registry.get_sample_value
    assert sample("dialconf_seats_capacity") == 50
    assert sample("dialconf_live_seats") == 0
    assert sample("dialconf_seats_reserved", {"horizon": "now"}) == 12
    assert sample("dialconf_seats_reserved", {"horizon": "4h"}) == 12
    assert sample("dialconf_pin_lockouts_active", {"scope": "caller"}) == 1
    assert sample("dialconf_pin_lockouts_active", {"scope": "conference"}) == 0
    assert (sample("dialconf_booking_figures_timestamp_seconds") or 0) > 0

    services.dialin.clear_pin_lockout("caller:+420777000111")
    anytime = services.booking.book(None, None, seats=5)
    assert services.seats.hold(anytime.id or 0, "m1")
    await BookingGauges(services.figures, metrics).refresh()
    assert sample("dialconf_pin_lockouts_active", {"scope": "caller"}) == 0
    assert sample("dialconf_live_seats") == 1
