"""A conference's recordings: one file per session, made by ConfBridge itself (issue 19).

A recording is stored when it starts (``ended_at`` None while its session runs) and finished
when the session ends, with the file's size. It belongs to its reservation: listed and
downloaded by that reservation's organizer only, deleted with it or ``retention`` after the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class RecordingDraft:
    reservation_id: int
    session_id: str  # the ConfBridge bridge's unique id: one recording per session (R29)
    started_at: datetime
    path: str  # the file on the booking service's host (where it is downloaded and deleted)
    ended_at: datetime | None = None
    size_bytes: int = 0


@dataclass(frozen=True)
class Recording(RecordingDraft):
    id: int = field(kw_only=True)


def size_text(size_bytes: int) -> str:
    """A size as people read it: 0 B, 812 B, 15.2 kB, 3.4 MB (decimal units, as a download shows)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size_bytes >= scale:
            return f"{size_bytes / scale:.1f} {unit}"
    return f"{size_bytes} B"
