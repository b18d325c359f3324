"""The booking API with the web pages and the live page on a running system, served by
uvicorn in the test's event loop, and a signed-in web client."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from zoneinfo import ZoneInfo

import httpx
import uvicorn
from fastapi import APIRouter, FastAPI

from booking.web.app import install_web
from conference_ivr.dialconf.api_server import api_config
from conference_ivr.dialconf.compose import controller_routers
from conference_ivr.settings import ApiSettings
from tests.support.poll import until
from tests.support.ports import free_ports
from tests.support.services import api_app
from tests.support.signin import apost_sign_in
from tests.support.system import System

OPERATOR = "operator-token-for-live-tests"


def live_app(system: System) -> FastAPI:
    """The booking API with the web pages and the live page, on the system's controller."""
    app = api_app(system.services, OPERATOR)
    s = system.services
    install_web(
        app,
        "a-web-secret-for-live-tests",
        ZoneInfo("Europe/Prague"),
        [live_page_router(system)],
        sessions=s.web_sessions,
        clock=s.clock,
    )
    return app


def live_page_router(system: System) -> APIRouter:
    """The live page on the system's controller, as the composition root builds it."""
    return controller_routers(system.services, system.controller)[0]


@asynccontextmanager
async def serving(app: FastAPI, api: ApiSettings | None = None) -> AsyncIterator[str]:
    """uvicorn on a loopback port, in this event loop (next to the controller), configured as
    `dialconf run` configures it (``api``: e.g. trusted proxies)."""
    (port,) = free_ports(1)
    server = uvicorn.Server(api_config(app, api or ApiSettings(), host="127.0.0.1", port=port))
    task = asyncio.create_task(server.serve())
    await until(lambda: server.started, 15, "the web server to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def new_owner(system: System) -> tuple[str, str]:
    name = f"live-{uuid.uuid4().hex[:8]}"
    _profile, token = system.booking.create_profile(name)
    return name, token


async def sign_in(web: httpx.AsyncClient, token: str, reservation_id: int) -> str:
    """Sign in with a profile token; returns the CSRF token from the live page."""
    r = await apost_sign_in(web, "/panel/login", {"token": token})
    assert r.status_code == 303, r.text
    return await csrf_of(web, reservation_id)


async def csrf_of(web: httpx.AsyncClient, reservation_id: int) -> str:
    page = await web.get(f"/panel/reservations/{reservation_id}/live")
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return found.group(1)
