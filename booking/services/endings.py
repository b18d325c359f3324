"""The booked end of a running conference, decided once and kept (R9, D3).

``lead`` before a reservation's end the controller asks ``decide``: the reservation is extended
by one period when the shared capacity allows it (no other booking needs its seats), otherwise
the members are to be warned and the conference ends at its end. The decision is stored with
the end it was for, so a controller restarted at any moment finds it: a warning not yet played
is played, an end already past closes the conference, an extension granted stays granted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from booking.domain.clock import Clock
from booking.domain.live import EndDecision, EndOutcome
from booking.domain.model import Reservation, ReservationStatus
from booking.services.booking import BookingService
from booking.services.dialin import pick_reservation
from booking.services.ports import UnitOfWork
from booking.settings import BookingSettings


def running(r: Reservation, now: datetime, join_lead: timedelta) -> bool:
    """Whether ``r`` is a confirmed, dated reservation open for dialling in now (R28) and not over."""
    opens = r.opens_at(join_lead)
    return (
        r.status is ReservationStatus.ACTIVE
        and opens is not None
        and r.ends_at is not None
        and opens <= now < r.ends_at
    )


class EndDecisions:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, booking: BookingService, settings: BookingSettings
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._booking = booking
        self._s = settings

    def extend_now(self, conference_number: str, period: timedelta) -> bool | None:
        """A moderator asks for one period more (keypad 0): True extended, False refused (the
        seats are booked after it), None no end to move (an anytime room, or none running)."""
        with self._uow(read_only=True) as tx:
            found = tx.reservations.reservations_for_number(conference_number)
        return self.extend_running(pick_reservation(found, self._clock.now(), self._s.join_lead), period)

    def extend_running(self, r: Reservation | None, period: timedelta) -> bool | None:
        """``r``'s booked end moved ``period`` later if the shared capacity allows (keypad 0, the
        SMS ``extend``): as ``extend_now``; None when ``r`` is not running now."""
        now = self._clock.now()
        if r is None or r.ends_at is None or r.ended(now) or not running(r, now, self._s.join_lead):
            return None
        return self._booking.try_extend(r.id, r.ends_at + period)

    def decide(self, reservation_id: int, ends_at: datetime, until: datetime) -> EndDecision:
        """The decision for this end: the stored one, else taken now (extend to ``until`` or warn).

        The extension commits in its own transaction before the decision is written: a crash
        between the two leaves the reservation extended, and its old end is never asked about
        again, so nothing is decided twice the other way.
        """
        with self._uow(read_only=True) as tx:
            found = tx.live.decision(reservation_id, ends_at)
        if found is not None:
            return found
        granted = self._booking.try_extend(reservation_id, until)
        outcome = EndOutcome.EXTENDED if granted else EndOutcome.WARNED
        with self._uow() as tx:
            tx.live.decide(EndDecision(reservation_id, ends_at, outcome, self._clock.now()))
            stored = tx.live.decision(reservation_id, ends_at)
        assert stored is not None
        return stored

    def warned(self, reservation_id: int, ends_at: datetime) -> None:
        """The warning tone for this end was played into the conference."""
        with self._uow() as tx:
            tx.live.mark_warned(reservation_id, ends_at, self._clock.now())
