"""The month-end run (R51), the profiles' mail settings, paid SMS notices (R21), and the files
attached to outbox e-mails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from booking.domain.messages import Attachment
from booking.domain.month_end import MonthEndRun, OrganizerProgress, ProfileMail
from booking.domain.rating import PaidSms


class Statements(Protocol):
    def profile_mail(self, profile_id: int) -> ProfileMail | None:
        """Where the profile's mail goes (its own address, else the one it orders from)."""
        ...

    def set_profile_mail(self, profile_id: int, address: str | None, reports: bool) -> bool: ...

    def own_mail_address(self, profile_id: int) -> str | None: ...

    def run(self, month: str) -> MonthEndRun | None: ...

    def put_run(self, run: MonthEndRun) -> None: ...

    def progress(self, month: str, profile_id: int) -> OrganizerProgress | None: ...

    def put_progress(self, p: OrganizerProgress) -> None: ...

    def progress_of(self, month: str) -> list[OrganizerProgress]: ...

    def billed_profiles(self, month: str, since: datetime, until: datetime) -> list[int]:
        """Profiles with rated legs in ``month`` or paid SMS sent in [since, until)."""
        ...

    def paid_sms(self, since: datetime, until: datetime, profile_id: int) -> list[PaidSms]: ...


class Attachments(Protocol):
    def add(self, message_key: str, files: Sequence[Attachment]) -> None: ...

    def of(self, message_key: str) -> list[Attachment]: ...
