"""The minimal real path: a booked conference, a caller keys 1, number and PIN, and joins."""

from __future__ import annotations

from datetime import UTC, datetime

from conference_ivr.ami.events import AmiEvent, ConfbridgeJoin, ConfbridgeLeave
from conference_ivr.pbx import names
from tests.support.events import Predicate
from tests.support.system import System


def _joined(uniqueid: str) -> Predicate:
    return lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == uniqueid


async def test_participant_and_moderator_join(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    bridge = names.bridge_name(r.room.conference_number)

    participant = system.caller(caller_id="+420602000001")
    await participant.join(r.room.conference_number, r.room.pin)
    (p_join,) = await system.events.wait_for(_joined(participant.uniqueid))
    assert isinstance(p_join, ConfbridgeJoin)
    assert p_join.conference == bridge
    assert not p_join.admin
    assert p_join.caller_number == "+420602000001"

    moderator = system.caller(caller_id="+420602000002")
    await moderator.join(r.room.conference_number, r.room.admin_pin)
    (m_join,) = await system.events.wait_for(_joined(moderator.uniqueid))
    assert isinstance(m_join, ConfbridgeJoin)
    assert m_join.conference == bridge
    assert m_join.admin

    listing = await system.ami.action({"Action": "ConfbridgeList", "Conference": bridge})
    members = {m["Uniqueid"]: m for m in listing if m.get("Event") == "ConfbridgeList"}
    assert members[moderator.uniqueid]["Admin"] == "Yes"
    assert members[participant.uniqueid]["Admin"] == "No"

    # the controller saw both joins on its own AMI connection
    await system.events.wait_for(lambda e: True)  # events flowing
    assert system.controller.live.members.get(bridge) == {participant.uniqueid, moderator.uniqueid}

    for c in (participant, moderator):
        await c.hangup()
    await system.events.wait_for(lambda e: isinstance(e, ConfbridgeLeave) and e.conference == bridge, count=2)


async def test_wrong_pin_then_right_pin(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    caller = system.caller()
    await caller.dial()
    await caller.answer_prompt("press_one", "1")
    await caller.answer_prompt("conference_number", r.room.conference_number + "#")
    wrong = "9" + r.room.pin[1:] if r.room.pin[0] != "9" else "8" + r.room.pin[1:]
    await caller.answer_prompt("pin", wrong + "#")
    await caller.answer_prompt("conference_number", r.room.conference_number + "#")  # both again
    await caller.answer_prompt("pin", r.room.pin + "#")
    await caller.answer_prompt("record_name", "#")
    await system.events.wait_for(_joined(caller.uniqueid))
    heard = caller.played()
    assert heard.count("bad_credentials") == 1, heard
    # "try again" opens the next read of the number (a caller may key over it)
    wrong_at = heard.index("bad_credentials")
    assert heard[wrong_at + 1 : wrong_at + 3] == ["try_again", "conference_number"], heard
    await caller.hangup()


def _is_join(e: AmiEvent) -> bool:
    return isinstance(e, ConfbridgeJoin)
