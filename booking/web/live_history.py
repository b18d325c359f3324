"""The live page's past sessions: a reservation's usage legs grouped by ConfBridge session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from booking.domain.usage import Leg


@dataclass(frozen=True)
class PastSession:
    started: datetime
    ended: datetime | None  # None while someone is still in
    legs: list[Leg]


def past_sessions(legs: list[Leg]) -> list[PastSession]:
    """Legs grouped by ConfBridge session (one bridge's life), the latest first."""
    grouped: dict[str, list[Leg]] = {}
    for leg in sorted(legs, key=lambda leg: leg.joined_at):
        grouped.setdefault(leg.session_id or "", []).append(leg)
    found = [PastSession(g[0].joined_at, _ended(g), g) for g in grouped.values()]
    return sorted(found, key=lambda s: s.started, reverse=True)


def _ended(legs: list[Leg]) -> datetime | None:
    left = [leg.left_at for leg in legs if leg.left_at is not None]
    return max(left) if len(left) == len(legs) else None
