"""Dial-out (R40, R49, R50) through a real PJSIP trunk whose far end is SIPp on loopback.

The trunk's far end (tests/support/sipp_uas.py) answers +4206010001xx (and any other) and
keys 1, is busy on +4206010002xx, never answers +4206010003xx, declines +4206010004xx. A
dial-out reservation's start makes the controller call every phone number it lists; no PIN
is asked (R49); misses are retried per settings and recorded; a moderator calls again or
calls a new number from the keypad (R50). Toll fraud: the keypad and the live page refuse,
each saying why, what the policy or the reservation does not allow, and nothing is
originated; no more than ``max_ringing`` calls ring at the far end at once.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from booking.domain.dialout import CallState, DialCall
from booking.domain.messages import Channel, InviteeDraft
from booking.domain.model import Reservation, ReservationKind
from booking.domain.rules import BookingRequest
from booking.services.ports import Transaction
from booking.services.usage import UsageService
from conference_ivr.ami.events import AgiExecStart, ConfbridgeJoin
from conference_ivr.settings import DialOutSettings
from tests.support.caller import LocalCaller
from tests.support.live_web import OPERATOR, live_app, new_owner, serving, sign_in
from tests.support.poll import until
from tests.support.ports import free_ports
from tests.support.services import api_app
from tests.support.sipp_uas import (
    ANSWERS,
    BUSY,
    DECLINE,
    NO_ANSWER,
    most_at_once,
    number,
    ringing_at_the_far_end,
    sipp_uas,
)
from tests.support.system import System, isolated_settings, running_asterisk, running_system

MAX_RINGING = 2


@pytest.fixture(scope="module")
def trunk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dialout")


@pytest.fixture
def far_end_log(trunk_dir: Path) -> Path:
    """What the SIPp UAS received and sent (SIPp's -trace_msg)."""
    return trunk_dir / "uas-messages.log"


@pytest.fixture(scope="module")
async def trunk(trunk_dir: Path) -> AsyncIterator[System]:
    tmp = trunk_dir
    (port,) = free_ports(1, socket.SOCK_DGRAM)
    (media,) = free_ports(1, socket.SOCK_DGRAM)
    base = isolated_settings(tmp, name="dout")
    dialout = DialOutSettings(
        trunk_port=port, ring_s=3, max_attempts=2, retry_s=1, tick_s=0.2, max_ringing=MAX_RINGING
    )
    settings = base.model_copy(update={"dialout": dialout})
    async with (
        sipp_uas(tmp, port, media, calls=200),
        running_asterisk(settings) as asterisk,
        running_system(settings, asterisk) as system,
    ):
        yield system


def dial_out_reservation(system: System, numbers: list[str], dial_out: bool = True) -> Reservation:
    """A (dial-out) reservation starting now that lists ``numbers`` as invitees."""
    booking = system.booking
    profile = booking.profile_named("acme").id
    now = datetime.now(UTC)
    req = BookingRequest(
        ReservationKind.PANEL, now - timedelta(minutes=1), now + timedelta(hours=1), 5, dial_out=dial_out
    )
    invitees = [InviteeDraft(Channel.SMS, n, "en") for n in numbers]

    def invite(tx: Transaction, made: Reservation) -> None:
        tx.messages.replace_invitees(made.id, invitees, now)

    return booking.request(profile, req, operator=True, within=invite)


def calls_of(system: System, r: Reservation) -> list[DialCall]:
    return system.services.dialout.calls(r.id or 0)


def invited(far_end_log: Path) -> list[str]:
    """Every number the far end was sent an INVITE for."""
    text = far_end_log.read_text(errors="replace") if far_end_log.exists() else ""
    return re.findall(r"^INVITE sip:([^@;]+)@", text, re.MULTILINE)


async def test_at_the_start_everyone_listed_is_called_and_joins_without_a_pin(trunk: System) -> None:
    r = dial_out_reservation(trunk, [ANSWERS])
    bridge = f"conf-{r.room.conference_number}"
    joined = await trunk.events.wait_for_kind(ConfbridgeJoin, lambda e: e.conference == bridge, timeout=40)
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
    usage = UsageService(trunk.services.uow, trunk.clock, trunk.settings.booking)
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
    trunk: System, far_end_log: Path
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
    await moderator.press("601000155#")  # a national number: read in the home region
    joined = await trunk.events.wait_for_kind(
        ConfbridgeJoin,
        lambda e: e.conference == bridge and e.uniqueid.startswith("dialout-"),
        timeout=40,
    )
    assert any(c.number == "+420601000155" and c.requested_by == "moderator" for c in calls_of(trunk, r))
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
    assert joined[0].uniqueid.startswith("dialout-")
    # numbers the policy refuses are refused with their reason: nothing is stored or dialled
    stored = len(calls_of(trunk, r))
    heard: dict[str, int] = {}
    for keyed, phrase in (
        ("112#", "dialout_not_allowed"),  # emergency / short code
        ("900123456#", "dialout_premium"),  # premium rate
        ("0088213000000#", "dialout_premium"),  # the satellite range of the issue
        ("00447911123456#", "dialout_abroad"),  # a UK mobile
    ):
        await moderator.press("8")
        await moderator.wait_prompt("dialout_number")
        await moderator.press(keyed)
        heard[phrase] = heard.get(phrase, 0) + 1
        await heard_out(trunk, moderator, phrase, heard[phrase])
    assert len(calls_of(trunk, r)) == stored
    assert all(n.startswith("+420601000") for n in invited(far_end_log))  # only home mobiles rang
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
    window = (now - timedelta(minutes=1), now + timedelta(hours=1))
    plain = trunk.booking.request(
        trunk.booking.profile_named(name).id, BookingRequest(ReservationKind.PANEL, *window, 5), operator=True
    )
    r = trunk.booking.request(
        trunk.booking.profile_named(name).id,
        BookingRequest(ReservationKind.PANEL, *window, 5, dial_out=True),
        operator=True,
    )
    bridge = f"conf-{r.room.conference_number}"
    async with serving(live_app(trunk)) as base, httpx.AsyncClient(base_url=base) as web:

        async def dial(reservation: Reservation, number: str) -> httpx.Response:
            return await web.post(
                f"/panel/reservations/{reservation.id}/live/dial",
                data={"csrf": csrf, "number": number},
                headers={"Accept": "application/json"},
            )

        csrf = await sign_in(web, token, plain.id or 0)
        refused = await dial(plain, ANSWERS)
        assert refused.status_code == 422 and refused.json()["code"] == "not_dial_out"
        assert "not enabled" in refused.json()["message"]
        csrf = await sign_in(web, token, r.id or 0)
        idle = await dial(r, ANSWERS)  # nobody is in it yet
        assert idle.status_code == 422 and idle.json()["code"] == "not_running"
        moderator = trunk.caller()
        await moderator.join(r.room.conference_number, r.room.admin_pin)
        await trunk.events.wait_for(
            lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == moderator.uniqueid
        )
        for keyed, code in (("+88213000000", "premium"), ("+447911123456", "abroad"), ("12", "not_allowed")):
            answer = await dial(r, keyed)
            assert answer.status_code == 422 and answer.json()["code"] == code, keyed
        placed = await dial(r, number(ANSWERS, 77))
        assert placed.status_code == 200 and placed.json()["code"] == "calling"
        await trunk.events.wait_for(
            lambda e: (
                isinstance(e, ConfbridgeJoin) and e.conference == bridge and e.uniqueid.startswith("dialout-")
            ),
            timeout=40,
        )
        assert [(c.number, c.requested_by) for c in calls_of(trunk, r)] == [(number(ANSWERS, 77), "web")]
        assert calls_of(trunk, plain) == []
    await trunk.ami.action({"Action": "ConfbridgeKick", "Conference": bridge, "Channel": "all"})


async def test_a_conference_not_booked_for_dial_out_says_so_at_once(trunk: System) -> None:
    r = dial_out_reservation(trunk, [], dial_out=False)
    moderator = trunk.caller()
    await moderator.join(r.room.conference_number, r.room.admin_pin)
    await trunk.events.wait_for(lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == moderator.uniqueid)
    await moderator.press("8")
    await heard_out(trunk, moderator, "dialout_disabled")
    assert "dialout_number" not in moderator.played()  # not even asked for a number
    assert calls_of(trunk, r) == []
    await trunk.ami.action(
        {"Action": "ConfbridgeKick", "Conference": f"conf-{r.room.conference_number}", "Channel": "all"}
    )


async def test_no_more_calls_ring_at_once_than_the_bound(trunk: System, far_end_log: Path) -> None:
    """Six invitees who never answer, two attempts each: at the far end never more than
    MAX_RINGING INVITEs are unanswered at once, and every attempt is made in its turn."""
    never = [number(NO_ANSWER, n) for n in range(10, 16)]
    r = dial_out_reservation(trunk, never)

    def settled() -> list[DialCall] | None:
        calls = calls_of(trunk, r)
        done = len(calls) == len(never) and all(c.state is CallState.FAILED for c in calls)
        return calls if done else None

    calls = await until(settled, timeout=90, blocking=True, what="every call given up")
    assert all((c.attempts, c.last_outcome) == (2, "no_answer") for c in calls)
    rang = await until(
        lambda: (found := ringing_at_the_far_end(far_end_log, set(never))) and len(found) == 12 and found,
        timeout=20,
        what="SIPp to log all twelve attempts",
    )
    assert most_at_once(rang) == MAX_RINGING  # the bound is used, never passed
    assert trunk.controller.dialout is not None and trunk.controller.dialout.most_ringing <= MAX_RINGING


async def test_the_issue_attack_over_the_running_api_places_nothing_it_should_not(
    trunk: System, far_end_log: Path
) -> None:
    """The issue: a profile token queued 300 calls to a satellite range in 21 s for a room that
    was neither running nor a dial-out room. Over the real API, against the running
    controller and trunk: nothing while nobody is in; with someone in, satellite numbers are
    refused, home numbers are called, and past the per-minute cap a 429 says when to retry."""
    name, token = new_owner(trunk)
    now = datetime.now(UTC)
    r = trunk.booking.request(
        trunk.booking.profile_named(name).id,
        BookingRequest(
            ReservationKind.PANEL, now - timedelta(minutes=1), now + timedelta(hours=1), 5, dial_out=True
        ),
        operator=True,
    )
    app = api_app(trunk.services, OPERATOR)
    path = f"/api/reservations/{r.id}/dialout"
    auth = {"Authorization": f"Bearer {token}"}
    async with serving(app) as base, httpx.AsyncClient(base_url=base, headers=auth) as api:
        idle = await api.post(path, json={"number": ANSWERS})
        assert idle.status_code == 422 and idle.json()["detail"][0]["type"] == "not_running"
        moderator = trunk.caller()
        await moderator.join(r.room.conference_number, r.room.admin_pin)
        usage = trunk.services.usage
        await until(lambda: usage.leg(moderator.uniqueid), blocking=True, what="the moderator's leg")
        satellite = [await api.post(path, json={"number": f"+88213{n:06d}"}) for n in range(300)]
        assert {a.status_code for a in satellite} == {422}
        assert {a.json()["detail"][0]["type"] for a in satellite} == {"premium"}
        cap = trunk.settings.dialout.reservation_calls_per_minute
        placed = [await api.post(path, json={"number": number(DECLINE, n)}) for n in range(cap)]
        assert {a.status_code for a in placed} == {202}
        over = await api.post(path, json={"number": ANSWERS})
        assert over.status_code == 429 and over.json()["detail"][0]["type"] == "rate"
        assert 1 <= int(over.headers["Retry-After"]) <= 60
    declined = {number(DECLINE, n) for n in range(cap)}
    await until(
        lambda: declined <= set(invited(far_end_log)),
        timeout=60,
        what="the far end to be called at each number",
    )
    assert not any("88213" in n for n in invited(far_end_log))
    assert len(calls_of(trunk, r)) == cap
    await trunk.ami.action(
        {"Action": "ConfbridgeKick", "Conference": f"conf-{r.room.conference_number}", "Channel": "all"}
    )
