"""E-mail in and out: an SMTP intake server for the booking address, and an SMTP relay client.

The intake answers 250 only once the order desk recorded the message: if anything fails
before, it answers 451 and the sending server tries again later, so no order is lost.
Automatic mail (bounces, vacation replies, lists) is accepted and ignored: answering it
could start a loop of robots replying to each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import smtplib
from collections.abc import Awaitable, Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid

import structlog
from aiosmtpd.smtp import SMTP, Envelope, Session

from booking.messaging.gateways import DeliveryError
from booking.messaging.model import Channel, Inbound
from booking.messaging.settings import MailSettings

log = structlog.get_logger(__name__)
_TAG = re.compile(r"<[^>]+>")


def is_automatic(msg: EmailMessage, envelope_from: str | None) -> bool:
    """RFC 3834: never answer automatic mail."""
    if not envelope_from or envelope_from == "<>":
        return True  # a bounce
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return auto != "no" or precedence in ("bulk", "junk", "list") or msg.get("List-Id") is not None


def order_text(msg: EmailMessage) -> str:
    """The order line: the first line of the body that is neither quoted nor a signature."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content() if isinstance(part, EmailMessage) else ""
    if part.get_content_subtype() == "html":
        content = _TAG.sub(" ", content)
    for line in str(content).splitlines():
        if line.strip() == "--":
            break
        if line.strip() and not line.lstrip().startswith(">"):
            return line.strip()
    return ""


def parse_mail(raw: bytes, envelope_from: str | None) -> Inbound | None:
    """The order in a raw message; None for automatic mail."""
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    if is_automatic(msg, envelope_from):
        return None
    sender = str(msg.get("Reply-To") or msg.get("From") or envelope_from or "")
    message_id = str(msg.get("Message-ID", "")).strip() or "sha256:" + hashlib.sha256(raw).hexdigest()
    return Inbound(Channel.EMAIL, sender, order_text(msg), message_id[:200], str(msg.get("Subject", "")))


Handler = Callable[[Inbound], Awaitable[None]]


class _Intake:
    """aiosmtpd's handler protocol: RCPT picks the booking address, DATA takes the order."""

    def __init__(self, settings: MailSettings, handle: Handler) -> None:
        self._s = settings
        self._handle = handle

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
            inbound = parse_mail(raw, envelope.mail_from)
        except Exception:  # a message our parser cannot read is not an order: drop it, loudly
            log.warning("mail.unreadable", size=len(raw))
            return "250 OK"
        if inbound is None:
            log.info("mail.automatic_ignored")
            return "250 OK"
        try:
            await self._handle(inbound)
        except Exception:
            log.exception("mail.intake_failed")
            return "451 4.3.0 please try again later"
        return "250 OK"


class MailIntake:
    """The SMTP server for the booking address, in the caller's event loop."""

    def __init__(self, settings: MailSettings, handle: Handler) -> None:
        self._s = settings
        self._handler = _Intake(settings, handle)
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

    def send_mail(self, to: str, subject: str, body: str, message_id: str) -> None:
        msg = EmailMessage()
        msg["From"] = self._s.from_address
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = message_id or make_msgid()
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: robots must not answer this
        msg.set_content(body)
        try:
            with smtplib.SMTP(self._s.relay_host, self._s.relay_port, timeout=self._timeout) as smtp:
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as e:
            raise DeliveryError(f"smtp relay {self._s.relay_host}:{self._s.relay_port}: {e}") from e
