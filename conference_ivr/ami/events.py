"""AMI events the controller cares about, typed once at the edge.

Services receive these models, never panoramisk's raw ``Message`` dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AmiEvent:
    name: str
    fields: Mapping[str, str]

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


@dataclass(frozen=True)
class FullyBooted(AmiEvent):
    pass


@dataclass(frozen=True)
class ConfbridgeEvent(AmiEvent):
    conference: str


@dataclass(frozen=True)
class ConfbridgeStart(ConfbridgeEvent):
    pass


@dataclass(frozen=True)
class ConfbridgeEnd(ConfbridgeEvent):
    pass


@dataclass(frozen=True)
class ConfbridgeMember(ConfbridgeEvent):
    """Join and Leave share the member fields."""

    channel: str
    uniqueid: str
    linkedid: str
    caller_number: str
    admin: bool


@dataclass(frozen=True)
class ConfbridgeJoin(ConfbridgeMember):
    muted: bool


@dataclass(frozen=True)
class ConfbridgeLeave(ConfbridgeMember):
    pass


@dataclass(frozen=True)
class ConfbridgeMute(ConfbridgeMember):
    """One member muted: by themselves (keypad 1), by AMI (one channel, or one event per
    member for ``participants``/``all``). The keypad's mute-all (4) sends none."""


@dataclass(frozen=True)
class ConfbridgeUnmute(ConfbridgeMember):
    pass


@dataclass(frozen=True)
class ConfbridgeTalking(ConfbridgeEvent):
    channel: str
    uniqueid: str
    talking: bool


# ConfBridge has no Lock/Unlock events (Asterisk 22, verified): the locked state is read
# from the ConfbridgeListRooms reply, typed below like the other list replies.


@dataclass(frozen=True)
class ConfbridgeListItem(ConfbridgeEvent):
    """One member in a ConfbridgeList reply."""

    channel: str
    uniqueid: str
    caller_number: str
    admin: bool
    muted: bool
    talking: bool
    answered_s: int  # seconds since the channel was answered (before the IVR, not the join)
    wait_marked: bool = False  # waits for a marked user (our moderators) to be in
    end_marked: bool = False  # let go when the last marked user leaves
    waiting: bool = False  # waiting now: muted, hearing hold music


@dataclass(frozen=True)
class ConfbridgeListRoom(ConfbridgeEvent):
    """One conference in a ConfbridgeListRooms reply."""

    parties: int
    locked: bool
    muted: bool  # the moderators' mute-all (keypad 4), not the AMI mute of each participant


@dataclass(frozen=True)
class Hangup(AmiEvent):
    channel: str
    uniqueid: str
    cause: int


@dataclass(frozen=True)
class AgiExecStart(AmiEvent):
    channel: str
    command: str


@dataclass(frozen=True)
class DtmfEnd(AmiEvent):
    channel: str
    digit: str
    direction: str


def _yes(value: str) -> bool:
    return value.strip().lower() in {"yes", "true", "1", "on"}


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def _member(f: Mapping[str, str]) -> dict[str, Any]:
    return {
        "conference": f.get("Conference", ""),
        "channel": f.get("Channel", ""),
        "uniqueid": f.get("Uniqueid", ""),
        "linkedid": f.get("Linkedid", ""),
        "caller_number": f.get("CallerIDNum", ""),
        "admin": _yes(f.get("Admin", "no")),
    }


def parse_event(raw: Mapping[str, Any]) -> AmiEvent:
    """Turn one AMI message (header -> value) into a typed event."""
    fields = {str(k): v if isinstance(v, str) else ",".join(map(str, v)) for k, v in raw.items()}
    name = fields.get("Event", "")
    base: dict[str, Any] = {"name": name, "fields": fields}
    if name == "FullyBooted":
        return FullyBooted(**base)
    if name == "ConfbridgeStart":
        return ConfbridgeStart(**base, conference=fields.get("Conference", ""))
    if name == "ConfbridgeEnd":
        return ConfbridgeEnd(**base, conference=fields.get("Conference", ""))
    if name == "ConfbridgeJoin":
        return ConfbridgeJoin(**base, **_member(fields), muted=_yes(fields.get("Muted", "no")))
    if name == "ConfbridgeLeave":
        return ConfbridgeLeave(**base, **_member(fields))
    if name == "ConfbridgeMute":
        return ConfbridgeMute(**base, **_member(fields))
    if name == "ConfbridgeUnmute":
        return ConfbridgeUnmute(**base, **_member(fields))
    if name == "ConfbridgeList":
        member = _member(fields)
        del member["linkedid"]
        return ConfbridgeListItem(
            **base,
            **member,
            muted=_yes(fields.get("Muted", "no")),
            talking=_yes(fields.get("Talking", "no")),
            answered_s=_int(fields.get("AnsweredTime", "0")),
            wait_marked=_yes(fields.get("WaitMarked", "no")),
            end_marked=_yes(fields.get("EndMarked", "no")),
            waiting=_yes(fields.get("Waiting", "no")),
        )
    if name == "ConfbridgeListRooms":
        return ConfbridgeListRoom(
            **base,
            conference=fields.get("Conference", ""),
            parties=_int(fields.get("Parties", "0")),
            locked=_yes(fields.get("Locked", "no")),
            muted=_yes(fields.get("Muted", "no")),
        )
    if name == "ConfbridgeTalking":
        return ConfbridgeTalking(
            **base,
            conference=fields.get("Conference", ""),
            channel=fields.get("Channel", ""),
            uniqueid=fields.get("Uniqueid", ""),
            talking=fields.get("TalkingStatus", "") == "on",
        )
    if name == "Hangup":
        return Hangup(
            **base,
            channel=fields.get("Channel", ""),
            uniqueid=fields.get("Uniqueid", ""),
            cause=_int(fields.get("Cause", "0")),
        )
    if name == "AGIExecStart":
        return AgiExecStart(**base, channel=fields.get("Channel", ""), command=fields.get("Command", ""))
    if name == "DTMFEnd":
        return DtmfEnd(
            **base,
            channel=fields.get("Channel", ""),
            digit=fields.get("Digit", ""),
            direction=fields.get("Direction", ""),
        )
    return AmiEvent(**base)
