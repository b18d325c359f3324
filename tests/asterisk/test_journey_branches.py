"""Every branch of the dial-in journey on real Asterisk: outcome and what the caller heard."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from conference_ivr.ami.events import ConfbridgeJoin, Hangup
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.poll import until_async
from tests.support.system import System


def joined(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid


def of_caller(c: LocalCaller) -> Predicate:
    return lambda e: e.get("Uniqueid") == c.uniqueid


def hung_up(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, Hangup) and e.uniqueid == c.uniqueid


def failures(system: System, reason: str) -> float:
    value = system.controller.metrics.registry.get_sample_value(
        "dialconf_join_failures_total", {"reason": reason}
    )
    return value or 0.0


async def enter(c: LocalCaller, number: str) -> None:
    await c.dial()
    await c.answer_prompt("press_one", "1")
    await c.answer_prompt("conference_number", number + "#")


async def guess(c: LocalCaller, number: str, pin: str) -> None:
    """One round: the number and the PIN (after a wrong guess both are asked again)."""
    await c.answer_prompt("conference_number", number + "#")
    await c.answer_prompt("pin", pin + "#")


async def test_an_unknown_conference_number_is_not_told_apart_from_a_wrong_pin(system: System) -> None:
    before = failures(system, "bad_credentials")
    real = system.booking.book(datetime.now(UTC), 60, seats=5)
    unknown, wrong = system.caller(), system.caller()
    for c, number, pin in (
        (unknown, "99999999", real.room.pin),
        (wrong, real.room.conference_number, "1000000"),
    ):
        await c.dial()
        await c.answer_prompt("press_one", "1")
        for _ in range(3):
            await guess(c, number, pin)  # the PIN is always asked: nothing is said before it
        await system.events.wait_for(hung_up(c))
    assert unknown.played() == wrong.played()
    rounds = ["conference_number", "pin_pause", "pin", "bad_credentials"]
    # "try again" opens the next round's read; the last round ends with goodbye
    assert unknown.played()[-15:] == [*rounds, "try_again", *rounds, "try_again", *rounds, "goodbye"]
    assert "unknown_conference" not in unknown.played()
    assert failures(system, "bad_credentials") == before + 2


async def test_the_number_and_the_pin_keyed_in_one_go_join(system: System) -> None:
    """``number#PIN#`` keyed straight on at the number's prompt (issue 23): the PIN's read starts
    while the keys come, and they reach it."""
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    c = system.caller()
    await c.dial()
    await c.answer_prompt("press_one", "1")
    await c.answer_prompt("conference_number", f"{r.room.conference_number}#{r.room.pin}#")
    await c.answer_prompt("record_name", "#")
    await system.events.wait_for(joined(c))
    reads = [p for p in c.prompts_heard() if "EXEC Read" in p]
    assert len(reads) == 3, reads  # press 1, the number, the PIN: nothing asked again
    assert "bad_credentials" not in c.played()
    await c.hangup()


async def test_three_wrong_pins_end_the_call(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    c = system.caller()
    await c.dial()
    await c.answer_prompt("press_one", "1")
    for _ in range(3):
        await guess(c, r.room.conference_number, "1000000")
    await system.events.wait_for(hung_up(c))
    heard = c.played()
    assert heard.count("bad_credentials") == 3 and heard[-1] == "goodbye"
    assert not system.events.matching(joined(c))


async def test_pin_guessing_is_limited_across_calls_until_an_operator_clears_it(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    number = r.room.conference_number
    guesser = "+420777000001"
    first = system.caller(caller_id=guesser)  # 3 wrong PINs: the call ends
    await first.dial()
    await first.answer_prompt("press_one", "1")
    for _ in range(3):
        await guess(first, number, "1000000")
    await system.events.wait_for(hung_up(first))
    second = system.caller(caller_id=guesser)  # the 4th wrong PIN locks this caller number out
    await second.dial()
    await second.answer_prompt("press_one", "1")
    await guess(second, number, "1000000")
    await guess(second, number, r.room.pin)  # even the right PIN is refused now
    await system.events.wait_for(hung_up(second))
    assert "pin_locked" in second.played()
    assert not system.events.matching(joined(second))
    lockouts = system.controller.metrics.registry.get_sample_value("dialconf_pin_lockouts_total")
    assert lockouts and lockouts >= 1
    assert f"caller:{guesser}" in {a.key for a in system.services.dialin.pin_lockouts()}
    # ...and that caller number only: anyone else still gets in with the right PIN.
    other = system.caller()
    await other.join(number, r.room.pin)
    await system.events.wait_for(joined(other))
    await other.hangup()

    assert system.services.dialin.clear_pin_lockout(f"caller:{guesser}")
    third = system.caller(caller_id=guesser)
    await third.join(number, r.room.pin)
    await system.events.wait_for(joined(third))
    await third.hangup()


async def test_too_early_tells_the_start_time(system: System) -> None:
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    r = system.booking.book(start, 60, seats=5)
    c = system.caller()
    await enter(c, r.room.conference_number)
    await c.answer_prompt("pin", r.room.pin + "#")
    await system.events.wait_for(hung_up(c))
    heard = c.played()
    assert heard[-4:-1] == ["too_early_a", "oclock", "too_early_b"] or heard[-3:-1] == [
        "too_early_a",
        "too_early_b",
    ]
    assert heard[-1] == "goodbye"
    local = start.astimezone(system.controller_tz())
    says = [e.get("Command") for e in system.events.matching(lambda e: e.get("Uniqueid") == c.uniqueid)]
    assert f'SAY NUMBER {local.hour} ""' in says


async def test_an_ended_reservation_says_so(system: System) -> None:
    r = system.booking.book(datetime.now(UTC) - timedelta(hours=2), 60, seats=5)
    c = system.caller()
    await enter(c, r.room.conference_number)
    await c.answer_prompt("pin", r.room.pin + "#")
    await system.events.wait_for(hung_up(c))
    assert c.played()[-2:] == ["over", "goodbye"]


async def test_a_full_conference_turns_the_next_participant_away(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=1)
    first = system.caller()
    await first.join(r.room.conference_number, r.room.pin)
    await system.events.wait_for(joined(first))
    second = system.caller()
    await enter(second, r.room.conference_number)
    await second.answer_prompt("pin", r.room.pin + "#")
    await system.events.wait_for(hung_up(second))
    assert second.played()[-2:] == ["full", "goodbye"]
    # the moderator still gets in (ConfBridge admins pass max_members too)
    moderator = system.caller()
    await moderator.join(r.room.conference_number, r.room.admin_pin)
    await system.events.wait_for(joined(moderator))
    for c in (first, moderator):
        await c.hangup()


async def test_the_bookers_own_lower_maximum_turns_the_next_participant_away(system: System) -> None:
    """R43: 5 seats booked, at most 2 in at once by the booker's choice."""
    booked = system.booking.book(datetime.now(UTC), 60, seats=5)
    assert booked.id is not None
    r = system.booking.edit(booked.room.profile_id, booked.id, max_participants=2)
    assert r.participant_limit == 2
    inside = [system.caller(), system.caller()]
    for c in inside:
        await c.join(r.room.conference_number, r.room.pin)
        await system.events.wait_for(joined(c))
    third = system.caller()
    await enter(third, r.room.conference_number)
    await third.answer_prompt("pin", r.room.pin + "#")
    await system.events.wait_for(hung_up(third))
    assert third.played()[-2:] == ["full", "goodbye"]
    for c in inside:
        await c.hangup()


async def test_a_locked_conference_turns_participants_away(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    moderator = system.caller()
    await moderator.join(r.room.conference_number, r.room.admin_pin)
    await system.events.wait_for(joined(moderator))
    await moderator.press("5")  # lock
    bridge = names.bridge_name(r.room.conference_number)
    await until_async(lambda: locked(system, bridge), 10, f"{bridge} locked")
    late = system.caller()
    await enter(late, r.room.conference_number)
    await late.answer_prompt("pin", r.room.pin + "#")
    await system.events.wait_for(hung_up(late))
    assert late.played()[-2:] == ["locked", "goodbye"]
    await moderator.hangup()


async def test_two_access_numbers_reach_the_same_conference_in_their_languages(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    english = system.caller(access="8000")
    czech = system.caller(access="8001")  # configured as a Czech access number
    for c in (english, czech):
        await c.join(r.room.conference_number, r.room.pin)
    bridge = names.bridge_name(r.room.conference_number)
    for c in (english, czech):
        (event,) = await system.events.wait_for(joined(c))
        assert isinstance(event, ConfbridgeJoin) and event.conference == bridge
    language_of = {
        c.uniqueid: [e.get("Command") for e in system.events.matching(of_caller(c))] for c in (english, czech)
    }
    assert 'SET VARIABLE CHANNEL(language) "en"' in language_of[english.uniqueid]
    assert 'SET VARIABLE CHANNEL(language) "cs"' in language_of[czech.uniqueid]
    for c in (english, czech):
        await c.hangup()


async def test_a_key_at_the_greeting_switches_the_language(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    c = system.caller()
    await c.dial()
    await c.answer_prompt("press_one", "5")  # français
    await c.answer_prompt("press_one", "1")
    await c.answer_prompt("conference_number", r.room.conference_number + "#")
    await c.answer_prompt("pin", r.room.pin + "#")
    await c.answer_prompt("record_name", "#")
    await system.events.wait_for(joined(c))
    commands = [e.get("Command") for e in system.events.matching(lambda e: e.get("Uniqueid") == c.uniqueid)]
    assert 'SET VARIABLE CHANNEL(language) "fr"' in commands
    listing = await system.ami.action(
        {"Action": "Getvar", "Channel": c.channel2, "Variable": "CHANNEL(language)"}
    )
    assert listing[0].get("Value") == "fr"
    await c.hangup()


async def test_no_controller_means_a_spoken_apology_not_silence(system: System) -> None:
    good = f"agi://127.0.0.1:{system.controller.agi_port}"
    await system.ami.action({"Action": "Setvar", "Variable": names.VAR_AGI_URL, "Value": "agi://127.0.0.1:9"})
    try:
        c = system.caller()
        await c.dial()
        (event,) = await system.events.wait_for(
            lambda e: e.name == "UserEvent" and e.get("UserEvent") == "DialconfUnavailable", timeout=20
        )
        assert event.get("AgiStatus") == "FAILURE"
        await system.events.wait_for(lambda e: isinstance(e, Hangup) and e.get("Uniqueid") == c.uniqueid)
    finally:
        await system.ami.action({"Action": "Setvar", "Variable": names.VAR_AGI_URL, "Value": good})


async def test_a_controller_dying_mid_call_still_ends_with_an_apology(system: System) -> None:
    """The FastAGI peer accepts the call, answers one command, and vanishes."""

    async def dying(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\n\n")
        writer.write(b"ANSWER\n")
        await writer.drain()
        await reader.readline()
        writer.close()

    server = await asyncio.start_server(dying, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    good = f"agi://127.0.0.1:{system.controller.agi_port}"
    await system.ami.action(
        {"Action": "Setvar", "Variable": names.VAR_AGI_URL, "Value": f"agi://127.0.0.1:{port}"}
    )
    try:
        c = system.caller()
        await c.dial()
        (event,) = await system.events.wait_for(
            lambda e: (
                e.name == "UserEvent"
                and e.get("UserEvent") == "DialconfUnavailable"
                and e.get("Uniqueid") == c.uniqueid
            ),
            timeout=20,
        )
        assert event.get("AgiStatus") == "SUCCESS"  # the script "ended", but decided nothing
    finally:
        await system.ami.action({"Action": "Setvar", "Variable": names.VAR_AGI_URL, "Value": good})
        server.close()


async def locked(system: System, bridge: str) -> bool:
    rooms = await system.ami.action({"Action": "ConfbridgeListRooms"})
    return any(r.get("Conference") == bridge and r.get("Locked") == "Yes" for r in rooms)
