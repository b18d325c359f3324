"""The order desk: an incoming SMS or e-mail in, a booking and a reply (in the outbox) out.

Every message is recorded under the gateway's message id in the same transaction as what it
caused (the reservation, its invitees, the reply), so a redelivered message changes nothing
and a failed one leaves nothing behind.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.exc import IntegrityError

from booking.domain.errors import CapacityExceeded, NotFound, RuleViolation
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from booking.domain.rules import BookingRequest
from booking.messaging.addresses import AddressError, invitee_for, normalise_sender
from booking.messaging.compose import Composer
from booking.messaging.keyword import CancelOrder, KeywordError, Order, StatusQuery, parse
from booking.messaging.model import Channel, Inbound, Kind, Message, Outcome, Sender
from booking.messaging.settings import MessagingSettings
from booking.messaging.texts import Texts
from booking.service import BookingService
from booking.store.messaging import MessagingRepository
from booking.store.repository import Repository

log = structlog.get_logger(__name__)
HOUR = timedelta(hours=1)


class OrderDesk:
    def __init__(self, booking: BookingService, composer: Composer, settings: MessagingSettings) -> None:
        self._booking = booking
        self._compose = composer
        self._s = settings

    @property
    def default_language(self) -> str:
        return self._s.default_language

    @property
    def tz(self) -> ZoneInfo:
        return self._compose.tz

    def handle(self, msg: Inbound) -> Outcome:
        """Act on one incoming message; the reply (if any) waits in the outbox."""
        address = normalise_sender(msg.channel, msg.sender, self._booking.settings.phone_region)
        msg = Inbound(msg.channel, address, msg.text, msg.external_id, msg.subject)
        seen = self._seen(msg)
        if seen is not None:
            log.info("message.redelivered", channel=msg.channel.value, outcome=seen.value)
            return seen
        try:
            outcome = self._handle(msg)
        except IntegrityError:
            # The same message, delivered twice at once: the other delivery recorded it first.
            seen = self._seen(msg)
            if seen is None:
                raise
            return seen
        log.info("message.handled", channel=msg.channel.value, outcome=outcome.value)
        return outcome

    def _seen(self, msg: Inbound) -> Outcome | None:
        with self._booking.uow(read_only=True) as repo:
            found = MessagingRepository(repo.conn).inbound(msg.channel, msg.external_id)
        return None if found is None else found[0]

    def _handle(self, msg: Inbound) -> Outcome:
        sender = self._sender(msg)
        refusal = self._refusal(msg, sender)
        if refusal is not None:
            return refusal
        t = Texts(sender.language)
        if msg.channel is Channel.EMAIL and _subject(msg.subject) != _subject(self._s.mail.subject):
            return self._answer(
                msg, sender.language, Outcome.INVALID, t("reply.wrong_subject", subject=self._s.mail.subject)
            )
        now = self._booking.clock.now()
        try:
            command = parse(msg.text, now, self.tz, self._booking.settings.join_lead)
        except KeywordError as e:
            lang = e.lang or sender.language  # an unknown keyword: the sender's last language
            return self._answer(msg, lang, Outcome.INVALID, self._compose.keyword_error(e, Texts(lang)))
        self._remember_language(sender, command.lang)
        t = Texts(command.lang)
        if isinstance(command, Order):
            return self._order(msg, sender, command, t)
        if isinstance(command, StatusQuery):
            found = self._own(sender)
            return self._answer(
                msg,
                t.language,
                Outcome.STATUS,
                self._compose.for_channel(self._compose.status(found, t), t, msg.channel),
            )
        return self._cancel(msg, sender, command, t)

    # --- senders and abuse control (R12) -----------------------------------------------------

    def _sender(self, msg: Inbound) -> Sender:
        now = self._booking.clock.now()
        with self._booking.uow() as repo:
            store = MessagingRepository(repo.conn)
            found = store.sender(msg.channel, msg.sender)
            if found is not None:
                return found
            profile = repo.profile_id(f"{msg.channel.value}:{msg.sender}", now)
            return store.add_sender(Sender(msg.channel, msg.sender, profile, self._s.default_language, now))

    def _refusal(self, msg: Inbound, sender: Sender) -> Outcome | None:
        """Blocked senders get one polite refusal, then silence; so do senders over the limit
        (one refusal per hour): a loop of automatic replies ends at once."""
        t = Texts(sender.language)
        if sender.blocked:
            if sender.refusal_sent:
                return self._answer(msg, sender.language, Outcome.IGNORED, None)
            with self._booking.uow() as repo:
                MessagingRepository(repo.conn).update_sender(msg.channel, msg.sender, refusal_sent=True)
            return self._answer(msg, sender.language, Outcome.BLOCKED, t("reply.blocked"))
        limit = sender.hourly_limit if sender.hourly_limit is not None else self._s.hourly_limit
        since = self._booking.clock.now() - HOUR
        with self._booking.uow(read_only=True) as repo:
            store = MessagingRepository(repo.conn)
            recent = store.count_inbound(msg.channel, msg.sender, since)
            told = store.count_inbound(msg.channel, msg.sender, since, [Outcome.RATE_LIMITED])
        if recent < limit:
            return None
        if told:
            return self._answer(msg, sender.language, Outcome.IGNORED, None)
        return self._answer(msg, sender.language, Outcome.RATE_LIMITED, t("reply.rate_limited", limit=limit))

    def _remember_language(self, sender: Sender, language: str) -> None:
        if sender.language != language:
            with self._booking.uow() as repo:
                MessagingRepository(repo.conn).update_sender(
                    sender.channel, sender.address, language=language
                )

    # --- the commands ------------------------------------------------------------------------

    def _order(self, msg: Inbound, sender: Sender, order: Order, t: Texts) -> Outcome:
        req = BookingRequest(
            ReservationKind.ON_DEMAND,
            order.starts_at,
            order.starts_at + timedelta(minutes=order.minutes),
            order.seats,
        )
        region = self._booking.settings.phone_region
        try:
            wanted = [invitee_for(a, order.lang, region) for a in order.invitees]
        except AddressError as e:
            return self._answer(msg, t.language, Outcome.INVALID, t("error.unexpected", word=str(e)[:60]))

        def within(repo: Repository, r: Reservation) -> None:
            assert r.id is not None
            store = MessagingRepository(repo.conn)
            store.replace_invitees(r.id, wanted, self._booking.clock.now())
            queued = r.status is ReservationStatus.PENDING
            text = self._compose.queued(r, t) if queued else self._compose.confirmed(r, t, msg.channel)
            self._record(store, msg, t.language, Outcome.QUEUED if queued else Outcome.BOOKED, text, r.id)

        try:
            made = self._booking.request(sender.profile_id, req, within=within)
        except RuleViolation as e:
            return self._answer(msg, t.language, Outcome.REFUSED, self._compose.rule_violation(e, t))
        except CapacityExceeded as e:
            return self._answer(
                msg, t.language, Outcome.REFUSED, self._compose.capacity(e.refusal, e.seats, t)
            )
        return Outcome.QUEUED if made.status is ReservationStatus.PENDING else Outcome.BOOKED

    def _own(self, sender: Sender) -> list[Reservation]:
        return [
            r
            for r in self._booking.visible_reservations(sender.profile_id)
            if r.status in (ReservationStatus.ACTIVE, ReservationStatus.PENDING)
        ]

    def _cancel(self, msg: Inbound, sender: Sender, command: CancelOrder, t: Texts) -> Outcome:
        own = [r for r in self._own(sender) if not r.ended(self._booking.clock.now())]
        if command.conference_number is None:
            if len(own) != 1:
                numbers = ", ".join(r.room.conference_number for r in own)
                key = "reply.status_none" if not own else "reply.cancel_which"
                return self._answer(msg, t.language, Outcome.INVALID, t(key, numbers=numbers))
            target = own[0]
        else:
            matches = [r for r in own if r.room.conference_number == command.conference_number]
            if not matches:
                return self._answer(
                    msg,
                    t.language,
                    Outcome.INVALID,
                    t("reply.cancel_unknown", conference=command.conference_number),
                )
            target = matches[0]
        assert target.id is not None
        try:
            self._booking.delete(sender.profile_id, target.id)
        except NotFound:
            return self._answer(
                msg,
                t.language,
                Outcome.INVALID,
                t("reply.cancel_unknown", conference=target.room.conference_number),
            )
        text = t("reply.cancelled", **self._compose.values(target, t))
        return self._answer(msg, t.language, Outcome.CANCELLED, text, target.id)

    # --- recording and replying --------------------------------------------------------------

    def _answer(
        self,
        msg: Inbound,
        language: str,
        outcome: Outcome,
        text: str | None,
        reservation_id: int | None = None,
    ) -> Outcome:
        with self._booking.uow() as repo:
            self._record(MessagingRepository(repo.conn), msg, language, outcome, text, reservation_id)
        return outcome

    def _record(
        self,
        store: MessagingRepository,
        msg: Inbound,
        language: str,
        outcome: Outcome,
        text: str | None,
        reservation_id: int | None,
    ) -> None:
        now = self._booking.clock.now()
        store.add_inbound(msg.channel, msg.external_id, msg.sender, language, outcome, now, reservation_id)
        if text is None:
            return
        subject = Texts(language)("reply.email_subject") if msg.channel is Channel.EMAIL else ""
        store.enqueue(
            Message(
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


def _subject(text: str) -> str:
    words = text.casefold().split()
    while words and words[0].rstrip(":") in ("re", "fwd", "fw", "aw", "odp", "sv"):
        words = words[1:]
    return " ".join(words)
