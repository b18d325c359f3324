"""How a call's way to the conference ends when it does not get in: said, counted and logged
the same for the phone journey (``ivr``) and the browser's (``web``)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import structlog

from conference_ivr.errors import AgiHangup, CallerGaveUp, JoinFailure
from conference_ivr.ivr.speaker import Speaker
from conference_ivr.metrics import Metrics

log = structlog.get_logger(__name__)
T = TypeVar("T")


def count_failure(metrics: Metrics, route: str, reason: JoinFailure) -> None:
    metrics.join_failures.labels(reason=reason).inc()
    log.info(f"{route}.failed", reason=reason)


async def admitted(speaker: Speaker, metrics: Metrics, route: str, steps: Awaitable[T]) -> T | None:
    """``steps`` up to the admission; None when the call ended on the way (a refusal already
    said why: goodbye; a fault: "unavailable"). A hang-up is counted and raised."""
    try:
        return await steps
    except AgiHangup:
        count_failure(metrics, route, JoinFailure.HANGUP)
        raise
    except CallerGaveUp as gave_up:
        count_failure(metrics, route, gave_up.reason)
        await speaker.say("goodbye")
    except Exception:
        log.exception(f"{route}.unavailable")
        count_failure(metrics, route, JoinFailure.UNAVAILABLE)
        await speaker.say("unavailable", "goodbye")
    await speaker.agi.hangup()
    return None
