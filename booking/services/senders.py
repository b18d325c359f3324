"""Who may order (R12): known senders, new senders, blocked ones and the hourly limits.

Every sender has its own profile and its own hourly allowance, so a flood of new addresses
(or numbers) would get a fresh allowance each. New senders are therefore limited too: per
channel and, for e-mail, per domain, counted over the last hour. A message over that limit
creates no profile and gets one reply per hour and channel at most, whoever sent it: during a
flood the addresses are mostly forged, so more replies would mail (or text) strangers.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from booking.domain.clock import Clock
from booking.domain.messages import Channel, Inbound, Outcome, Sender
from booking.domain.texts import Texts
from booking.services.ports import UnitOfWork
from booking.services.replies import Recorder
from booking.settings import MessagingSettings

log = structlog.get_logger(__name__)
HOUR = timedelta(hours=1)


class SenderGate:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, settings: MessagingSettings, recorder: Recorder
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._s = settings
        self._rec = recorder

    def admit(self, msg: Inbound) -> Sender | Outcome:
        """The sender of ``msg``, or the outcome of refusing the message (already recorded)."""
        sender = self._known(msg)
        if sender is None:
            refusal = self._flooded(msg)
            if refusal is not None:
                return refusal
            sender = self._add(msg)
        refusal = self._refusal(msg, sender)
        return sender if refusal is None else refusal

    def _known(self, msg: Inbound) -> Sender | None:
        with self._uow(read_only=True) as tx:
            return tx.messages.sender(msg.channel, msg.sender)

    def _add(self, msg: Inbound) -> Sender:
        now = self._clock.now()
        with self._uow() as tx:
            profile = tx.reservations.profile_id(f"{msg.channel.value}:{msg.sender}", now)
            found = Sender(msg.channel, msg.sender, profile, self._s.default_language, now)
            return tx.messages.add_sender(found)

    def _flooded(self, msg: Inbound) -> Outcome | None:
        """Refuse a new sender when this hour's new senders reached a limit."""
        since = self._clock.now() - HOUR
        domain = msg.sender.rpartition("@")[2] if msg.channel is Channel.EMAIL else None
        with self._uow(read_only=True) as tx:
            store = tx.confirmations
            scope = None
            if store.new_senders(msg.channel, since) >= self._s.new_senders_per_hour:
                scope = "channel"
            elif domain is not None and (
                store.new_senders(msg.channel, since, domain) >= self._s.mail.new_senders_per_domain_per_hour
            ):
                scope = "domain"
            if scope is None:
                return None
            told = store.outcomes_since(msg.channel, Outcome.NEW_SENDER_LIMITED, since)
        log.warning("sender.new_sender_limited", channel=msg.channel.value, scope=scope, domain=domain)
        language = self._s.default_language
        text = None if told else Texts(language)("reply.new_senders_limited")
        return self._rec.answer(msg, language, Outcome.NEW_SENDER_LIMITED, text)

    def _refusal(self, msg: Inbound, sender: Sender) -> Outcome | None:
        """Blocked senders get one polite refusal, then silence; so do senders over the limit
        (one refusal per hour): a loop of automatic replies ends at once."""
        t = Texts(sender.language)
        if sender.blocked:
            if sender.refusal_sent:
                return self._rec.answer(msg, sender.language, Outcome.IGNORED, None)
            with self._uow() as tx:
                tx.messages.update_sender(msg.channel, msg.sender, refusal_sent=True)
            return self._rec.answer(msg, sender.language, Outcome.BLOCKED, t("reply.blocked"))
        limit = sender.hourly_limit if sender.hourly_limit is not None else self._s.hourly_limit
        since = self._clock.now() - HOUR
        with self._uow(read_only=True) as tx:
            store = tx.messages
            recent = store.count_inbound(msg.channel, msg.sender, since)
            told = store.count_inbound(msg.channel, msg.sender, since, [Outcome.RATE_LIMITED])
        if recent < limit:
            return None
        if told:
            return self._rec.answer(msg, sender.language, Outcome.IGNORED, None)
        return self._rec.answer(
            msg, sender.language, Outcome.RATE_LIMITED, t("reply.rate_limited", limit=limit)
        )
