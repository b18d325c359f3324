"""Messages: senders, incoming messages, invitees, the outbox and invitations; and the requests
waiting for their one-time code (confirmations)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Protocol

from booking.domain.confirmation import Confirmation, ConfirmationDraft
from booking.domain.messages import (
    Channel,
    Invitation,
    Invitee,
    InviteeDraft,
    Message,
    MessageDraft,
    Outcome,
    Sender,
)


class Messages(Protocol):
    # --- senders ----------------------------------------------------------------------

    def sender(self, channel: Channel, address: str) -> Sender | None: ...

    def add_sender(self, s: Sender) -> Sender:
        """Add ``s`` unless a concurrent writer added the same sender first; the one stored."""
        ...

    def update_sender(self, channel: Channel, address: str, **values: object) -> bool: ...

    def senders(self, blocked_only: bool = False) -> list[Sender]: ...

    # --- incoming messages ------------------------------------------------------------

    def inbound(self, channel: Channel, external_id: str) -> tuple[Outcome, int | None] | None:
        """What became of a message already recorded: its outcome and reservation."""
        ...

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
        """Record an incoming message. A message id recorded already (a redelivery) fails the
        unit of work with booking.store.errors.Duplicate."""
        ...

    def count_inbound(
        self, channel: Channel, sender: str, since: datetime, outcomes: Iterable[Outcome] | None = None
    ) -> int: ...

    def origin(self, reservation_id: int) -> tuple[Channel, str, str] | None:
        """Who ordered this reservation by message: channel, address, language."""
        ...

    # --- invitees and invitations -----------------------------------------------------

    def invitees(self, reservation_id: int) -> list[Invitee]: ...

    def replace_invitees(
        self, reservation_id: int, wanted: Sequence[InviteeDraft], now: datetime
    ) -> list[Invitee]:
        """Keep those still listed (with their history), add the new, drop the rest."""
        ...

    def invitation(self, reservation_id: int) -> Invitation | None: ...

    def put_invitation(self, inv: Invitation) -> None: ...

    # --- the outbox -------------------------------------------------------------------

    def enqueue(self, m: MessageDraft, now: datetime) -> bool:
        """Add ``m`` unless a message with its key is pending or sent; True when added."""
        ...

    def messages_for(self, reservation_id: int) -> list[Message]: ...

    def cancel_messages(self, ids: Sequence[int]) -> None: ...

    def due(self, now: datetime, limit: int) -> list[Message]: ...

    def mark_sent(self, message_id: int, now: datetime) -> bool:
        """Only a pending message becomes sent: a concurrent cancel wins."""
        ...

    def mark_failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        """A failed attempt: due again at ``retry_at``, or given up (None)."""
        ...


class Confirmations(Protocol):
    def add(self, c: ConfirmationDraft) -> int: ...

    def waiting(self, channel: Channel, address: str, now: datetime) -> list[Confirmation]:
        """The address's requests still waiting for their code (not used, void or expired)."""
        ...

    def last_language(self, channel: Channel, address: str) -> str | None:
        """The language of the address's latest request, whatever became of it."""
        ...

    def wrong_code(self, channel: Channel, address: str, now: datetime, max_wrong: int) -> int:
        """A wrong code counts against each of the address's waiting requests; those that reach
        ``max_wrong`` are void. How many are still waiting."""
        ...

    def use(self, confirmation_id: int, now: datetime) -> bool:
        """Mark a waiting request used; False when another delivery used it first."""
        ...

    def new_senders(self, channel: Channel, since: datetime, domain: str | None = None) -> int:
        """Senders of ``channel`` first seen since ``since`` (of one e-mail domain, if given)."""
        ...

    def outcomes_since(self, channel: Channel, outcome: Outcome, since: datetime) -> int:
        """Messages of any sender answered with ``outcome`` since ``since``."""
        ...
