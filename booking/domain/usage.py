"""A usage leg: one participant's stay in one conference, from join to leave."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import phonenumbers

from booking.domain.model import Role


class EndReason(enum.StrEnum):
    """How a leg ended (stored with it; the statements and the live page show it)."""

    LEFT = "left"  # the caller hung up or left with a key
    KICKED = "kicked"  # a moderator removed them (keypad or live page)
    ENDED = "ended"  # the conference reached its booked end (R9)
    ENDED_BY_MODERATOR = "ended_by_moderator"
    ENDED_WITH_MODERATOR = "ended_with_moderator"  # the last moderator left (end_with_moderator)
    MOBILE_CAP = "mobile_cap"  # cut at the mobile cap (R10)
    ENDED_WHILE_CONTROLLER_DOWN = "ended_while_controller_down"  # found gone at a resync
    NODE_LOST = "node_lost"  # its media node stopped beating: closed at its last heartbeat


@dataclass(frozen=True)
class Leg:
    uniqueid: str  # the Asterisk channel's unique id: the key that makes writes idempotent
    conference_number: str
    reservation_id: int | None
    caller_number: str
    mobile: bool
    role: Role
    name_file: str | None
    joined_at: datetime
    left_at: datetime | None = None
    end_reason: EndReason | None = None
    session_id: str | None = None  # the ConfBridge bridge's unique id: one per session (R29)
    access_number: str = ""  # the number the caller dialled (rating by number, R61)
    outbound: bool = False  # a dial-out leg: the system called this participant (R40)
    language: str = ""  # the language the caller chose (the conference speaks its moderator's)
    # when the caller heard the one-minute warning of the mobile cap (R10): stored, so a
    # controller restarted after it does not warn again
    cap_warned_at: datetime | None = None
    web: bool = False  # joined from a browser with a personal link (issue 20): no caller number
    display_name: str = ""  # the name typed on the join page (a phone caller records one instead)
    node: str = ""  # the media node it is mixed on (issue 21; '' a single node)

    @property
    def seconds(self) -> float | None:
        return None if self.left_at is None else (self.left_at - self.joined_at).total_seconds()


def is_mobile(number: str, region: str) -> bool:
    """True for numbers of a mobile network (phonenumbers); unknown or landline: False."""
    if not number.strip():
        return False
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE)
