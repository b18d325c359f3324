"""Conference recording (issue 19) on real Asterisk: ConfBridge records each session into one
file, which holds the members' audio; everyone hears that it is being recorded; a moderator
starts and stops it with #1."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from booking.domain.model import Reservation
from booking.domain.recording import Recording
from conference_ivr.ami.events import ConfbridgeEnd, ConfbridgeJoin, ConfbridgeLeave
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.poll import until
from tests.support.system import System
from tests.support.tone import tone_windows

VOICE_HZ = 1020  # the participant "speaks" one steady tone: what the recording must hold
VOICE = str(VOICE_HZ)


def joined(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid


def played_into(bridge: str, phrase: str) -> Predicate:
    return lambda e: (
        e.get("UserEvent") == "DialconfPlay"
        and e.get("Bridge") == bridge
        and f"dialconf/{phrase}" in e.get("Sound")
    )


def recording_event(name: str, bridge: str) -> Predicate:
    return lambda e: e.name == name and e.get("Conference") == bridge


def book(system: System, record: bool) -> Reservation:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    assert r.id is not None
    return system.booking.edit(r.room.profile_id, r.id, record=True) if record else r


def recordings_of(system: System, r: Reservation) -> list[Recording]:
    assert r.id is not None
    return system.services.recordings.for_organizer(r.room.profile_id, r.id)


async def grown(path: Path, seconds: float) -> None:
    """Until ConfBridge has written ``seconds`` more of the 8 kHz 16-bit recording."""
    start = path.stat().st_size if path.exists() else 0
    await until(
        lambda: path.exists() and path.stat().st_size >= start + int(16000 * seconds), 20, f"{path} grows"
    )


async def finished(system: System, r: Reservation) -> Recording:
    def done() -> Recording | None:
        found = recordings_of(system, r)
        return found[0] if found and found[0].ended_at is not None else None

    return await until(done, 30, "the recording finished", blocking=True)


async def test_a_recorded_reservation_records_the_session_and_everyone_hears_it(system: System) -> None:
    r = book(system, record=True)
    number, bridge = r.room.conference_number, names.bridge_name(r.room.conference_number)
    moderator, participant = system.caller(), system.caller(voice=VOICE)
    await moderator.join(number, r.room.admin_pin)
    await system.events.wait_for(joined(moderator))
    # the first join starts ConfBridge's recording, and everyone in hears that it runs
    await system.events.wait_for(recording_event("ConfbridgeRecord", bridge), timeout=15)
    await system.events.wait_for(played_into(bridge, "being_recorded"), timeout=15)
    (stored,) = await until(lambda: recordings_of(system, r), 10, "the recording stored", blocking=True)
    assert stored.ended_at is None and stored.path.endswith(".wav")
    # the announcer played it to the end (it leaves the conference once it has)
    await system.events.wait_for(
        lambda e: (
            isinstance(e, ConfbridgeLeave)
            and e.conference == bridge
            and names.is_announcer_channel(e.channel)
        ),
        timeout=15,
    )

    # whoever joins while it runs is told before going in
    await participant.join(number, r.room.pin)
    await system.events.wait_for(joined(participant))
    heard = participant.played()
    assert heard[-1] == "being_recorded", heard  # the last thing said before ConfBridge
    await grown(Path(stored.path), 3.0)
    for c in (participant, moderator):
        await c.hangup()
    await system.events.wait_for(
        lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge, timeout=15
    )

    done = await finished(system, r)
    assert done.id == stored.id and done.path == stored.path
    assert done.size_bytes == Path(done.path).stat().st_size > 16000 * 3
    # the file holds the participant's voice, as the conference mixed it
    assert len(tone_windows(Path(done.path), VOICE_HZ)) >= 20  # 1 s of 50 ms windows at least


async def heard_out(system: System, c: LocalCaller, sound: str, count: int = 1) -> None:
    """Until ``sound`` finished playing to ``c``, then the pause a caller makes (test_keypad)."""
    await system.events.wait_for(
        lambda e: e.name == "AGIExecEnd" and e.get("Uniqueid") == c.uniqueid and sound in e.get("Command"),
        timeout=20,
        count=count,
    )
    # Not a wait for a condition: the menu hook's return to the bridge raises no AMI event.
    await asyncio.sleep(0.3)


async def test_the_moderator_starts_and_stops_recording_with_hash_one(system: System) -> None:
    r = book(system, record=False)
    number, bridge = r.room.conference_number, names.bridge_name(r.room.conference_number)
    moderator, participant = system.caller(), system.caller(voice=VOICE)
    await moderator.join(number, r.room.admin_pin)
    await system.events.wait_for(joined(moderator))
    await participant.join(number, r.room.pin)
    await system.events.wait_for(joined(participant))
    assert not system.events.matching(recording_event("ConfbridgeRecord", bridge))
    assert "being_recorded" not in participant.played()

    # "#" alone is a prefix of "#1".."#4": the menu waits for the next key
    await moderator.press("#1")
    await system.events.wait_for(recording_event("ConfbridgeRecord", bridge), timeout=15)
    await system.events.wait_for(played_into(bridge, "being_recorded"), timeout=15)
    (stored,) = await until(lambda: recordings_of(system, r), 10, "the recording stored", blocking=True)
    await grown(Path(stored.path), 2.0)

    await moderator.press("#1")
    await system.events.wait_for(recording_event("ConfbridgeStopRecord", bridge), timeout=15)
    await system.events.wait_for(played_into(bridge, "recording_stopped"), timeout=15)

    # not a participant's key: nothing starts (the next key shows the menu went on)
    await participant.press("#1")
    await participant.press("2")
    await heard_out(system, participant, "dialconf/participants_b")
    assert len(system.events.matching(recording_event("ConfbridgeRecord", bridge))) == 1

    # started again in the same session: the same file, appended to
    await moderator.press("#1")
    await system.events.wait_for(recording_event("ConfbridgeRecord", bridge), timeout=15, count=2)
    await grown(Path(stored.path), 2.0)
    for c in (participant, moderator):
        await c.hangup()
    await system.events.wait_for(
        lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge, timeout=15
    )
    done = await finished(system, r)
    assert [x.id for x in recordings_of(system, r)] == [stored.id]
    assert done.size_bytes == Path(done.path).stat().st_size > 16000 * 4
    assert len(tone_windows(Path(done.path), VOICE_HZ)) >= 20
