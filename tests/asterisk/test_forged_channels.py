"""The controller trusts its own state, not channel variables (real Asterisk): a channel that
reaches the keypad context claiming, in its variables, to be a moderator of a running
conference cannot end it; one that reaches the dial-out context with another call's id is
hung up unserved."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from structlog.testing import capture_logs

from booking.domain.dialout import CallState, DialCallDraft
from booking.domain.model import ReservationKind
from booking.domain.rules import BookingRequest
from conference_ivr.ami.events import AmiEvent, ConfbridgeJoin, ConfbridgeLeave, Hangup
from conference_ivr.pbx import names
from tests.support.system import System


async def test_a_channel_whose_variables_say_moderator_cannot_end_the_conference(system: System) -> None:
    r = system.booking.book(datetime.now(UTC), 60, seats=5)
    number = r.room.conference_number
    bridge = names.bridge_name(number)
    participant = system.caller()
    await participant.join(number, r.room.pin)
    await system.events.wait_for(
        lambda e: isinstance(e, ConfbridgeJoin) and e.uniqueid == participant.uniqueid
    )
    forged, drive = str(uuid.uuid4()), str(uuid.uuid4())

    def on_forged(e: AmiEvent) -> bool:
        return e.get("Uniqueid") == forged

    with capture_logs() as logs:
        await system.ami.action(
            {
                "Action": "Originate",
                "Channel": f"Local/end@{names.CONTEXT_MENU}",  # what ConfBridge's key 9 runs
                "Context": names.CONTEXT_DRIVE,
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "ChannelId": drive,
                "OtherChannelId": forged,
                "Variable": [
                    f"{names.VAR_ROLE}=moderator",
                    f"{names.VAR_BRIDGE}={bridge}",
                    f"{names.VAR_CONFERENCE}={number}",
                    f"{names.VAR_MENU}={names.MENU_MODERATOR}",
                ],
            }
        )
        await system.events.wait_for(lambda e: on_forged(e) and isinstance(e, Hangup), timeout=30)
    commands = [e.get("Command") for e in system.events.matching(on_forged) if e.name == "AGIExecStart"]
    assert any("dialconf/error_menu" in c for c in commands), commands  # told no
    assert not any("end_confirm" in c or "ended_by_moderator" in c for c in commands)
    assert not any(c.startswith("GET VARIABLE DIALCONF_") for c in commands)  # not even asked
    assert any(e["event"] == "menu.unknown_member" for e in logs)
    listing = await system.ami.action({"Action": "ConfbridgeList", "Conference": bridge})
    assert participant.uniqueid in {m.get("Uniqueid") for m in listing}  # still in: nothing ended
    assert not system.events.matching(
        lambda e: isinstance(e, ConfbridgeLeave) and e.uniqueid == participant.uniqueid
    )
    await participant.hangup()


async def forged_call(
    system: System, context: str, exten: str, variables: list[str], uniqueid: str
) -> list[str]:
    """A Local channel whose ;2 half (``uniqueid``) runs ``exten@context`` with ``variables``;
    the AGI commands it got, once it hung up."""
    await system.ami.action(
        {
            "Action": "Originate",
            "Channel": f"Local/{exten}@{context}",
            "Context": names.CONTEXT_DRIVE,
            "Exten": "s",
            "Priority": "1",
            "Async": "true",
            "ChannelId": str(uuid.uuid4()),
            "OtherChannelId": uniqueid,
            "Variable": variables,
        }
    )
    await system.events.wait_for(lambda e: isinstance(e, Hangup) and e.uniqueid == uniqueid, timeout=30)
    mine = system.events.matching(lambda e: e.get("Uniqueid") == uniqueid and e.name == "AGIExecStart")
    return [e.get("Command") for e in mine]


async def test_a_channel_with_another_calls_id_is_not_invited(system: System) -> None:
    now = datetime.now(UTC)
    booking = system.booking
    r = booking.request(
        booking.profile_named("acme").id,
        BookingRequest(
            ReservationKind.PANEL, now - timedelta(minutes=1), now + timedelta(hours=1), 5, dial_out=True
        ),
        operator=True,
    )
    assert r.id is not None
    with system.services.uow() as repo:  # a call the controller is placing right now
        call = repo.dialout.add(
            DialCallDraft(r.id, "+420601000100", "en", now, state=CallState.CALLING), now, r.room.profile_id
        )
    assert call.id is not None
    with capture_logs() as logs:
        for uniqueid in (str(uuid.uuid4()), f"dialout-{call.id}-7"):  # not the attempt's channel
            commands = await forged_call(
                system, names.CONTEXT_DIALOUT, "s", [f"{names.VAR_DIALOUT}={call.id}"], uniqueid
            )
            assert commands == ["HANGUP"], commands  # nothing said, nobody let in
    assert [e["event"] for e in logs if e.get("log_level") == "warning"] == ["dialout.unknown_call"] * 2
    with system.services.uow(read_only=True) as repo:
        after = repo.dialout.get(call.id)
    assert after is not None and after.state is CallState.CALLING and after.uniqueid == ""
