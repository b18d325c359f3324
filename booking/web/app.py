"""Mounts the web pages on the booking API's FastAPI app: static files, sign-in, and the
routers each part brings (panel, live page, dashboard)."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from booking.domain.clock import Clock
from booking.web import signin
from booking.web.render import Pages
from booking.web.session import CookiePolicy, Signer, SignInRequired
from booking.web.session_store import SessionStore


def install_web(
    app: FastAPI,
    secret: str,
    tz: ZoneInfo,
    routers: Iterable[APIRouter] = (),
    template_folders: tuple[Path, ...] = (),
    *,
    sessions: SessionStore,
    clock: Clock,
    cookies: CookiePolicy | None = None,
) -> None:
    """``app`` must carry ``state.booking`` and ``state.operator_token`` (booking.api.app).
    ``cookies``: how cookies are set (the composition root passes the settings; without it,
    not Secure, for tests over plain HTTP). ``sessions``: the live sessions (in the booking store)."""
    app.state.web_signer = Signer(secret)
    app.state.web_cookies = cookies or CookiePolicy()
    app.state.web_sessions = sessions
    app.state.web_clock = clock
    app.state.web_pages = Pages(tz, template_folders)
    static = Path(str(resources.files("booking.web").joinpath("static")))
    app.mount("/static", StaticFiles(directory=static), name="static")
    app.include_router(signin.router)
    for router in routers:
        app.include_router(router)

    async def to_sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        return RedirectResponse(f"/panel/login?next={quote(str(exc), safe='/')}", status_code=303)

    app.add_exception_handler(SignInRequired, to_sign_in)
