"""A sweep run now and then, off the event loop: the keepers of recorded names and of
conference recordings each delete what is past its retention this way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)


async def sweep_forever(sweep: Callable[[], object], interval_s: float, failed_event: str) -> None:
    """Run the blocking ``sweep`` in a thread every ``interval_s``; a failed sweep is logged as
    ``failed_event`` and the next one tried on time (a store outage must not end the task)."""
    while True:
        try:
            await asyncio.to_thread(sweep)
        except Exception:
            log.exception(failed_event)
        await asyncio.sleep(interval_s)
