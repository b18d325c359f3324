"""What the moderator's live page answers: its messages by code, the answer to a button (JSON
for fetch() callers, a redirect for plain forms), and an event stream that gives its watch back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from booking.domain.model import Reservation

STREAM_RETRY_S = 30  # a session's streams end by themselves within the page's stream_max_s
MESSAGES = {
    "removed": "The participant was removed from the conference.",
    "muted": "The participant is muted.",
    "unmuted": "The participant can speak again.",
    "all_muted": "All participants are muted (moderators are not).",
    "all_unmuted": "All participants can speak again.",
    "locked": "The conference is locked: nobody else can join.",
    "unlocked": "The conference is open again.",
    "ended": "The conference was ended for everyone.",
    "lecture_on": "Lecture mode is on: participants are muted and cannot unmute themselves.",
    "lecture_off": "Lecture mode is off: everyone can speak again.",
    "floor_given": "The participant has the floor: they can speak.",
    "floor_back": "The floor is back with the moderators.",
    "extended": "The conference was extended.",
    "not_extended": "The conference cannot be extended: its seats are booked by other conferences then.",
    "no_end": "This conference has no end to extend.",
    "over": "The reservation is over: it cannot be extended any more.",
    "not_running": "The conference is not running.",
    "gone": "That participant is no longer in the conference.",
    "no_asterisk": "The telephone system did not answer: try again.",
    "calling": "Calling: they join the conference when they answer and press 1.",
    "nobody_to_call": "Everyone dialled is in the conference: nobody to call again.",
    "not_dialable": "That number cannot be called from here: digits only, with an optional leading +.",
    # Why a call is refused (booking.services.dialout.DialOutService decides, for the keypad and the API too)
    "not_dial_out": "Calling out is not enabled for this conference: it was not booked for dial-out.",
    "premium": "Premium rate, shared cost and satellite numbers cannot be called.",
    "abroad": "Numbers abroad cannot be called from this conference.",
    "not_allowed": "This number cannot be called from here.",
    "limit": "This conference or account has placed as many calls as it may for now.",
    "rate": "Too many calls were placed just now: try again in a minute.",
    "too_many_streams": "Too many live pages are open in this session: close one, then reload this page.",
    "streams_busy": "Too many live pages are open: reload later.",
}


def answer(
    request: Request,
    r: Reservation,
    code: str,
    status: int = 200,
    message: str = "",
    headers: dict[str, str] | None = None,
) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        body = {"ok": status == 200, "code": code, "message": message or MESSAGES[code]}
        return JSONResponse(body, status, headers=headers)
    return RedirectResponse(f"/panel/reservations/{r.id}/live?done={code}", status_code=303)


class WatchStream(StreamingResponse):
    """An event stream that gives its watch back however the response ends (even if the
    stream never started)."""

    def __init__(self, content: AsyncIterator[str], release: Callable[[], None]) -> None:
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        super().__init__(content, media_type="text/event-stream", headers=headers)
        self._release = release

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
