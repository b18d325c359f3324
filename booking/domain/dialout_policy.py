"""Which numbers a conference may call, and how many calls it may place (toll fraud).

Pure. A number is classified with ``phonenumbers`` (the region and the number type it
belongs to) in the installation's home region: a number without a country code is read as a
home number, ``00`` is the home region's international prefix. By default only the home
country's fixed lines and mobiles may be called: premium rate, shared cost, satellite and
international networks (+881, +882, +883: the non-geographic "001" region), toll-free,
personal numbers, UAN, voicemail access, VoIP, pagers and anything unknown (112, short
codes) are refused, and so is every other region unless the operator allows it. The
operator's regex is applied to the E.164 form on top. What is dialled is E.164 or the form
the trunk needs (``DialFormat``).

The caps count calls (rows of ``dialout_calls``) in sliding windows; each call rings at most
``max_attempts`` times, so the attempts are bounded too.
"""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from phonenumbers import PhoneNumberType

from booking.domain.errors import RuleViolation, TooMany

_DIGITS = re.compile(r"^\+?[0-9]{2,20}$")
_SEPARATORS = re.compile(r"[\s.\-()/]")
NON_GEOGRAPHIC = "001"  # phonenumbers' region of +800, +808, +870, +881, +882, +883, +888, +979


class NumberKind(enum.StrEnum):
    """phonenumbers' number types, by name (settings spell them this way)."""

    FIXED_LINE = "fixed_line"
    MOBILE = "mobile"
    FIXED_LINE_OR_MOBILE = "fixed_line_or_mobile"
    TOLL_FREE = "toll_free"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"
    VOIP = "voip"
    PERSONAL_NUMBER = "personal_number"
    PAGER = "pager"
    UAN = "uan"
    VOICEMAIL = "voicemail"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, number: phonenumbers.PhoneNumber) -> NumberKind:
        return _KIND_OF_TYPE.get(phonenumbers.number_type(number), cls.UNKNOWN)


_KIND_OF_TYPE = {
    value: NumberKind(name.lower())
    for name, value in vars(PhoneNumberType).items()
    if isinstance(value, int) and name.lower() in NumberKind._value2member_map_
}


DEFAULT_KINDS = frozenset({NumberKind.FIXED_LINE, NumberKind.MOBILE, NumberKind.FIXED_LINE_OR_MOBILE})
# Numbers the caller of which pays a surcharge to someone: the heart of toll fraud.
_PREMIUM_KINDS = frozenset({NumberKind.PREMIUM_RATE, NumberKind.SHARED_COST})


class DialFormat(enum.StrEnum):
    """How a checked number goes to the trunk."""

    E164 = "e164"  # +420601234567
    DIGITS = "digits"  # 420601234567 (E.164 without the +)
    NATIONAL = "national"  # as dialled from a phone in the home region: 601234567, 00441632960000


@dataclass(frozen=True)
class NumberPolicy:
    home_region: str = "CZ"
    allowed_regions: frozenset[str] = frozenset()  # besides the home region
    allowed_kinds: frozenset[NumberKind] = DEFAULT_KINDS
    pattern: str = r"\+?[1-9][0-9]{5,14}"  # the operator's extra filter, on the E.164 form
    dial_format: DialFormat = DialFormat.E164

    def check(self, number: str) -> str:
        """The E.164 form of ``number`` if it may be called; else RuleViolation on ``number``
        with the code not_dialable, premium, abroad or not_allowed."""
        parsed = self._parse(number)
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        region = phonenumbers.region_code_for_number(parsed)
        kind = NumberKind.of(parsed)
        home = parsed.country_code == phonenumbers.country_code_for_region(self.home_region)
        if region == NON_GEOGRAPHIC and NON_GEOGRAPHIC not in self.allowed_regions:
            raise RuleViolation(
                "number", "satellite and international network numbers cannot be called", "premium"
            )
        if kind in _PREMIUM_KINDS and kind not in self.allowed_kinds:
            raise RuleViolation("number", "premium rate and shared cost numbers cannot be called", "premium")
        if not home and region not in self.allowed_regions:
            raise RuleViolation(
                "number", f"only numbers in {self.home_region} can be called from here", "abroad"
            )
        if kind not in self.allowed_kinds:
            raise RuleViolation(
                "number", f"a {kind.value.replace('_', ' ')} number cannot be called from here", "not_allowed"
            )
        if not re.fullmatch(self.pattern, e164):
            raise RuleViolation("number", "this number may not be called from here", "not_allowed")
        return e164

    def _parse(self, number: str) -> phonenumbers.PhoneNumber:
        cleaned = _SEPARATORS.sub("", number)
        if not _DIGITS.fullmatch(cleaned):
            raise RuleViolation("number", "digits only, with an optional leading +", "not_dialable")
        try:
            return phonenumbers.parse(cleaned, self.home_region)
        except phonenumbers.NumberParseException as e:
            raise RuleViolation("number", "this is not a telephone number", "not_dialable") from e

    def same_number(self, number: str) -> str:
        """``number`` in E.164 when it reads as one (to compare caller ids with called
        numbers); unchanged otherwise."""
        try:
            parsed = self._parse(number)
        except RuleViolation:
            return number
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)

    def trunk_form(self, e164: str) -> str:
        """What the trunk is sent for a number ``check`` returned."""
        if self.dial_format is DialFormat.E164:
            return e164
        if self.dial_format is DialFormat.DIGITS:
            return e164.lstrip("+")
        parsed = phonenumbers.parse(e164, self.home_region)
        return re.sub(
            r"[^0-9+]", "", phonenumbers.format_out_of_country_calling_number(parsed, self.home_region)
        )


@dataclass(frozen=True)
class CallCaps:
    """How many dial-out calls may be placed, in sliding windows (rows of dialout_calls)."""

    reservation_per_day: int = 60  # every call, the start's included
    reservation_per_minute: int = 30  # calls a moderator or the web asked for
    profile_per_hour: int = 100
    profile_per_day: int = 300

    def refusal(
        self,
        reservation_calls: list[tuple[datetime, bool]],
        profile_calls: list[datetime],
        wanted: int,
        now: datetime,
        requested: bool = True,
    ) -> TooMany | None:
        """Whether ``wanted`` more calls would break a cap. ``reservation_calls``: (created
        at, asked for by a moderator or the web) of the reservation's calls in the last day;
        ``profile_calls``: when each of the profile's calls of the last day was created."""
        day, hour, minute = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
        asked = [at for at, by_request in reservation_calls if by_request]
        checks = [
            ([at for at, _ in reservation_calls], self.reservation_per_day, day, "limit", "this conference"),
            (profile_calls, self.profile_per_day, day, "limit", "this account"),
            (profile_calls, self.profile_per_hour, hour, "rate", "this account"),
        ]
        if requested:
            checks.insert(1, (asked, self.reservation_per_minute, minute, "rate", "this conference"))
        for times, cap, window, code, whose in checks:
            wait = seconds_until_room(times, wanted, cap, window, now)
            if wait is not None:
                per = {day: "day", hour: "hour", minute: "minute"}[window]
                return TooMany(
                    "reservation_id", f"{whose} may place at most {cap} calls per {per}", code, wait
                )
        return None


def seconds_until_room(
    times: list[datetime], wanted: int, cap: int, window: timedelta, now: datetime
) -> int | None:
    """None if ``wanted`` more fit under ``cap`` among ``times`` (within ``window`` of now);
    else the whole seconds until they would (the window's length when they never will)."""
    inside = sorted(t for t in times if t > now - window)
    excess = len(inside) + wanted - cap
    if excess <= 0:
        return None
    if excess > len(inside):
        return math.ceil(window.total_seconds())
    return max(1, math.ceil((inside[excess - 1] + window - now).total_seconds()))


def largest_that_fits(
    caps: CallCaps,
    reservation_calls: list[tuple[datetime, bool]],
    profile_calls: list[datetime],
    now: datetime,
) -> int:
    """How many calls the start of a conference may still plan (the per-minute rate is for
    requests, not for the start)."""

    def room(times: list[datetime], cap: int, window: timedelta) -> int:
        return max(0, cap - sum(1 for t in times if t > now - window))

    everything = [at for at, _ in reservation_calls]
    return min(
        room(everything, caps.reservation_per_day, timedelta(days=1)),
        room(profile_calls, caps.profile_per_day, timedelta(days=1)),
        room(profile_calls, caps.profile_per_hour, timedelta(hours=1)),
    )
