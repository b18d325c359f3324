"""The month-end and attachment repositories, which the fakes do not hold (see unsupported.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from booking.domain.messages import Attachment
from booking.domain.month_end import MonthEndRun, OrganizerProgress, ProfileMail
from booking.domain.rating import PaidSms
from tests.support.fakes.unsupported import _unsupported


class UnsupportedStatements:
    def profile_mail(self, profile_id: int) -> ProfileMail | None:
        _unsupported("statements")

    def set_profile_mail(self, profile_id: int, address: str | None, reports: bool) -> bool:
        _unsupported("statements")

    def own_mail_address(self, profile_id: int) -> str | None:
        _unsupported("statements")

    def run(self, month: str) -> MonthEndRun | None:
        _unsupported("statements")

    def put_run(self, run: MonthEndRun) -> None:
        _unsupported("statements")

    def progress(self, month: str, profile_id: int) -> OrganizerProgress | None:
        _unsupported("statements")

    def put_progress(self, p: OrganizerProgress) -> None:
        _unsupported("statements")

    def progress_of(self, month: str) -> list[OrganizerProgress]:
        _unsupported("statements")

    def billed_profiles(self, month: str, since: datetime, until: datetime) -> list[int]:
        _unsupported("statements")

    def paid_sms(self, since: datetime, until: datetime, profile_id: int) -> list[PaidSms]:
        _unsupported("statements")


class UnsupportedAttachments:
    def add(self, message_key: str, files: Sequence[Attachment]) -> None:
        _unsupported("attachments")

    def of(self, message_key: str) -> list[Attachment]:
        _unsupported("attachments")
