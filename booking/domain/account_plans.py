"""Account plans: what kind of customer a profile is, and so how many rooms it may hold.

Not the tariff's plans (``booking.domain.tariff``: on-demand or professional pricing, R51):
an account plan says which source's limits apply to a profile's rooms.

- ``panel`` (seed 002, R27): at most ``max_active_per_profile`` active rooms at once;
  deleting one frees a slot. Every profile starts on it.
- ``provider`` (seed 003, R45): any number of rooms in parallel, each with its own codes.

The other limits (seats, lengths, lead time, the shared capacity) are the same on both.
"""

from __future__ import annotations

import enum


class AccountPlan(enum.StrEnum):
    PANEL = "panel"
    PROVIDER = "provider"


DEFAULT_PLAN = AccountPlan.PANEL


def room_limit(plan: AccountPlan, max_active_per_profile: int) -> int | None:
    """How many active rooms a profile on ``plan`` may hold at once (None: no limit)."""
    return max_active_per_profile if plan is AccountPlan.PANEL else None


def account_plan(text: str) -> AccountPlan:
    """The plan named ``text`` (case and blanks ignored); ValueError naming the plans otherwise."""
    try:
        return AccountPlan(text.strip().lower())
    except ValueError:
        names = ", ".join(p.value for p in AccountPlan)
        raise ValueError(f"no account plan {text.strip()[:40]!r}: the plans are {names}") from None
