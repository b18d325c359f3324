"""Dial-out (R40, R49, R50) through a real PJSIP trunk whose far end is SIPp on loopback.

The trunk's far end answers number 100 (and any other) and keys 1, is busy on 200, never
answers 300, declines 400. A dial-out reservation's start makes the controller call every
phone number it lists; no PIN is asked (R49); misses are retried per settings and recorded;
a moderator calls again or calls a new number from the keypad (R50).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from booking.dialout import DialOutService
from booking.domain.dialout import CallState, DialCall
from booking.domain.model import Reservation
from booking.domain.rules import BookingRequest, ReservationKind
from booking.messaging.model import Channel, Invitee
from booking.store.messaging import MessagingRepository
from booking.usage import UsageService
from conference_ivr.ami.events import AgiExecStart, ConfbridgeJoin
from conference_ivr.settings import DialOutSettings
from tests.support.caller import LocalCaller
from tests.support.live_web import live_app, new_owner, serving, sign_in
from tests.support.poll import until
from tests.support.ports import free_ports
from tests.support.sipp_uas import BUSY, DECLINE, NO_ANSWER, sipp_uas
from tests.support.system import System, isolated_settings, running_asterisk, running_system

ANSWERS = "100"


@pytest.fixture(scope="module")
async def trunk(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[System]:
    tmp = tmp_path_factory.mktemp("dialout")
    (port,) = free_ports(1, socket.SOCK_DGRAM)
    (media,) = free_ports(1, socket.SOCK_DGRAM)
    base = isolated_settings(tmp, name="dout")
    dialout = DialOutSettings(
        trunk_port=port, allowed_numbers=r"[1-9][0-9]{2}", ring_s=3, max_attempts=2, retry_s=1, tick_s=0.2
    )
    settings = base.model_copy(update={"dialout": dialout})
    async with (
        sipp_uas(tmp, port, media),
        running_asterisk(settings) as asterisk,
        running_system(settings, asterisk) as system,
    ):
        yield system


def dial_out_reservation(system: System, numbers: list[str]) -> Reservation:
    """A dial-out reservation starting now that lists ``numbers`` as invitees."""
    booking = system.booking
    profile = booking.profile_named("acme").id
    now = datetime.now(UTC)
    req = BookingRequest(
        ReservationKind.PANEL, now - timedelta(minutes=1), now + timedelta(hours=1), 5, dial_out=True
    )
    invitees = [Invitee(Channel.SMS, n, "en") for n in numbers]
    return booking.request(
        profile,
        req,
        operator=True,
        within=lambda repo, r: MessagingRepository(repo.conn).replace_invitees(r.id or 0, invitees, now),
    )


def calls_of(system: System, r: Reservation) -> list[DialCall]:
    return DialOutService(system.booking.uow, system.booking.clock, ".*", 2, timedelta(seconds=1)).calls(
        r.id or 0
    )


async def test_at_the_start_everyone_listed_is_called_and_joins_without_a_pin(trunk: System) -> None:
    r = dial_out_reservation(trunk, [ANSWERS])
    bridge = f"conf-{r.room.conference_number}"
    joined = await trunk.events.wait_for(
        lambda e: isinstance(e, ConfbridgeJoin) and e.conference == bridge, timeout=40
    )
    [call] = await until(
        lambda: [c for c in calls_of(trunk, r) if c.state is CallState.JOINED],
        blocking=True,
        what="the call marked joined",
    )
    assert (
        call.number == ANSWERS and call.attempts == 0 and joined[0].uniqueid.startswith(f"dialout-{call.id}-")
    )
    # no PIN was asked: the route played the invitation and read one key
    commands = [
        e.get("Command")
        for e in trunk.events.matching(
            lambda e: isinstance(e, AgiExecStart) and e.get("Uniqueid") == joined[0].uniqueid
        )
    ]
    assert any("dialout_invite" in c for c in commands) and not any("dialconf/pin" in c for c in commands)
    usage = UsageService(trunk.booking.uow, trunk.booking.clock, trunk.settings.booking)
    leg = await until(lambda: usage.leg(joined[0].uniqueid), blocking=True, what="the leg recorded")
    assert leg.outbound and leg.caller_number == ANSWERS  # billed to the organizer, with its connection
    await trunk.ami.action({"Action": "ConfbridgeKick", "Conference": bridge, "Channel": "all"})


async def test_busy_no_answer_and_declined_are_retried_per_settings_and_recorded(trunk: System) -> None:
    r = dial_out_reservation(trunk, [BUSY, NO_ANSWER, DECLINE])

    def settled() -> dict[str, DialCall] | None:
        calls = {c.number: c for c in calls_of(trunk, r)}
        done = len(calls) == 3 and all(c.state is CallState.FAILED for c in calls.values())
        return calls if done else None

    calls = await until(settled, timeout=60, blocking=True, what="every call given up")
    assert (calls[BUSY].attempts, calls[BUSY].last_outcome) == (2, "busy")  # retried once, then given up
    assert (calls[NO_ANSWER].attempts, calls[NO_ANSWER].last_outcome) == (2, "no_answer")
    assert (calls[DECLINE].attempts, calls[DECLINE].last_outcome) == (1, "rejected")  # a refusal is final


async def test_a_moderator_calls_a_new_number_and_calls_again_who_is_missing(
    trunk: System, tmp_path: Path
) -> None:
    r = dial_out_reservation(trunk, [BUSY])
    await until(
        lambda: any(c.state is CallState.FAILED for c in calls_of(trunk, r)),
        timeout=40,
        blocking=True,
        what="the busy number given up",
    )
    moderator = trunk.caller()
    await moderator.join(r.room.conference_number, r.room.admin_pin)
    bridge = f"conf-{r.room.conference_number}"
    await trunk.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == moderator.uniqueid)
    await moderator.press("8")
    await moderator.wait_prompt("dialout_number")
    await moderator.press("555#")
    joined = await trunk.events.wait_for(
        lambda e: (
            isinstance(e, ConfbridgeJoin) and e.conference == bridge and e.uniqueid.startswith("dialout-")
        ),
        timeout=40,
    )
    assert any(c.number == "555" and c.requested_by == "moderator" for c in calls_of(trunk, r))
    await heard_out(trunk, moderator, "dialout_calling", 1)
    # 8 then # alone: everyone dialled who is not in the conference is called again
    await moderator.press("8")
    await moderator.wait_prompt("dialout_number")
    await moderator.press("#")
    await until(
        lambda: len([c for c in calls_of(trunk, r) if c.number == BUSY]) == 2,
        blocking=True,
        what="the busy number called again",
    )
    await heard_out(trunk, moderator, "dialout_calling", 2)
    # a number outside the allow-list is refused: nothing is dialled
    await moderator.press("8")
    await moderator.wait_prompt("dialout_number")
    await moderator.press("12#")
    await heard_out(trunk, moderator, "dialout_not_allowed")
    assert not any(c.number == "12" for c in calls_of(trunk, r))
    assert joined[0].uniqueid.startswith("dialout-")
    await trunk.ami.action({"Action": "ConfbridgeKick", "Conference": bridge, "Channel": "all"})


async def heard_out(system: System, c: LocalCaller, sound: str, count: int = 1) -> None:
    """Until ``sound`` finished playing to ``c`` for the ``count``th time: keys pressed while the
    controller talks are lost."""
    await system.events.wait_for(
        lambda e: (
            e.name == "AGIExecEnd"
            and e.get("Uniqueid") == c.uniqueid
            and f"dialconf/{sound}" in e.get("Command")
        ),
        timeout=20,
        count=count,
    )


async def test_the_live_page_calls_a_number_for_the_moderator(trunk: System) -> None:
    name, token = new_owner(trunk)
    now = datetime.now(UTC)
    r = trunk.booking.request(
        trunk.booking.profile_named(name).id,
        BookingRequest(ReservationKind.PANEL, now - timedelta(minutes=1), now + timedelta(hours=1), 5),
        operator=True,
    )
    async with serving(live_app(trunk)) as base, httpx.AsyncClient(base_url=base) as web:
        csrf = await sign_in(web, token, r.id or 0)
        refused = await web.post(
            f"/panel/reservations/{r.id}/live/dial",
            data={"csrf": csrf, "number": "12"},
            headers={"Accept": "application/json"},
        )
        assert refused.status_code == 422 and refused.json()["code"] == "not_dialable"
        placed = await web.post(
            f"/panel/reservations/{r.id}/live/dial",
            data={"csrf": csrf, "number": "777"},
            headers={"Accept": "application/json"},
        )
        assert placed.status_code == 200 and placed.json()["code"] == "calling"
        bridge = f"conf-{r.room.conference_number}"
        await trunk.events.wait_for(
            lambda e: (
                isinstance(e, ConfbridgeJoin) and e.conference == bridge and e.uniqueid.startswith("dialout-")
            ),
            timeout=40,
        )
        assert [(c.number, c.requested_by) for c in calls_of(trunk, r)] == [("777", "web")]
    await trunk.ami.action({"Action": "ConfbridgeKick", "Conference": bridge, "Channel": "all"})
