"""What happens to messages when a reservation changes, inside the booking's transaction."""

from __future__ import annotations

from datetime import datetime

from booking.domain.messages import Kind, MessageDraft
from booking.domain.model import Change, ReservationStatus
from booking.services.notices import NoticePlanner
from booking.services.ports import Transaction
from booking.services.queue_alert import QueueAlert


class MessagingHook:
    """Plans invitees' notices, and tells whoever ordered a queued request by message how the
    operator decided (R3: non-standard requests wait for an operator); ``alert`` tells the
    operator that one waits."""

    def __init__(self, planner: NoticePlanner, alert: QueueAlert | None = None) -> None:
        self._planner = planner
        self._alert = alert

    def __call__(self, tx: Transaction, change: Change, now: datetime) -> None:
        self._planner(tx, change, now)
        if self._alert is not None:
            self._alert(tx, change, now)
        before, r = change.before, change.after
        if before is None or before.status is not ReservationStatus.PENDING or r.status is before.status:
            return
        store = tx.messages
        origin = store.origin(r.id)
        if origin is None:
            return
        channel, address, language = origin
        kind = Kind.CONFIRMATION if r.status is ReservationStatus.ACTIVE else Kind.REJECTION
        # The text is made when it is sent, from the reservation as it is then.
        key = f"o:{r.id}:{kind.value}"
        store.enqueue(MessageDraft(key, channel, address, language, kind, now, reservation_id=r.id), now)
