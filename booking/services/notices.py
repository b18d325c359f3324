"""When invitees are notified (R25, R26), as outbox rows kept in step with the reservation.

``plan`` is pure: from the reservation, its invitees and the notices that exist, it gives the
notices that should be pending. ``NoticePlanner`` runs it inside the booking's own transaction
whenever a reservation is made, edited, approved or deleted, so the schedule can never
disagree with the reservation, and a restart finds it in the store as it was.

The schedule (R25): a notice when the reservation is made and one an hour before the start;
if the start is 6 hours or less away when the invitee is first planned for, one notice only,
at the start. Beyond the sources: a notice when the time changes or the reservation is deleted,
to whoever had been told about it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from booking.domain.messages import Channel, Invitee, Kind, Message, MessageDraft, Status
from booking.domain.model import Change, Reservation, ReservationStatus
from booking.services.ports import Transaction
from booking.settings import NoticeSettings


def _key(r: Reservation, i: Invitee, kind: Kind, at: datetime | None = None) -> str:
    stamp = "" if at is None else f":{at:%Y%m%dT%H%M}"
    return f"n:{r.id}:{i.id}:{kind.value}{stamp}"


def plan(
    change: Change,
    invitees: Sequence[Invitee],
    existing: Sequence[Message],
    now: datetime,
    s: NoticeSettings,
) -> list[MessageDraft]:
    """The notices that should be pending (or already sent) for this reservation now."""
    r = change.after
    wanted: list[MessageDraft] = []
    for i in invitees:
        mine = [m for m in existing if m.invitee_id == i.id]
        told = any(m.status is Status.SENT for m in mine)

        def notice(kind: Kind, due: datetime, stamp: datetime | None = None, i: Invitee = i) -> None:
            wanted.append(
                MessageDraft(
                    _key(r, i, kind, stamp),
                    i.channel,
                    i.address,
                    i.language,
                    kind,
                    due,
                    reservation_id=r.id,
                    invitee_id=i.id,
                    paid=i.channel is Channel.SMS and s.sms_paid,
                )
            )

        if r.status in (ReservationStatus.DELETED, ReservationStatus.REJECTED):
            if told:
                notice(Kind.CANCELLED, now)
            continue
        if r.status is not ReservationStatus.ACTIVE:
            continue  # queued for an operator: nobody is told until it is approved
        if r.starts_at is None or r.ends_at is None:
            notice(Kind.BOOKED, now)  # an anytime room: the invitation only
            continue
        if now >= r.ends_at:
            continue
        moved = change.before is not None and (change.before.starts_at, change.before.ends_at) != (
            r.starts_at,
            r.ends_at,
        )
        if moved and told:
            notice(Kind.CHANGED, now, r.starts_at)
        if _long_notice(mine, r.starts_at, now, s):
            notice(Kind.BOOKED, now)
            reminder = r.starts_at - timedelta(minutes=s.reminder_minutes)
            if now < r.starts_at:
                notice(Kind.REMINDER, max(reminder, now), r.starts_at)
        else:
            notice(Kind.STARTING, max(r.starts_at, now), r.starts_at)
    return wanted


def _long_notice(mine: Sequence[Message], start: datetime, now: datetime, s: NoticeSettings) -> bool:
    """Whether this invitee is on the two-notice schedule: decided once, when first planned."""
    kinds = {m.kind for m in mine if m.status is not Status.CANCELLED}
    if Kind.BOOKED in kinds:
        return True
    if Kind.STARTING in kinds:
        return False
    return start - now > timedelta(hours=s.short_notice_hours)


class NoticePlanner:
    """Keeps a reservation's pending notices in step with it, inside the booking transaction."""

    def __init__(self, settings: NoticeSettings) -> None:
        self._s = settings

    def __call__(self, tx: Transaction, change: Change, now: datetime) -> None:
        r = change.after
        store = tx.messages
        existing = store.messages_for(r.id)
        notices = [m for m in existing if m.invitee_id is not None]
        wanted = plan(change, store.invitees(r.id), notices, now, self._s)
        keys = {m.key for m in wanted}
        store.cancel_messages([m.id for m in notices if m.status is Status.PENDING and m.key not in keys])
        for m in wanted:
            store.enqueue(m, now)
