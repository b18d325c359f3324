"""Conference recordings (issue 19): stored when ConfBridge starts one, finished with the
session, shown and handed out to the reservation's organizer only, and forgotten with the
reservation or ``retention`` after the session (the files are the controller's to delete:
booking.services never touches a disk)."""

from __future__ import annotations

from datetime import timedelta

from booking.domain.clock import Clock
from booking.domain.errors import NotFound
from booking.domain.model import ReservationStatus
from booking.domain.recording import Recording, RecordingDraft
from booking.services.ports import Transaction, UnitOfWork

GONE = (ReservationStatus.DELETED, ReservationStatus.REJECTED)


class RecordingService:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    # --- the controller's side --------------------------------------------------------------

    def started(self, reservation_id: int, session_id: str, path: str) -> Recording:
        """A session's recording began (or, after a restart, was found running): stored at once,
        so a controller killed during the session still lists and later deletes it."""
        with self._uow() as tx:
            for r in tx.recordings.for_reservation(reservation_id):
                if r.session_id == session_id:
                    return r  # toggled on again in the same session: the same file, appended to
            draft = RecordingDraft(reservation_id, session_id, self._clock.now(), path)
            return tx.recordings.add(draft)

    def finished(self, recording_id: int, size_bytes: int) -> bool:
        with self._uow() as tx:
            return tx.recordings.finish(recording_id, self._clock.now(), size_bytes)

    def unfinished(self) -> list[Recording]:
        with self._uow(read_only=True) as tx:
            return tx.recordings.unfinished()

    def expired(self, retention: timedelta) -> list[Recording]:
        """Recordings to delete: a deleted or refused reservation's, and those older than ``retention``."""
        with self._uow(read_only=True) as tx:
            return tx.recordings.expired(self._clock.now() - retention)

    def forget(self, recording_ids: list[int]) -> int:
        """Their files were deleted."""
        with self._uow() as tx:
            return tx.recordings.forget(recording_ids)

    # --- the organizer's side (the panel, the API) ------------------------------------------

    def for_organizer(self, profile_id: int, reservation_id: int) -> list[Recording]:
        """The reservation's recordings, oldest first; NotFound for anyone but its organizer."""
        with self._uow(read_only=True) as tx:
            _owned(tx, profile_id, reservation_id)
            return tx.recordings.for_reservation(reservation_id)

    def one(self, profile_id: int, reservation_id: int, recording_id: int) -> Recording:
        """One finished recording, for download; NotFound for anyone but the organizer."""
        with self._uow(read_only=True) as tx:
            _owned(tx, profile_id, reservation_id)
            found = tx.recordings.get(recording_id)
        if found is None or found.reservation_id != reservation_id or found.ended_at is None:
            raise NotFound(f"no recording {recording_id}")
        return found


def _owned(tx: Transaction, profile_id: int, reservation_id: int) -> None:
    r = tx.reservations.get_reservation(reservation_id)
    if r is None or r.room.profile_id != profile_id or r.status in GONE:
        raise NotFound(f"no reservation {reservation_id}")
