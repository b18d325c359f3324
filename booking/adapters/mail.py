"""E-mail in and out: an SMTP intake server for the booking address, and an SMTP relay client.

The intake answers 250 only once the order desk recorded the message: if the store fails
before, it answers 451 and the sending server tries again later, so no order is lost. A
message that can never be taken (no usable From, an unknown charset) gets a 550 with the
reason instead: retrying it would change nothing. Automatic mail (bounces, vacation replies,
lists) is accepted and ignored: answering it could start a loop of robots replying to each other.
"""

from __future__ import annotations

import asyncio
import smtplib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from booking.adapters.dkim_check import DkimVerifier
from booking.adapters.mail_reading import from_address, parse_mail, read
from booking.domain.errors import DeliveryError, MailRefused
from booking.domain.messages import Attachment, Inbound
from booking.settings import MailSettings
from booking.store.errors import StoreError

log = structlog.get_logger(__name__)

Handler = Callable[[Inbound], Awaitable[None]]


def take_mail(raw: bytes, envelope_from: str | None, dkim: DkimVerifier | None) -> Inbound | None:
    """The order in ``raw`` (None: automatic mail), marked authenticated when a trusted DKIM
    signature of its From domain covers it. Blocking (DNS): runs in a worker thread."""
    inbound = parse_mail(raw, envelope_from)
    if inbound is None or dkim is None:
        return inbound
    msg = read(raw)
    domain = from_address(msg).rpartition("@")[2]
    signature = dkim.signature_id(raw, msg, domain)
    if signature is None:
        return inbound
    # The signature names the message: a replayed copy with a new Message-ID is a redelivery.
    return replace(inbound, external_id=signature, authenticated=True)


class _Intake:
    """aiosmtpd's handler protocol: RCPT picks the booking address, DATA takes the order."""

    def __init__(self, settings: MailSettings, handle: Handler, dkim: DkimVerifier | None) -> None:
        self._s = settings
        self._handle = handle
        self._dkim = dkim if settings.dkim.trust else None  # no DNS lookups when not trusted

    async def handle_RCPT(  # noqa: N802 (aiosmtpd calls it by this name)
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() != self._s.booking_address.lower():
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        if len(raw) > self._s.max_bytes:
            return "552 5.3.4 an order is one line of text; this message is too big"
        try:
            inbound = await asyncio.to_thread(take_mail, raw, envelope.mail_from, self._dkim)
        except MailRefused as e:
            log.info("mail.refused", reply=e.reply[:80])
            return e.reply
        except Exception:  # a message the parser chokes on: it would choke on every retry too
            log.exception("mail.unreadable", size=len(raw))
            return "550 5.6.0 this message cannot be read; send the order as plain text"
        if inbound is None:
            log.info("mail.automatic_ignored")
            return "250 OK"
        try:
            await self._handle(inbound)
        except (StoreError, OSError):  # the store failed: a retry may well succeed
            log.exception("mail.intake_failed")
            return "451 4.3.0 please try again later"
        except Exception:  # anything else would fail the same way on every retry
            log.exception("mail.order_failed")
            return "550 5.3.0 this message could not be handled; please contact the operator"
        return "250 OK"


class MailIntake:
    """The SMTP server for the booking address, in the caller's event loop."""

    def __init__(self, settings: MailSettings, handle: Handler, dkim: DkimVerifier | None = None) -> None:
        self._s = settings
        self._handler = _Intake(settings, handle, dkim)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(
                self._handler,
                hostname="dialconf",
                data_size_limit=self._s.max_bytes,
                ident="dialconf booking",
            ),
            host=self._s.bind_address,
            port=self._s.intake_port,
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None


class SmtpMailGateway:
    """Sends through the configured relay (blocking: the dispatcher calls it in a thread)."""

    def __init__(self, settings: MailSettings, timeout_s: float = 10.0) -> None:
        self._s = settings
        self._timeout = timeout_s

    def send_mail(
        self, to: str, subject: str, body: str, message_id: str, attachments: Sequence[Attachment] = ()
    ) -> None:
        msg = EmailMessage()
        msg["From"] = self._s.from_address
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = message_id or make_msgid()
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: robots must not answer this
        msg.set_content(body)
        for a in attachments:  # the statement's PDF and CSV
            maintype, _, subtype = a.content_type.partition("/")
            msg.add_attachment(a.data, maintype=maintype, subtype=subtype, filename=a.filename)
        try:
            with smtplib.SMTP(self._s.relay_host, self._s.relay_port, timeout=self._timeout) as smtp:
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as e:
            raise DeliveryError(f"smtp relay {self._s.relay_host}:{self._s.relay_port}: {e}") from e
