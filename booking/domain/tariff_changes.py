"""What a new tariff changes against the one in force, and R62's notice period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from booking.domain.errors import RuleViolation
from booking.domain.tariff import CallerRule, Plan, SmsPrice
from booking.domain.tariff_file import Tariffs


@dataclass(frozen=True)
class Change:
    entry: CallerRule | Plan | SmsPrice
    starts: date  # the first day it prices differently
    removed: bool = False

    def describe(self) -> str:
        e = self.entry
        if self.removed:
            return f"{e.name}: withdrawn"
        if isinstance(e, SmsPrice):
            vat = "incl. VAT" if e.vat_included else "excl. VAT"
            return f"{e.name}: {e.price_per_message} CZK per SMS {vat}"
        vat = "incl. VAT" if e.rate.vat_included else "excl. VAT"
        return f"{e.name}: {e.rate.price_per_minute} CZK/min {vat}"


def _key(e: CallerRule | Plan | SmsPrice) -> CallerRule | Plan | SmsPrice:
    return e if isinstance(e, SmsPrice) else replace(e, id=None)


def _entries(t: Tariffs) -> list[CallerRule | Plan | SmsPrice]:
    return [*t.rules, *t.plans, *t.sms]


def changed_entries(old: Tariffs | None, new: Tariffs) -> list[Change]:
    """Entries added or altered (from their valid_from) and entries withdrawn (from today's
    point of view, from their valid_from too: they priced calls from then on)."""
    if old is None:
        return []
    was, now = _entries(old), _entries(new)
    before, after = {_key(e) for e in was}, {_key(e) for e in now}
    added = [Change(e, e.validity.valid_from) for e in now if _key(e) not in before]
    gone = [Change(e, e.validity.valid_from, True) for e in was if _key(e) not in after]
    return added + gone


def check_notice(changes: Sequence[Change], today: date, notice_days: int) -> None:
    """R62: refuses a change that starts sooner than ``notice_days`` ahead, or already applies
    (a correction of prices in force must say so: ``fix``)."""
    earliest = today + timedelta(days=notice_days)
    for c in changes:
        if c.removed and c.starts > today:
            continue  # withdrawing an announced change before it starts prices nothing differently
        if c.starts <= today:
            raise RuleViolation(
                "tariff",
                f"{c.describe()} changes prices in force since {c.starts}: a correction must be loaded "
                "with fix (then re-rate the months it touches)",
                "tariff_fix_needed",
            )
        if c.starts < earliest:
            raise RuleViolation(
                "tariff",
                f"{c.describe()} starts {c.starts}: price changes are announced at least {notice_days} days "
                f"ahead (R62), so on {earliest} at the earliest",
                "tariff_notice",
            )
