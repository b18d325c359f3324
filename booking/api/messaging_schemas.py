"""Bodies of the messaging endpoints: invitees, notices, the invitation, senders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from booking.api.inputs import LINE, TEXT, Line, NonNegative
from booking.domain.messages import (
    INVITATION_BODY_MAX,
    INVITATION_SUBJECT_MAX,
    Channel,
    Invitee,
    Kind,
    Message,
    Sender,
    Status,
)
from booking.services.messaging import InvitationView

LANGUAGE = Field(default=None, pattern=r"^(en|cs|pl|de|fr)$", description="cs, en, pl, de or fr")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InviteeIn(_In):
    address: Line = Field(min_length=3, max_length=254, description="an e-mail address or a phone number")
    language: str | None = LANGUAGE


class InviteesIn(_In):
    invitees: list[InviteeIn] = Field(max_length=100)


class InviteeOut(BaseModel):
    channel: Channel
    address: str
    language: str

    @classmethod
    def of(cls, i: Invitee) -> InviteeOut:
        return cls(channel=i.channel, address=i.address, language=i.language)


class NoticeOut(BaseModel):
    kind: Kind
    channel: Channel
    recipient: str
    due_at: datetime
    status: Status
    sent_at: datetime | None
    paid: bool = Field(description="an SMS notice (a paid option, R21)")

    @classmethod
    def of(cls, m: Message) -> NoticeOut:
        return cls(
            kind=m.kind,
            channel=m.channel,
            recipient=m.recipient,
            due_at=m.due_at,
            status=m.status,
            sent_at=m.sent_at,
            paid=m.paid,
        )


class InvitationIn(_In):
    subject: Annotated[str, Field(min_length=1, max_length=INVITATION_SUBJECT_MAX), LINE] | None = None
    body: Annotated[str, Field(min_length=1, max_length=INVITATION_BODY_MAX), TEXT] | None = None
    language: str | None = LANGUAGE


class InvitationOut(BaseModel):
    language: str
    subject_template: str = Field(description="as stored: {placeholders} are filled in when sent")
    body_template: str
    subject: str = Field(description="as it would be sent now")
    body: str
    edited_at: datetime | None
    sent_at: datetime | None

    @classmethod
    def of(cls, v: InvitationView) -> InvitationOut:
        i = v.invitation
        return cls(
            language=i.language,
            subject_template=i.subject,
            body_template=i.body,
            subject=v.subject,
            body=v.body,
            edited_at=i.edited_at,
            sent_at=i.sent_at,
        )


class InvitationSent(BaseModel):
    queued: int = Field(description="invitation e-mails queued, one per e-mail invitee")


class SenderIn(_In):
    channel: Channel
    address: Line = Field(min_length=3, max_length=254)


class BlockIn(SenderIn):
    note: Line = Field(default="", max_length=200)
    cancel_bookings: bool = Field(default=False, description="also cancel the sender's bookings (R12)")


class LimitIn(SenderIn):
    hourly_limit: NonNegative | None = Field(description="messages per hour; null: the default")


class SenderOut(BaseModel):
    channel: Channel
    address: str
    language: str
    blocked: bool
    hourly_limit: int | None
    note: str
    cancelled: list[int] = Field(default_factory=list, description="reservations cancelled with the block")

    @classmethod
    def of(cls, s: Sender, cancelled: list[int] | None = None) -> SenderOut:
        return cls(
            channel=s.channel,
            address=s.address,
            language=s.language,
            blocked=s.blocked,
            hourly_limit=s.hourly_limit,
            note=s.note,
            cancelled=cancelled or [],
        )
