"""Settings of ordering by message, notices and the gateways; defaults follow the sources."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from booking.adapters.kannel import KannelSettings


class NoticeSettings(BaseModel):
    reminder_minutes: int = 60  # R25/R26: the reminder goes out 1 hour before the start
    short_notice_hours: int = 6  # R25: booked this close to the start, one notice at the start
    sms_paid: bool = True  # R21/R26: SMS notices are a paid option (marked for rating)


class DkimSettings(BaseModel):
    """Whether a DKIM signature may stand in for the confirmation round trip (off by default)."""

    trust: bool = False  # act at once on mail a valid DKIM signature of the From domain vouches for
    alignment: Literal["relaxed", "strict"] = "relaxed"  # relaxed: d= may be a parent of the domain
    min_key_bits: int = Field(1024, ge=1024)  # shorter RSA keys are forgeable: such a signature is no proof
    dns_timeout_s: float = Field(5.0, gt=0)  # each key lookup; the lookup runs in a worker thread
    max_signatures: int = Field(3, ge=1)  # aligned signatures tried per message (one DNS lookup each)


class ConfirmSettings(BaseModel):
    """The round trip that proves an e-mail order or cancel came from its From address."""

    code_digits: int = Field(8, ge=6, le=12)
    valid_minutes: int = Field(24 * 60, ge=1)  # a code unused this long is void
    max_wrong_codes: int = Field(3, ge=1)  # wrong codes from the address that void a waiting request
    wrong_codes_per_day: int = Field(10, ge=1)  # per address and 24 h: past it, codes are not checked
    max_waiting: int = Field(3, ge=1)  # requests of one address waiting for their code at once


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
    new_senders_per_domain_per_hour: int = Field(10, ge=0)  # new profiles per From domain per hour
    dkim: DkimSettings = Field(default_factory=DkimSettings)
    confirm: ConfirmSettings = Field(default_factory=ConfirmSettings)


class MessagingSettings(BaseModel):
    service_name: str = "Dialconf"  # R26: the sender shown on SMS notices, and in texts
    timezone: str | None = None  # how dates in texts are read and written; None: the controller's
    default_language: str = "cs"  # replies to a sender whose language is not known yet
    hourly_limit: int = 10  # R12: messages a sender may send per hour before it is refused
    # A flood of new addresses or numbers would each get a fresh hourly limit: new senders (each
    # a new profile) are limited too, per channel (and per e-mail domain, see mail).
    new_senders_per_hour: int = Field(60, ge=0)
    dispatch_tick_s: float = 1.0  # how often (real seconds) the outbox is looked at
    retry_s: float = 60.0  # a failed send is tried again after this (doubling)
    max_attempts: int = 8
    sms: bool = True  # run Kannel (SMS in and out)
    kannel: KannelSettings = Field(default_factory=KannelSettings)
    notices: NoticeSettings = Field(default_factory=NoticeSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
