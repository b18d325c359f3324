"""Reading an incoming e-mail: who sent it (the From address, nothing else) and its order line.

The sender is the From address alone. Reply-To and the envelope sender are chosen by whoever
sends, so they never name the customer: a forger would only have to set them to get another
customer's answer. Replies go back to the From address, so a forged From gets its answer sent
to the real owner of that address, never to the forger.

Whatever makes a message unreadable is a ``MailRefused`` carrying the SMTP reply that says
why. It is a permanent 5xx: the sending server bounces the message to its author once, where
a 4xx would have it retried for days.
"""

from __future__ import annotations

import hashlib
import re
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser

from booking.domain.addresses import normalise_email
from booking.domain.errors import AddressError, MailRefused
from booking.domain.messages import Channel, Inbound

MAX_FROM_CHARS = 998  # RFC 5322's line length: a longer From is no single mailbox
_TAG = re.compile(r"<[^>]+>")


def read(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def header(msg: EmailMessage, name: str, default: str = "") -> str:
    """A header's decoded text. The standard parser raises on some inputs (an encoded word
    in UTF-7 that spells a lone surrogate): such a header cannot be read, so neither can the mail."""
    try:
        value = msg.get(name)
        return default if value is None else _text(str(value), f"{name} header")
    except MailRefused:
        raise
    except Exception as e:
        raise MailRefused(f"550 5.6.0 the {name} header cannot be read; send it as UTF-8") from e


def is_automatic(msg: EmailMessage, envelope_from: str | None) -> bool:
    """RFC 3834: never answer automatic mail."""
    if not envelope_from or envelope_from == "<>":
        return True  # a bounce
    auto = header(msg, "Auto-Submitted", "no").strip().lower()
    precedence = header(msg, "Precedence").strip().lower()
    return auto != "no" or precedence in ("bulk", "junk", "list") or msg.get("List-Id") is not None


def _refuse_from(reason: str) -> MailRefused:
    return MailRefused(f"550 5.1.7 {reason}")


def from_address(msg: EmailMessage) -> str:
    """The one mailbox of the From header, as the store spells it (ASCII, domain lower case)."""
    raw = [value for name, value in msg.raw_items() if name.lower() == "from"]
    if not raw:
        raise _refuse_from("the message has no From header: orders are answered to its From address")
    if len(raw) > 1:
        raise _refuse_from("the message has several From headers; send it with one")
    if len(str(raw[0])) > MAX_FROM_CHARS:
        raise _refuse_from(f"the From header is longer than {MAX_FROM_CHARS} characters")
    try:
        addresses: tuple[Address, ...] = msg["From"].addresses
    except Exception as e:  # the header parser's own failures: the From is not an address list
        raise _refuse_from("the From header cannot be read as an address") from e
    if len(addresses) != 1:
        n = "no" if not addresses else str(len(addresses))
        raise _refuse_from(f"the From header names {n} mailboxes; it must name exactly one")
    username, domain = addresses[0].username, addresses[0].domain
    if not username or not domain:
        raise _refuse_from("the From address has no domain (it must look like name@example.com)")
    try:
        username = _text(username, "From address").encode("ascii").decode()
        domain = _text(domain, "From address").encode("idna").decode("ascii")  # IDN: punycode
    except (UnicodeError, MailRefused) as e:
        raise _refuse_from("the From address must be plain ASCII (name@example.com)") from e
    try:
        return normalise_email(f"{username}@{domain}")
    except AddressError as e:
        raise _refuse_from(f"the From address {username[:64]}@{domain[:64]} is not valid") from e


def _text(value: str, what: str) -> str:
    """``value`` as valid Unicode. The parser keeps 8-bit bytes it could not decode as lone
    surrogates; UTF-8 bytes (RFC 6532) are decoded here, anything else cannot be stored."""
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        pass
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8")
    except UnicodeError as e:
        raise MailRefused(f"550 5.6.0 the {what} is not valid text in any charset") from e


def order_text(msg: EmailMessage) -> str:
    """The order line: the first line of the body that is neither quoted nor a signature."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content() if isinstance(part, EmailMessage) else ""
    except LookupError as e:  # a charset Python does not know, or one that is no text encoding
        charset = str(part.get_content_charset("?"))[:40]
        raise MailRefused(f"550 5.6.0 the body's charset {charset!r} is unknown; send it as UTF-8") from e
    except Exception as e:
        raise MailRefused("550 5.6.0 the body cannot be read; send the order as plain text") from e
    content = _text(str(content), "body")
    if part.get_content_subtype() == "html":
        content = _TAG.sub(" ", content)
    for line in content.splitlines():
        if line.strip() == "--":
            break
        if line.strip() and not line.lstrip().startswith(">"):
            return line.strip()
    return ""


def message_id(msg: EmailMessage, raw: bytes) -> str:
    """The Message-ID, or a digest of the message when it has none (or an unreadable one)."""
    try:
        found = header(msg, "Message-ID").strip()
    except MailRefused:
        found = ""
    if "\ufffd" in found:  # bytes the parser could not decode: not the id the sender gave
        found = ""
    return (found or "sha256:" + hashlib.sha256(raw).hexdigest())[:200]


def parse_mail(raw: bytes, envelope_from: str | None) -> Inbound | None:
    """The order in a raw message; None for automatic mail. Raises MailRefused."""
    msg = read(raw)
    if is_automatic(msg, envelope_from):
        return None
    sender = from_address(msg)
    subject = header(msg, "Subject")
    return Inbound(Channel.EMAIL, sender, order_text(msg), message_id(msg, raw), subject)
