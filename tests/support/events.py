"""Collect AMI events and wait for matches until a deadline (never fixed sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from conference_ivr.ami.events import AmiEvent

Predicate = Callable[[AmiEvent], bool]


class EventLog:
    def __init__(self) -> None:
        self.events: list[AmiEvent] = []
        self._changed = asyncio.Condition()

    async def add(self, event: AmiEvent) -> None:
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def matching(self, pred: Predicate) -> list[AmiEvent]:
        return [e for e in self.events if pred(e)]

    async def wait_for(self, pred: Predicate, timeout: float = 15.0, count: int = 1) -> list[AmiEvent]:
        """Wait until ``count`` events match; fail with what was seen otherwise."""

        async def until() -> list[AmiEvent]:
            async with self._changed:
                while len(found := self.matching(pred)) < count:
                    await self._changed.wait()
                return found

        try:
            return await asyncio.wait_for(until(), timeout)
        except TimeoutError:
            seen = [f"{e.name} {e.get('Channel')} {e.get('Command')}" for e in self.events[-25:]]
            raise AssertionError(
                f"no {count} matching event(s) in {timeout}s; last seen:\n" + "\n".join(seen)
            ) from None
