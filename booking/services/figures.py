"""Seats and PIN lockouts from the booking store, for /metrics and the operations dashboard:
the seats booked now and over the next hours, the seats live members of anytime rooms hold
(booking.services.seats), the capacity they all share, and the PIN lockouts.

Blocking: read in a worker thread, never on the event loop (the controller's BookingGauges
does, every period and when the dashboard is viewed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from booking.domain import capacity
from booking.domain.capacity import Booked
from booking.domain.clock import Clock
from booking.domain.model import Reservation
from booking.domain.pin_guard import SCOPES, Attempts
from booking.services.dialin import DialInService
from booking.services.ports import UnitOfWork
from booking.services.seats import LiveSeats
from booking.settings import BookingSettings

# The label values of dialconf_seats_reserved (metrics.SEAT_HORIZONS, same order) and their spans.
HORIZONS = {"now": timedelta(0), "1h": timedelta(hours=1), "2h": timedelta(hours=2), "4h": timedelta(hours=4)}


@dataclass(frozen=True)
class BookingFigures:
    at: datetime  # the booking clock's now when read
    capacity: int  # seats every booking shares at any instant
    reserved: dict[str, int]  # horizon -> seats reserved (now; or the peak until now+horizon)
    lockouts: list[Attempts]  # keys locked out now
    live_seats: int  # seats live members of anytime rooms hold now, beside the reserved ones
    # conference number -> the reservation it runs under now (only for the numbers asked)
    running: dict[str, Reservation | None] = field(default_factory=dict)

    def lockouts_by_scope(self) -> dict[str, int]:
        counts = dict.fromkeys(SCOPES, 0)
        for a in self.lockouts:
            scope = a.key.partition(":")[0]
            counts[scope] = counts.get(scope, 0) + 1
        return counts


def reserved_at(booked: Iterable[Booked], at: datetime) -> int:
    return sum(b.seats for b in booked if b.starts_at <= at < b.ends_at)


class FiguresService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        settings: BookingSettings,
        dialin: DialInService,
        seats: LiveSeats,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._s = settings
        self._dialin = dialin
        self._seats = seats

    def read(self, live_numbers: Iterable[str] = ()) -> BookingFigures:
        """Blocking (the store): call it in a thread. A few indexed reads, whatever the table size."""
        now = self._clock.now()
        longest = timedelta(days=self._s.absolute_max_window_days)
        with self._uow(read_only=True) as tx:
            booked = tx.reservations.booked_overlapping(now, now + max(HORIZONS.values()), longest)
        reserved = {
            name: capacity.peak(booked, now, now + span)[0] if span else reserved_at(booked, now)
            for name, span in HORIZONS.items()
        }
        running = {number: self._dialin.current_reservation(number) for number in live_numbers}
        return BookingFigures(
            now, self._s.system_capacity, reserved, self._dialin.pin_lockouts(), self._seats.held(), running
        )
