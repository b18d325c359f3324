"""Waiting for the moderator (issue 19) on real Asterisk: participants of such a reservation
hear Asterisk's hold music until the first moderator joins, then the moderator's voice; with
end_with_moderator the last moderator's leaving ends it for them, after a spoken notice."""

from __future__ import annotations

import asyncio
import dataclasses
import wave
from collections.abc import Callable
from datetime import UTC, datetime

from booking.domain.model import Reservation
from conference_ivr.ami.events import AmiEvent, ConfbridgeEnd, ConfbridgeJoin, Hangup
from conference_ivr.dialconf.compose_controller import build_controller
from conference_ivr.pbx import names
from conference_ivr.settings import ControllerSettings
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.heard import heard_at, heard_when_closed, hold_music, prompt
from tests.support.poll import until, until_async
from tests.support.system import System
from tests.support.tone import tone_windows

VOICE_HZ = 700  # the moderator "speaks" one steady tone: found in what a participant hears


def booked(system: System, wait: bool, end: bool) -> Reservation:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    assert r.id is not None
    edited = system.booking.edit(r.room.profile_id, r.id, wait_for_moderator=wait, end_with_moderator=end)
    assert (edited.wait_for_moderator, edited.end_with_moderator) == (wait, end)
    return edited


def of(c: LocalCaller, name: str) -> Predicate:
    return lambda e: e.name == name and e.get("Uniqueid") == c.uniqueid


def joined(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid


def hung_up(c: LocalCaller) -> Callable[[Hangup], bool]:
    return lambda e: e.uniqueid == c.uniqueid


async def listed(system: System, bridge: str, c: LocalCaller) -> AmiEvent:
    """The caller's ConfbridgeList entry: what Asterisk itself says of it."""
    items = await system.ami.action({"Action": "ConfbridgeList", "Conference": bridge})
    (item,) = [i for i in items if i.get("Event") == "ConfbridgeList" and i.get("Uniqueid") == c.uniqueid]
    return item  # type: ignore[return-value]


def music_heard(heard: bytes, music: list[bytes], start_s: float, end_s: float) -> float:
    """Seconds of ``heard`` (8 kHz 16-bit) between ``start_s`` and ``end_s`` that are the hold
    music itself, found in 0.1 s pieces (800 samples: never found by chance)."""
    piece = 1600
    found = 0
    for at in range(max(0, int(start_s * 8000) * 2), min(len(heard), int(end_s * 8000) * 2) - piece, piece):
        chunk = heard[at : at + piece]
        if any(chunk) and any(chunk in m for m in music):
            found += 1
    return found * 0.1


def first_run(times: list[float], step: float = 0.05, length: int = 10) -> float | None:
    """The start of the first ``length`` consecutive windows (of ``step`` s) in ``times``."""
    for i in range(len(times) - length + 1):
        if times[i + length - 1] - times[i] < step * length:
            return times[i]
    return None


async def test_participants_hear_hold_music_until_the_moderator_joins(system: System) -> None:
    r = booked(system, wait=True, end=False)
    bridge = names.bridge_name(r.room.conference_number)
    live, control = system.controller.live, system.controller.control
    assert control is not None
    record = system.asterisk.instance.inner("spool", f"waiting-{r.id}")
    participant = system.caller(record=str(record))
    await participant.join(r.room.conference_number, r.room.pin)
    await system.events.wait_for(joined(participant))
    # ConfBridge holds it: muted, waiting, with the hold music of our class on its channel
    (moh,) = await system.events.wait_for(of(participant, "MusicOnHoldStart"))
    assert moh.get("Class") == names.MOH_CLASS
    item = await listed(system, bridge, participant)
    assert (item.get("WaitMarked"), item.get("Waiting"), item.get("EndMarked")) == ("Yes", "Yes", "No")
    conference = live.conference(bridge)
    member = live.member(participant.uniqueid)
    assert conference is not None and member is not None and conference.waiting(member)
    (shown,) = control.participants(bridge)
    assert shown.waiting
    page = system.controller.live_page  # what the moderator's live page shows
    assert page is not None and [p.waiting for p in page.participants(r.room.conference_number)] == [True]

    moderator = system.caller(voice=str(VOICE_HZ))  # "speaks" from the start, name included
    await moderator.join(r.room.conference_number, r.room.admin_pin)
    await system.events.wait_for(joined(moderator))
    await system.events.wait_for(of(participant, "MusicOnHoldStop"))
    item = await listed(system, bridge, participant)
    assert item.get("Waiting") == "No"
    assert not conference.waiting(member)
    assert not any(p.waiting for p in page.participants(r.room.conference_number))
    # in the mix now: the moderator's voice is mixed (talk detection) and reaches the participant
    await system.events.wait_for(
        lambda e: (
            e.name == "ConfbridgeTalking"
            and e.get("Uniqueid") == moderator.uniqueid
            and e.get("TalkingStatus") == "on"
        )
    )
    await asyncio.sleep(2.5)  # not a wait for a condition: how long the participant listens

    await moderator.hangup()
    # the moderator gone (and the conference not ending with it): waiting again
    await system.events.wait_for(of(participant, "MusicOnHoldStart"), count=2)
    await until(lambda: conference.waiting(member), what="waiting again in the live model")
    await participant.hangup()
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge)

    heard = await heard_when_closed(system, record)
    voice = tone_windows(heard, VOICE_HZ)
    first = first_run(voice)  # the moderator's name or voice: its first half second in the mix
    assert first is not None, f"the moderator was never heard: {voice}"
    with wave.open(str(heard)) as w:
        samples = w.readframes(w.getnframes())
    music = hold_music(system)
    # while the moderator went through the IVR, the participant heard Asterisk's hold music...
    assert music_heard(samples, music, 0, first) >= 3.0, "no hold music while waiting"
    # ...which stopped when the moderator arrived: then the moderator's voice, 1.5 s of 3 s
    assert music_heard(samples, music, first, first + 3.0) == 0
    assert len([t for t in voice if first <= t < first + 3.0]) >= 30, voice


async def test_the_conference_ends_with_its_last_moderator_after_a_notice(system: System) -> None:
    r = booked(system, wait=True, end=True)
    assert r.id is not None
    bridge = names.bridge_name(r.room.conference_number)
    records = [system.asterisk.instance.inner("spool", f"ended-{r.id}-{i}") for i in range(2)]
    participants = [system.caller(record=str(record)) for record in records]
    moderator = system.caller()
    await moderator.join(r.room.conference_number, r.room.admin_pin)
    await system.events.wait_for(joined(moderator))
    for p in participants:
        await p.join(r.room.conference_number, r.room.pin)
        await system.events.wait_for(joined(p))
        assert (await listed(system, bridge, p)).get("EndMarked") == "Yes"
    member = system.controller.live.member(participants[0].uniqueid)
    assert member is not None and member.end_marked and member.wait_marked

    await moderator.hangup()
    await system.events.wait_for(
        lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge, timeout=20
    )
    assert system.controller.live.conference(bridge) is None
    notice, goodbye = prompt(system, "ended_with_moderator"), prompt(system, "goodbye")
    for p, record in zip(participants, records, strict=True):
        # out of the conference, each hears why, then goodbye, then the call ends
        (hung,) = await system.events.wait_for_kind(Hangup, hung_up(p))
        assert hung.cause == 16
        with wave.open(str(await heard_when_closed(system, record))) as w:
            heard = w.readframes(w.getnframes())
        said, bye = heard_at(heard, notice), heard_at(heard, goodbye)
        assert said is not None and bye is not None and said < bye, (said, bye)
    recorder = system.controller.recorder
    assert recorder is not None
    await recorder.drained()
    legs = {leg.uniqueid: leg for leg in system.services.usage.history(r.room.profile_id, r.id)}
    assert legs[moderator.uniqueid].end_reason == "left"
    for p in participants:
        leg = legs[p.uniqueid]
        assert leg.left_at is not None and leg.end_reason == "ended_with_moderator"


async def test_without_the_options_participants_neither_wait_nor_end(system: System) -> None:
    r = booked(system, wait=False, end=False)
    bridge = names.bridge_name(r.room.conference_number)
    participant, moderator = system.caller(), system.caller()
    await participant.join(r.room.conference_number, r.room.pin)
    await system.events.wait_for(joined(participant))
    item = await listed(system, bridge, participant)
    assert (item.get("WaitMarked"), item.get("Waiting"), item.get("EndMarked")) == ("No", "No", "No")
    await moderator.join(r.room.conference_number, r.room.admin_pin)
    await system.events.wait_for(joined(moderator))
    await moderator.hangup()
    await system.events.wait_for(of(moderator, "Hangup"))

    async def still_in() -> bool:
        return (await listed(system, bridge, participant)).get("Waiting") == "No"

    await until_async(still_in, what="the participant still in, not waiting")
    assert not system.events.matching(of(participant, "MusicOnHoldStart"))
    await participant.hangup()


async def test_a_new_controller_knows_who_waits_from_asterisk(system: System) -> None:
    """The marks live in ConfBridge, not in the controller: one started while a participant
    waits rebuilds it as waiting (ConfbridgeList's WaitMarked/EndMarked)."""
    r = booked(system, wait=True, end=True)
    bridge = names.bridge_name(r.room.conference_number)
    participant = system.caller()
    await participant.join(r.room.conference_number, r.room.pin)
    await system.events.wait_for(of(participant, "MusicOnHoldStart"))
    settings = system.settings.model_copy(
        update={"controller": ControllerSettings(agi_port=0, metrics_port=0)}
    )
    second = build_controller(
        dataclasses.replace(system.services, settings=settings), system.asterisk.instance.ami_secret()
    )
    await second.start()
    try:
        rebuilt = await until(lambda: second.live.member(participant.uniqueid), 10, "the member rebuilt")
        conference = second.live.conference(bridge)
        assert conference is not None and conference.waiting(rebuilt)
        assert rebuilt.wait_marked and rebuilt.end_marked
    finally:
        await second.close()
    await participant.hangup()
