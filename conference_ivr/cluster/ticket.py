"""The relay ticket (issue 21): what the answering node tells the hosting node of a caller it
bridges on, signed with the cluster's key.

The hosting node admits a relayed caller without a PIN, so the ticket is the admission: it is
believed only with a valid signature (HMAC-SHA256 over the exact bytes sent), before its expiry,
and once (``TicketBook``). It carries no secret: the PIN was checked by the answering node.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from conference_ivr.errors import DialconfError


class TicketRefused(DialconfError):
    """A ticket that is forged, malformed, expired or used again (the reason says which)."""


@dataclass(frozen=True)
class RelayTicket:
    reservation_id: int
    conference_number: str
    moderator: bool
    caller_number: str
    access_number: str
    language: str
    epoch: int  # the lease the placement found or took
    placement_id: int  # the placement in flight, ended when the caller joins
    from_node: str
    uniqueid: str  # the caller's channel on the answering node: the ticket's one-time id
    expires_at: str  # ISO 8601 with offset
    rejoins: int = 0  # times this caller was placed again after a hosting node died
    web: bool = False  # a browser's call with a personal link (issue 20): no name recorded
    display_name: str = ""  # ...the name typed on its page
    outbound: bool = False  # a dial-out call (R40): billed to the organizer


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def sign(ticket: RelayTicket, key: bytes) -> str:
    body = json.dumps(asdict(ticket), separators=(",", ":"), sort_keys=True).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def verify(text: str, key: bytes, now: datetime) -> RelayTicket:
    """The ticket ``text`` carries; TicketRefused unless signed with ``key`` and unexpired."""
    ticket = unsealed(text, key)
    if datetime.fromisoformat(ticket.expires_at) <= now:
        raise TicketRefused("expired")
    return ticket


def unsealed(text: str, key: bytes) -> RelayTicket:
    """The ticket ``text`` carries, whatever its age; TicketRefused unless signed with ``key``
    (the answering node reads back its own after a long call: its channel variable)."""
    body_part, dot, mac_part = text.strip().partition(".")
    if not dot or len(text) > 4096:
        raise TicketRefused("malformed")
    try:
        body, mac = _unb64(body_part), _unb64(mac_part)
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        raise TicketRefused("malformed") from None
    if not hmac.compare_digest(hmac.new(key, body, hashlib.sha256).digest(), mac):
        raise TicketRefused("bad signature")
    try:
        ticket = RelayTicket(**json.loads(body))
        datetime.fromisoformat(ticket.expires_at)
    except (ValueError, TypeError):
        raise TicketRefused("malformed") from None
    return ticket


def expiry(now: datetime, ttl_s: float) -> str:
    return (now + timedelta(seconds=ttl_s)).isoformat()


class TicketBook:
    """The tickets a hosting node has admitted, kept until they expire: a ticket copied off the
    inter-node trunk is refused the second time."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str, int], datetime] = {}

    def admit(self, ticket: RelayTicket, now: datetime) -> None:
        self._seen = {k: t for k, t in self._seen.items() if t > now}
        key = (ticket.from_node, ticket.uniqueid, ticket.rejoins)
        if key in self._seen:
            raise TicketRefused("used")
        self._seen[key] = datetime.fromisoformat(ticket.expires_at)
