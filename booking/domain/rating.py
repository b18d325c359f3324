"""Rating a usage leg: what its caller pays for the connection (R11, R52) and what the
organizer pays for the participant-minutes (R51). Pure and deterministic: the same leg and
tariffs give the same result, so re-rating a month changes only what a tariff fix changed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from booking.domain.tariff import CallerRule, Plan, SmsPrice, match, sms_price_for
from booking.domain.usage import Leg

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class RatedLeg:
    uniqueid: str
    month: str  # YYYY-MM of the join, in the service's time zone
    profile_id: int | None
    reservation_id: int | None
    session_id: str | None
    seconds: int  # the leg's length, partial seconds rounded up
    caller_rule: str  # the rule that priced the caller's connection ("" when none matched)
    caller_billed_s: int
    caller_net: Decimal
    caller_gross: Decimal
    plan: str  # the organizer's plan ("" when the leg belongs to no account)
    billed_s: int  # participant time billed to the organizer
    net: Decimal  # the organizer's amount without VAT (with the connection of a dial-out leg)
    outbound: bool = False  # dial-out (R40): the system called; the organizer pays the connection


def month_of(at: datetime, tz: ZoneInfo) -> str:
    return f"{at.astimezone(tz):%Y-%m}"


def leg_seconds(leg: Leg) -> int:
    """A closed leg's length in whole seconds, a started second counted whole."""
    if leg.left_at is None:
        return 0
    return max(0, math.ceil((leg.left_at - leg.joined_at).total_seconds() - 1e-6))


def rate_leg(
    leg: Leg,
    rules: tuple[CallerRule, ...],
    plan: Plan | None,
    profile_id: int | None,
    tz: ZoneInfo,
) -> RatedLeg:
    seconds = leg_seconds(leg)
    day = leg.joined_at.astimezone(tz).date()
    rule = match(rules, leg.caller_number, leg.access_number, day)
    caller_billed = rule.rate.billed_seconds(seconds) if rule else 0
    caller_net, caller_gross = rule.rate.amounts(caller_billed) if rule else (ZERO, ZERO)
    billed = plan.rate.billed_seconds(seconds) if plan else 0
    return RatedLeg(
        uniqueid=leg.uniqueid,
        month=month_of(leg.joined_at, tz),
        profile_id=profile_id,
        reservation_id=leg.reservation_id,
        session_id=leg.session_id,
        seconds=seconds,
        caller_rule=rule.name if rule else "",
        caller_billed_s=caller_billed,
        caller_net=caller_net,
        caller_gross=caller_gross,
        plan=plan.name if plan else "",
        billed_s=billed,
        # R52: participants pay their own connection to the dial-in number; a dial-out call is
        # the organizer's, priced by the same rules with the called number in the caller's place.
        net=(plan.rate.amounts(billed)[0] if plan else ZERO)
        + (caller_net if leg.outbound and plan else ZERO),
        outbound=leg.outbound,
    )


@dataclass(frozen=True)
class PaidSms:
    """A paid SMS notice the outbox sent to an invitee (R21, R26), and whose it is."""

    message_id: int
    profile_id: int
    reservation_id: int | None
    recipient: str
    sent_at: datetime


@dataclass(frozen=True)
class RatedSms:
    sms: PaidSms
    price: str  # the tariff entry that priced it ("" when the tariff has none: not billed)
    net: Decimal


def rate_sms(sms: PaidSms, prices: tuple[SmsPrice, ...], tz: ZoneInfo) -> RatedSms:
    """A paid SMS at the price in force on the day it was sent (service time zone)."""
    price = sms_price_for(prices, sms.sent_at.astimezone(tz).date())
    return RatedSms(sms, price.name if price else "", price.net if price else ZERO)
