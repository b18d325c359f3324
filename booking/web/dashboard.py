"""The operator's operations dashboard (issue 8): ``GET /dashboard``.

Live conferences and members come from the controller's own state, the counters from its
Prometheus registry (the figures a scrape would give), and the seats and PIN lockouts from the
booking store, read in a worker thread. The handlers are ``async`` on purpose: they run on the
controller's event loop, the only place its live state may be read. The page refreshes its
figures every few seconds with a small script (a fragment from ``/dashboard/figures``); without
script, a link reloads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import Counter

from booking.services.booking import BookingService
from booking.services.figures import BookingFigures, BookingGauges
from booking.web.render import Pages, pages
from booking.web.session import OperatorViewer
from conference_ivr.controller import Controller
from conference_ivr.metrics import JOIN_FAILURE_REASONS, Metrics
from conference_ivr.pbx import names

TEMPLATES = Path(str(resources.files("booking.web").joinpath("templates")))
REFRESH_S = 10  # default seconds between updates; ?refresh=N picks another (2 to 300)

FAILURE_LABELS = {
    "bad_credentials": "Wrong conference number or PIN, every try used",
    "pin_throttled": "Conference under PIN guessing, caller unknown to it",
    "pin_locked": "Caller number locked out (PIN guessing)",
    "too_early": "Too early",
    "over": "Reservation over",
    "locked": "Conference locked",
    "full": "Conference full",
    "no_input": "No key pressed",
    "hangup": "Hung up before joining",
    "unavailable": "Service unavailable (an error)",
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

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.reserved)


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

    @property
    def members(self) -> int:
        return sum(row.members for row in self.live)

    @property
    def moderators(self) -> int:
        return sum(row.moderators for row in self.live)


def _by_label(counter: Counter, label: str) -> dict[str, float]:
    samples = (s for m in counter.collect() for s in m.samples if s.name.endswith("_total"))
    return {s.labels[label]: s.value for s in samples}


def _total(counter: Counter) -> float:
    return sum(s.value for m in counter.collect() for s in m.samples if s.name.endswith("_total"))


def counters(metrics: Metrics) -> dict[str, float]:
    """The counters the page shows, by the name it uses for them (since the controller started)."""
    m = metrics
    joins, ext = _by_label(m.joins, "role"), _by_label(m.extensions, "result")
    return {
        "calls": _total(m.calls),
        "joins_participant": joins.get("participant", 0.0),
        "joins_moderator": joins.get("moderator", 0.0),
        "pin_lockout_refusals": _total(m.pin_lockouts),
        "extensions_granted": ext.get("granted", 0.0),
        "extensions_denied": ext.get("denied", 0.0),
        "ended_at_booked_end": _total(m.terminations),
        "ended_by_moderator": _total(m.moderator_ends),
        "mobile_cap_cuts": _total(m.mobile_cuts),
        "ami_reconnects": _total(m.ami_reconnects),
    }


def failures(metrics: Metrics) -> list[tuple[str, str, float]]:
    seen = _by_label(metrics.join_failures, "reason")
    reasons = [*JOIN_FAILURE_REASONS, *sorted(set(seen) - set(JOIN_FAILURE_REASONS))]
    return [(r, FAILURE_LABELS.get(r, r.replace("_", " ")), seen.get(r, 0.0)) for r in reasons]


async def gather(controller: Controller, gauges: BookingGauges) -> Dashboard:
    live = controller.live
    # Copied before the first await: the state may change while the store is read.
    rooms = {
        number: sorted(uids)
        for bridge, uids in live.members.items()
        if uids and (number := names.parse_bridge_name(bridge)) is not None
    }
    admins = {uid for uid, (_channel, admin, _order) in live.channels.items() if admin}
    figures = await gauges.refresh(rooms)
    rows = []
    for number, uids in sorted(rooms.items()):
        r = figures.running.get(number)
        moderators = sum(1 for u in uids if u in admins)
        rows.append(LiveRow(number, len(uids), moderators, r.seats if r else None, r.ends_at if r else None))
    used = sum(row.members for row in rows)
    seats = [
        SeatRow(h, HORIZON_LABELS.get(h, h), n, figures.capacity, used if h == "now" else None)
        for h, n in figures.reserved.items()
    ]
    return Dashboard(
        figures,
        controller.ami.ready,
        controller.agi.active_sessions,
        rows,
        seats,
        counters(controller.metrics),
        failures(controller.metrics),
    )


def dashboard_router(booking: BookingService, controller: Controller) -> APIRouter:
    """The dashboard's pages; also keeps the seat and lockout gauges of /metrics fresh, as a
    job beside the controller (the booking store is wired in here, with the web pages)."""
    gauges = BookingGauges(booking, controller.metrics)
    controller.run_beside("booking_gauges", gauges.run)
    router = APIRouter(include_in_schema=False)
    own: list[Pages] = []

    def view(request: Request) -> Pages:
        # The web foundation's time zone, plus this folder in front of its templates.
        if not own:
            own.append(Pages(pages(request).tz, (TEMPLATES,)))
        return own[0]

    def context(request: Request, d: Dashboard, refresh_s: int) -> dict[str, Any]:
        read_at = f"{d.booking.at.astimezone(view(request).tz):%H:%M:%S}"
        return {"d": d, "c": d.counters, "refresh_s": refresh_s, "read_at": read_at}

    @router.get("/dashboard")
    async def dashboard(request: Request, viewer: OperatorViewer, refresh: int = REFRESH_S) -> Response:
        d = await gather(controller, gauges)
        ctx = {"title": "Operations dashboard", **context(request, d, min(300, max(2, refresh)))}
        return view(request).render(request, "dashboard.html", ctx)

    @router.get("/dashboard/figures")
    async def dashboard_figures(request: Request, viewer: OperatorViewer) -> Response:
        d = await gather(controller, gauges)
        response = view(request).render(request, "dashboard_figures.html", context(request, d, REFRESH_S))
        response.headers["Cache-Control"] = "no-store"
        return response

    return router
