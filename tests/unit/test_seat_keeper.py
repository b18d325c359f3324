"""The controller's side of the live seats (conference_ivr.conference.seat_keeper) over the
fake store: held on admission, freed on leave or on a hang-up on the way in, and after a
restart the seats of members still in are found again and renewed, the others freed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import FakeClock
from booking.domain.live import LiveSeat
from booking.services.booking import BookingService
from booking.services.seats import LiveSeats
from booking.settings import BookingSettings
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import parse_event
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.seat_keeper import SeatKeeper
from conference_ivr.metrics import Metrics
from tests.support.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BRIDGE = "conf-583920"


def event(name: str, uid: str) -> dict[str, str]:
    return {"Event": name, "Conference": BRIDGE, "Channel": f"PJSIP/a-{uid}", "Uniqueid": uid,
            "Admin": "No", "Muted": "No"}  # fmt: skip


def parts(capacity: int = 2) -> tuple[FakeUnitOfWork, FakeClock, LiveSeats, LiveConferences, SeatKeeper, int]:
    uow, clock = FakeUnitOfWork(), FakeClock(T0)
    settings = BookingSettings(system_capacity=capacity)
    room = BookingService(uow, clock, settings).book(None, None, seats=10)
    assert room.id is not None
    seats = LiveSeats(uow, clock, settings)
    live = LiveConferences(AmiClient("127.0.0.1", 9, "u", "s"), Metrics(), clock)
    return uow, clock, seats, live, SeatKeeper(seats, live, renew_s=60), room.id


def holders(uow: FakeUnitOfWork) -> list[str]:
    return [s.uniqueid for s in uow.view().live.seats()]


async def test_seats_are_held_on_admission_and_freed_on_leave_or_hang_up_on_the_way() -> None:
    uow, _clock, _seats, live, keeper, rid = parts()
    assert await keeper.hold(rid, "a") and await keeper.hold(rid, "b")
    assert not await keeper.hold(rid, "c")  # the system's two seats are taken
    await live.on_event(parse_event(event("ConfbridgeJoin", "a")))
    await keeper.on_event(parse_event({"Event": "Hangup", "Channel": "PJSIP/a-b", "Uniqueid": "b"}))
    assert holders(uow) == ["a"]  # b hung up before joining
    await keeper.on_event(parse_event({"Event": "Hangup", "Channel": "PJSIP/a-a", "Uniqueid": "a"}))
    assert holders(uow) == ["a"]  # still in the conference: a stray hang-up frees nothing
    await live.on_event(parse_event(event("ConfbridgeLeave", "a")))
    assert holders(uow) == []


async def test_after_a_restart_the_seats_of_members_still_in_are_renewed_the_rest_freed() -> None:
    uow, clock, seats, live, keeper, rid = parts(capacity=5)
    with uow() as tx:  # held by the controller before it was killed
        for uid in ("still-in", "gone"):
            tx.live.hold_seat(LiveSeat(uid, rid, T0, T0 + timedelta(minutes=30)))
    await live.on_event(parse_event(event("ConfbridgeJoin", "still-in")))  # as the resync finds it
    await keeper.reconcile()
    assert holders(uow) == ["still-in"]
    clock.advance(timedelta(minutes=20))
    seats.renew(["still-in"])
    assert [s.held_until for s in uow.view().live.seats()] == [T0 + timedelta(minutes=50)]
    await live.on_event(parse_event(event("ConfbridgeLeave", "still-in")))
    assert holders(uow) == []  # the keeper knew it held that seat, though it had restarted
