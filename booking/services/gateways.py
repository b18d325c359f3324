"""Outbound gateways: what the dispatcher sends through (SMS via Kannel, e-mail via SMTP)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from booking.domain.messages import Attachment


class SmsGateway(Protocol):
    def send_sms(self, to: str, text: str) -> None: ...


class MailGateway(Protocol):
    def send_mail(
        self, to: str, subject: str, body: str, message_id: str, attachments: Sequence[Attachment] = ()
    ) -> None: ...
