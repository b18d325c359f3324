"""Settings of ordering by message, notices and the gateways; defaults follow the sources."""

from __future__ import annotations

from pydantic import BaseModel, Field

from booking.messaging.kannel import KannelSettings


class NoticeSettings(BaseModel):
    reminder_minutes: int = 60  # R25/R26: the reminder goes out 1 hour before the start
    short_notice_hours: int = 6  # R25: booked this close to the start, one notice at the start
    sms_paid: bool = True  # R21/R26: SMS notices are a paid option (marked for rating)


class MailSettings(BaseModel):
    intake: bool = True  # run the SMTP intake server
    bind_address: str = "127.0.0.1"
    intake_port: int = 2525
    booking_address: str = "conference@localhost"  # R1: the service address orders go to
    subject: str = "conference"  # R1: the fixed subject of an order (case and spaces ignored)
    relay_host: str = "127.0.0.1"  # replies and notices go out through this SMTP relay
    relay_port: int = 25
    from_address: str = "conference@localhost"
    max_bytes: int = 256 * 1024  # an order is a line of text; anything bigger is refused


class MessagingSettings(BaseModel):
    service_name: str = "Dialconf"  # R26: the sender shown on SMS notices, and in texts
    timezone: str | None = None  # how dates in texts are read and written; None: the controller's
    default_language: str = "cs"  # replies to a sender whose language is not known yet
    hourly_limit: int = 10  # R12: messages a sender may send per hour before it is refused
    dispatch_tick_s: float = 1.0  # how often (real seconds) the outbox is looked at
    retry_s: float = 60.0  # a failed send is tried again after this (doubling)
    max_attempts: int = 8
    sms: bool = True  # run Kannel (SMS in and out)
    kannel: KannelSettings = Field(default_factory=KannelSettings)
    notices: NoticeSettings = Field(default_factory=NoticeSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
