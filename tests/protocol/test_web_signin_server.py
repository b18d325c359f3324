"""The moderator sign-in on the real HTTP server (uvicorn as `dialconf run` configures it):
X-Forwarded-For is believed only from configured proxies, and the growing delay of a wrong
guess holds no worker thread, so the rest of the site stays responsive under guessing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from booking.domain.clock import SystemClock
from booking.settings import BookingSettings
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from booking.web.app import install_web
from booking.web.signin import BAD_CREDENTIALS
from conference_ivr.dialconf.services import Services
from conference_ivr.settings import ApiSettings
from tests.support.live_web import serving
from tests.support.poll import until
from tests.support.services import api_app, services_on
from tests.support.signin import signin_token
from tests.support.sql import sql


@asynccontextmanager
async def site(
    tmp_path: Path, booking: BookingSettings, api: ApiSettings
) -> AsyncIterator[tuple[str, Services]]:
    url = f"sqlite:///{tmp_path / 'booking.db'}"
    upgrade(url)
    engine = make_engine(url)
    s = services_on(engine, SystemClock(), booking, tmp_path)
    app = api_app(s, "operator-token-for-server-tests")
    install_web(
        app,
        "a-web-secret-for-server-tests",
        ZoneInfo("Europe/Prague"),
        sessions=s.web_sessions,
        clock=s.clock,
    )
    try:
        async with serving(app, api) as base:
            yield base, s
    finally:
        engine.dispose()


async def guess(web: httpx.AsyncClient, number: str, code: str, forwarded: str = "") -> httpx.Response:
    token = signin_token((await web.get("/panel/login")).text)
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    form = {"conference": number, "admin_pin": code, "csrf": token}
    return await web.post("/panel/login/moderator", data=form, headers=headers)


async def test_forwarded_for_is_ignored_unless_the_proxy_is_trusted(tmp_path: Path) -> None:
    fast = BookingSettings(pin_base_delay_s=0.01, pin_max_delay_s=0.02)
    (tmp_path / "a").mkdir()
    async with site(tmp_path / "a", fast, ApiSettings()) as (base, service):  # the default: none
        r = service.booking.book(None, None, 5)
        async with httpx.AsyncClient(base_url=base) as web:
            answer = await guess(web, r.room.conference_number, "100000000", forwarded="203.0.113.9")
        assert answer.status_code == 401 and BAD_CREDENTIALS in answer.text
        keys = {a.key for a in service.dialin.pin_lockouts()} | _counted(service)
        assert "web:127.0.0.1" in keys and "web:203.0.113.9" not in keys  # the TCP peer counts
    (tmp_path / "b").mkdir()
    async with site(tmp_path / "b", fast, ApiSettings(trusted_proxies=["127.0.0.1"])) as (base, service):
        r = service.booking.book(None, None, 5)
        async with httpx.AsyncClient(base_url=base) as web:
            await guess(web, r.room.conference_number, "100000000", forwarded="203.0.113.9")
        keys = _counted(service)
        assert "web:203.0.113.9" in keys and "web:127.0.0.1" not in keys  # the proxy's client counts


def _counted(service: Services) -> set[str]:
    from sqlalchemy import select

    from booking.store.pin_attempts import pin_attempts

    with sql(service.uow) as conn:
        return {str(k) for k in conn.execute(select(pin_attempts.c.key)).scalars()}


async def test_the_delay_of_wrong_guesses_holds_no_worker_thread(tmp_path: Path) -> None:
    """60 wrong guesses each wait 3 s at once (more than the 40 worker threads sync routes
    share): meanwhile the sign-in page, a sync route, still answers at once."""
    slow = BookingSettings(pin_base_delay_s=3, pin_max_delay_s=3, pin_web_per_conference=1000)
    async with site(tmp_path, slow, ApiSettings(trusted_proxies=["127.0.0.1"])) as (base, service):
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as web:
            token = signin_token((await web.get("/panel/login")).text)
            started = time.monotonic()
            guesses = [
                asyncio.create_task(
                    web.post(
                        "/panel/login/moderator",
                        data={"conference": f"7{i:05d}", "admin_pin": "100000000", "csrf": token},
                        headers={"X-Forwarded-For": f"198.51.100.{i}"},
                    )
                )
                for i in range(60)
            ]
            # Every guess is counted (each waits its delay now), then the page is asked for.
            await until(lambda: len(_counted(service)) == 120, 2.5, "every guess counted", blocking=True)
            asked = time.monotonic()
            page = await web.get("/panel/login")
            answered = time.monotonic()
            assert page.status_code == 200
            assert answered - asked < 1.0, answered - asked
            assert not any(g.done() for g in guesses)  # still waiting their 3 s
            answers = await asyncio.gather(*guesses)
        assert {a.status_code for a in answers} == {401}
        assert time.monotonic() - started < 15
