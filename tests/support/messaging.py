"""Messaging on a real store with recording gateways and a fake clock (for the store and
protocol tiers; the sms tier uses the real Kannel and SMTP servers instead)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from booking.domain.addresses import normalise_email
from booking.domain.clock import FakeClock
from booking.domain.errors import DeliveryError
from booking.domain.keyword import confirmation_code
from booking.domain.messages import Attachment, Channel, Inbound, Message, Outcome
from booking.services.booking import BookingService
from booking.services.messaging import MessagingService
from conference_ivr.dialconf.services import build_services
from conference_ivr.settings import Settings


@dataclass
class Sent:
    channel: Channel
    to: str
    text: str
    subject: str = ""
    message_id: str = ""
    attachments: tuple[Attachment, ...] = ()


@dataclass
class RecordingGateway:
    """Both gateways in one: records what it is given; ``fail`` makes it refuse."""

    sent: list[Sent] = field(default_factory=list)
    fail: bool = False

    def send_sms(self, to: str, text: str) -> None:
        if self.fail:
            raise DeliveryError("gateway down")
        self.sent.append(Sent(Channel.SMS, to, text))

    def send_mail(
        self, to: str, subject: str, body: str, message_id: str, attachments: Sequence[Attachment] = ()
    ) -> None:
        if self.fail:
            raise DeliveryError("relay down")
        self.sent.append(Sent(Channel.EMAIL, to, body, subject, message_id, tuple(attachments)))

    def to(self, address: str) -> list[Sent]:
        return [s for s in self.sent if s.to == address]


class Harness:
    """A booking service with the notice hook, the messaging service and its dispatcher."""

    def __init__(self, engine: Engine, clock: FakeClock, settings: Settings | None = None) -> None:
        self.settings = settings or messaging_settings()
        self.clock = clock
        self.engine = engine
        self.gateway = RecordingGateway()
        self.restart()

    def restart(self) -> None:
        """New service objects on the same store: what a process restart keeps is in the store."""
        self.services = build_services(self.settings, self.clock, self.engine, self.gateway, self.gateway)
        self.booking: BookingService = self.services.booking
        self.messaging: MessagingService = self.services.messaging

    def sms(self, sender: str, text: str, message_id: str) -> Outcome:
        return self.messaging.desk.handle(Inbound(Channel.SMS, sender, text, message_id))

    def mail(
        self,
        sender: str,
        text: str,
        message_id: str,
        subject: str = "conference",
        authenticated: bool = False,
    ) -> Outcome:
        return self.messaging.desk.handle(
            Inbound(Channel.EMAIL, sender, text, message_id, subject, authenticated)
        )

    def mailed_code(self, address: str) -> str:
        """The one-time code in the latest confirmation request queued for ``address``."""
        for m in reversed(self.outbox(address)):
            code = confirmation_code(m.subject)
            if code is not None:
                assert m.body is not None and code in m.body
                return code
        raise AssertionError(f"no confirmation request for {address}")

    def confirmed_mail(self, sender: str, text: str, message_id: str, subject: str = "conference") -> Outcome:
        """An e-mail order or cancel, then its confirmation from the same address."""
        assert self.mail(sender, text, message_id, subject) is Outcome.AWAITING_CONFIRMATION
        address = normalise_email(sender)
        return self.mail(sender, "", f"{message_id}-confirm", f"Re: confirm {self.mailed_code(address)}")

    def dispatch(self) -> int:
        assert self.messaging.dispatcher is not None
        return self.messaging.dispatcher.send_due()

    def outbox(self, recipient: str | None = None) -> list[Message]:
        with self.services.uow(read_only=True) as repo:
            return repo.messages.outbox(recipient)

    def at(self, when: datetime) -> int:
        """Move the clock to ``when`` and send what is due then."""
        self.clock._now = when
        return self.dispatch()


def messaging_settings(**booking: object) -> Settings:
    """Settings for messaging tests: Prague time, one access number, 200 seats unless told."""
    return Settings(
        access_numbers={"+420222111000": "cs", "+420222111001": "en"},
        booking=dict({"system_capacity": 200}, **booking),
        controller={"timezone": "Europe/Prague"},
    )
