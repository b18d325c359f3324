"""What happens to messages when a reservation changes, inside the booking's transaction."""

from __future__ import annotations

from datetime import datetime

from booking.domain.messages import Kind, Message
from booking.domain.model import Change, ReservationStatus
from booking.services.notices import NoticePlanner
from booking.store.messaging import MessagingRepository
from booking.store.reservations import Repository


class MessagingHook:
    """Plans invitees' notices, and tells whoever ordered a queued request by message how the
    operator decided (R3: non-standard requests wait for an operator)."""

    def __init__(self, planner: NoticePlanner) -> None:
        self._planner = planner

    def __call__(self, repo: Repository, change: Change, now: datetime) -> None:
        self._planner(repo, change, now)
        before, r = change.before, change.after
        if before is None or before.status is not ReservationStatus.PENDING or r.status is before.status:
            return
        assert r.id is not None
        store = MessagingRepository(repo.conn)
        origin = store.origin(r.id)
        if origin is None:
            return
        channel, address, language = origin
        kind = Kind.CONFIRMATION if r.status is ReservationStatus.ACTIVE else Kind.REJECTION
        # The text is made when it is sent, from the reservation as it is then.
        store.enqueue(
            Message(f"o:{r.id}:{kind.value}", channel, address, language, kind, now, reservation_id=r.id), now
        )
