"""Senders, incoming messages, invitees, the outbox and invitations in the store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from booking.domain.messages import (
    Channel,
    Invitation,
    Invitee,
    InviteeDraft,
    Kind,
    Message,
    MessageDraft,
    Outcome,
    Sender,
    Status,
)
from booking.store.messaging_tables import inbound_messages, invitations, invitees, outbox, senders


def _sender(row: Any) -> Sender:
    return Sender(
        Channel(row.channel),
        row.address,
        row.profile_id,
        row.language,
        row.created_at,
        row.blocked,
        row.refusal_sent,
        row.hourly_limit,
        row.note,
    )


def _invitee(row: Any) -> Invitee:
    return Invitee(
        Channel(row.channel),
        row.address,
        row.language,
        id=row.id,
        reservation_id=row.reservation_id,
        added_at=row.added_at,
    )


def _message(row: Any) -> Message:
    return Message(
        key=row.key,
        channel=Channel(row.channel),
        recipient=row.recipient,
        language=row.language,
        kind=Kind(row.kind),
        due_at=row.due_at,
        reservation_id=row.reservation_id,
        invitee_id=row.invitee_id,
        subject=row.subject,
        body=row.body,
        paid=row.paid,
        id=row.id,
        status=Status(row.status),
        attempts=row.attempts,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


class MessagingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- senders ----------------------------------------------------------------------

    def sender(self, channel: Channel, address: str) -> Sender | None:
        q = select(senders).where(senders.c.channel == channel.value, senders.c.address == address)
        row = self.conn.execute(q).first()
        return None if row is None else _sender(row)

    def add_sender(self, s: Sender) -> Sender:
        """Add ``s`` unless a concurrent writer added the same sender first; the row stored."""
        ins = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        values = dict(
            channel=s.channel.value,
            address=s.address,
            profile_id=s.profile_id,
            language=s.language,
            created_at=s.created_at,
        )
        self.conn.execute(ins(senders).values(**values).on_conflict_do_nothing())
        found = self.sender(s.channel, s.address)
        assert found is not None
        return found

    def update_sender(self, channel: Channel, address: str, **values: object) -> bool:
        q = update(senders).where(senders.c.channel == channel.value, senders.c.address == address)
        return bool(self.conn.execute(q.values(**values)).rowcount)

    def senders(self, blocked_only: bool = False) -> list[Sender]:
        q = select(senders).order_by(senders.c.channel, senders.c.address)
        if blocked_only:
            q = q.where(senders.c.blocked)
        return [_sender(r) for r in self.conn.execute(q)]

    # --- incoming messages --------------------------------------------------------------

    def inbound(self, channel: Channel, external_id: str) -> tuple[Outcome, int | None] | None:
        q = select(inbound_messages.c.outcome, inbound_messages.c.reservation_id).where(
            inbound_messages.c.channel == channel.value, inbound_messages.c.external_id == external_id
        )
        row = self.conn.execute(q).first()
        return None if row is None else (Outcome(row.outcome), row.reservation_id)

    def add_inbound(
        self,
        channel: Channel,
        external_id: str,
        sender: str,
        language: str,
        outcome: Outcome,
        now: datetime,
        reservation_id: int | None = None,
    ) -> int:
        """Raises IntegrityError when this message id was recorded already (a redelivery)."""
        result = self.conn.execute(
            insert(inbound_messages).values(
                channel=channel.value,
                external_id=external_id,
                sender=sender,
                language=language,
                outcome=outcome.value,
                received_at=now,
                reservation_id=reservation_id,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def count_inbound(
        self, channel: Channel, sender: str, since: datetime, outcomes: Iterable[Outcome] | None = None
    ) -> int:
        c = inbound_messages.c
        q = select(func.count()).where(c.channel == channel.value, c.sender == sender, c.received_at >= since)
        if outcomes is not None:
            q = q.where(c.outcome.in_([o.value for o in outcomes]))
        return int(self.conn.execute(q).scalar_one())

    def origin(self, reservation_id: int) -> tuple[Channel, str, str] | None:
        """Who ordered this reservation by message: channel, address, language."""
        c = inbound_messages.c
        q = select(c.channel, c.sender, c.language).where(c.reservation_id == reservation_id).order_by(c.id)
        row = self.conn.execute(q.limit(1)).first()
        return None if row is None else (Channel(row.channel), row.sender, row.language)

    def reservations_of_sender(self, channel: Channel, sender: str) -> list[int]:
        c = inbound_messages.c
        q = select(c.reservation_id).where(
            c.channel == channel.value, c.sender == sender, c.reservation_id.is_not(None)
        )
        return sorted({int(r.reservation_id) for r in self.conn.execute(q)})

    # --- invitees -----------------------------------------------------------------------

    def invitees(self, reservation_id: int) -> list[Invitee]:
        q = select(invitees).where(invitees.c.reservation_id == reservation_id).order_by(invitees.c.id)
        return [_invitee(r) for r in self.conn.execute(q)]

    def replace_invitees(
        self, reservation_id: int, wanted: Sequence[InviteeDraft], now: datetime
    ) -> list[Invitee]:
        """Keep those still listed (with their history), add the new, drop the rest."""
        have = {(i.channel, i.address): i for i in self.invitees(reservation_id)}
        keep = {(i.channel, i.address) for i in wanted}
        gone = [i.id for k, i in have.items() if k not in keep]
        if gone:
            self.conn.execute(delete(invitees).where(invitees.c.id.in_(gone)))
        for i in wanted:
            key = (i.channel, i.address)
            if key in have:
                if have[key].language != i.language:
                    q = update(invitees).where(invitees.c.id == have[key].id).values(language=i.language)
                    self.conn.execute(q)
                continue
            self.conn.execute(
                insert(invitees).values(
                    reservation_id=reservation_id,
                    channel=i.channel.value,
                    address=i.address,
                    language=i.language,
                    added_at=now,
                )
            )
        return self.invitees(reservation_id)

    # --- outbox -------------------------------------------------------------------------

    def enqueue(self, m: MessageDraft, now: datetime) -> bool:
        """Add ``m`` unless a message with its key is pending or sent; True when added."""
        values = dict(
            key=m.key,
            channel=m.channel.value,
            recipient=m.recipient,
            language=m.language,
            kind=m.kind.value,
            reservation_id=m.reservation_id,
            invitee_id=m.invitee_id,
            subject=m.subject,
            body=m.body,
            due_at=m.due_at,
            created_at=now,
            paid=m.paid,
        )
        status = self.conn.execute(select(outbox.c.status).where(outbox.c.key == m.key)).scalar_one_or_none()
        if status == Status.CANCELLED.value:
            # A notice cancelled earlier and wanted again (a start moved away and back) comes back.
            q = update(outbox).where(outbox.c.key == m.key, outbox.c.status == Status.CANCELLED.value)
            return bool(self.conn.execute(q.values(status=Status.PENDING.value, due_at=m.due_at)).rowcount)
        if status is not None:
            return False
        ins = pg_insert if self.conn.dialect.name == "postgresql" else sqlite_insert
        stmt = ins(outbox).values(**values).on_conflict_do_nothing(index_elements=["key"])  # a racing twin
        return bool(self.conn.execute(stmt).rowcount)

    def messages_for(self, reservation_id: int) -> list[Message]:
        q = select(outbox).where(outbox.c.reservation_id == reservation_id).order_by(outbox.c.id)
        return [_message(r) for r in self.conn.execute(q)]

    def cancel_messages(self, ids: Sequence[int]) -> None:
        if ids:
            q = update(outbox).where(outbox.c.id.in_(ids), outbox.c.status == Status.PENDING.value)
            self.conn.execute(q.values(status=Status.CANCELLED.value))

    def due(self, now: datetime, limit: int) -> list[Message]:
        q = (
            select(outbox)
            .where(outbox.c.status == Status.PENDING.value, outbox.c.due_at <= now)
            .order_by(outbox.c.due_at, outbox.c.id)
            .limit(limit)
        )
        return [_message(r) for r in self.conn.execute(q)]

    def next_due(self) -> datetime | None:
        q = select(func.min(outbox.c.due_at)).where(outbox.c.status == Status.PENDING.value)
        value: datetime | None = self.conn.execute(q).scalar_one()  # min() keeps the column's type
        return value

    def get_message(self, message_id: int) -> Message | None:
        row = self.conn.execute(select(outbox).where(outbox.c.id == message_id)).first()
        return None if row is None else _message(row)

    def mark_sent(self, message_id: int, now: datetime) -> bool:
        """Only a pending message becomes sent: a concurrent cancel wins."""
        values: dict[str, object] = {"status": Status.SENT.value, "sent_at": now}
        q = update(outbox).where(outbox.c.id == message_id, outbox.c.status == Status.PENDING.value)
        return bool(self.conn.execute(q.values(**values)).rowcount)

    def mark_failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: due again at ``retry_at``, or given up (None)."""
        values: dict[str, object] = {"attempts": outbox.c.attempts + 1, "last_error": error[:300]}
        if retry_at is None:
            values["status"] = Status.FAILED.value
        else:
            values["due_at"] = retry_at
        q = update(outbox).where(outbox.c.id == message_id, outbox.c.status == Status.PENDING.value)
        self.conn.execute(q.values(**values))

    def outbox(self, recipient: str | None = None) -> list[Message]:
        q = select(outbox).order_by(outbox.c.id)
        if recipient is not None:
            q = q.where(outbox.c.recipient == recipient)
        return [_message(r) for r in self.conn.execute(q)]

    # --- invitations --------------------------------------------------------------------

    def invitation(self, reservation_id: int) -> Invitation | None:
        row = self.conn.execute(
            select(invitations).where(invitations.c.reservation_id == reservation_id)
        ).first()
        if row is None:
            return None
        return Invitation(row.reservation_id, row.language, row.subject, row.body, row.edited_at, row.sent_at)

    def put_invitation(self, inv: Invitation) -> None:
        values = dict(
            language=inv.language,
            subject=inv.subject,
            body=inv.body,
            edited_at=inv.edited_at,
            sent_at=inv.sent_at,
        )
        q = update(invitations).where(invitations.c.reservation_id == inv.reservation_id).values(**values)
        if self.conn.execute(q).rowcount == 0:
            self.conn.execute(insert(invitations).values(reservation_id=inv.reservation_id, **values))
