"""One participant as the live pages show it (the moderator's live page, the join page)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from booking.web.ports import Participant


def shown_number(p: Participant) -> str:
    """A phone caller's number; a browser's "web" mark with its typed name (issue 20)."""
    if p.web:
        return f"web · {p.name}" if p.name else "web"
    return p.number or "unknown"


def participant_row(p: Participant, tz: ZoneInfo | None) -> dict[str, Any]:
    return {
        "id": p.uniqueid,
        "number": shown_number(p),
        "web": p.web,  # joined from a browser (issue 20): marked, the same controls
        "name_text": p.name or ("recorded" if p.name_recorded else "not recorded"),
        "role": "moderator" if p.moderator else "participant",
        "waiting": p.waiting,
        "name_recorded": p.name_recorded,
        "joined_at": p.joined_at.isoformat(),
        "joined": f"{p.joined_at.astimezone(tz):%H:%M:%S}",
        "talking": p.talking,
        "muted": p.muted,
        "hand": p.hand,  # place among the raised hands, 0: none
        "floor": p.floor,
    }
