"""Booking with messaging as `dialconf run` composes it (API, Kannel, SMTP intake, outbox),
in a thread of its own, with a fake phone on Kannel's fake SMSC and an SMTP sink as relay."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from booking.adapters.dkim_check import TxtLookup
from booking.services.booking import BookingService
from booking.services.messaging import MessagingService
from booking.store.migrate import upgrade
from conference_ivr.dialconf.api_server import api_config
from conference_ivr.dialconf.compose import build_api, build_messaging_runtime
from conference_ivr.dialconf.services import Services
from conference_ivr.settings import Settings
from tests.support.kannel import FakePhone, phone_connected
from tests.support.poll import until, until_sync
from tests.support.smtp import SmtpSink, smtp_sink


@dataclass
class MessagingSystem:
    settings: Settings
    services: Services
    phone: FakePhone
    relay: SmtpSink
    sms_key: str

    @property
    def booking(self) -> BookingService:
        return self.services.booking

    @property
    def messaging(self) -> MessagingService:
        return self.services.messaging

    @property
    def api(self) -> str:
        return f"http://{self.settings.api.bind_address}:{self.settings.api.port}"


@contextmanager
def running_messaging(
    settings: Settings, tmp: Path, dkim_dns: TxtLookup | None = None
) -> Iterator[MessagingSystem]:
    """``dkim_dns``: answers the intake's DKIM key lookups (tests sign with their own keys)."""
    upgrade(settings.database_url)
    composed = build_messaging_runtime(settings, dkim_dns)
    runtime, key = composed.runtime, composed.sms_key
    app = build_api(composed.services, key)
    server = uvicorn.Server(api_config(app, settings.api))
    started, failed = threading.Event(), []
    stop: asyncio.Event | None = None
    loop: asyncio.AbstractEventLoop | None = None

    async def main() -> None:
        nonlocal stop, loop
        stop, loop = asyncio.Event(), asyncio.get_running_loop()
        try:
            await runtime.start()
        except BaseException as e:
            failed.append(e)
            started.set()
            return
        serving = asyncio.create_task(server.serve())
        await until(lambda: server.started, 30, "uvicorn started")  # it offers only a flag
        started.set()
        await stop.wait()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await serving
        await runtime.close()

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    with smtp_sink(settings.messaging.mail.relay_port) as relay:
        thread.start()
        assert started.wait(60), "messaging did not start"
        if failed:
            raise failed[0]
        kannel = runtime.kannel
        assert kannel is not None
        k = settings.messaging.kannel
        phone = FakePhone(k.host, k.fake_smsc_port, tmp / "fakesmsc.log")
        phone.start()
        try:
            until_sync(lambda: phone_connected(kannel), 15, "fakesmsc to connect")
            yield MessagingSystem(settings, composed.services, phone, relay, key)
        finally:
            phone.stop()
            assert loop is not None and stop is not None
            loop.call_soon_threadsafe(stop.set)
            thread.join(30)
