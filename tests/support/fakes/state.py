"""What the fake store holds: plain data, so a unit of work can copy it on begin and keep the
copy only when the unit succeeds (as a database keeps a transaction's writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from booking.domain.live import EndDecision, LiveSeat
from booking.domain.model import Profile, Reservation, Room
from booking.domain.pin_guard import Attempts
from booking.domain.recording import Recording
from booking.domain.usage import Leg


@dataclass
class StoredProfile:
    profile: Profile
    token_hash: str | None


@dataclass
class StoredRoom:
    room: Room
    # When the number may be reused: the reservation's end, at once when it is refused or
    # deleted, None while it holds without an end (an anytime room) or has no reservation yet.
    releasable_at: datetime | None = None
    deleted_at: datetime | None = None  # the number was released

    @property
    def live(self) -> bool:
        return self.deleted_at is None


@dataclass
class FakeState:
    profiles: dict[int, StoredProfile] = field(default_factory=dict)
    rooms: dict[int, StoredRoom] = field(default_factory=dict)
    reservations: dict[int, Reservation] = field(default_factory=dict)
    pins: dict[str, Attempts] = field(default_factory=dict)
    legs: dict[str, Leg] = field(default_factory=dict)
    decisions: dict[tuple[int, datetime], EndDecision] = field(default_factory=dict)
    seats: dict[str, LiveSeat] = field(default_factory=dict)
    recordings: dict[int, Recording] = field(default_factory=dict)
    last_id: int = 0

    def new_id(self) -> int:
        self.last_id += 1
        return self.last_id
