"""Announcements in each member's own language (issue 23), on real Asterisk: an English and
a Czech member in one conference each hear the end of it in their language and not the
other's (Broadcast whispers, found byte for byte in what each heard); names are announced to
each language's members in theirs."""

from __future__ import annotations

import wave
from datetime import UTC, datetime

from conference_ivr.ami.events import AmiEvent, ConfbridgeEnd, ConfbridgeJoin, Hangup
from conference_ivr.pbx import names
from tests.support.caller import LocalCaller
from tests.support.events import Predicate
from tests.support.heard import heard_at, heard_when_closed, prompt
from tests.support.poll import until
from tests.support.system import System

ACCESS = {"en": "8000", "cs": "8001"}  # the test system's access numbers and their languages


def joined(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == c.uniqueid


def hung_up(c: LocalCaller) -> Predicate:
    return lambda e: isinstance(e, Hangup) and e.uniqueid == c.uniqueid


def whispered(bridge: str, phrase: str) -> Predicate:
    return lambda e: (
        e.get("UserEvent") == names.USER_EVENT_PLAY
        and e.get("Bridge") == bridge
        and f"dialconf/{phrase}" in e.get("Sound")
        and bool(e.get("Targets"))
    )


def targets(e: AmiEvent) -> list[str]:
    return e.get("Targets").split("&")


async def test_each_member_hears_the_end_in_their_own_language(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    bridge = names.bridge_name(r.room.conference_number)
    records = {lang: system.asterisk.instance.inner("spool", f"lang-{r.id}-{lang}") for lang in ACCESS}
    callers = {lang: system.caller(ACCESS[lang], record=str(records[lang])) for lang in ACCESS}
    channels: dict[str, str] = {}
    for lang, c in callers.items():
        await c.join(r.room.conference_number, r.room.pin)
        (event,) = await system.events.wait_for(joined(c))
        assert isinstance(event, ConfbridgeJoin)
        channels[lang] = event.channel
    control = system.controller.control
    assert control is not None
    # the controller's own live model has both (its AMI events may come after the test's)
    everyone = {c.uniqueid for c in callers.values()}
    await until(lambda: system.controller.live.members.get(bridge, set()) >= everyone, 15, "both members")
    await control.end(bridge)  # the live page's "end": everyone hears why, then is let go

    plays = await system.events.wait_for(whispered(bridge, "ended_by_moderator"), count=2)
    assert {e.get("Language"): targets(e) for e in plays} == {lang: [channels[lang]] for lang in ACCESS}
    await system.events.wait_for(
        lambda e: isinstance(e, ConfbridgeEnd) and e.conference == bridge, timeout=20
    )
    # no announcer joined the conference: nobody heard the notice from the bridge itself
    assert not system.events.matching(
        lambda e: (
            e.get("UserEvent") == names.USER_EVENT_PLAY and e.get("Bridge") == bridge and not e.get("Targets")
        )
    )
    for c in callers.values():
        await system.events.wait_for(hung_up(c))
    for lang, other in (("en", "cs"), ("cs", "en")):
        with wave.open(str(await heard_when_closed(system, records[lang]))) as w:
            heard = w.readframes(w.getnframes())
        mine, theirs = prompt(system, "ended_by_moderator", lang), prompt(system, "ended_by_moderator", other)
        assert heard_at(heard, mine) is not None, f"the {lang} member did not hear it in {lang}"
        assert heard_at(heard, theirs) is None, f"the {lang} member heard the {other} notice"


async def test_a_name_is_announced_to_each_language_in_its_own(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    bridge = names.bridge_name(r.room.conference_number)
    english = system.caller(ACCESS["en"], voice="440")
    czech = system.caller(ACCESS["cs"], voice="550")  # says a name: announced when in
    await english.join(r.room.conference_number, r.room.pin, say_name_s=1.5)
    (e_join,) = await system.events.wait_for(joined(english))
    await czech.join(r.room.conference_number, r.room.pin, say_name_s=1.5)
    (c_join,) = await system.events.wait_for(joined(czech))
    assert isinstance(e_join, ConfbridgeJoin) and isinstance(c_join, ConfbridgeJoin)
    plays = await system.events.wait_for(whispered(bridge, "has_joined"), count=2)
    assert {e.get("Language"): targets(e) for e in plays} == {"en": [e_join.channel], "cs": [c_join.channel]}
    member = system.controller.live.member(czech.uniqueid)
    assert member is not None and member.name_file is not None
    assert all(str(member.name_file) in e.get("Sound") for e in plays)  # the Czech caller's name
    for c in (english, czech):
        await c.hangup()
