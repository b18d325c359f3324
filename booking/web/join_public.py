"""The public join page (issue 20): someone with only the conference number and the PIN joins
from the browser. The page calls an access number over WebRTC and keys 1, the number and the
PIN as RFC 4733 DTMF into the phone callers' IVR, so the IVR decides exactly as for a phone (a
wrong PIN is refused in its words, guessing is limited by its rules); nothing is checked here
and no PIN is ever sent to this service.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from booking.domain.texts import Texts
from booking.web.phone import PHONE_SCRIPT, WebPhone, languages, page_language, panel_texts
from booking.web.render import pages

MAX_DIGITS = 12  # as many as the phone menu reads


def join_public_router(phone: WebPhone) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/join", response_class=HTMLResponse)
    async def join_page(request: Request) -> HTMLResponse:
        return _render(request, phone)

    return router


def _render(request: Request, phone: WebPhone) -> HTMLResponse:
    lang = page_language(request)
    texts = Texts(lang)
    config = {
        "wsUrl": phone.ws_url,
        "target": phone.number_for(lang),
        "firstKeyMs": phone.first_key_ms,
        "keyGapMs": phone.key_gap_ms,
        "maxDigits": MAX_DIGITS,
        "texts": panel_texts(texts),
    }
    return pages(request).render(
        request,
        "join_public.html",
        {
            "title": texts("phone.title"),
            "lang": lang,
            "t": texts,
            "languages": languages(),
            "config": config,
            "phone_script": PHONE_SCRIPT,
            "max_digits": MAX_DIGITS,
        },
    )
