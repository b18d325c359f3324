"""Poll until a deadline, never sleep a fixed time: the Asterisk testsuite's way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def until(
    check: Callable[[], T], timeout: float = 15, what: str = "the condition", blocking: bool = False
) -> T:
    """The first truthy value of ``check()``; ``blocking`` runs it in a thread (it reads the store)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await asyncio.to_thread(check) if blocking else check()
        if value:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"{what} not reached within {timeout} s (last: {value!r})")
        await asyncio.sleep(0.05)
