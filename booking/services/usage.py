"""Usage records: each participant leg written durably and idempotently.

Every write is its own committed transaction keyed by the Asterisk unique id, so a controller
killed at any moment loses at most the event it was handling, which the next resync
reconciles: legs still open in the store but gone from Asterisk are closed, legs in Asterisk
but missing from the store are opened. Replayed events change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.domain.clock import Clock
from booking.domain.errors import NotFound
from booking.domain.model import Role
from booking.domain.usage import EndReason, Leg, is_mobile
from booking.services.dialin import pick_reservation
from booking.services.ports import Transaction, UnitOfWork
from booking.settings import BookingSettings

# Runs in the transaction that closed a leg (the post-conference report is queued there).
LegClosed = Callable[[Transaction, Leg, datetime], object]


@dataclass(frozen=True)
class LiveLeg:
    """What Asterisk says about a member right now (for reconciling after a restart)."""

    uniqueid: str
    conference_number: str
    caller_number: str
    moderator: bool
    joined_at: datetime | None = None  # as near as Asterisk tells (its channel's answer)


class UsageService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        settings: BookingSettings,
        on_closed: LegClosed | None = None,
        node: str = "",
    ) -> None:
        """``node``: the media node this controller drives (issue 21; '' a single node): its
        legs are stored with it, and a reconcile or a restart looks at its legs only."""
        self._uow = uow
        self._clock = clock
        self._s = settings
        self._on_closed = on_closed
        self._node = node

    def record_join(
        self,
        uniqueid: str,
        conference_number: str,
        caller_number: str,
        moderator: bool,
        name_file: str | None = None,
        at: datetime | None = None,
        session_id: str | None = None,
        access_number: str = "",
        outbound: bool = False,
        language: str = "",
        web: bool = False,
        display_name: str = "",
    ) -> bool:
        """Open a leg (once per unique id); returns whether this call wrote it. ``web``: a
        browser's call (issue 20), never mobile whatever its caller id says."""
        at = at or self._clock.now()
        with self._uow() as tx:
            found = tx.reservations.reservations_for_number(conference_number)
            reservation = pick_reservation(found, at, self._s.join_lead)
            leg = Leg(
                uniqueid=uniqueid,
                conference_number=conference_number,
                reservation_id=reservation.id if reservation else None,
                caller_number=caller_number,
                mobile=not web and is_mobile(caller_number, self._s.phone_region),
                role=Role.MODERATOR if moderator else Role.PARTICIPANT,
                name_file=name_file,
                joined_at=at,
                session_id=session_id,
                access_number=access_number,
                outbound=outbound,
                language=language,
                web=web,
                display_name=display_name,
                node=self._node,
            )
            return tx.usage.open(leg)

    def record_leave(
        self, uniqueid: str, reason: EndReason = EndReason.LEFT, at: datetime | None = None
    ) -> bool:
        with self._uow() as tx:
            closed = tx.usage.close(uniqueid, at or self._clock.now(), reason)
            if closed and self._on_closed is not None:
                leg = tx.usage.get(uniqueid)
                if leg is not None:
                    self._on_closed(tx, leg, self._clock.now())
            return closed

    def reconcile(self, live: list[LiveLeg]) -> tuple[int, int]:
        """After a restart: close this node's legs its Asterisk no longer has, open the ones it
        has that we missed (another node's legs are its own controller's). Returns (closed,
        opened)."""
        now = self._clock.now()
        present = {m.uniqueid for m in live}
        with self._uow() as tx:
            stale = [leg.uniqueid for leg in tx.usage.open_legs(self._node) if leg.uniqueid not in present]
        closed = sum(self.record_leave(u, EndReason.ENDED_WHILE_CONTROLLER_DOWN, now) for u in stale)
        opened = sum(
            self.record_join(
                m.uniqueid, m.conference_number, m.caller_number, m.moderator, at=m.joined_at or now
            )
            for m in live
        )
        return closed, opened

    def open_legs(self) -> dict[str, Leg]:
        """This node's legs still open, by unique id: what a restarted controller remembers of
        its members."""
        with self._uow(read_only=True) as tx:
            return {leg.uniqueid: leg for leg in tx.usage.open_legs(self._node)}

    def mark_cap_warned(self, uniqueid: str) -> bool:
        """The member heard the mobile cap's warning (R10): stored, so it is said once."""
        with self._uow() as tx:
            return tx.usage.mark_cap_warned(uniqueid, self._clock.now())

    def recorded_name(self, reservation_id: int, caller_number: str) -> str | None:
        """The name this caller number recorded in this reservation before (a caller cut at
        the mobile cap dials in again and is not asked twice)."""
        if not caller_number:
            return None
        with self._uow(read_only=True) as tx:
            return tx.usage.recorded_name(reservation_id, caller_number)

    def expired_names(self, retention: timedelta) -> list[tuple[str, str]]:
        """(unique id, name file) of the recorded names due for deletion: a deleted or refused
        reservation's at once, any other ``retention`` after its leg ended."""
        with self._uow(read_only=True) as tx:
            return tx.usage.expired_names(self._clock.now() - retention)

    def forget_names(self, uniqueids: list[str]) -> int:
        """Those names were deleted from disk: their legs no longer point at them."""
        with self._uow() as tx:
            return tx.usage.forget_names(uniqueids)

    def leg(self, uniqueid: str) -> Leg | None:
        with self._uow(read_only=True) as tx:
            return tx.usage.get(uniqueid)

    def history(self, profile_id: int, reservation_id: int) -> list[Leg]:
        """R53: the participants of a reservation's sessions, for its owner only."""
        with self._uow(read_only=True) as tx:
            r = tx.reservations.get_reservation(reservation_id)
            if r is None or r.room.profile_id != profile_id:
                raise NotFound(f"no reservation {reservation_id}")
            return tx.usage.for_reservation(reservation_id)
