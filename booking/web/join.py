"""The personal join page (issue 20, R42, R49): ``GET /join/{link}`` from an invitation.

Opening the link mints a call token (``JoinLinkService.open``) that the page's script hands to
the browser phone (``window.DialconfPhone``, bundled by the webrtc side) in the SIP header
``X-Dialconf-Join``; the controller redeems it once. Before calling, the page sends the typed
name with its token (``POST /join/{link}/name``), which also tells it a used or expired token
in words; while it is open it polls ``GET /join/{link}/live`` for the people in the conference
(names, never phone numbers) and the time left. Every refusal is a 4xx with its reason and a
message in the invitee's language, never a 500. The link is the credential: its requests
spend a rate-limit budget of their own (booking.api.rate_limit), answers are never cached nor
sent on as a referrer, and access logs drop it (conference_ivr.logs).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from booking.domain.clock import Clock
from booking.domain.join_links import MAX_TEXT, NAME_MAX, JoinRefusal, JoinRefused
from booking.domain.model import Reservation, Role
from booking.services.join_links import JoinLinkService
from booking.web.join_texts import LANGUAGES, STATUS, words
from booking.web.ports import ControllerUnavailable, Participant
from booking.web.render import pages

PRIVATE = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",
}
PHONE_SCRIPT = "/static/dialconf-phone.js"  # the JsSIP bundle with window.DialconfPhone (webrtc side)


class People(Protocol):
    """What the page reads of the live conferences (booking.web.ports.LiveConferences has it)."""

    def running(self, conference: str) -> bool: ...

    def participants(self, conference: str) -> list[Participant]: ...


class NameForm(BaseModel):
    token: str = Field(max_length=MAX_TEXT)
    name: str = Field(max_length=4 * NAME_MAX)


def join_router(
    links: JoinLinkService, clock: Clock, tz: ZoneInfo, ws_url: str, live: People | None = None
) -> APIRouter:
    """``ws_url``: where the browser phone reaches Asterisk's WebSocket; ``live``: the running
    controller's port (without it the page lists nobody)."""
    router = APIRouter(prefix="/join/{link}", include_in_schema=False)

    def refusal_text(e: JoinRefused, language: str) -> str:
        w = words(language)
        if e.reason is JoinRefusal.TOO_EARLY and e.at is not None:
            return w["too_early"].format(time=f"{e.at.astimezone(tz):%H:%M}")
        return w[e.reason.value]

    def language_of(request: Request, e: JoinRefused | None = None) -> str:
        asked = request.query_params.get("lang", "")
        if e is not None and e.language in LANGUAGES:
            return e.language
        return asked if asked in LANGUAGES else "en"

    @router.get("")
    async def page(request: Request, link: str) -> Response:
        try:
            opened = await asyncio.to_thread(links.open, link)
        except JoinRefused as e:
            language = language_of(request, e)
            context = {"title": words(language)["title"], "lang": language, "reason": e.reason.value,
                       "message": refusal_text(e, language), "w": words(language)}  # fmt: skip
            answer = pages(request).render(request, "join_refused.html", context, STATUS[e.reason])
            answer.headers.update(PRIVATE)
            return answer
        w = words(opened.language)
        r = opened.reservation
        context = {
            "title": r.title or w["title"],
            "lang": opened.language,
            "w": w,
            "link": link,
            "token": opened.token,
            "ws_url": ws_url,
            "phone_script": PHONE_SCRIPT,
            "moderator": "yes" if opened.role is Role.MODERATOR else "no",
            "words_json": json.dumps(w, ensure_ascii=False),
            "ends": f"{r.ends_at.astimezone(tz):%H:%M}" if r.ends_at else "",
        }
        answer = pages(request).render(request, "join.html", context)
        answer.headers.update(PRIVATE)
        return answer

    @router.post("/name")
    async def name(request: Request, link: str, form: NameForm) -> Response:
        try:
            kept = await asyncio.to_thread(links.name, link, form.token, form.name)
        except JoinRefused as e:
            return _refused(e, refusal_text(e, language_of(request, e)))
        return JSONResponse({"name": kept}, headers=PRIVATE)

    @router.get("/live")
    async def now(request: Request, link: str) -> Response:
        try:
            reservation, language = await asyncio.to_thread(links.view, link)
        except JoinRefused as e:
            return _refused(e, refusal_text(e, language_of(request, e)))
        body = {
            "remaining_s": _remaining(reservation, clock.now()),
            "people": _people(live, reservation, language),
        }
        return JSONResponse(body, headers=PRIVATE)

    return router


def _refused(e: JoinRefused, message: str) -> Response:
    return JSONResponse({"reason": e.reason.value, "message": message}, STATUS[e.reason], headers=PRIVATE)


def _remaining(r: Reservation, now: datetime) -> int | None:
    return None if r.ends_at is None else max(0, round((r.ends_at - now).total_seconds()))


def _people(live: People | None, r: Reservation, language: str) -> list[dict[str, Any]]:
    """Who is in: names (typed, or "phone participant"), role and the web mark; never numbers."""
    number = r.room.conference_number
    if live is None:
        return []
    try:
        if not live.running(number):
            return []
        people = live.participants(number)
    except ControllerUnavailable:
        return []
    w = words(language)
    return [
        {
            "name": p.name or w["phone"],
            "moderator": p.moderator,
            "web": p.web,
            "muted": p.muted,
            "talking": p.talking,
        }
        for p in people
    ]
