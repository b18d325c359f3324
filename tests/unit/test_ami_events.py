"""AMI messages (as seen on Asterisk 22, notes §4) become typed events."""

from __future__ import annotations

import pytest

from conference_ivr.ami.events import (
    AgiExecStart,
    AmiEvent,
    ConfbridgeEnd,
    ConfbridgeJoin,
    ConfbridgeLeave,
    ConfbridgeStart,
    ConfbridgeTalking,
    DtmfEnd,
    FullyBooted,
    Hangup,
    parse_event,
)
from tests.fixtures.ami_streams import BRIDGE, MEMBER


@pytest.mark.parametrize(("admin", "expected"), [("Yes", True), ("No", False)])
def test_confbridge_join(admin: str, expected: bool) -> None:
    event = parse_event({"Event": "ConfbridgeJoin", **MEMBER, "Admin": admin, "Muted": "No"})
    assert isinstance(event, ConfbridgeJoin)
    assert event.name == "ConfbridgeJoin"
    assert event.conference == "conf-123456"
    assert event.channel == "Local/s@dialconf-access-00000003;2"
    assert (event.uniqueid, event.linkedid) == ("1700000000.7", "1700000000.6")
    assert event.caller_number == "+420602000001"
    assert event.admin is expected
    assert event.muted is False
    assert event.get("BridgeTechnology") == "softmix"


def test_confbridge_join_muted() -> None:
    event = parse_event({"Event": "ConfbridgeJoin", **MEMBER, "Admin": "No", "Muted": "Yes"})
    assert isinstance(event, ConfbridgeJoin) and event.muted is True


def test_confbridge_join_without_admin_field_is_not_admin() -> None:
    event = parse_event({"Event": "ConfbridgeJoin", **MEMBER})
    assert isinstance(event, ConfbridgeJoin)
    assert event.admin is False and event.muted is False


def test_confbridge_leave() -> None:
    event = parse_event({"Event": "ConfbridgeLeave", **MEMBER, "Admin": "Yes"})
    assert isinstance(event, ConfbridgeLeave)
    assert not isinstance(event, ConfbridgeJoin)
    assert event.admin is True
    assert event.uniqueid == "1700000000.7"


def test_confbridge_start_and_end() -> None:
    start = parse_event({"Event": "ConfbridgeStart", **BRIDGE})
    end = parse_event({"Event": "ConfbridgeEnd", **BRIDGE, "BridgeNumChannels": "0"})
    assert isinstance(start, ConfbridgeStart) and start.conference == "conf-123456"
    assert isinstance(end, ConfbridgeEnd) and end.conference == "conf-123456"


@pytest.mark.parametrize(("status", "talking"), [("on", True), ("off", False)])
def test_confbridge_talking(status: str, talking: bool) -> None:
    event = parse_event({"Event": "ConfbridgeTalking", **MEMBER, "TalkingStatus": status, "Admin": "No"})
    assert isinstance(event, ConfbridgeTalking)
    assert event.talking is talking
    assert event.channel == MEMBER["Channel"] and event.uniqueid == MEMBER["Uniqueid"]


def test_hangup_cause() -> None:
    raw = {
        "Event": "Hangup",
        "Privilege": "call,all",
        "Channel": "Local/s@dialconf-access-00000003;2",
        "Uniqueid": "1700000000.7",
        "Cause": "16",
        "Cause-txt": "Normal Clearing",
    }
    event = parse_event(raw)
    assert isinstance(event, Hangup)
    assert event.cause == 16
    assert event.get("Cause-txt") == "Normal Clearing"


@pytest.mark.parametrize("cause", [{}, {"Cause": ""}, {"Cause": "x"}])
def test_hangup_without_a_numeric_cause_is_zero(cause: dict[str, str]) -> None:
    event = parse_event({"Event": "Hangup", "Channel": "c", **cause})
    assert isinstance(event, Hangup) and event.cause == 0


def test_agi_exec_start() -> None:
    event = parse_event(
        {
            "Event": "AGIExecStart",
            "Channel": "Local/s@dialconf-access-00000003;2",
            "Command": 'EXEC Read "DIALCONF_DIGITS,conf-getpin,12,,1,6"',
            "CommandId": "1234567",
        }
    )
    assert isinstance(event, AgiExecStart)
    assert event.command.startswith("EXEC Read")
    assert event.channel.endswith(";2")


def test_dtmf_end() -> None:
    raw = {
        "Event": "DTMFEnd",
        "Channel": "Local/s@dialconf-access-00000003;2",
        "Digit": "5",
        "DurationMs": "120",
        "Direction": "Received",
    }
    event = parse_event(raw)
    assert isinstance(event, DtmfEnd)
    assert (event.digit, event.direction) == ("5", "Received")


def test_fully_booted() -> None:
    event = parse_event({"Event": "FullyBooted", "Privilege": "system,all", "Status": "Fully Booted"})
    assert isinstance(event, FullyBooted)
    assert event.get("Status") == "Fully Booted"


@pytest.mark.parametrize("name", ["TestEvent", "SoftHangupRequest", "ConfbridgeRecord", ""])
def test_unknown_events_stay_plain(name: str) -> None:
    event = parse_event({"Event": name, "Channel": "x"})
    assert type(event) is AmiEvent
    assert event.name == name
    assert event.get("Channel") == "x"
    assert event.get("Missing", "default") == "default"


def test_repeated_headers_are_joined() -> None:
    # panoramisk turns a header that repeats into a list of its values
    event = parse_event({"Event": "UserEvent", "Variable": ["A=1", "B=2"], "UserEvent": "x"})
    assert event.fields["Variable"] == "A=1,B=2"
    assert event.get("UserEvent") == "x"


def test_events_are_immutable() -> None:
    event = parse_event({"Event": "ConfbridgeJoin", **MEMBER})
    assert isinstance(event, ConfbridgeJoin)
    with pytest.raises(AttributeError):
        event.channel = "other"  # type: ignore[misc]  # the assignment a frozen event refuses
