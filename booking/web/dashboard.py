"""The operator's operations dashboard (issue 8): ``GET /dashboard``.

Live conferences, members and counters come from the running controller, through its port
(booking.web.ports.Operations: its own state, and the figures a scrape of its registry would
give), and the seats (reserved, and held live by anytime rooms' members) and PIN lockouts from
the booking store, read in a worker thread. The
handlers are ``async`` on purpose: they run on the controller's event loop, the only place its
live state may be read. The page refreshes its
figures every few seconds with a small script (a fragment from ``/dashboard/figures``); without
script, a link reloads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from booking.services.figures import BookingFigures
from booking.web.ports import NodeRow, Operations
from booking.web.render import pages
from booking.web.session import OperatorViewer

REFRESH_S = 10  # default seconds between updates; ?refresh=N picks another (2 to 300)

FAILURE_LABELS = {
    "bad_credentials": "Wrong conference number or PIN, every try used",
    "pin_throttled": "Conference under PIN guessing, caller unknown to it",
    "pin_locked": "Caller number locked out (PIN guessing)",
    "too_early": "Too early",
    "over": "Reservation over",
    "locked": "Conference locked",
    "full": "Conference full",
    "system_full": "Every seat of the system taken",
    "no_input": "No key pressed",
    "hangup": "Hung up before joining",
    "unavailable": "Service unavailable (an error)",
    "declined": "Dial-out call answered but not accepted",
    "web_token": "Browser call with a used, expired, forged or cancelled join token",
    "relay_ticket": "Call from another node without a valid relay ticket",
}
HORIZON_LABELS = {"now": "Now", "1h": "Next hour", "2h": "Next 2 hours", "4h": "Next 4 hours"}


@dataclass(frozen=True)
class LiveRow:
    number: str
    members: int
    moderators: int
    seats: int | None  # booked seats of the reservation it runs under (None: none found)
    ends_at: datetime | None


@dataclass(frozen=True)
class SeatRow:
    horizon: str
    label: str
    reserved: int
    capacity: int
    used: int | None  # members now (only for the "now" row)
    live: int | None = None  # seats live members of anytime rooms hold now (only for "now")

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.reserved - (self.live or 0))


@dataclass(frozen=True)
class Dashboard:
    """Everything the page shows, gathered at one moment."""

    booking: BookingFigures
    ami_up: bool
    agi_sessions: int
    live: list[LiveRow]
    seats: list[SeatRow]
    counters: dict[str, float]
    failures: list[tuple[str, str, float]]  # (reason, label, count), every known reason
    nodes: list[NodeRow] = field(default_factory=list)  # the cluster's media nodes (issue 21)

    @property
    def members(self) -> int:
        return sum(row.members for row in self.live)

    @property
    def moderators(self) -> int:
        return sum(row.moderators for row in self.live)


async def gather(operations: Operations) -> Dashboard:
    status = operations.status()  # taken before the store is read: the state may change meanwhile
    figures = await operations.figures(status.rooms)
    rows = []
    for number, (members, moderators) in sorted(status.rooms.items()):
        r = figures.running.get(number)
        rows.append(LiveRow(number, members, moderators, r.seats if r else None, r.ends_at if r else None))
    used = sum(row.members for row in rows)
    seats = [
        SeatRow(
            h,
            HORIZON_LABELS.get(h, h),
            n,
            figures.capacity,
            used if h == "now" else None,
            figures.live_seats if h == "now" else None,
        )
        for h, n in figures.reserved.items()
    ]
    failures = [(r, FAILURE_LABELS.get(r, r.replace("_", " ")), n) for r, n in status.failures]
    return Dashboard(
        figures, status.ami_up, status.agi_sessions, rows, seats, status.counters, failures, status.nodes
    )


def dashboard_router(operations: Operations) -> APIRouter:
    """The dashboard's pages, over the running controller's port."""
    router = APIRouter(include_in_schema=False)

    def context(request: Request, d: Dashboard, refresh_s: int) -> dict[str, Any]:
        read_at = f"{d.booking.at.astimezone(pages(request).tz):%H:%M:%S}"
        return {"d": d, "c": d.counters, "refresh_s": refresh_s, "read_at": read_at}

    @router.get("/dashboard")
    async def dashboard(request: Request, viewer: OperatorViewer, refresh: int = REFRESH_S) -> Response:
        d = await gather(operations)
        ctx = {"title": "Operations dashboard", **context(request, d, min(300, max(2, refresh)))}
        return pages(request).render(request, "dashboard.html", ctx)

    @router.get("/dashboard/figures")
    async def dashboard_figures(request: Request, viewer: OperatorViewer) -> Response:
        d = await gather(operations)
        response = pages(request).render(request, "dashboard_figures.html", context(request, d, REFRESH_S))
        response.headers["Cache-Control"] = "no-store"
        return response

    return router
