"""Booking use cases over a unit of work: book a conference, admit a dial-in caller."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.clock import Clock
from booking.domain.credentials import new_conference_number, new_pins
from booking.domain.errors import RuleViolation
from booking.domain.model import Admission, Reservation, ReservationKind, Room, Verdict, admit
from booking.settings import BookingSettings
from booking.store.unit_of_work import UnitOfWork


class DialInStatus(enum.Enum):
    UNKNOWN_CONFERENCE = "unknown_conference"
    DECIDED = "decided"


@dataclass(frozen=True)
class DialInOutcome:
    status: DialInStatus
    reservation: Reservation | None = None
    admission: Admission | None = None

    @property
    def admitted(self) -> bool:
        return self.admission is not None and self.admission.verdict is Verdict.ADMITTED


def pick_reservation(found: list[Reservation], now: datetime, lead: timedelta) -> Reservation | None:
    """The reservation a caller means now: the open one, else the next one, else the last one."""
    if not found:
        return None
    upcoming = None
    for r in found:
        opens = r.opens_at(lead)
        if (opens is None or opens <= now) and (r.ends_at is None or now < r.ends_at):
            return r
        if opens is not None and opens > now and upcoming is None:
            upcoming = r
    return upcoming or found[-1]


class BookingService:
    def __init__(self, uow: UnitOfWork, clock: Clock, settings: BookingSettings) -> None:
        self._uow = uow
        self._clock = clock
        self._settings = settings

    @property
    def join_lead(self) -> timedelta:
        return timedelta(minutes=self._settings.join_lead_minutes)

    def book(
        self,
        starts_at: datetime | None,
        minutes: int | None,
        seats: int,
        profile: str | None = None,
        kind: ReservationKind = ReservationKind.PANEL,
    ) -> Reservation:
        """Create a room with fresh credentials and one reservation for it."""
        if seats < 1:
            raise RuleViolation("seats", "at least 1 participant")
        if (starts_at is None) != (minutes is None):
            raise RuleViolation("start", "give both start and length, or neither for an anytime room")
        if minutes is not None and minutes < 1:
            raise RuleViolation("minutes", "at least 1 minute")
        now = self._clock.now()
        ends_at = starts_at + timedelta(minutes=minutes) if starts_at and minutes else None
        with self._uow() as repo:
            profile_id = repo.profile_id(profile or self._settings.default_profile, now)
            pin, admin_pin = new_pins(self._settings.pin_length)
            number = new_conference_number(repo.live_numbers(), self._settings.conference_number_length)
            room = repo.add_room(Room(number, pin, admin_pin, profile_id), now)
            kind = ReservationKind.ANYTIME if starts_at is None else kind
            return repo.add_reservation(Reservation(room, kind, starts_at, ends_at, seats), now)

    def dial_in(self, conference_number: str, pin: str) -> DialInOutcome:
        """Decide for a caller who keyed a conference number and a PIN."""
        now = self._clock.now()
        with self._uow(read_only=True) as repo:
            found = repo.reservations_for_number(conference_number)
        reservation = pick_reservation(found, now, self.join_lead)
        if reservation is None:
            return DialInOutcome(DialInStatus.UNKNOWN_CONFERENCE)
        return DialInOutcome(DialInStatus.DECIDED, reservation, admit(reservation, pin, now, self.join_lead))

    def reservations_of(self, profile: str) -> list[Reservation]:
        with self._uow(read_only=True) as repo:
            profile_id = repo.find_profile(profile)
            return [] if profile_id is None else repo.reservations_for_profile(profile_id)

    def conference_exists(self, conference_number: str) -> bool:
        with self._uow(read_only=True) as repo:
            return bool(repo.reservations_for_number(conference_number))
