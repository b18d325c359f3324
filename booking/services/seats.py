"""Live seats: the members of anytime rooms take seats in the shared capacity (R7, R8).

An anytime room reserves nothing in advance, so each of its live members holds a seat of their
own (booking.domain.live.LiveSeat) in the same ledger the bookings are checked against: from
the join until ``live_seat_hold_minutes`` ahead, moved on while they talk. A join is refused
when the timed bookings and the seats already held leave no room over that span; a booking or
an extension that reaches into a live seat must fit beside it (``seats_fit``). A timed room's
members sit in its booking's seats (R8 caps them there) and hold no live seat.

The controller holds a seat when a member of an anytime room joins, renews the seats of the
members still in on each tick, releases them as members leave, and reconciles after a resync.
Every write that can take a seat runs under the capacity lock, as a booking does.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta

from booking.domain import capacity, ledger
from booking.domain.capacity import Booked, CapacityRefusal
from booking.domain.clock import Clock
from booking.domain.live import LiveSeat
from booking.services.ports import Transaction, UnitOfWork
from booking.settings import BookingSettings

INSTANT = timedelta(microseconds=1)  # the store keeps microseconds: [now, now + INSTANT) is now
NEAR_FIRST = timedelta(hours=2)  # a refusal's suggestions: looked for this near the start first,
FAR_GROUP = 15  # then farther, in slots this many times as long


def seats_fit(
    tx: Transaction,
    settings: BookingSettings,
    start: datetime,
    end: datetime,
    seats: int,
    exclude: int | None = None,
) -> bool:
    """Whether ``seats`` more fit over [start, end) beside the timed bookings and the live seats,
    exactly. Call it holding the capacity lock.

    The live seats reaching into the window count over all of it (booking.domain.capacity:
    their ends are renewed, never known). The timed bookings' peak is the capacity ledger's
    (booking.domain.ledger): the window's own slots, whatever the bookings near it.
    ``exclude``: a reservation being changed, not counted against itself.
    """
    room = settings.system_capacity - seats - tx.live.seats_held(start, end)
    if room < 0:
        return False
    tx.reservations.ensure_ledger(settings.capacity_slot)
    return tx.reservations.ledger_peak(start, end, exclude) <= room


def refusal(
    tx: Transaction,
    settings: BookingSettings,
    start: datetime,
    end: datetime,
    seats: int,
    not_before: datetime,
    exclude: int | None = None,
) -> CapacityRefusal:
    """Why ``seats`` do not fit over [start, end), and what would, from the ledger: the peak and
    its instant (the window's slots), the largest seat count that fits, and the nearest starts
    before and after (from ``not_before``, within ``suggestion_search_hours``) where the seats
    fit beside the bookings and the live seats (each counted while it is held at that start):
    booking.domain.ledger.suggest, first within NEAR_FIRST of the start, then the whole span."""
    tx.reservations.ensure_ledger(settings.capacity_slot)
    reserved, busiest = tx.reservations.ledger_busiest(start, end, exclude)
    live = live_booked(tx)
    reserved += capacity.live_within(live, start, end)
    length = end - start
    live_ends = sorted(b.ends_at for b in live)
    starts: tuple[datetime, ...] = ()
    # Near the start first, slot by slot: where the nearest start before and the nearest after
    # lie there (or enough starts), none farther off could be nearer. Otherwise the whole span,
    # in slots of FAR_GROUP (their peaks summed up by the database: fewer rows, still bounds).
    full = timedelta(hours=settings.suggestion_search_hours)
    room = settings.system_capacity - seats
    for search, group in ((min(NEAR_FIRST, full), 1), (full, FAR_GROUP)):
        lo, hi = max(start - search, not_before), start + search
        if lo > hi or settings.suggestions <= 0:
            break
        slots = tx.reservations.ledger_slots(lo, hi + length, exclude, group)
        found = ledger.suggest(slots, start, length, room, live_ends, lo, hi, settings.suggestions)
        starts = found if group == 1 else _merged(starts, found, start, settings.suggestions)
        if len(starts) == settings.suggestions or (starts and starts[0] < start < starts[-1]):
            break  # the nearest before and after are here: farther ones are not looked for
    return CapacityRefusal(reserved, busiest, max(0, settings.system_capacity - reserved), starts)


def _merged(
    near: tuple[datetime, ...], far: tuple[datetime, ...], start: datetime, count: int
) -> tuple[datetime, ...]:
    """The nearest ``count`` of both searches' starts (the near one's, slot by slot, first)."""
    return tuple(sorted(sorted(set(near) | set(far), key=lambda s: (abs(s - start), s))[:count]))


def live_booked(tx: Transaction) -> list[Booked]:
    """The live seats as the capacity rules take them (one seat each), for a refusal's search."""
    return [Booked(s.held_from, s.held_until, 1) for s in tx.live.seats()]


class _NoRoom(Exception):
    """The seat just held does not fit: the unit of work is rolled back."""


class LiveSeats:
    """The seats live members of anytime rooms hold (one unit of work per call; blocking: the
    controller calls it off its event loop)."""

    def __init__(self, uow: UnitOfWork, clock: Clock, settings: BookingSettings, node: str = "") -> None:
        """``node``: the media node this controller drives (issue 21; '' a single node): its
        seats are stored with it, and a reconcile or a restart looks at its seats only (the
        capacity checks count every node's)."""
        self._uow = uow
        self._clock = clock
        self._s = settings
        self._node = node

    def hold(self, reservation_id: int, uniqueid: str) -> bool:
        """Hold a seat for the member on channel ``uniqueid`` of an anytime room, from now for
        ``live_seat_hold_minutes``: True when held (or held already: a replay changes nothing),
        False when the system is full (the timed bookings' peak over that span, with the live
        seats and this one, would pass the capacity; nothing is held)."""
        now = self._clock.now()
        until = now + self._s.live_seat_hold
        try:
            with self._uow() as tx:
                tx.reservations.lock_capacity()
                if not tx.live.hold_seat(LiveSeat(uniqueid, reservation_id, now, until, self._node)):
                    return True  # held already, by an earlier join of this channel
                # The new seat now counts among the live ones: all must fit beside the bookings.
                if not seats_fit(tx, self._s, now, until, 0):
                    raise _NoRoom
        except _NoRoom:
            return False
        return True

    def release(self, uniqueids: Iterable[str]) -> int:
        """Free the seats of members who left; how many were held."""
        ids = list(uniqueids)
        if not ids:
            return 0
        with self._uow() as tx:
            return tx.live.release_seats(ids)

    def renew(self, uniqueids: Iterable[str]) -> int:
        """The members are still in: their seats are held until ``live_seat_hold_minutes`` from
        now (never moved back); how many moved."""
        ids = list(uniqueids)
        if not ids:
            return 0
        with self._uow() as tx:
            return tx.live.renew_seats(ids, self._clock.now() + self._s.live_seat_hold)

    def reconcile(self, present: Collection[str]) -> int:
        """After a resync: free every seat of this node whose channel is not among ``present``
        (members who left while nobody listened); how many were freed."""
        with self._uow() as tx:
            gone = [s.uniqueid for s in tx.live.seats(self._node) if s.uniqueid not in present]
            return tx.live.release_seats(gone)

    def holders(self) -> set[str]:
        """The channels of this node that hold a live seat (what a restarted controller must
        renew)."""
        with self._uow(read_only=True) as tx:
            return {s.uniqueid for s in tx.live.seats(self._node)}

    def held(self) -> int:
        """Seats live members hold now (the dashboard's figure)."""
        now = self._clock.now()
        with self._uow(read_only=True) as tx:
            return tx.live.seats_held(now, now + INSTANT)


__all__ = ["INSTANT", "LiveSeats", "live_booked", "refusal", "seats_fit"]
