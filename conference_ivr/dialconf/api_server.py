"""The booking API's HTTP server (uvicorn), configured from settings in one place.

uvicorn believes X-Forwarded-For and X-Forwarded-Proto from 127.0.0.1 by default; here it does
only from the configured proxies (ApiSettings.trusted_proxies, none by default), so
``request.client.host`` is the real client everywhere (the PIN guard and the rate limits key
on it) and no client can claim another address.
"""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from conference_ivr.settings import ApiSettings


def api_config(
    app: FastAPI, api: ApiSettings, host: str | None = None, port: int | None = None
) -> uvicorn.Config:
    trusted = [p.strip() for p in api.trusted_proxies]
    return uvicorn.Config(
        app,
        host=host or api.bind_address,
        port=api.port if port is None else port,
        log_config=None,
        lifespan="off",
        # The live page's event streams stay open: shutting down does not wait for them.
        timeout_graceful_shutdown=5,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or None,
        # Connections at once, beyond which uvicorn answers 503 itself; the app's own
        # in-flight cap (booking.api.in_flight) is the finer one.
        limit_concurrency=api.limits.max_connections,
    )
