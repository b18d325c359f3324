"""The conferences' recordings (booking.domain.recording)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from booking.domain.recording import Recording, RecordingDraft


class Recordings(Protocol):
    def add(self, draft: RecordingDraft) -> Recording: ...

    def finish(self, recording_id: int, ended_at: datetime, size_bytes: int) -> bool:
        """The session ended: its end and the file's size (a recording finished stays so)."""
        ...

    def get(self, recording_id: int) -> Recording | None: ...

    def for_reservation(self, reservation_id: int) -> list[Recording]:
        """Oldest first."""
        ...

    def unfinished(self) -> list[Recording]: ...

    def expired(self, ended_before: datetime, limit: int = 500) -> list[Recording]:
        """Every finished recording of a reservation deleted or refused, and every one whose
        session ended before ``ended_before``."""
        ...

    def forget(self, recording_ids: Iterable[int]) -> int: ...
