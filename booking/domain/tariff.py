"""Tariffs as data (R11, R51, R60, R61): a price per minute, a minimum billed duration, an
increment, VAT included or not, and a validity. Pure: exact decimals, never floats.

``CallerRule``: what a caller pays for their own connection to an access number, matched by
the calling number's prefix and the access number called (R11, R61: free numbers are rules
with price 0). ``Plan``: what an organizer pays per participant-minute (R51), with a monthly
minimum for the Professional plan.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

CENT = Decimal("0.01")
MINUTE = 60


def money(amount: Decimal) -> Decimal:
    """Rounded to the haléř (0.01), half up: how the amounts on a statement are written."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Rate:
    """How a duration is priced."""

    price_per_minute: Decimal
    minimum_s: int = 0  # a call this short or shorter is billed as this long
    increment_s: int = 1  # beyond the minimum, time is billed in steps of this many seconds
    vat_included: bool = False  # whether price_per_minute includes VAT
    vat_rate: Decimal = Decimal("0.21")

    def __post_init__(self) -> None:
        if self.price_per_minute < 0 or self.minimum_s < 0 or self.increment_s < 1 or self.vat_rate < 0:
            raise ValueError(f"not a rate: {self}")

    def billed_seconds(self, seconds: int) -> int:
        """R60: the minimum, then whole increments started. A leg of 0 s costs nothing."""
        if seconds <= 0:
            return 0
        if seconds <= self.minimum_s:
            return self.minimum_s
        over = seconds - self.minimum_s
        steps = -(-over // self.increment_s)
        return self.minimum_s + steps * self.increment_s

    def net(self, billed_s: int) -> Decimal:
        """The price without VAT of ``billed_s`` seconds, exact (not rounded)."""
        gross_or_net = self.price_per_minute * billed_s / MINUTE
        return gross_or_net / (1 + self.vat_rate) if self.vat_included else gross_or_net

    def amounts(self, billed_s: int) -> tuple[Decimal, Decimal]:
        """(net, gross) of ``billed_s`` seconds, each rounded to the haléř. The stated price
        is exact: a price with VAT gives an exact gross, a price without VAT an exact net."""
        stated = self.price_per_minute * billed_s / MINUTE
        if self.vat_included:
            return money(stated / (1 + self.vat_rate)), money(stated)
        return money(stated), money(stated * (1 + self.vat_rate))


@dataclass(frozen=True)
class Validity:
    valid_from: date
    valid_to: date | None = None  # exclusive

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class CallerRule:
    name: str
    rate: Rate
    validity: Validity
    calling_prefixes: tuple[str, ...] = ()  # empty: any calling number
    access_numbers: tuple[str, ...] = ()  # exact, or a prefix ending in '*'; empty: any
    id: int | None = None

    def specificity(self, calling: str, access: str) -> tuple[int, int] | None:
        """How closely this rule fits a call; None if it does not. Longer matches win, and the
        number called first: a free number is free from any phone (R61)."""
        calling_len = _best(self.calling_prefixes, calling, prefixes_only=True)
        access_len = _best(self.access_numbers, access, prefixes_only=False)
        if calling_len is None or access_len is None:
            return None
        return access_len, calling_len


def _best(patterns: Sequence[str], number: str, prefixes_only: bool) -> int | None:
    """The specificity of the best pattern for ``number``: its literal characters, and more for
    a pattern of fixed length. Calling prefixes are prefixes; access patterns are numbers where
    '?' is any one digit and a final '*' any rest."""
    if not patterns:
        return 0
    best: int | None = None
    for p in patterns:
        pattern = p if not prefixes_only or p.endswith("*") else p + "*"
        if _pattern(pattern).fullmatch(number):
            literal = sum(c not in "?*" for c in pattern)
            best = max(best or 0, literal + (0 if pattern.endswith("*") else 1000))
    return best


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    body = "".join(r"\d" if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern)
    return re.compile(body)


def match(rules: Sequence[CallerRule], calling: str, access: str, day: date) -> CallerRule | None:
    """The rule for a call on ``day``: the most specific (number called, then calling
    prefix); among equals the newest (a price change), then the one listed first."""
    best: tuple[tuple[tuple[int, int], date, int], CallerRule] | None = None
    for order, rule in enumerate(rules):
        if not rule.validity.covers(day):
            continue
        fit = rule.specificity(calling, access)
        if fit is None:
            continue
        key = (fit, rule.validity.valid_from, -order)
        if best is None or key > best[0]:
            best = (key, rule)
    return None if best is None else best[1]


@dataclass(frozen=True)
class Plan:
    """An organizer's tariff (R51): per participant-minute, and a monthly minimum."""

    name: str
    rate: Rate
    validity: Validity
    monthly_minimum: Decimal = Decimal(0)  # net: a month billed less is billed this
    id: int | None = None


def plan_for(plans: Sequence[Plan], name: str, day: date) -> Plan | None:
    for p in plans:
        if p.name == name and p.validity.covers(day):
            return p
    return None


@dataclass(frozen=True)
class SmsPrice:
    """What an organizer pays per paid SMS notice sent to an invitee (R21, R26)."""

    name: str
    price_per_message: Decimal
    validity: Validity
    vat_included: bool = False
    vat_rate: Decimal = Decimal("0.21")

    def __post_init__(self) -> None:
        if self.price_per_message < 0 or self.vat_rate < 0:
            raise ValueError(f"not an SMS price: {self}")

    @property
    def net(self) -> Decimal:
        """The price of one message without VAT, rounded to the haléř."""
        price = self.price_per_message
        return money(price / (1 + self.vat_rate) if self.vat_included else price)


def sms_price_for(prices: Sequence[SmsPrice], day: date) -> SmsPrice | None:
    """The SMS price in force on ``day``: the newest valid one (a price change)."""
    valid = [p for p in prices if p.validity.covers(day)]
    return max(valid, key=lambda p: p.validity.valid_from) if valid else None
