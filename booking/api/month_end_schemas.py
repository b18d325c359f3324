"""Bodies of the month-end endpoints (R51) and of a profile's mail settings (R53)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from booking.api.inputs import Line
from booking.domain.month_end import MonthEndRun, ProfileMail


class MailSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: Line | None = Field(
        None,
        max_length=254,
        examples=["billing@example.com"],
        description="where statements and reports are e-mailed; empty or null: the address the "
        "profile orders by e-mail from, if any",
    )
    reports: bool = Field(False, description="e-mail the post-conference report after each session (R53)")


class MailSettingsOut(BaseModel):
    profile_id: int
    address: str | None = Field(description="the profile's own address, if set")
    sends_to: str | None = Field(description="where mail goes now (the own address, else the ordering one)")
    reports: bool

    @classmethod
    def of(cls, own: str | None, mail: ProfileMail) -> MailSettingsOut:
        return cls(profile_id=mail.profile_id, address=own, sends_to=mail.address, reports=mail.reports)


class MonthEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    again: bool = Field(
        False, description="rebuild and send every statement again, though the month's run finished"
    )


class MonthEndRunOut(BaseModel):
    month: str
    revision: int = Field(description="1 for the first run; each run with `again` adds one")
    started_at: datetime
    finished_at: datetime | None
    statements: int = Field(description="organizers whose statement this revision built")
    mailed: int = Field(description="of them, those whose e-mail was queued (the rest have no address)")

    @classmethod
    def of(cls, run: MonthEndRun) -> MonthEndRunOut:
        return cls(
            month=run.month,
            revision=run.revision,
            started_at=run.started_at,
            finished_at=run.finished_at,
            statements=run.statements,
            mailed=run.mailed,
        )
