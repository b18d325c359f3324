"""Poll until a deadline, never sleep a fixed time: the Asterisk testsuite's way.

Every test waits through here. A check answers a truthy value when the condition holds and
None or False ("not yet") otherwise; the value returned is the first truthy one, never None or
False. ``until`` is for checks run on the event loop (or, ``blocking``, in a thread: they read
the store), ``until_async`` for checks that are coroutines (an AMI action, an HTTP request),
``until_sync`` for code without an event loop (selenium, a uvicorn thread, Kannel's processes).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

T = TypeVar("T")
INTERVAL = 0.05  # seconds between checks: short next to any deadline, light on two cores


def _late(what: str, timeout: float, value: object) -> AssertionError:
    return AssertionError(f"{what} not reached within {timeout} s (last: {value!r})")


async def until_async(
    check: Callable[[], Awaitable[T | Literal[False] | None]],
    timeout: float = 15,
    what: str = "the condition",
) -> T:
    """The first truthy value ``await check()`` gives before the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() >= deadline:
            raise _late(what, timeout, value)
        await asyncio.sleep(INTERVAL)


async def until(
    check: Callable[[], T | Literal[False] | None],
    timeout: float = 15,
    what: str = "the condition",
    blocking: bool = False,
) -> T:
    """The first truthy value of ``check()``; ``blocking`` runs it in a thread (it reads the store)."""

    async def checked() -> T | Literal[False] | None:
        return await asyncio.to_thread(check) if blocking else check()

    return await until_async(checked, timeout, what)


def until_sync(
    check: Callable[[], T | Literal[False] | None], timeout: float = 15, what: str = "the condition"
) -> T:
    """``until`` for code with no event loop: blocks the calling thread between checks."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise _late(what, timeout, value)
        time.sleep(INTERVAL)  # the pause between two checks, bounded by the deadline
