"""Recording what became of an incoming message, and queueing its reply, in one transaction."""

from __future__ import annotations

from booking.domain.clock import Clock
from booking.domain.errors import CodeUsed
from booking.domain.messages import Channel, Inbound, Kind, MessageDraft, Outcome
from booking.domain.texts import Texts
from booking.services.ports import Transaction, UnitOfWork


class Recorder:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def answer(
        self,
        msg: Inbound,
        language: str,
        outcome: Outcome,
        text: str | None,
        reservation_id: int | None = None,
        subject: str | None = None,
        claim: int | None = None,
    ) -> Outcome:
        with self._uow() as tx:
            self.record(tx, msg, language, outcome, text, reservation_id, subject, claim)
        return outcome

    def record(
        self,
        tx: Transaction,
        msg: Inbound,
        language: str,
        outcome: Outcome,
        text: str | None,
        reservation_id: int | None = None,
        subject: str | None = None,
        claim: int | None = None,
    ) -> None:
        """``claim``: the confirmation this message carries out, used up in the same transaction
        (so a code acts once, however many deliveries race). Raises CodeUsed."""
        now = self._clock.now()
        if claim is not None and not tx.confirmations.use(claim, now):
            raise CodeUsed(claim)
        store = tx.messages
        store.add_inbound(msg.channel, msg.external_id, msg.sender, language, outcome, now, reservation_id)
        if text is None:
            return
        if subject is None:
            subject = Texts(language)("reply.email_subject") if msg.channel is Channel.EMAIL else ""
        store.enqueue(
            MessageDraft(
                f"reply:{msg.channel.value}:{msg.external_id}",
                msg.channel,
                msg.sender,
                language,
                Kind.REPLY,
                now,
                reservation_id=reservation_id,
                subject=subject,
                body=text,
            ),
            now,
        )
