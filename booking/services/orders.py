"""The order desk: an incoming SMS or e-mail in, a booking and a reply (in the outbox) out.

Every message is recorded under the gateway's message id in the same transaction as what it
caused (the reservation, its invitees, the reply), so a redelivered message changes nothing
and a failed one leaves nothing behind.

An SMS comes from the number the network says it does; the From of an e-mail is whatever its
writer typed. So an e-mail order or cancel is carried out only once its From address sent back
the one-time code it was mailed (confirmations.py), unless the operator trusts DKIM and a
valid signature of the From domain covers the message. Status replies go to the From address
only, so they tell a forger nothing. And an e-mail order cannot list phone numbers: SMS
notices are paid, and anybody could otherwise have us text any number in the world.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import structlog

from booking.domain.addresses import invitee_for, normalise_sender
from booking.domain.clock import Clock
from booking.domain.compose import Composer
from booking.domain.errors import (
    AddressError,
    BadSender,
    CapacityExceeded,
    CodeUsed,
    KeywordError,
    NotFound,
    RuleViolation,
)
from booking.domain.keyword import (
    CANCEL_KEYWORDS,
    CancelOrder,
    ExtendOrder,
    Order,
    StatusQuery,
    confirmation_code,
    parse,
)
from booking.domain.messages import Channel, Inbound, Outcome, Sender
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from booking.domain.rules import BookingRequest
from booking.domain.texts import Texts
from booking.services.booking import BookingService
from booking.services.confirmations import ConfirmationCodes
from booking.services.extensions import MessageExtensions
from booking.services.ports import Transaction, UnitOfWork
from booking.services.replies import Recorder
from booking.services.senders import SenderGate
from booking.settings import BookingSettings, MessagingSettings
from booking.store.errors import Duplicate

log = structlog.get_logger(__name__)
# Control characters (NUL above all: PostgreSQL cannot store it) never reach the store.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean(text: str) -> str:
    """``text`` as the store can keep it: no lone surrogates, no control characters."""
    return _CONTROL.sub(" ", text.encode("utf-8", "replace").decode("utf-8"))


class OrderDesk:
    def __init__(
        self,
        booking: BookingService,
        uow: UnitOfWork,
        clock: Clock,
        rules: BookingSettings,
        composer: Composer,
        settings: MessagingSettings,
        recorder: Recorder,
        gate: SenderGate,
        codes: ConfirmationCodes,
        extensions: MessageExtensions,
    ) -> None:
        self._booking = booking
        self._uow = uow
        self._clock = clock
        self._rules = rules
        self._compose = composer
        self._s = settings
        self._rec = recorder  # what became of each message, and its reply
        self._gate = gate  # who may order (R12)
        self._codes = codes  # e-mail orders wait for their one-time code
        self._extensions = extensions  # ``extend``: a running conference's end, by SMS

    @property
    def default_language(self) -> str:
        return self._s.default_language

    @property
    def tz(self) -> ZoneInfo:
        return self._compose.tz

    def handle(self, msg: Inbound) -> Outcome:
        """Act on one incoming message; the reply (if any) waits in the outbox.
        Raises BadSender when the sender is no address (nothing is recorded then)."""
        try:
            address = normalise_sender(msg.channel, clean(msg.sender), self._rules.phone_region)
        except AddressError as e:
            raise BadSender(str(e)) from e
        msg = Inbound(
            msg.channel,
            address,
            clean(msg.text),
            clean(msg.external_id),
            clean(msg.subject),
            msg.authenticated,
        )
        seen = self._seen(msg)
        if seen is not None:
            log.info("message.redelivered", channel=msg.channel.value, outcome=seen.value)
            return seen
        try:
            outcome = self._handle(msg)
        except Duplicate:
            # The same message, delivered twice at once: the other delivery recorded it first.
            seen = self._seen(msg)
            if seen is None:
                raise
            return seen
        log.info("message.handled", channel=msg.channel.value, outcome=outcome.value)
        return outcome

    def _seen(self, msg: Inbound) -> Outcome | None:
        with self._uow(read_only=True) as tx:
            found = tx.messages.inbound(msg.channel, msg.external_id)
        return None if found is None else found[0]

    def _trusted(self, msg: Inbound) -> bool:
        """Whether the sender is who it says: the SMS network says so; for e-mail, a DKIM
        signature the intake checked, and only if the operator chose to trust DKIM."""
        return msg.channel is Channel.SMS or (msg.authenticated and self._s.mail.dkim.trust)

    def _handle(self, msg: Inbound) -> Outcome:
        admitted = self._gate.admit(msg)
        if isinstance(admitted, Outcome):
            return admitted
        sender = admitted
        if msg.channel is Channel.EMAIL:
            code = confirmation_code(msg.subject) or confirmation_code(msg.text)
            if code is not None:
                return self._confirm(msg, sender, code)
            if _subject(msg.subject) != _subject(self._s.mail.subject):
                t = Texts(sender.language)
                text = t("reply.wrong_subject", subject=self._s.mail.subject)
                return self._rec.answer(msg, sender.language, Outcome.INVALID, text)
        now = self._clock.now()
        try:
            command = parse(msg.text, now, self.tz, self._rules.join_lead)
        except KeywordError as e:
            lang = e.lang or sender.language  # an unknown keyword: the sender's last language
            return self._rec.answer(msg, lang, Outcome.INVALID, self._compose.keyword_error(e, Texts(lang)))
        if self._trusted(msg):  # a forged From changes nothing of its owner's, not even this
            self._remember_language(sender, command.lang)
        t = Texts(command.lang)
        if isinstance(command, StatusQuery):
            found = self._own(sender)
            text = self._compose.for_channel(self._compose.status(found, t), t, msg.channel)
            return self._rec.answer(msg, t.language, Outcome.STATUS, text)
        if isinstance(command, ExtendOrder):
            return self._extensions.handle(msg, sender, command, t)
        if isinstance(command, Order):
            phones = [a for a in command.invitees if "@" not in a]
            if msg.channel is Channel.EMAIL and phones:
                text = t("reply.email_no_sms", numbers=", ".join(phones))
                return self._rec.answer(msg, t.language, Outcome.INVALID, text)
            if not self._trusted(msg):
                return self._codes.ask(msg, msg.text, t, "reply.confirm_order", order=msg.text)
            return self._order(msg, sender, command, t)
        target = self._cancel_target(msg, sender, command, t)
        if isinstance(target, Outcome):
            return target
        if not self._trusted(msg):
            word = next((w for w, lang in CANCEL_KEYWORDS.items() if lang == t.language), "cancel")
            text = f"{word} {target.room.conference_number}"
            values = self._compose.values(target, t)
            return self._codes.ask(msg, text, t, "reply.confirm_cancel", **values)
        return self._cancel(msg, sender, target, t)

    def _confirm(self, msg: Inbound, sender: Sender, code: str) -> Outcome:
        """Carry out the waiting request that ``code`` opens (it is used up as it acts)."""
        found = self._codes.check(msg, sender, code)
        if isinstance(found, Outcome):
            return found
        try:
            return self._carry_out(msg, sender, found.command, Texts(found.language), found.id)
        except CodeUsed:  # another delivery carried it out first
            text = Texts(sender.language)("reply.confirm_none", hours=self._codes.hours)
            return self._rec.answer(msg, sender.language, Outcome.WRONG_CODE, text)

    def _carry_out(self, msg: Inbound, sender: Sender, kept: str, t: Texts, claim: int) -> Outcome:
        now = self._clock.now()
        try:
            command = parse(kept, now, self.tz, self._rules.join_lead)
        except KeywordError as e:  # the order's time passed while it waited for its code
            text = self._compose.keyword_error(e, t)
            return self._rec.answer(msg, t.language, Outcome.INVALID, text, claim=claim)
        self._remember_language(sender, t.language)
        if isinstance(command, Order):
            return self._order(msg, sender, command, t, claim)
        assert isinstance(command, CancelOrder)  # only orders and cancels wait for a code
        target = self._cancel_target(msg, sender, command, t, claim)
        return target if isinstance(target, Outcome) else self._cancel(msg, sender, target, t, claim)

    def _remember_language(self, sender: Sender, language: str) -> None:
        if sender.language != language:
            with self._uow() as tx:
                tx.messages.update_sender(sender.channel, sender.address, language=language)

    # --- the commands ------------------------------------------------------------------------

    def _order(
        self, msg: Inbound, sender: Sender, order: Order, t: Texts, claim: int | None = None
    ) -> Outcome:
        req = BookingRequest(
            ReservationKind.ON_DEMAND,
            order.starts_at,
            order.starts_at + timedelta(minutes=order.minutes),
            order.seats,
        )
        region = self._rules.phone_region
        try:
            wanted = [invitee_for(a, order.lang, region) for a in order.invitees]
        except AddressError as e:
            text = t("error.unexpected", word=str(e)[:60])
            return self._rec.answer(msg, t.language, Outcome.INVALID, text, claim=claim)

        def within(tx: Transaction, r: Reservation) -> None:
            tx.messages.replace_invitees(r.id, wanted, self._clock.now())
            queued = r.status is ReservationStatus.PENDING
            text = self._compose.queued(r, t) if queued else self._compose.confirmed(r, t, msg.channel)
            outcome = Outcome.QUEUED if queued else Outcome.BOOKED
            self._rec.record(tx, msg, t.language, outcome, text, r.id, claim=claim)

        try:
            made = self._booking.request(sender.profile_id, req, within=within)
        except RuleViolation as e:
            text = self._compose.rule_violation(e, t)
            return self._rec.answer(msg, t.language, Outcome.REFUSED, text, claim=claim)
        except CapacityExceeded as e:
            text = self._compose.capacity(e.refusal, e.seats, t)
            return self._rec.answer(msg, t.language, Outcome.REFUSED, text, claim=claim)
        return Outcome.QUEUED if made.status is ReservationStatus.PENDING else Outcome.BOOKED

    def _own(self, sender: Sender) -> list[Reservation]:
        return [
            r
            for r in self._booking.visible_reservations(sender.profile_id)
            if r.status in (ReservationStatus.ACTIVE, ReservationStatus.PENDING)
        ]

    def _cancel_target(
        self, msg: Inbound, sender: Sender, command: CancelOrder, t: Texts, claim: int | None = None
    ) -> Reservation | Outcome:
        """The sender's booking the cancel names, or the outcome of saying there is none."""
        own = [r for r in self._own(sender) if not r.ended(self._clock.now())]
        if command.conference_number is None:
            if len(own) == 1:
                return own[0]
            numbers = ", ".join(r.room.conference_number for r in own)
            key = "reply.status_none" if not own else "reply.cancel_which"
            return self._rec.answer(msg, t.language, Outcome.INVALID, t(key, numbers=numbers), claim=claim)
        for r in own:
            if r.room.conference_number == command.conference_number:
                return r
        text = t("reply.cancel_unknown", conference=command.conference_number)
        return self._rec.answer(msg, t.language, Outcome.INVALID, text, claim=claim)

    def _cancel(
        self, msg: Inbound, sender: Sender, target: Reservation, t: Texts, claim: int | None = None
    ) -> Outcome:
        try:
            self._booking.delete(sender.profile_id, target.id)
        except NotFound:
            text = t("reply.cancel_unknown", conference=target.room.conference_number)
            return self._rec.answer(msg, t.language, Outcome.INVALID, text, claim=claim)
        text = t("reply.cancelled", **self._compose.values(target, t))
        return self._rec.answer(msg, t.language, Outcome.CANCELLED, text, target.id, claim=claim)


def _subject(text: str) -> str:
    words = text.casefold().split()
    while words and words[0].rstrip(":") in ("re", "fwd", "fw", "aw", "odp", "sv"):
        words = words[1:]
    return " ".join(words)
