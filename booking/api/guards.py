"""The middleware around the API and the web pages, outermost first:

UnexpectedErrors  anything a route did not expect: a generic 500, logged (booking.api.failures)
RateLimit         per-client budgets: 429 with Retry-After (booking.api.rate_limit)
InFlight          requests served at once: 503 with Retry-After (booking.api.in_flight)
BodyLimit         bodies cut at their cap before parsing: 413 (booking.api.body_limit)

so a flood is refused before it takes a slot, and nothing reads a body before its size is known.
"""

from __future__ import annotations

from fastapi import FastAPI

from booking.api.body_limit import BodyCaps, BodyLimit
from booking.api.failures import UnexpectedErrors
from booking.api.in_flight import InFlight
from booking.api.rate_limit import RateLimit
from booking.domain.clock import Clock
from booking.settings import ApiLimits


def install_guards(app: FastAPI, limits: ApiLimits, clock: Clock, session_cookie: str) -> None:
    # Each add_middleware wraps what is there: the last one added runs first.
    caps = BodyCaps(limits.max_body_bytes, limits.panel_max_body_bytes, limits.large_bodies)
    app.add_middleware(BodyLimit, caps=caps, linger_s=limits.body_linger_s)
    app.add_middleware(InFlight, limit=limits.max_in_flight, retry_after_s=limits.busy_retry_after_s)
    if limits.rate_limit:
        app.add_middleware(RateLimit, limits=limits, clock=clock, session_cookie=session_cookie)
    app.add_middleware(UnexpectedErrors)
