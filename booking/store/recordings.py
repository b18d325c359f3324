"""The conferences' recordings (booking.domain.recording)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from booking.domain.model import ReservationStatus
from booking.domain.recording import Recording, RecordingDraft
from booking.store.recording_tables import recordings
from booking.store.tables import reservations


def _recording(row: Any) -> Recording:
    return Recording(
        row.reservation_id, row.session_id, row.started_at, row.path, row.ended_at, row.size_bytes, id=row.id
    )


class RecordingRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, draft: RecordingDraft) -> Recording:
        key = self.conn.execute(insert(recordings).values(**draft.__dict__)).inserted_primary_key
        assert key is not None
        return Recording(**draft.__dict__, id=int(key[0]))

    def finish(self, recording_id: int, ended_at: datetime, size_bytes: int) -> bool:
        r = recordings.c
        q = (
            update(recordings)
            .where(r.id == recording_id, r.ended_at.is_(None))
            .values(ended_at=ended_at, size_bytes=size_bytes)
        )
        return bool(self.conn.execute(q).rowcount)

    def get(self, recording_id: int) -> Recording | None:
        row = self.conn.execute(select(recordings).where(recordings.c.id == recording_id)).first()
        return None if row is None else _recording(row)

    def for_reservation(self, reservation_id: int) -> list[Recording]:
        r = recordings.c
        q = select(recordings).where(r.reservation_id == reservation_id).order_by(r.started_at, r.id)
        return [_recording(row) for row in self.conn.execute(q)]

    def unfinished(self) -> list[Recording]:
        q = select(recordings).where(recordings.c.ended_at.is_(None)).order_by(recordings.c.id)
        return [_recording(row) for row in self.conn.execute(q)]

    def expired(self, ended_before: datetime, limit: int = 500) -> list[Recording]:
        gone = select(reservations.c.id).where(
            reservations.c.status.in_([ReservationStatus.DELETED.value, ReservationStatus.REJECTED.value])
        )
        r = recordings.c
        q = (
            select(recordings)
            .where(r.ended_at.is_not(None))
            .where(or_(r.ended_at < ended_before, r.reservation_id.in_(gone)))
            .order_by(r.ended_at, r.id)
            .limit(limit)
        )
        return [_recording(row) for row in self.conn.execute(q)]

    def forget(self, recording_ids: Iterable[int]) -> int:
        ids = list(recording_ids)
        if not ids:
            return 0
        return int(self.conn.execute(delete(recordings).where(recordings.c.id.in_(ids))).rowcount)
