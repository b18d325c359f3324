"""The operator hears of each request that enters the queue (R3, R4): an e-mail to the operator
address, planned in the transaction that queues it (so a request never waits unannounced, and a
request that was not stored announces nothing).

The text is made now, in the operator's language, and the message belongs to no reservation:
it never shows among the organizer's notices, and it is sent even if the request is decided
before the outbox gets to it (the operator then sees it decided on the queue page).
"""

from __future__ import annotations

from datetime import datetime

from booking.domain.compose import Composer
from booking.domain.messages import Channel, Kind, MessageDraft
from booking.domain.model import Change, Reservation, ReservationStatus
from booking.domain.texts import Texts
from booking.services.ports import Transaction


class QueueAlert:
    def __init__(self, composer: Composer, address: str, language: str) -> None:
        self._compose = composer
        self._address = address.strip()
        self._language = language

    def __call__(self, tx: Transaction, change: Change, now: datetime) -> None:
        before, r = change.before, change.after
        entered = r.status is ReservationStatus.PENDING and (
            before is None or before.status is not ReservationStatus.PENDING
        )
        if not entered or not self._address:
            return
        profile = tx.reservations.get_profile(r.room.profile_id)
        t = Texts(self._language)
        values = {
            "id": r.id,
            "profile": profile.name if profile is not None else r.room.profile_id,
            "kind": r.kind.value,
            "when": self._when(r),
            "seats": r.seats,
            "why": r.note or "-",
        }
        # One alert each time the request enters the queue (an edit can put it back there).
        key = f"q:{r.id}:{now:%Y%m%dT%H%M%S%f}"
        draft = MessageDraft(
            key,
            Channel.EMAIL,
            self._address,
            t.language,
            Kind.OPERATOR_ALERT,
            now,
            subject=t("operator.queued_subject", **values),
            body=t("operator.queued_body", **values),
        )
        tx.messages.enqueue(draft, now)

    def _when(self, r: Reservation) -> str:
        if r.starts_at is None or r.ends_at is None:
            return "-"
        start, end = self._compose.local(r.starts_at), self._compose.local(r.ends_at)
        return f"{start:%Y-%m-%d %H:%M} - {end:%Y-%m-%d %H:%M} ({self._compose.tz.key})"
