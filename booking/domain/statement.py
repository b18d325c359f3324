"""Monthly statements (R51, R52) and post-conference reports, from rated legs. Pure.

A statement bills the organizer's participant-minutes of one calendar month: one line per
conference session, the plan's monthly minimum as a top-up line when the month came in
under it, the paid SMS notices sent to invitees (R21; not counted against the minimum, which
is of participant-minutes), then VAT on the total. Callers' own connection charges (R52: participants pay only
their connection) are shown beside, for information: they are billed by the callers' carriers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from booking.domain.rating import RatedLeg, RatedSms
from booking.domain.tariff import Plan, money
from booking.domain.usage import Leg

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class SessionLine:
    reservation_id: int | None
    session_id: str | None
    conference_number: str
    started_at: datetime
    participants: int  # legs: a caller who dialled in twice counts twice
    seconds: int
    billed_s: int
    net: Decimal


@dataclass(frozen=True)
class Statement:
    profile_id: int
    month: str
    plan: str
    lines: tuple[SessionLine, ...]
    usage_net: Decimal  # the sessions' sum
    minimum_top_up: Decimal  # what the plan's monthly minimum adds
    net: Decimal
    vat_rate: Decimal
    vat: Decimal
    gross: Decimal
    callers_gross: Decimal  # what the callers' carriers bill them, for information (R52)
    sms: tuple[RatedSms, ...] = ()  # the paid SMS notices sent in the month (R21)
    sms_net: Decimal = ZERO

    @property
    def billed_minutes(self) -> Decimal:
        return Decimal(sum(line.billed_s for line in self.lines)) / 60


def statement(
    profile_id: int,
    month: str,
    plan: Plan | None,
    rated: Sequence[RatedLeg],
    legs: dict[str, Leg],
    sms: Sequence[RatedSms] = (),
) -> Statement:
    """The statement of ``profile_id`` for ``month`` from its rated legs (and the legs)."""
    sessions: dict[tuple[int | None, str | None], list[RatedLeg]] = {}
    for r in sorted(rated, key=lambda r: legs[r.uniqueid].joined_at):
        sessions.setdefault((r.reservation_id, r.session_id), []).append(r)
    lines = []
    for (reservation_id, session_id), group in sessions.items():
        first = legs[group[0].uniqueid]
        lines.append(
            SessionLine(
                reservation_id,
                session_id,
                first.conference_number,
                first.joined_at,
                len(group),
                sum(r.seconds for r in group),
                sum(r.billed_s for r in group),
                sum((r.net for r in group), ZERO),
            )
        )
    usage = sum((line.net for line in lines), ZERO)
    minimum = plan.monthly_minimum if plan else ZERO
    top_up = max(ZERO, money(minimum - usage))
    paid_sms = tuple(sorted(sms, key=lambda r: r.sms.sent_at))
    sms_net = sum((r.net for r in paid_sms), ZERO)
    net = usage + top_up + sms_net
    vat_rate = plan.rate.vat_rate if plan else Decimal("0.21")
    vat = money(net * vat_rate)
    return Statement(
        profile_id,
        month,
        plan.name if plan else "",
        tuple(lines),
        usage,
        top_up,
        net,
        vat_rate,
        vat,
        net + vat,
        sum((r.caller_gross for r in rated if not r.outbound), ZERO),
        paid_sms,
        sms_net,
    )


@dataclass(frozen=True)
class ReportRow:
    """One participant leg of a session, for the post-conference report."""

    uniqueid: str
    caller_number: str
    role: str
    name_file: str | None  # the recorded name, as Asterisk stored it
    joined_at: datetime
    left_at: datetime | None
    end_reason: str | None
    seconds: int
    billed_s: int
    net: Decimal
    caller_gross: Decimal


def session_report(legs: Sequence[Leg], rated: dict[str, RatedLeg]) -> list[ReportRow]:
    rows = []
    for leg in sorted(legs, key=lambda leg: leg.joined_at):
        r = rated.get(leg.uniqueid)
        rows.append(
            ReportRow(
                leg.uniqueid,
                leg.caller_number,
                leg.role,
                leg.name_file,
                leg.joined_at,
                leg.left_at,
                leg.end_reason,
                r.seconds if r else 0,
                r.billed_s if r else 0,
                r.net if r else ZERO,
                r.caller_gross if r else ZERO,
            )
        )
    return rows


CSV_HEADER = (
    "joined_at",
    "left_at",
    "conference",
    "session",
    "caller",
    "role",
    "seconds",
    "billed_seconds",
    "amount_net",
    "caller_rule",
    "caller_amount_gross",
)


def statement_csv(s: Statement, rated: Sequence[RatedLeg], legs: dict[str, Leg]) -> str:
    """One row per leg, then the totals: what a spreadsheet or an accounting import wants."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for r in sorted(rated, key=lambda r: legs[r.uniqueid].joined_at):
        leg = legs[r.uniqueid]
        w.writerow(
            [
                leg.joined_at.isoformat(),
                leg.left_at.isoformat() if leg.left_at else "",
                _cell(leg.conference_number),
                r.session_id or "",
                _cell(leg.caller_number),
                leg.role,
                r.seconds,
                r.billed_s,
                r.net,
                _cell(r.caller_rule),
                r.caller_gross,
            ]
        )
    for paid in s.sms:  # R21: a row per paid SMS notice, its recipient in the caller column
        m = paid.sms
        w.writerow(
            [
                m.sent_at.isoformat(),
                "",
                "",
                "",
                _cell(m.recipient),
                "sms",
                "",
                "",
                paid.net,
                _cell(paid.price),
                "",
            ]
        )
    for label, value in (
        ("usage_net", s.usage_net),
        ("minimum_top_up", s.minimum_top_up),
        ("sms_net", s.sms_net),
        ("net", s.net),
        ("vat", s.vat),
        ("gross", s.gross),
    ):
        w.writerow(["", "", "", "", "", "", "", "", value, f"total:{label}", ""])
    return out.getvalue()


def _cell(text: str) -> str:
    """Text a spreadsheet would take for a formula (+420..., =...) stays text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
