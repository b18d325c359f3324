"""``dialconf api``: the booking service in a process of its own (issue 22).

The REST API, the organizer panel, the operator's pages and the public join page, with the
messaging runtime (Kannel, the SMTP intake, the outbox, the month end), and no controller. A
deployment runs it beside one ``dialconf serve`` per media node started with
``DIALCONF_CLUSTER__MESSAGING=false``, so messages are sent by this process alone; the live
page and the dashboard need the live model and stay on the controllers' port.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog
import uvicorn

from booking.store.migrate import upgrade
from conference_ivr.dialconf.api_server import api_config
from conference_ivr.dialconf.compose import build_api, build_messaging_runtime
from conference_ivr.settings import Settings

log = structlog.get_logger(__name__)


def serve_api(settings: Settings) -> int:
    upgrade(settings.database_url)
    asyncio.run(_serve(settings))
    return 0


async def _serve(settings: Settings) -> None:
    messaging = build_messaging_runtime(settings)
    app = build_api(messaging.services, messaging.sms_key)  # a bad token file stops here
    await messaging.runtime.start()
    server = uvicorn.Server(api_config(app, settings.api))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(server.serve())
    log.info("api.serving", bind=settings.api.bind_address, port=settings.api.port)
    try:
        await stop.wait()
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await task
        await messaging.runtime.close()
