"""What ordering by message and notices are made of: senders, invitees, outbox messages."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Channel(enum.StrEnum):
    SMS = "sms"
    EMAIL = "email"


class Outcome(enum.StrEnum):
    """What became of an incoming message (kept per message id: a redelivery changes nothing)."""

    BOOKED = "booked"
    QUEUED = "queued"  # over the limits: waits for an operator (R3)
    REFUSED = "refused"  # a rule or the capacity said no; the reply says why
    INVALID = "invalid"  # the text is not a valid command; the reply says what is wrong
    STATUS = "status"
    CANCELLED = "cancelled"
    EXTENDED = "extended"  # the sender's running conference got more time (``extend``)
    BLOCKED = "blocked"  # R12: the operator blocked the sender
    RATE_LIMITED = "rate_limited"
    IGNORED = "ignored"  # answered with silence (a blocked sender's second message, a loop)
    # An e-mail order or cancel waits for the From address to send back its one-time code.
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    WRONG_CODE = "wrong_code"  # a confirmation with a code that matches no waiting request
    NEW_SENDER_LIMITED = "new_sender_limited"  # too many new senders this hour (a flood)


class Kind(enum.StrEnum):
    """Outbox message kinds."""

    REPLY = "reply"  # the answer to an incoming message
    CONFIRMATION = "confirmation"  # a queued order approved by an operator
    REJECTION = "rejection"
    BOOKED = "booked"  # R25/R26: notice when the reservation is made
    REMINDER = "reminder"  # R25/R26: 1 hour before the start
    STARTING = "starting"  # R25: the single notice at the start when booked at short notice
    CHANGED = "changed"  # the start or end moved after a notice went out
    CANCELLED = "cancelled"  # the reservation was deleted after a notice went out
    INVITATION = "invitation"  # R46: the organizer's invitation e-mail
    PRICE_CHANGE = "price_change"  # R62: a price change, announced by SMS 31 days ahead
    OPERATOR_ALERT = "operator_alert"  # R3: a request entered the operator queue
    STATEMENT = "statement"  # R51: the month-end statement e-mailed to the organizer (PDF, CSV)
    REPORT = "report"  # R53: the post-conference report e-mailed after a session (a profile setting)


class Status(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"  # gave up after the configured attempts


@dataclass(frozen=True)
class Sender:
    channel: Channel
    address: str
    profile_id: int
    language: str
    created_at: datetime
    blocked: bool = False
    refusal_sent: bool = False
    hourly_limit: int | None = None
    note: str = ""


@dataclass(frozen=True)
class InviteeDraft:
    """Someone to notify, as an order or the panel lists them (stored with the reservation)."""

    channel: Channel
    address: str
    language: str


@dataclass(frozen=True)
class Invitee(InviteeDraft):
    id: int = field(kw_only=True)
    reservation_id: int = field(kw_only=True)
    added_at: datetime = field(kw_only=True)


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail (the statement's PDF and CSV), kept with its outbox row."""

    filename: str
    content_type: str  # "application/pdf", "text/csv"
    data: bytes


@dataclass(frozen=True)
class MessageDraft:
    """An outbox row to add. ``body`` None: rendered from the reservation when it is sent."""

    key: str
    channel: Channel
    recipient: str
    language: str
    kind: Kind
    due_at: datetime
    reservation_id: int | None = None
    invitee_id: int | None = None
    subject: str = ""
    body: str | None = None
    paid: bool = False


@dataclass(frozen=True)
class Message(MessageDraft):
    """An outbox row as stored: its id, and how far sending it got."""

    id: int = field(kw_only=True)
    status: Status = Status.PENDING
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str = ""


INVITATION_SUBJECT_MAX, INVITATION_BODY_MAX = 300, 20_000  # characters (the API's and the panel's)


@dataclass(frozen=True)
class Invitation:
    reservation_id: int
    language: str
    subject: str
    body: str  # a template: {placeholders} are filled in when it is sent
    edited_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True)
class Inbound:
    """A message that came in, as the gateway handed it over."""

    channel: Channel
    sender: str
    text: str
    external_id: str
    subject: str = ""  # e-mail only
    # E-mail only: a valid DKIM signature of the From domain covers the message (checked by the
    # intake only when the operator trusts DKIM, settings.mail.dkim.trust).
    authenticated: bool = False
