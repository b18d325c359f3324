"""Anytime rooms hold live seats in the system's capacity (R7, R8) on real Asterisk: with the
system full, the next caller into an anytime room hears why and is turned away, a timed booking
that reaches into the live seats is refused, and a seat freed by a caller who leaves is
bookable again; the gauge shows the live seats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from booking.domain.errors import CapacityExceeded
from conference_ivr.ami.events import ConfbridgeJoin, ConfbridgeLeave, Hangup
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.poll import until
from tests.support.system import System, isolated_settings, running_asterisk, running_system

CAPACITY = 3


@pytest.fixture(scope="module")
async def small(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    base = isolated_settings(Path(tmp_path_factory.mktemp("seats")), name="seats")
    settings = base.model_copy(
        update={"booking": base.booking.model_copy(update={"system_capacity": CAPACITY})}
    )
    async with running_asterisk(settings) as asterisk, running_system(settings, asterisk) as system:
        yield system


def joined(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid


def left(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeLeave) and e.uniqueid == c.uniqueid


def live_seats(system: System) -> float | None:
    return system.controller.metrics.registry.get_sample_value("dialconf_live_seats")


async def test_an_anytime_room_holds_seats_a_timed_booking_and_a_join_cannot_take(small: System) -> None:
    now = small.clock.now()
    timed = small.booking.book(now - timedelta(minutes=1), 60, seats=1)  # one seat, held now
    anytime = small.booking.book(None, None, seats=10)
    callers = [small.caller(), small.caller()]
    for c in callers:
        await c.join(anytime.room.conference_number, anytime.room.pin)
        await small.events.wait_for(joined(c))
    # 1 reserved + 2 live = the capacity: the next caller into the anytime room is refused
    third = small.caller()
    await third.dial()
    await third.answer_prompt("press_one", "1")
    await third.answer_prompt("conference_number", anytime.room.conference_number + "#")
    await third.answer_prompt("pin", anytime.room.pin + "#")
    await small.events.wait_for(lambda e: isinstance(e, Hangup) and e.uniqueid == third.uniqueid)
    assert third.played()[-2:] == ["system_full", "goodbye"]
    failures = small.controller.metrics.registry.get_sample_value(
        "dialconf_join_failures_total", {"reason": "system_full"}
    )
    assert failures == 1
    # a timed booking within the live seats' hold does not fit beside them
    with pytest.raises(CapacityExceeded) as refused:
        small.booking.book(now + timedelta(minutes=15), 30, seats=1)
    assert refused.value.refusal.peak_reserved == CAPACITY
    await until(lambda: live_seats(small) == 2, 15, "the live seats on the gauge")
    # one caller leaves: their seat is free for a booking at once
    await callers[0].hangup()
    await small.events.wait_for(left(callers[0]))

    def bookable() -> bool:
        try:
            r = small.booking.book(now + timedelta(minutes=15), 30, seats=1)
        except CapacityExceeded:
            return False
        assert r.id is not None
        small.booking.cancel(r.id)
        return True

    await until(bookable, 10, "the freed seat bookable", blocking=True)
    await callers[1].hangup()
    assert timed.id is not None
    small.booking.cancel(timed.id)
