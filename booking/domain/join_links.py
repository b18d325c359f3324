"""Personal join links and the call tokens they mint (issue 20: R42 from a browser, R49 no PIN).

Two things, with two lifetimes:

- A **link** is an invitee's own way in, sent in the invitation: ``<link id>.<signature>``.
  It lives as long as its reservation (until it ends, is deleted or the invitee is taken off
  the list), so an invitation sent days ahead still works at the start. Opening it shows the
  join page; it never enters a conference by itself.
- A **call token** is minted each time the page is opened: ``<token id>.<expiry>.<signature>``,
  bound to the link (so to the reservation, the invitee and the role), valid for minutes and
  redeemed once, atomically in the store, by the controller when the browser's call arrives.
  A token seen on the wire (the SIP header) is worth nothing after that call or its expiry.

Both are signed with HMAC-SHA256 under a secret kept like the others (0600 file): a forged or
mangled one is refused before the store is asked, with the same answer as an unknown one, and
signatures are compared in constant time (``hmac.compare_digest``). The store keeps a token's
SHA-256 only (a read of the database gives no token to use); a link's id is kept as it is, like
the PINs it stands in for, so a re-sent invitation carries the same link.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from booking.domain.errors import BookingError
from booking.domain.model import Reservation, ReservationStatus, Role

ID_BYTES = 16  # 128 random bits per link and per token
SIGNATURE_CHARS = 22  # 128 bits of the HMAC, base64url
_PART = r"[A-Za-z0-9_-]"
_LINK = re.compile(rf"({_PART}{{22}})\.({_PART}{{{SIGNATURE_CHARS}}})")
_TOKEN = re.compile(rf"({_PART}{{22}})\.([0-9]{{1,12}})\.({_PART}{{{SIGNATURE_CHARS}}})")
MAX_TEXT = 80  # longer input is refused before any parsing (a header, a path segment)
NAME_MAX = 60  # a typed name, as the live page shows it


class JoinRefusal(enum.StrEnum):
    """Why a link or a token does not let in: a code for the page, a phrase for the IVR."""

    UNKNOWN = "unknown"  # no such link or token, forged, or the invitee is off the list
    USED = "used"  # the token was redeemed already (a call made with it)
    EXPIRED = "expired"  # the token's minutes are up: open the link again
    NOT_ACTIVE = "not_active"  # the reservation is deleted, refused or waits for an operator
    OVER = "over"  # the reservation has ended
    TOO_EARLY = "too_early"  # the conference opens later (R28's lead before the start)


@dataclass(frozen=True)
class JoinLinkDraft:
    link_id: str  # the random id the URL carries (with its signature)
    reservation_id: int
    invitee_id: int | None  # None: a link not tied to an invitee (the organizer's)
    invitee_key: str | None  # invitee_key(): which address it was made for
    role: Role
    language: str  # the page's language: the invitee's
    created_at: datetime


@dataclass(frozen=True)
class JoinLink(JoinLinkDraft):
    id: int = field(kw_only=True)


@dataclass(frozen=True)
class JoinTokenDraft:
    token_hash: str  # SHA-256 of the token id, hex: the token itself is never stored
    link_id: int  # the stored link's row id
    reservation_id: int
    role: Role
    issued_at: datetime
    expires_at: datetime
    name: str = ""  # typed on the page before the call


@dataclass(frozen=True)
class JoinToken(JoinTokenDraft):
    id: int = field(kw_only=True)
    used_at: datetime | None = None
    used_by: str = ""  # the Asterisk unique id of the call that redeemed it


@dataclass(frozen=True)
class SignedToken:
    token_id: str
    expires_at: datetime


class Signer:
    """HMAC-SHA256 under one secret, one purpose label per kind of text."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 16:
            raise ValueError("a join-link secret needs at least 16 characters")
        self._key = secret.encode()

    def signature(self, kind: str, *parts: str) -> str:
        message = "|".join((kind, *parts)).encode()
        mac = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode()[:SIGNATURE_CHARS]

    def verify(self, signature: str, kind: str, *parts: str) -> bool:
        return hmac.compare_digest(signature.encode(), self.signature(kind, *parts).encode())

    # --- links ---------------------------------------------------------------------------

    def link(self, link_id: str) -> str:
        return f"{link_id}.{self.signature('link', link_id)}"

    def link_id(self, text: str) -> str | None:
        """The link's id if ``text`` is a link this secret signed; None otherwise."""
        m = _LINK.fullmatch(text) if len(text) <= MAX_TEXT else None
        if m is None or not self.verify(m.group(2), "link", m.group(1)):
            return None
        return m.group(1)

    # --- call tokens ---------------------------------------------------------------------

    def token(self, token_id: str, expires_at: datetime) -> str:
        epoch = str(int(expires_at.timestamp()))
        return f"{token_id}.{epoch}.{self.signature('token', token_id, epoch)}"

    def read_token(self, text: str) -> SignedToken | None:
        """The token's id and expiry if this secret signed it; None otherwise (forged, mangled)."""
        m = _TOKEN.fullmatch(text) if len(text) <= MAX_TEXT else None
        if m is None or not self.verify(m.group(3), "token", m.group(1), m.group(2)):
            return None
        return SignedToken(m.group(1), datetime.fromtimestamp(int(m.group(2)), UTC))


def new_id(rand: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """A fresh random id (22 base64url characters)."""
    return base64.urlsafe_b64encode(rand(ID_BYTES)).decode().rstrip("=")


def invitee_key(channel: str, address: str) -> str:
    """What a link remembers of its invitee: the address, hashed (row ids can be reused)."""
    return hashlib.sha256(f"{channel}:{address}".encode()).hexdigest()


def token_hash(token_id: str) -> str:
    """What the store keeps of a token."""
    return hashlib.sha256(token_id.encode()).hexdigest()


def token_expiry(issued_at: datetime, lifetime: timedelta) -> datetime:
    """Whole seconds (the signed text carries epoch seconds): never later than issued + lifetime."""
    return (issued_at + lifetime).replace(microsecond=0)


def reservation_refusal(r: Reservation | None, now: datetime, join_lead: timedelta) -> JoinRefusal | None:
    """Whether a link's reservation lets a browser in now (the same schedule as a phone
    caller's, domain.model.admit, without the PIN: R49)."""
    if r is None:
        return JoinRefusal.UNKNOWN
    if r.status is not ReservationStatus.ACTIVE:
        return JoinRefusal.NOT_ACTIVE
    if r.ended(now):
        return JoinRefusal.OVER
    opens = r.opens_at(join_lead)
    if opens is not None and now < opens:
        return JoinRefusal.TOO_EARLY
    return None


def token_refusal(t: JoinToken | None, now: datetime) -> JoinRefusal | None:
    """Whether a stored token may still be redeemed (used first: a used one stays used)."""
    if t is None:
        return JoinRefusal.UNKNOWN
    if t.used_at is not None:
        return JoinRefusal.USED
    if now >= t.expires_at:
        return JoinRefusal.EXPIRED
    return None


def clean_name(typed: str) -> str:
    """A typed name as it may be shown: printable, single-spaced, at most NAME_MAX characters."""
    kept = "".join(c if c.isprintable() else " " for c in typed)
    return " ".join(kept.split())[:NAME_MAX].strip()


class JoinRefused(BookingError):
    """A link or a token that does not let in, and why (``at``: when a too-early one starts;
    ``language``: the invitee's, when the link is known, for the spoken refusal)."""

    def __init__(self, reason: JoinRefusal, at: datetime | None = None, language: str = "") -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.at = at
        self.language = language
