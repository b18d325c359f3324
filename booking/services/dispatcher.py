"""Sends what is due in the outbox, through the SMS and mail gateways.

A message is marked sent in the store right after its gateway took it, and only a pending
message is ever sent: a restart resumes with exactly what was not sent yet, and a notice the
planner cancelled in the meantime stays unsent. A gateway failure is retried with a growing
delay, then given up (status failed, the error kept for the operator).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Callable
from datetime import timedelta

import structlog

from booking.domain.clock import Clock
from booking.domain.compose import NOTICE_KINDS, Composer
from booking.domain.errors import DeliveryError, Undeliverable
from booking.domain.messages import Channel, Kind, Message
from booking.domain.model import ReservationStatus
from booking.domain.texts import Texts
from booking.services.gateways import MailGateway, SmsGateway
from booking.services.ports import UnitOfWork
from booking.settings import MessagingSettings

log = structlog.get_logger(__name__)

# Renders a message of a kind the reservation alone cannot (a post-conference report): its
# (subject, body), or None when it has nothing to say any more.
Renderer = Callable[[Message], "tuple[str, str] | None"]


class Dispatcher:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        composer: Composer,
        settings: MessagingSettings,
        sms: SmsGateway | None,
        mail: MailGateway | None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._compose = composer
        self._s = settings
        self._gateways: dict[Channel, SmsGateway | MailGateway | None] = {
            Channel.SMS: sms,
            Channel.EMAIL: mail,
        }
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._renderers: dict[Kind, Renderer] = {}

    def add_renderer(self, kind: Kind, render: Renderer) -> None:
        """Who renders messages of ``kind`` queued without a body (composition root)."""
        self._renderers[kind] = render

    # --- one pass (blocking: runs in a worker thread) ---------------------------------------

    def send_due(self, limit: int = 100) -> int:
        """Send every message due now (at most ``limit``); how many went out."""
        with self._uow(read_only=True) as tx:
            due = tx.messages.due(self._clock.now(), limit)
        return sum(self._send(m) for m in due)

    def _send(self, m: Message) -> bool:
        gateway = self._gateways[m.channel]
        if gateway is None:
            return False  # that channel is off: the message waits until it is on
        content = self._content(m)
        if content is None:
            with self._uow() as tx:
                tx.messages.cancel_messages([m.id])
            log.info("outbox.dropped", id=m.id, kind=m.kind.value)
            return False
        subject, body = content
        try:
            if m.channel is Channel.SMS:
                gateway.send_sms(m.recipient, body)  # type: ignore[union-attr]
            else:
                with self._uow(read_only=True) as tx:
                    files = tx.attachments.of(m.key)  # the statement's PDF and CSV, as built
                gateway.send_mail(m.recipient, subject, body, self._message_id(m), files)  # type: ignore[union-attr]
        except Undeliverable as e:  # the gateway can never take it (too long): no point retrying
            self._failed(m, str(e), give_up=True)
            return False
        except DeliveryError as e:
            self._failed(m, str(e))
            return False
        with self._uow() as tx:
            tx.messages.mark_sent(m.id, self._clock.now())
        log.info("outbox.sent", id=m.id, kind=m.kind.value, channel=m.channel.value)
        return True

    def _failed(self, m: Message, error: str, give_up: bool = False) -> None:
        attempts = m.attempts + 1
        retry = None
        if attempts < self._s.max_attempts and not give_up:
            retry = self._clock.now() + timedelta(seconds=self._s.retry_s * 2 ** (attempts - 1))
        with self._uow() as tx:
            tx.messages.mark_failed(m.id, error, retry)
        log.warning(
            "outbox.failed",
            id=m.id,
            kind=m.kind.value,
            attempts=attempts,
            error=error[:200],
            gave_up=retry is None,
        )

    def _content(self, m: Message) -> tuple[str, str] | None:
        """(subject, body); None when the message no longer has anything to say."""
        if m.body is not None:
            return m.subject, m.body
        render = self._renderers.get(m.kind)
        if render is not None:
            return render(m)
        if m.reservation_id is None:
            return None
        with self._uow(read_only=True) as tx:
            r = tx.reservations.get_reservation(m.reservation_id)
        if r is None:
            return None
        t = Texts(m.language)
        if m.kind in NOTICE_KINDS:
            if (m.kind is Kind.CANCELLED) != (r.status is not ReservationStatus.ACTIVE):
                return None  # the planner cancels these; a race with an edit lands here
            return self._compose.notice(m.kind, m.channel, r, t)
        subject = t("reply.email_subject") if m.channel is Channel.EMAIL else ""
        if m.kind is Kind.CONFIRMATION and r.status is ReservationStatus.ACTIVE:
            return subject, self._compose.confirmed(r, t, m.channel)
        if m.kind is Kind.REJECTION:
            return subject, t("reply.rejected", reason=r.note, **self._compose.values(r, t))
        return None

    @staticmethod
    def _message_id(m: Message) -> str:
        """The same message always has the same Message-ID: a resend is recognisable."""
        digest = hashlib.sha256(m.key.encode()).hexdigest()[:24]
        return f"<{digest}.{m.id}@dialconf>"

    # --- the loop ---------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at the outbox now (thread-safe): a reply should not wait for the next tick."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        while not stop.is_set():
            self._wake.clear()
            try:
                await asyncio.to_thread(self.send_due)
            except Exception:  # a store hiccup must not end the loop: log it and go on
                log.exception("outbox.pass_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait(stop), self._s.dispatch_tick_s)

    async def _wait(self, stop: asyncio.Event) -> None:
        assert self._wake is not None
        stopping = asyncio.ensure_future(stop.wait())
        waking = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({stopping, waking}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            waking.cancel()
