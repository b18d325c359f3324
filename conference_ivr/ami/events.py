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
class ConfbridgeTalking(ConfbridgeEvent):
    channel: str
    uniqueid: str
    talking: bool


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
