"""How much the API and the web pages take from one client, and from all at once
(``ApiSettings.limits``; env ``DIALCONF_API__LIMITS__...``, e.g. ``..._MAX_IN_FLIGHT=128``).

The defaults and their arithmetic are in docs/security/input-and-limits.md.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

KIB = 1024


class Budget(BaseModel):
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    per_second: float = Field(gt=0)
    burst: int = Field(ge=1)


class ApiLimits(BaseModel):
    # Bodies are cut at these sizes before anything parses them (413 Content Too Large).
    max_body_bytes: int = Field(default=64 * KIB, ge=1)  # the API's JSON bodies
    # Forms: the invitation's 20 000 characters, percent-encoded, need more than the API's cap.
    panel_max_body_bytes: int = Field(default=256 * KIB, ge=1)
    # Routes whose bodies are larger by design: path pattern (a regex matched against the whole
    # path) to cap. The tariff file (200 000 characters); the invitation (20 000, JSON-escaped).
    large_bodies: dict[str, int] = Field(
        default_factory=lambda: {
            r"/api/tariff": 512 * KIB,
            r"/api/reservations/[0-9]+/invitation": 256 * KIB,
        }
    )
    # Requests being served at once (event streams leave the count when their answer starts);
    # beyond it 503 with Retry-After. Bounds the memory bodies in flight can hold.
    max_in_flight: int = Field(default=64, ge=1)
    busy_retry_after_s: int = Field(default=1, ge=1)
    # Per client address (request.client.host; IPv6 by its /ipv6_prefix network).
    rate_limit: bool = True
    api: Budget = Field(default_factory=lambda: Budget(per_second=10, burst=100))
    panel: Budget = Field(default_factory=lambda: Budget(per_second=10, burst=100))
    # Spent by every request that presents no credential, and by every 401/403 answer; while it
    # is empty nothing from that client is served.
    unauthenticated: Budget = Field(default_factory=lambda: Budget(per_second=1, burst=30))
    # Spent by every sign-in form sent (POST /panel/login...), on top of the budgets above.
    sign_in: Budget = Field(default_factory=lambda: Budget(per_second=0.1, burst=10))
    max_clients: int = Field(default=10_000, ge=1)  # remembered at once; the oldest are forgotten
    ipv6_prefix: int = Field(default=64, ge=1, le=128)
    # Connections uvicorn accepts at once (its limit_concurrency): beyond them it answers 503.
    max_connections: int = Field(default=1000, ge=1)
