"""Repositories the fakes do not hold: every method raises NotImplementedError, typed as its
port, so a service test that reaches one fails loudly (use the SQL store's tests for those)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NoReturn

from booking.domain.confirmation import Confirmation, ConfirmationDraft
from booking.domain.dialout import DialCall, DialCallDraft
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
from booking.domain.rating import RatedLeg
from booking.domain.usage import Leg


def _unsupported(what: str) -> NoReturn:
    raise NotImplementedError(f"the fake unit of work holds no {what}: test it against the SQL store")


class UnsupportedDialOuts:
    def add(self, call: DialCallDraft, now: datetime, profile_id: int) -> DialCall:
        _unsupported("dial-out calls")

    def put(self, call: DialCall) -> None:
        _unsupported("dial-out calls")

    def get(self, call_id: int) -> DialCall | None:
        _unsupported("dial-out calls")

    def for_reservation(self, reservation_id: int) -> list[DialCall]:
        _unsupported("dial-out calls")

    def due(self, now: datetime) -> list[DialCall]:
        _unsupported("dial-out calls")

    def in_flight(self) -> list[DialCall]:
        _unsupported("dial-out calls")

    def ringing_or_due(self, reservation_id: int, number: str) -> DialCall | None:
        _unsupported("dial-out calls")

    def starts_due(self, now: datetime) -> list[int]:
        _unsupported("dial-out calls")

    def lock_profile(self, profile_id: int) -> None:
        _unsupported("dial-out calls")

    def reservation_calls_since(self, reservation_id: int, since: datetime) -> list[tuple[datetime, bool]]:
        _unsupported("dial-out calls")

    def profile_calls_since(self, profile_id: int, since: datetime) -> list[datetime]:
        _unsupported("dial-out calls")


class UnsupportedBilling:
    def current_tariff(self) -> tuple[int, str] | None:
        _unsupported("tariffs or ratings")

    def add_tariff(self, text: str, note: str, now: datetime) -> int:
        _unsupported("tariffs or ratings")

    def plan_of(self, profile_id: int) -> str | None:
        _unsupported("tariffs or ratings")

    def set_plan(self, profile_id: int, plan: str) -> None:
        _unsupported("tariffs or ratings")

    def closed_legs(self, since: datetime, until: datetime) -> list[tuple[Leg, int | None]]:
        _unsupported("tariffs or ratings")

    def legs(self, uniqueids: Sequence[str]) -> dict[str, Leg]:
        _unsupported("tariffs or ratings")

    def rated(self, month: str, profile_id: int | None = None) -> list[RatedLeg]:
        _unsupported("tariffs or ratings")

    def rated_for(self, uniqueids: Sequence[str]) -> dict[str, RatedLeg]:
        _unsupported("tariffs or ratings")

    def put_rated(self, found: RatedLeg, version: int, now: datetime, before: RatedLeg | None) -> bool:
        _unsupported("tariffs or ratings")

    def drop_rated(self, month: str, keep: set[str]) -> int:
        _unsupported("tariffs or ratings")


class UnsupportedMessages:
    def sender(self, channel: Channel, address: str) -> Sender | None:
        _unsupported("messages")

    def add_sender(self, s: Sender) -> Sender:
        _unsupported("messages")

    def update_sender(self, channel: Channel, address: str, **values: object) -> bool:
        _unsupported("messages")

    def senders(self, blocked_only: bool = False) -> list[Sender]:
        _unsupported("messages")

    def inbound(self, channel: Channel, external_id: str) -> tuple[Outcome, int | None] | None:
        _unsupported("messages")

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
        _unsupported("messages")

    def count_inbound(
        self, channel: Channel, sender: str, since: datetime, outcomes: Iterable[Outcome] | None = None
    ) -> int:
        _unsupported("messages")

    def origin(self, reservation_id: int) -> tuple[Channel, str, str] | None:
        _unsupported("messages")

    def invitees(self, reservation_id: int) -> list[Invitee]:
        _unsupported("messages")

    def replace_invitees(
        self, reservation_id: int, wanted: Sequence[InviteeDraft], now: datetime
    ) -> list[Invitee]:
        _unsupported("messages")

    def invitation(self, reservation_id: int) -> Invitation | None:
        _unsupported("messages")

    def put_invitation(self, inv: Invitation) -> None:
        _unsupported("messages")

    def enqueue(self, m: MessageDraft, now: datetime) -> bool:
        _unsupported("messages")

    def messages_for(self, reservation_id: int) -> list[Message]:
        _unsupported("messages")

    def cancel_messages(self, ids: Sequence[int]) -> None:
        _unsupported("messages")

    def due(self, now: datetime, limit: int) -> list[Message]:
        _unsupported("messages")

    def mark_sent(self, message_id: int, now: datetime) -> bool:
        _unsupported("messages")

    def mark_failed(self, message_id: int, error: str, retry_at: datetime | None) -> None:
        _unsupported("messages")


class UnsupportedConfirmations:
    def add(self, c: ConfirmationDraft) -> int:
        _unsupported("confirmations")

    def waiting(self, channel: Channel, address: str, now: datetime) -> list[Confirmation]:
        _unsupported("confirmations")

    def last_language(self, channel: Channel, address: str) -> str | None:
        _unsupported("confirmations")

    def wrong_code(self, channel: Channel, address: str, now: datetime, max_wrong: int) -> int:
        _unsupported("confirmations")

    def use(self, confirmation_id: int, now: datetime) -> bool:
        _unsupported("confirmations")

    def new_senders(self, channel: Channel, since: datetime, domain: str | None = None) -> int:
        _unsupported("confirmations")

    def outcomes_since(self, channel: Channel, outcome: Outcome, since: datetime) -> int:
        _unsupported("confirmations")


class UnsupportedWebSessions:
    def open(self, id_hash: str, subject: str, created_at: datetime, expires_at: datetime) -> None:
        _unsupported("web sessions")

    def is_live(self, id_hash: str, now: datetime) -> bool:
        _unsupported("web sessions")

    def revoke(self, id_hash: str) -> bool:
        _unsupported("web sessions")

    def revoke_subject(self, subject: str) -> int:
        _unsupported("web sessions")

    def prune(self, now: datetime) -> int:
        _unsupported("web sessions")
