"""What every page of the organizer panel shares: its services, who may see it, local times,
redirects after a POST, and the answer for a reservation that is not the viewer's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse

from booking.domain.bounds import STORE_INT_MAX, moment_problem
from booking.domain.clock import Clock
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from booking.services.billing import BillingService
from booking.services.booking import BookingService
from booking.services.messaging import MessagingService
from booking.settings import BookingSettings
from booking.web.render import pages
from booking.web.session import PostingViewer, SignedIn, Viewer

INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # the value of an <input type="datetime-local">

KIND_LABELS = {  # in the order the form offers them: the panel's own kind first
    ReservationKind.PANEL: "Panel window",
    ReservationKind.ANYTIME: "Anytime",
    ReservationKind.ON_DEMAND: "On demand",
}


@dataclass(frozen=True)
class Panel:
    """The services behind the panel. Without ``messaging`` the invitee and invitation pages
    are absent (and not linked); without ``billing`` the statements are."""

    booking: BookingService
    clock: Clock
    rules: BookingSettings
    messaging: MessagingService | None = None
    billing: BillingService | None = None

    def now(self) -> datetime:
        return self.clock.now()


def _profile_of(viewer: Viewer) -> int:
    if viewer.profile_id is not None:
        return viewer.profile_id
    # A moderator signed in with a conference number and ADMIN PIN sees one conference, never
    # the profile's list; the operator has no reservations of its own. A dependency cannot
    # answer with a page, so the redirect travels as an HTTP exception.
    if viewer.reservation_id is not None:
        target = f"/panel/reservations/{viewer.reservation_id}/live"
    else:
        target = "/dashboard" if viewer.operator else "/panel/login"
    raise HTTPException(status.HTTP_303_SEE_OTHER, "the organizer's pages", headers={"Location": target})


def organizer(viewer: SignedIn) -> int:
    """The signed-in profile's id (pages that only read)."""
    return _profile_of(viewer)


def posting_organizer(viewer: PostingViewer) -> int:
    """The signed-in profile's id, for a POST whose CSRF token was checked."""
    return _profile_of(viewer)


Organizer = Annotated[int, Depends(organizer)]
PostingOrganizer = Annotated[int, Depends(posting_organizer)]


def see_other(path: str, **params: str | int) -> RedirectResponse:
    """Post/redirect/get: the answer to every successful POST. ``params`` name a fixed message
    (see ``flash``), so nothing a link carries is ever echoed into the page."""
    query = f"?{urlencode(params)}" if params else ""
    return RedirectResponse(path + query, status_code=status.HTTP_303_SEE_OTHER)


def missing(request: Request, reservation_id: int) -> HTMLResponse:
    """Another profile's reservation answers exactly like one that does not exist."""
    return pages(request).render(
        request,
        "panel_missing.html",
        {"title": "No such reservation", "reservation_id": reservation_id},
        status.HTTP_404_NOT_FOUND,
    )


def tz_of(request: Request) -> ZoneInfo:
    return pages(request).tz


def to_input(at: datetime | None, tz: ZoneInfo) -> str:
    return "" if at is None else at.astimezone(tz).strftime(INPUT_FORMAT)


class BadValue(ValueError):
    """A form value that cannot be read; its text is shown next to the field."""


def from_input(text: str, tz: ZoneInfo) -> datetime:
    """A datetime-local value, read in the service's time zone, as UTC."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BadValue("write a date and time like 2027-07-09T14:00") from None
    if naive.tzinfo is not None:
        raise BadValue("give the local time without a UTC offset")
    aware = naive.replace(tzinfo=tz)
    problem = moment_problem(aware)  # before any arithmetic: year 1 or 9999 would overflow
    if problem is not None:
        raise BadValue(problem.replace("must be", "give a date", 1))
    # A time the clocks skip in spring comes back different from a round trip through UTC.
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise BadValue(f"this time does not exist in {tz.key}: the clocks move forward then")
    return aware.astimezone(UTC)


def whole_number(text: str, least: int = 1) -> int | None:
    """An optional whole number of at least ``least`` and at most what the store holds (None
    when empty)."""
    if not text.strip():
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise BadValue("write a whole number") from None
    if value < least:
        raise BadValue(f"at least {least}")
    if value > STORE_INT_MAX:
        raise BadValue(f"at most {STORE_INT_MAX}")
    return value


def state_of(r: Reservation, now: datetime, join_lead: timedelta) -> str:
    """How the list says where a reservation stands."""
    if r.status is ReservationStatus.PENDING:
        return "Waits for an operator"
    if r.status is ReservationStatus.REJECTED:
        return "Rejected by an operator"
    if r.ends_at is not None and now >= r.ends_at:
        return "Ended"
    opens = r.opens_at(join_lead)
    if opens is None or opens <= now:
        return "Open for dialling in"
    return "Booked"
