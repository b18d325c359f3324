"""The conferences' recordings in memory, as booking.store.recordings keeps them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from booking.domain.model import ReservationStatus
from booking.domain.recording import Recording, RecordingDraft
from tests.support.fakes.state import FakeState


class FakeRecordings:
    def __init__(self, state: FakeState) -> None:
        self._s = state

    def add(self, draft: RecordingDraft) -> Recording:
        made = Recording(**draft.__dict__, id=self._s.new_id())
        self._s.recordings[made.id] = made
        return made

    def finish(self, recording_id: int, ended_at: datetime, size_bytes: int) -> bool:
        r = self._s.recordings.get(recording_id)
        if r is None or r.ended_at is not None:
            return False
        self._s.recordings[recording_id] = dataclasses.replace(r, ended_at=ended_at, size_bytes=size_bytes)
        return True

    def get(self, recording_id: int) -> Recording | None:
        return self._s.recordings.get(recording_id)

    def for_reservation(self, reservation_id: int) -> list[Recording]:
        found = [r for r in self._s.recordings.values() if r.reservation_id == reservation_id]
        return sorted(found, key=lambda r: (r.started_at, r.id))

    def unfinished(self) -> list[Recording]:
        return [r for r in self._s.recordings.values() if r.ended_at is None]

    def expired(self, ended_before: datetime, limit: int = 500) -> list[Recording]:
        gone = {ReservationStatus.DELETED, ReservationStatus.REJECTED}

        def due(r: Recording) -> bool:
            reservation = self._s.reservations.get(r.reservation_id)
            deleted = reservation is not None and reservation.status in gone
            return r.ended_at is not None and (r.ended_at < ended_before or deleted)

        found = sorted(
            filter(due, self._s.recordings.values()), key=lambda r: (r.ended_at or r.started_at, r.id)
        )
        return found[:limit]

    def forget(self, recording_ids: Iterable[int]) -> int:
        return sum(self._s.recordings.pop(i, None) is not None for i in list(recording_ids))
