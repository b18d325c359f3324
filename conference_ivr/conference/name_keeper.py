"""Recorded names are kept on disk per reservation, no longer than needed (R6, privacy):
deleted when their reservation is deleted or refused, and ``retention`` after the leg that
recorded them ended (a caller who dials in again within it is not asked twice). The store says
which; the files go first, then the legs forget them, so a crash in between only repeats work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path, PurePosixPath

import structlog

from booking.services.usage import UsageService
from conference_ivr.conference.sweeps import sweep_forever

log = structlog.get_logger(__name__)

# Asterisk's RECORD FILE adds the format's extension to the name the journey gives it.
RECORDED_FORMATS = (".wav",)


class NameKeeper:
    def __init__(
        self,
        usage: UsageService,
        host_path: Callable[[PurePosixPath], Path],
        retention: timedelta,
        interval_s: float,
    ) -> None:
        self._usage = usage
        self._host_path = host_path  # a name as Asterisk sees it -> the file on this host
        self._retention = retention
        self._interval_s = interval_s

    async def run(self) -> None:
        await sweep_forever(self.sweep, self._interval_s, "names.sweep_failed")

    def sweep(self) -> int:
        """Delete every name due (blocking: the store and the disk); how many were forgotten."""
        forgotten = 0
        while due := self._usage.expired_names(self._retention):
            for _uid, name in due:
                for ext in RECORDED_FORMATS:
                    with contextlib.suppress(FileNotFoundError):
                        self._host_path(PurePosixPath(name + ext)).unlink()
            forgotten += self._usage.forget_names([uid for uid, _name in due])
        if forgotten:
            log.info("names.deleted", count=forgotten)
        return forgotten
