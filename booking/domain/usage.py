"""A usage leg: one participant's stay in one conference, from join to leave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers


@dataclass(frozen=True)
class Leg:
    uniqueid: str  # the Asterisk channel's unique id: the key that makes writes idempotent
    conference_number: str
    reservation_id: int | None
    caller_number: str
    mobile: bool
    role: str  # participant | moderator
    name_file: str | None
    joined_at: datetime
    left_at: datetime | None = None
    end_reason: str | None = None  # left, kicked, ended, mobile_cap, ended_while_controller_down
    session_id: str | None = None  # the ConfBridge bridge's unique id: one per session (R29)
    access_number: str = ""  # the number the caller dialled (rating by number, R61)
    outbound: bool = False  # a dial-out leg: the system called this participant (R40)

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
