"""The moderator's live page (R41, R53-R55): who is in the conference, talking or muted, its
lock and remaining time, kept live by Server-Sent Events; buttons that act on it over AMI;
and the reservation's past sessions with their participants.

For the owning profile, the operator, or a moderator signed in with the conference number and
ADMIN PIN; anyone else gets 404, as for a missing reservation. Every POST carries the session's
CSRF token; fetch() callers (``Accept: application/json``) get JSON, plain forms a redirect.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from booking.domain.clock import Clock
from booking.domain.errors import NotFound, RuleViolation, TooMany
from booking.domain.model import Reservation, ReservationStatus
from booking.services.booking import BookingService
from booking.services.dialin import DialInService
from booking.services.usage import UsageService
from booking.web.live_answers import MESSAGES, STREAM_RETRY_S, WatchStream, answer
from booking.web.live_history import PastSession, past_sessions
from booking.web.live_people import participant_row
from booking.web.ports import (
    ControllerUnavailable,
    LiveConferences,
    NotInConference,
    NotRunning,
    TooManyWatchers,
    Watch,
)
from booking.web.render import Pages, pages
from booking.web.session import PostingViewer, SignedIn, Viewer

_CURRENT_TTL_S = 5.0


class LivePage:
    def __init__(
        self,
        booking: BookingService,
        dialin: DialInService,
        usage: UsageService,
        control: LiveConferences,
        clock: Clock,
        period: timedelta,
        keepalive_s: float = 10.0,
        stream_max_s: float = 30.0,
        min_interval_s: float = 0.2,
    ) -> None:
        self._booking = booking
        self._usage = usage
        self._dialin = dialin
        self._clock = clock
        self._control = control
        self.period = period
        self._keepalive_s = keepalive_s
        # A stream ends by itself (the browser reconnects at once) so that a server shutting
        # down gracefully never waits on a page left open.
        self._stream_max_s = stream_max_s
        self._min_interval_s = min_interval_s  # talking bursts: a few snapshots a second at most
        self._pages: Pages | None = None
        self.tz: ZoneInfo | None = None  # the web app's, known from the first request
        self._currents: dict[int, tuple[float, bool]] = {}  # reservation id -> (loop time, current)

    def pages(self, request: Request) -> Pages:
        """This page's templates (and the service's time zone), from the web app's own."""
        if self._pages is None:
            view = self._pages = Pages(pages(request).tz)
            self.tz = view.tz
            view.templates.env.filters["clock"] = lambda at: (
                "" if at is None else f"{at.astimezone(view.tz):%H:%M}"
            )
        return self._pages

    @property
    def minutes(self) -> str:
        return f"{self.period.total_seconds() / 60:g}"

    # --- who may see which reservation ----------------------------------------------------

    def _load(self, reservation_id: int) -> Reservation | None:
        return self._booking.reservation(reservation_id)

    async def reservation(self, request: Request, viewer: Viewer, reservation_id: int) -> Reservation:
        self.pages(request)
        r = await asyncio.to_thread(self._load, reservation_id)
        allowed = r is not None and viewer.may_moderate(r.room.profile_id, reservation_id)
        if r is None or not allowed or r.status is ReservationStatus.DELETED:  # another's: as if none
            raise HTTPException(404, f"no reservation {reservation_id}")
        return r

    async def current(self, r: Reservation) -> bool:
        """Whether the conference under this number is this reservation's (numbers are reused
        once a reservation is over). Kept a few seconds: talking alone changes the page often."""
        at, current = self._currents.get(r.id, (-1e9, False))
        if asyncio.get_running_loop().time() - at > _CURRENT_TTL_S:
            found = await asyncio.to_thread(self._dialin.current_reservation, r.room.conference_number)
            current = found is not None and found.id == r.id
            if len(self._currents) > 1000:
                self._currents.clear()
            self._currents[r.id] = (asyncio.get_running_loop().time(), current)
        return current

    # --- what the page shows ----------------------------------------------------------------

    def snapshot(self, r: Reservation, current: bool) -> dict[str, Any]:
        number = r.room.conference_number
        running = current and self._control.running(number)
        locked, all_muted = self._control.room(number) if running else (False, False)
        lecture = running and self._control.lecture(number)
        tz, now = self.tz, self._clock.now()
        people = self._control.participants(number) if running else []
        return {
            "reservation_id": r.id,
            "conference": r.room.conference_number,
            "running": running,
            "locked": locked,
            "all_muted": all_muted,
            "lecture": lecture,
            "ends_at": r.ends_at.isoformat() if r.ends_at else None,
            "ends": f"{r.ends_at.astimezone(tz):%H:%M}" if r.ends_at else "",
            "remaining_s": max(0, round((r.ends_at - now).total_seconds())) if r.ends_at else None,
            "participants": [participant_row(p, tz) for p in people],
        }

    async def fresh(self, r: Reservation) -> dict[str, Any]:
        with contextlib.suppress(ControllerUnavailable):  # then shown as the events left it
            await self._control.refresh(r.room.conference_number)
        return self.snapshot(r, await self.current(r))

    async def history(self, r: Reservation) -> list[PastSession]:
        return past_sessions(await asyncio.to_thread(self._usage.history, r.room.profile_id, r.id))

    def open_watch(self, r: Reservation, session: str) -> Watch:
        """The page's watch on its conference; TooManyWatchers over a cap."""
        return self._control.open_watch(r.room.conference_number, session)

    async def stream(self, r: Reservation, opened: Watch | None = None) -> AsyncIterator[str]:
        """The page's events over ``opened`` (closed when the stream ends), or a watch of its own."""
        try:
            watch = opened or self._control.open_watch(r.room.conference_number)
        except TooManyWatchers:
            yield "event: busy\ndata: {}\n\n"
            return
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self._stream_max_s
            yield "retry: 1000\n\n"
            snap = await self.fresh(r)
            yield _event(snap)
            last = _key(snap)
            while (left := deadline - loop.time()) > 0:
                reasons = await watch.next(min(self._keepalive_s, left))
                if "closed" in reasons:
                    return
                if not reasons:  # quiet: keep the line open, catch what sends no event
                    yield ": keep-alive\n\n"
                    reasons = frozenset({"reservation"})
                if "reservation" in reasons:  # extended (here, or by the lifecycle)
                    reloaded: Reservation | None = await asyncio.to_thread(self._load, r.id)
                    r = reloaded or r
                    snap = await self.fresh(r)
                else:
                    snap = self.snapshot(r, await self.current(r))
                if _key(snap) != last:
                    yield _event(snap)
                    last = _key(snap)
                await asyncio.sleep(self._min_interval_s)
        finally:
            self._control.close_watch(watch)

    # --- what the page does -------------------------------------------------------------------

    async def act(
        self, request: Request, r: Reservation, action: Callable[[str], Awaitable[None]], done: str
    ) -> Response:
        number = r.room.conference_number
        try:
            if not (await self.current(r) and self._control.running(number)):
                raise NotRunning(number)
            await action(number)
        except NotRunning:
            return answer(request, r, "not_running", 409)
        except NotInConference:
            return answer(request, r, "gone", 409)
        except ControllerUnavailable:
            return answer(request, r, "no_asterisk", 503)
        return answer(request, r, done)

    async def extend(self, request: Request, r: Reservation) -> Response:
        if r.ends_at is None:
            return answer(request, r, "no_end", 409)
        if self._clock.now() >= r.ends_at:
            return answer(request, r, "over", 409)
        until = r.ends_at + self.period
        if not await asyncio.to_thread(self._booking.try_extend, r.id, until):
            return answer(request, r, "not_extended", 409)
        self._control.changed(r.room.conference_number, "reservation")
        said = f"Extended by {self.minutes} minutes: it now ends at {until.astimezone(self.tz):%H:%M}."
        return answer(request, r, "extended", message=said)


def _key(snap: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in snap.items() if k != "remaining_s"}  # the clock alone is no change


def _event(snap: dict[str, Any]) -> str:
    return f"data: {json.dumps(snap, separators=(',', ':'))}\n\n"


def live_router(
    booking: BookingService,
    dialin: DialInService,
    usage: UsageService,
    control: LiveConferences,
    clock: Clock,
    period: timedelta,
) -> APIRouter:
    """``control``: the running controller's port; ``period``: what one extension adds."""
    page = LivePage(booking, dialin, usage, control, clock, period)
    router = APIRouter(prefix="/panel/reservations/{reservation_id}/live", include_in_schema=False)

    @router.get("")
    async def live(request: Request, reservation_id: int, viewer: SignedIn, done: str = "") -> Response:
        r = await page.reservation(request, viewer, reservation_id)
        view = page.pages(request)
        context = {
            "title": f"Live: {r.title or 'conference ' + r.room.conference_number}",
            "r": r,
            "base": f"/panel/reservations/{reservation_id}/live",
            "snap": await page.fresh(r),
            "sessions": await page.history(r),
            "messages": [MESSAGES[done]] if done in MESSAGES else [],
            "period_minutes": page.minutes,
        }
        return view.render(request, "live.html", context)

    @router.get("/state")
    async def state(request: Request, reservation_id: int, viewer: SignedIn) -> dict[str, Any]:
        return await page.fresh(await page.reservation(request, viewer, reservation_id))

    @router.get("/events")
    async def events(request: Request, reservation_id: int, viewer: SignedIn) -> Response:
        r = await page.reservation(request, viewer, reservation_id)
        try:
            watch = page.open_watch(r, viewer.nonce)
        except TooManyWatchers as e:  # the browser's EventSource stops on it; the page says why
            code = "too_many_streams" if e.per_session else "streams_busy"
            body = {"ok": False, "code": code, "message": MESSAGES[code]}
            return JSONResponse(body, 429, headers={"Retry-After": str(STREAM_RETRY_S)})
        return WatchStream(page.stream(r, watch), lambda: control.close_watch(watch))

    def member_action(path: str, done: str, do: Callable[[str, str], Awaitable[None]]) -> None:
        @router.post(f"/participants/{{uniqueid}}/{path}", name=f"live_{path}")
        async def handler(
            request: Request, reservation_id: int, uniqueid: str, viewer: PostingViewer
        ) -> Response:
            r = await page.reservation(request, viewer, reservation_id)
            return await page.act(request, r, lambda conference: do(conference, uniqueid), done)

    def room_action(path: str, done: str, do: Callable[[str], Awaitable[None]]) -> None:
        @router.post(f"/{path}", name=f"live_{path}")
        async def handler(request: Request, reservation_id: int, viewer: PostingViewer) -> Response:
            return await page.act(request, await page.reservation(request, viewer, reservation_id), do, done)

    member_action("remove", "removed", control.remove)
    member_action("mute", "muted", lambda c, u: control.mute(c, u, True))
    member_action("unmute", "unmuted", lambda c, u: control.mute(c, u, False))
    room_action("mute-all", "all_muted", lambda c: control.mute_participants(c, True))
    room_action("unmute-all", "all_unmuted", lambda c: control.mute_participants(c, False))
    room_action("lock", "locked", lambda c: control.lock(c, True))
    room_action("unlock", "unlocked", lambda c: control.lock(c, False))
    room_action("end", "ended", control.end)
    room_action("lecture-on", "lecture_on", lambda c: control.set_lecture(c, True))
    room_action("lecture-off", "lecture_off", lambda c: control.set_lecture(c, False))
    member_action("floor", "floor_given", control.give_floor)
    room_action("floor-back", "floor_back", control.take_floor)

    @router.post("/extend")
    async def extend(request: Request, reservation_id: int, viewer: PostingViewer) -> Response:
        return await page.extend(request, await page.reservation(request, viewer, reservation_id))

    @router.post("/dial")
    async def dial(
        request: Request, reservation_id: int, viewer: PostingViewer, number: Annotated[str, Form()] = ""
    ) -> Response:
        """R50: call a number now, or (no number) call again everyone dialled who is missing."""
        r = await page.reservation(request, viewer, reservation_id)
        current = await page.current(r)  # the number may be another reservation's by now
        try:
            queued = await control.call(r.id, r.room.conference_number, number.strip(), current)
        except TooMany as e:
            said = f"{MESSAGES[e.code]} ({e.reason}; try again in {e.retry_after_s} s)"
            return answer(request, r, e.code, 429, said, {"Retry-After": str(e.retry_after_s)})
        except RuleViolation as e:
            return answer(request, r, e.code if e.code in MESSAGES else "not_allowed", 422)
        except NotFound:  # no longer active (queued, ended meanwhile)
            return answer(request, r, "not_running", 422)
        return answer(request, r, "calling" if queued else "nobody_to_call")

    return router
