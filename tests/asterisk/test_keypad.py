"""Keypad control inside the conference, and names announced on join (real Asterisk)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from conference_ivr.ami.events import AmiEvent, ConfbridgeEnd, ConfbridgeJoin, ConfbridgeLeave
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.poll import until, until_async
from tests.support.system import System


def joined(c: LocalCaller) -> Callable[[AmiEvent], bool]:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid


def commands_of(system: System, c: LocalCaller) -> list[str]:
    return [e.get("Command") for e in system.events.matching(lambda e: e.get("Uniqueid") == c.uniqueid)]


async def heard_out(system: System, c: LocalCaller, sound: str, count: int = 1) -> None:
    """Wait until ``sound`` finished playing to ``c`` (the ``count``-th time), then pause as a
    caller does: keys pressed while the controller still talks would be lost, as for a real caller."""
    await system.events.wait_for(
        lambda e: e.name == "AGIExecEnd" and e.get("Uniqueid") == c.uniqueid and sound in e.get("Command"),
        timeout=20,
        count=count,
    )
    # Not a wait for a condition: the menu hook's return to the bridge raises no AMI event, so
    # the caller pauses after the prompt the way a person does before pressing the next key.
    await asyncio.sleep(0.3)


async def room_shows(system: System, bridge: str, key: str, value: str) -> None:
    """Until ConfbridgeListRooms reports ``key: value`` for the conference."""

    async def shows() -> bool:
        rooms = await system.ami.action({"Action": "ConfbridgeListRooms"})
        return any(r.get("Conference") == bridge and r.get(key) == value for r in rooms)

    await until_async(shows, what=f"{bridge} {key}: {value}")


async def in_conference(system: System, seats: int = 5) -> tuple[str, LocalCaller, LocalCaller]:
    r = system.booking.book(datetime.now(UTC), 60, seats=seats)
    # both "speak" (a quiet tone), so their names get recorded
    moderator, participant = system.caller(voice="300/100,0/400"), system.caller(voice="350/100,0/400")
    await moderator.join(r.room.conference_number, r.room.admin_pin, say_name_s=1.0)
    await system.events.wait_for(joined(moderator))
    await participant.join(r.room.conference_number, r.room.pin, say_name_s=1.0)
    await system.events.wait_for(joined(participant))
    return names.bridge_name(r.room.conference_number), moderator, participant


async def test_participant_keys_mute_count_time_and_help(system: System) -> None:
    _bridge, moderator, participant = await in_conference(system)

    await participant.press("1")
    await system.events.wait_for(
        lambda e: e.name == "ConfbridgeMute" and e.get("Uniqueid") == participant.uniqueid
    )
    await participant.press("1")
    await system.events.wait_for(
        lambda e: e.name == "ConfbridgeUnmute" and e.get("Uniqueid") == participant.uniqueid
    )

    await participant.press("2")
    await heard_out(system, participant, "dialconf/participants_b")
    said = commands_of(system, participant)
    assert 'SAY NUMBER 2 ""' in said and 'STREAM FILE dialconf/participants_a ""' in said

    await participant.press("3")
    await heard_out(system, participant, "dialconf/remaining_b")
    said = commands_of(system, participant)
    assert 'SAY NUMBER 60 ""' in said or 'SAY NUMBER 59 ""' in said

    await participant.press("*")
    await heard_out(system, participant, "dialconf/menu_participant")

    await participant.press("7")  # a moderator key does nothing for a participant...
    await participant.press("2")  # ...as the next key shows: keys are handled in order
    await heard_out(system, participant, "dialconf/participants_b", count=2)
    assert not any("dialconf/roll_call" in c for c in commands_of(system, participant))
    actions = system.controller.metrics.registry.get_sample_value(
        "dialconf_menu_actions_total", {"action": "count"}
    )
    assert actions and actions >= 1
    for c in (moderator, participant):
        await c.hangup()


async def test_moderator_mutes_all_locks_and_removes_the_last_joined(system: System) -> None:
    bridge, moderator, participant = await in_conference(system)

    await moderator.press("4")
    await room_shows(system, bridge, "Muted", "Yes")
    await moderator.press("4")
    await room_shows(system, bridge, "Muted", "No")

    await moderator.press("5")
    await room_shows(system, bridge, "Locked", "Yes")
    await moderator.press("5")
    await room_shows(system, bridge, "Locked", "No")

    await moderator.press("6")
    await system.events.wait_for(
        lambda e: isinstance(e, ConfbridgeLeave) and e.uniqueid == participant.uniqueid, timeout=15
    )
    await until(lambda: system.controller.live.members.get(bridge) == {moderator.uniqueid})
    # the one removed heard why, in their language, before ConfBridge let go of them
    await system.events.wait_for(lambda e: e.get("Uniqueid") == participant.uniqueid and e.name == "Hangup")
    await moderator.hangup()


async def test_names_are_announced_and_read_in_the_roll_call(system: System) -> None:
    bridge, moderator, participant = await in_conference(system)
    # the participant joined after the moderator: everyone hears "<name> has joined"
    (played,) = await system.events.wait_for(
        lambda e: (
            e.get("UserEvent") == "DialconfPlay"
            and participant.uniqueid in e.get("Sound")
            and "dialconf/has_joined" in e.get("Sound")
        ),
        timeout=15,
    )
    assert played.get("Bridge") == bridge

    await moderator.press("7")
    await until(lambda: any("dialconf/roll_call_done" in c for c in commands_of(system, moderator)))
    said = commands_of(system, moderator)
    assert any("names/" in c and f"-{participant.uniqueid}" in c for c in said)
    assert any("names/" in c and f"-{moderator.uniqueid}" in c for c in said)
    # the participant hangs up: the moderator, still in, hears "<name> has left"
    await participant.hangup()
    (gone,) = await system.events.wait_for(
        lambda e: (
            e.get("UserEvent") == "DialconfPlay"
            and participant.uniqueid in e.get("Sound")
            and "dialconf/has_left" in e.get("Sound")
        ),
        timeout=15,
    )
    assert gone.get("Bridge") == bridge
    await moderator.hangup()


async def test_moderator_extends_by_key_when_the_seats_allow_and_hears_why_not(system: System) -> None:
    bridge, moderator, participant = await in_conference(system)
    number = names.parse_bridge_name(bridge)
    assert number is not None
    before = system.services.dialin.current_reservation(number)
    assert before is not None and before.ends_at is not None
    period = timedelta(minutes=system.settings.controller.extension_minutes)
    await moderator.press("0")
    # granted: everyone hears it, played into the conference
    await system.events.wait_for(
        lambda e: (
            e.get("UserEvent") == "DialconfPlay"
            and e.get("Bridge") == bridge
            and "dialconf/extended" in e.get("Sound")
        ),
        timeout=15,
    )
    after = system.services.dialin.current_reservation(number)
    assert after is not None and after.ends_at == before.ends_at + period
    await system.events.wait_for(
        lambda e: (
            isinstance(e, ConfbridgeLeave)
            and e.conference == bridge
            and names.is_announcer_channel(e.channel)
        ),
        timeout=15,
    )
    # Not a wait for a condition: back in the bridge after the menu hook, the moderator pauses
    # before the next key as a person does (see heard_out).
    await asyncio.sleep(0.5)
    # the system's seats are booked right after the new end: refused, the moderator hears why
    # (20 seats each: a bigger booking would wait for an operator, holding nothing, R3)
    blockers = [
        system.booking.book(after.ends_at, 30, seats=20)
        for _ in range(system.settings.booking.system_capacity // 20)
    ]
    await moderator.press("0")
    await heard_out(system, moderator, "dialconf/extend_refused")
    still = system.services.dialin.current_reservation(number)
    assert still is not None and still.ends_at == after.ends_at
    await participant.press("0")  # a participant's 0 raises their hand: it extends nothing
    await heard_out(system, participant, "dialconf/hand_raised")
    assert not any("extend" in c for c in commands_of(system, participant))
    for b in blockers:
        assert b.id is not None
        system.booking.cancel(b.id)
    for c in (moderator, participant):
        await c.hangup()


async def test_moderator_ends_the_conference_for_everyone(system: System) -> None:
    bridge, moderator, participant = await in_conference(system)
    await moderator.press("9")
    await moderator.wait_prompt("end_confirm")
    await moderator.press("9")
    await system.events.wait_for(
        lambda e: e.get("UserEvent") == "DialconfPlay" and "dialconf/ended_by_moderator" in e.get("Sound"),
        timeout=15,
    )
    await system.events.wait_for(
        lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge, timeout=30
    )
    left = system.events.matching(lambda e: isinstance(e, ConfbridgeLeave) and e.conference == bridge)
    assert {participant.uniqueid, moderator.uniqueid} <= {e.get("Uniqueid") for e in left}
