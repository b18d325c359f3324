"""The organizer panel (issue 8; R20, R21, R27, R32, R41, R46, R48): a profile's reservations,
server-rendered over the same services as the REST API, signed in with the profile's token.

``panel_router(booking, messaging, billing)`` builds the pages; the web app mounts it
(``booking.web.app.install_web``). Pages are plain ``def``: the services are synchronous
SQLAlchemy, so FastAPI runs them in its threadpool. Every POST carries the session's CSRF
token and answers with a redirect (post/redirect/get); the list then says what happened.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from booking.domain.clock import Clock
from booking.domain.errors import NotFound, RuleViolation
from booking.domain.model import Reservation, ReservationStatus
from booking.domain.statement import Statement
from booking.services.billing import BillingService
from booking.services.booking import BookingService
from booking.services.messaging import MessagingService
from booking.services.recordings import RecordingService
from booking.settings import BookingSettings
from booking.web.panel_base import KIND_LABELS, Organizer, Panel, state_of, tz_of
from booking.web.panel_forms import sentence
from booking.web.panel_mail import add_mail_routes
from booking.web.panel_messages import add_message_routes
from booking.web.panel_recordings import add_recording_routes
from booking.web.panel_reservations import add_reservation_routes
from booking.web.render import pages

# What the list says after a redirect: the query names one of these, never the text itself.
DONE = {
    "booked": "Your conference is booked.",
    "booked_pending": "Your request is over the standard limits: it waits for an operator, who will "
    "confirm or refuse it (the reason is in the list). The access data follows when it is confirmed.",
    "edited": "Your changes are saved; the conference number and PINs stay the same.",
    "edited_pending": "Your changes are saved, but they are over the standard limits: the reservation "
    "waits for an operator (the reason is in the list).",
    "copied": "The copy is booked with a new conference number and PINs.",
    "copied_pending": "The copy is over the standard limits: it waits for an operator.",
    "deleted": "The reservation is deleted: its seats and conference number are free again.",
}


def panel_router(
    booking: BookingService,
    clock: Clock,
    rules: BookingSettings,
    messaging: MessagingService | None = None,
    billing: BillingService | None = None,
    recordings: RecordingService | None = None,
) -> APIRouter:
    panel = Panel(booking, clock, rules, messaging, billing)
    router = APIRouter(include_in_schema=False)
    _add_list_route(router, panel, recordings is not None)
    add_reservation_routes(router, panel)
    if messaging is not None:
        add_message_routes(router, panel, messaging)
    if billing is not None:
        _add_statement_routes(router, panel, billing)
        add_mail_routes(router, billing)  # where statements and reports are e-mailed
    if recordings is not None:
        add_recording_routes(router, panel, recordings)
    return router


def _confirmation(panel: Panel, profile: int, done: str, reservation_id: int | None) -> list[str]:
    message = DONE.get(done)
    if message is None:
        return []
    if reservation_id is None or done not in ("booked", "copied"):
        return [message]
    try:
        r = panel.booking.get(profile, reservation_id)
    except NotFound:
        return [message]
    # R22: the confirmation names the conference number, PIN and ADMIN PIN.
    room = r.room
    return [
        f"{message} Conference number {room.conference_number}, PIN {room.pin}, ADMIN PIN {room.admin_pin}."
    ]


def _add_list_route(router: APIRouter, panel: Panel, recordings_on: bool) -> None:
    @router.get("/panel")
    def reservations(request: Request, profile: Organizer, done: str = "", id: int | None = None) -> Response:
        now = panel.now()
        found = panel.booking.visible_reservations(profile)
        lead = panel.rules.join_lead
        rows = [(r, state_of(r, now, lead)) for r in sorted(found, key=_order)]
        context: dict[str, Any] = {
            "title": "Your reservations",
            "rows": rows,
            "kind_label": KIND_LABELS,
            "pending": ReservationStatus.PENDING,
            "active": ReservationStatus.ACTIVE,
            "messages": _confirmation(panel, profile, done, id),
            "highlight": id,
            "messaging_on": panel.messaging is not None,
            "billing_on": panel.billing is not None,
            "recordings_on": recordings_on,
            "this_month": f"{now.astimezone(tz_of(request)):%Y-%m}",
            "timezone": tz_of(request).key,
            "limit": panel.booking.room_limit(profile),  # None: the provider plan, any number
        }
        return pages(request).render(request, "panel_list.html", context)


def _order(r: Reservation) -> tuple[int, str]:
    """Dated ones by start, then the anytime rooms (by number)."""
    if r.starts_at is None:
        return (1, r.room.conference_number)
    return (0, r.starts_at.isoformat())


def _add_statement_routes(router: APIRouter, panel: Panel, billing: BillingService) -> None:
    """R51: the month's statement as a page, and as CSV (the API's needs a bearer token)."""

    @router.get("/panel/statements")
    def statement_page(request: Request, profile: Organizer, month: str = "") -> Response:
        tz = tz_of(request)
        chosen = month.strip() or f"{panel.now().astimezone(tz):%Y-%m}"
        errors: dict[str, str] = {}
        found: Statement | None = None
        try:
            found = billing.statement(profile, chosen)
        except RuleViolation as e:
            errors["month"] = sentence(e.reason)
        context = {
            "title": "Statements",
            "month": chosen,
            "statement": found,
            "errors": errors,
            "csv": f"/panel/statements/{chosen}.csv" if found else "",
            "timezone": tz.key,
        }
        return pages(request).render(request, "panel_statement.html", context, 422 if errors else 200)

    @router.get("/panel/statements/{month}.csv")
    def statement_csv(month: str, profile: Organizer) -> Response:
        try:
            text = billing.statement_csv(profile, month)
        except RuleViolation as e:
            return Response(sentence(e.reason) + "\n", status_code=422, media_type="text/plain")
        disposition = f'attachment; filename="statement-{month}.csv"'
        return Response(
            text, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
        )
