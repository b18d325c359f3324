"""The periodic sweep the name and recording keepers run: a failure is logged, not fatal."""

from __future__ import annotations

import asyncio
import contextlib

from structlog.testing import capture_logs

from conference_ivr.conference.sweeps import sweep_forever


async def test_a_failed_sweep_is_logged_and_the_next_one_runs() -> None:
    runs: list[int] = []
    again = asyncio.Event()

    def sweep() -> int:
        runs.append(len(runs))
        if len(runs) == 1:
            raise OSError("store away")
        again.set()
        return 0

    with capture_logs() as logs:
        task = asyncio.create_task(sweep_forever(sweep, 0.01, "things.sweep_failed"))
        await asyncio.wait_for(again.wait(), 5)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert len(runs) >= 2
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["things.sweep_failed"]
