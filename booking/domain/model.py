"""Rooms, reservations and the dial-in admission decision."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta


class Role(enum.Enum):
    PARTICIPANT = "participant"
    MODERATOR = "moderator"


class ReservationKind(enum.Enum):
    ON_DEMAND = "on_demand"  # SMS / e-mail order
    PANEL = "panel"  # web panel / API reservation window
    ANYTIME = "anytime"  # no date, until deleted


@dataclass(frozen=True)
class Room:
    conference_number: str
    pin: str
    admin_pin: str
    profile_id: int
    id: int | None = None


@dataclass(frozen=True)
class Reservation:
    room: Room
    kind: ReservationKind
    starts_at: datetime | None  # None for anytime rooms
    ends_at: datetime | None
    seats: int
    id: int | None = None

    def opens_at(self, join_lead: timedelta) -> datetime | None:
        return None if self.starts_at is None else self.starts_at - join_lead


class Verdict(enum.Enum):
    ADMITTED = "admitted"
    WRONG_PIN = "wrong_pin"
    TOO_EARLY = "too_early"
    OVER = "over"


@dataclass(frozen=True)
class Admission:
    verdict: Verdict
    role: Role | None = None
    opens_at: datetime | None = None


def admit(reservation: Reservation, pin: str, now: datetime, join_lead: timedelta) -> Admission:
    """Decide what a caller who keyed ``pin`` for this reservation gets at ``now``.

    The PIN is checked first, so a wrong PIN learns nothing about the schedule.
    """
    room = reservation.room
    if pin == room.admin_pin:
        role = Role.MODERATOR
    elif pin == room.pin:
        role = Role.PARTICIPANT
    else:
        return Admission(Verdict.WRONG_PIN)
    opens = reservation.opens_at(join_lead)
    if opens is not None and now < opens:
        return Admission(Verdict.TOO_EARLY, role, opens)
    if reservation.ends_at is not None and now >= reservation.ends_at:
        return Admission(Verdict.OVER, role)
    return Admission(Verdict.ADMITTED, role)
