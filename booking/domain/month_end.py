"""The month-end run's pure rules (R51): which month is due, the outbox keys that make each
e-mail go out once, and the texts of the statement and post-conference report e-mails."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from booking.domain.rating import month_of
from booking.domain.statement import ReportRow, Statement
from booking.domain.texts import Texts


def previous_month(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"


def due_month(now: datetime, tz: ZoneInfo, delay: timedelta) -> str:
    """The latest month that ended at least ``delay`` ago (service time zone): the one the
    run bills. The delay lets a call that crossed midnight close before its month is rated."""
    return previous_month(month_of(now - delay, tz))


def statement_key(month: str, profile_id: int, revision: int) -> str:
    """The outbox key of one organizer's statement e-mail: a run repeated or resumed enqueues
    the same key, which the outbox takes once; a deliberate re-run (a new revision) sends anew."""
    return f"statement:{month}:{profile_id}:{revision}"


def report_key(reservation_id: int, session_id: str) -> str:
    return f"report:{reservation_id}:{session_id}"


@dataclass(frozen=True)
class MonthEndRun:
    month: str
    revision: int  # 1 for the first run; each deliberate re-run adds one
    started_at: datetime
    finished_at: datetime | None = None
    statements: int = 0  # organizers whose statement this revision built
    mailed: int = 0  # of them, those whose e-mail was queued (the others have no address)


@dataclass(frozen=True)
class OrganizerProgress:
    """How far a month's run got for one organizer: written with its e-mail, in one transaction."""

    month: str
    profile_id: int
    revision: int
    built_at: datetime
    net: Decimal
    gross: Decimal
    recipient: str | None  # None: the profile has no e-mail address; nothing was sent


def _amount(value: Decimal) -> str:
    return f"{value:.2f}"


def statement_mail(s: Statement, service: str, t: Texts) -> tuple[str, str]:
    """(subject, body) of the month-end e-mail; the PDF and the CSV go with it."""
    subject = t("billing.statement_subject", service=service, month=s.month)
    body = t(
        "billing.statement_body",
        month=s.month,
        plan=s.plan.replace("_", " ") or "-",
        usage=_amount(s.usage_net),
        top_up=_amount(s.minimum_top_up),
        sms_count=len(s.sms),
        sms=_amount(s.sms_net),
        net=_amount(s.net),
        vat=_amount(s.vat),
        gross=_amount(s.gross),
    )
    return subject, body


def report_mail(
    rows: Sequence[ReportRow], conference: str, service: str, t: Texts, tz: ZoneInfo
) -> tuple[str, str]:
    """(subject, body) of the post-conference report (R53): a line per participant leg."""
    start = min(r.joined_at for r in rows).astimezone(tz)
    end = max((r.left_at or r.joined_at) for r in rows).astimezone(tz)
    when = {"date": t.date(start), "time": t.time(start)}
    subject = t("billing.report_subject", service=service, conference=conference, **when)
    lines = [t("billing.report_lead", conference=conference, end_time=t.time(end), **when), ""]
    for r in rows:
        left = t.time(r.left_at.astimezone(tz)) if r.left_at else "-"
        role = t(f"billing.{r.role}") if r.role in ("moderator", "participant") else r.role
        name = " (name recorded)" if r.name_file else ""
        lines.append(
            f"{t.time(r.joined_at.astimezone(tz))}-{left}  {r.caller_number or '-'}  {role}{name}  "
            f"{r.seconds} s  {_amount(r.net)} CZK"
        )
    billed = Decimal(sum(r.billed_s for r in rows)) / 60
    amount = sum((r.net for r in rows), Decimal("0.00"))
    lines += ["", t("billing.report_total", legs=len(rows), minutes=f"{billed:.1f}", amount=_amount(amount))]
    return subject, "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ProfileMail:
    """Where a profile's statements and reports go, and whether it wants the reports."""

    profile_id: int
    name: str
    language: str
    address: str | None  # the profile's own; else the address it orders by e-mail from
    reports: bool = False  # the post-conference report after each session (R53)
