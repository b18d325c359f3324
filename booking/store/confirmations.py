"""Requests waiting for their one-time code, and the counts the new-sender limits need."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from booking.domain.confirmation import Confirmation, ConfirmationDraft, ConfirmationState
from booking.domain.messages import Channel, Outcome
from booking.store.confirmation_tables import confirmations
from booking.store.messaging_tables import inbound_messages, senders

WAITING, USED, VOID = (s.value for s in ConfirmationState)


def _confirmation(row: Any) -> Confirmation:
    return Confirmation(
        Channel(row.channel),
        row.address,
        row.command,
        row.language,
        row.code_salt,
        row.code_hash,
        row.requested_by,
        row.created_at,
        row.expires_at,
        id=row.id,
        wrong_codes=row.wrong_codes,
        state=ConfirmationState(row.state),
    )


class ConfirmationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, c: ConfirmationDraft) -> int:
        result = self.conn.execute(
            insert(confirmations).values(
                channel=c.channel.value,
                address=c.address,
                command=c.command,
                language=c.language,
                code_salt=c.code_salt,
                code_hash=c.code_hash,
                requested_by=c.requested_by,
                created_at=c.created_at,
                expires_at=c.expires_at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def waiting(self, channel: Channel, address: str, now: datetime) -> list[Confirmation]:
        """The address's requests still waiting for their code (not used, void or expired)."""
        c = confirmations.c
        q = (
            select(confirmations)
            .where(c.channel == channel.value, c.address == address, c.state == WAITING, c.expires_at > now)
            .order_by(c.id)
        )
        return [_confirmation(r) for r in self.conn.execute(q)]

    def last_language(self, channel: Channel, address: str) -> str | None:
        """The language of the address's latest request, whatever became of it."""
        c = confirmations.c
        q = select(c.language).where(c.channel == channel.value, c.address == address)
        return self.conn.execute(q.order_by(c.id.desc()).limit(1)).scalar_one_or_none()

    def wrong_code(self, channel: Channel, address: str, now: datetime, max_wrong: int) -> int:
        """A wrong code from the address counts against each of its waiting requests; those that
        reach ``max_wrong`` are void. How many are still waiting."""
        c = confirmations.c
        mine = (c.channel == channel.value, c.address == address, c.state == WAITING, c.expires_at > now)
        self.conn.execute(update(confirmations).where(*mine).values(wrong_codes=c.wrong_codes + 1))
        self.conn.execute(update(confirmations).where(*mine, c.wrong_codes >= max_wrong).values(state=VOID))
        return len(self.waiting(channel, address, now))

    def use(self, confirmation_id: int, now: datetime) -> bool:
        """Mark a waiting request used; False when another delivery used it first."""
        c = confirmations.c
        q = update(confirmations).where(c.id == confirmation_id, c.state == WAITING, c.expires_at > now)
        return bool(self.conn.execute(q.values(state=USED, used_at=now)).rowcount)

    # --- the new-sender limits ----------------------------------------------------------

    def new_senders(self, channel: Channel, since: datetime, domain: str | None = None) -> int:
        """Senders of ``channel`` first seen since ``since`` (of one e-mail domain, if given)."""
        q = select(func.count()).where(senders.c.channel == channel.value, senders.c.created_at >= since)
        if domain is not None:
            q = q.where(senders.c.address.endswith("@" + domain, autoescape=True))
        return int(self.conn.execute(q).scalar_one())

    def outcomes_since(self, channel: Channel, outcome: Outcome, since: datetime) -> int:
        """Messages of any sender answered with ``outcome`` since ``since``."""
        c = inbound_messages.c
        q = select(func.count()).where(
            c.channel == channel.value, c.outcome == outcome.value, c.received_at >= since
        )
        return int(self.conn.execute(q).scalar_one())
