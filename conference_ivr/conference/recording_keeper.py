"""Recordings are kept no longer than needed (issue 19, privacy): deleted when their reservation
is deleted or refused, and ``retention`` after their session ended. The store says which; the
files go first, then the rows, so a crash in between only repeats work (as name_keeper does)."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

import structlog

from booking.services.recordings import RecordingService
from conference_ivr.conference.sweeps import sweep_forever

log = structlog.get_logger(__name__)


class RecordingKeeper:
    def __init__(self, recordings: RecordingService, retention: timedelta, interval_s: float) -> None:
        self._recordings = recordings
        self._retention = retention
        self._interval_s = interval_s

    async def run(self) -> None:
        await sweep_forever(self.sweep, self._interval_s, "recordings.sweep_failed")

    def sweep(self) -> int:
        """Delete every recording due (blocking: the store and the disk); how many went."""
        deleted = 0
        while due := self._recordings.expired(self._retention):
            for recording in due:
                with contextlib.suppress(FileNotFoundError):
                    Path(recording.path).unlink()
            deleted += self._recordings.forget([r.id for r in due])
        if deleted:
            log.info("recordings.deleted", count=deleted)
        return deleted
