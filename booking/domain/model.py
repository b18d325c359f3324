"""Rooms, reservations and the dial-in admission decision.

Each stored thing has two types: a draft (what is about to be stored: no id yet) and the
stored one, which is the draft plus its id. A stored id is never optional.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from booking.domain.account_plans import DEFAULT_PLAN, AccountPlan


class Role(enum.StrEnum):
    PARTICIPANT = "participant"
    MODERATOR = "moderator"


class ReservationStatus(enum.Enum):
    ACTIVE = "active"  # confirmed: holds its seats
    PENDING = "pending"  # over the limits: waits in the operator queue, holds nothing
    REJECTED = "rejected"  # refused by an operator
    DELETED = "deleted"  # deleted by its owner (frees its slot and seats)


class ReservationKind(enum.Enum):
    ON_DEMAND = "on_demand"  # SMS / e-mail order
    PANEL = "panel"  # web panel / API reservation window
    ANYTIME = "anytime"  # no date, until deleted


@dataclass(frozen=True)
class RoomDraft:
    conference_number: str
    pin: str
    admin_pin: str
    profile_id: int


@dataclass(frozen=True)
class Room(RoomDraft):
    id: int = field(kw_only=True)


@dataclass(frozen=True)
class Profile:
    id: int
    name: str
    language: str = "en"
    account_plan: AccountPlan = DEFAULT_PLAN  # how many rooms it may hold (booking.domain.account_plans)


@dataclass(frozen=True)
class ReservationDraft:
    room: Room
    kind: ReservationKind
    starts_at: datetime | None  # None for anytime rooms
    ends_at: datetime | None
    seats: int  # seats held in the shared capacity
    status: ReservationStatus = ReservationStatus.ACTIVE
    max_participants: int | None = None  # R43: the booker's own maximum (<= seats)
    title: str = ""
    note: str = ""  # why it waits for an operator, or why it was rejected
    dial_out: bool = False  # R40: at the start, the system calls the phone numbers it lists
    record: bool = False  # issue 19: ConfBridge records each session (everyone is told)
    # Issue 19: participants wait (hold music) until the first moderator joins; the conference
    # ends (after a spoken notice) when the last moderator leaves. ConfBridge's marked users.
    wait_for_moderator: bool = False
    end_with_moderator: bool = False

    @property
    def participant_limit(self) -> int:
        """How many may be in the conference at once: the booker's maximum if lower."""
        return min(self.seats, self.max_participants or self.seats)

    def ended(self, now: datetime) -> bool:
        return self.ends_at is not None and now >= self.ends_at

    def visible(self, now: datetime, ended_visible: timedelta) -> bool:
        """R27: listed while live, and for a while after it ended."""
        return self.ends_at is None or now < self.ends_at + ended_visible

    def opens_at(self, join_lead: timedelta) -> datetime | None:
        return None if self.starts_at is None else self.starts_at - join_lead


@dataclass(frozen=True)
class Reservation(ReservationDraft):
    id: int = field(kw_only=True)


@dataclass(frozen=True)
class Change:
    """What a write did to a reservation: ``before`` is None when it was just made."""

    before: Reservation | None
    after: Reservation


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
    delay_s: float = 0.0  # wait this long before the next PIN prompt (growing per wrong PIN)


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
