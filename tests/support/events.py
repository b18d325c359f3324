"""Collect AMI events and wait for matches until a deadline (never fixed sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from conference_ivr.ami.events import AmiEvent

Predicate = Callable[[AmiEvent], bool]
E = TypeVar("E", bound=AmiEvent)


def _every(_event: AmiEvent) -> bool:
    return True


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

    def of_kind(self, kind: type[E], pred: Callable[[E], bool] = _every) -> list[E]:
        """The events of one type that match, typed as that type (its fields are attributes)."""
        return [e for e in self.events if isinstance(e, kind) and pred(e)]

    async def wait_for_kind(
        self, kind: type[E], pred: Callable[[E], bool] = _every, timeout: float = 15.0, count: int = 1
    ) -> list[E]:
        """``wait_for`` events of one type, returned as that type."""
        found = await self.wait_for(lambda e: isinstance(e, kind) and pred(e), timeout, count)
        return [e for e in found if isinstance(e, kind)]

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
