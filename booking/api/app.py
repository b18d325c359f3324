"""FastAPI application factory; the OpenAPI document is served at /openapi.json.

``create_app(service, operator_token)``: profile endpoints authenticate with the profile's
API token, operator endpoints with ``operator_token`` (both as ``Authorization: Bearer``).
Every request passes the guards of ``booking.api.guards`` (body, in-flight and rate limits,
a generic 500 for the unexpected).
"""

from __future__ import annotations

from fastapi import FastAPI

from booking.api import account, errors, messaging, operator, reservations
from booking.api import billing as billing_api
from booking.api import dialout as dialout_api
from booking.api import recordings as recordings_api
from booking.api.guards import install_guards
from booking.domain.clock import Clock
from booking.services.billing import BillingService
from booking.services.booking import BookingService
from booking.services.dialin import DialInService
from booking.services.dialout import DialOutService
from booking.services.messaging import MessagingService
from booking.services.recordings import RecordingService
from booking.services.usage import UsageService
from booking.settings import ApiLimits

# Without limits given: the body and in-flight caps at their defaults, no rate limits (tests of
# other things send many requests at one instant of a fake clock). ``dialconf`` always gives them.
UNTHROTTLED = ApiLimits(rate_limit=False)

DESCRIPTION = """\
Book dial-in conference rooms: each reservation gets a conference number, a PIN and an
ADMIN PIN (moderator). Requests over the standard limits wait for an operator (202, status
`pending`); a full system answers 409 with the seats still free and nearby start times.
Errors in a field answer 422 with `detail[].loc` naming the field and `detail[].msg` why.
Statements and reports give money as strings with two decimals (CZK); a month's statement is
JSON at `/api/statements/{month}` and CSV at `/api/statements/{month}.csv`.
"""


def create_app(
    service: BookingService,
    operator_token: str,
    messaging_service: MessagingService | None = None,
    sms_key: str = "",
    *,
    clock: Clock,
    dialin: DialInService,
    usage: UsageService,
    billing: BillingService | None = None,
    dialout: DialOutService | None = None,
    recordings: RecordingService | None = None,
    limits: ApiLimits | None = None,
    session_cookie: str = "",
) -> FastAPI:
    """``messaging_service``: invitees, notices, invitations, senders, and (with ``sms_key``,
    the secret Kannel presents) incoming SMS; ``billing``: statements, session reports, tariffs
    and plans; ``recordings``: the reservations' recordings. Without them those endpoints are
    absent. ``limits``: the rate limits read the ``clock``; ``session_cookie``: the web pages'
    session cookie, a credential to them."""
    if not operator_token:
        raise ValueError("an operator token is required")
    app = FastAPI(title="dialconf booking", version="0.1.0", description=DESCRIPTION)
    app.state.booking = service
    app.state.dialin = dialin
    app.state.usage = usage
    app.state.operator_token = operator_token
    errors.install(app)
    install_guards(app, limits or UNTHROTTLED, clock, session_cookie)
    app.include_router(operator.router)
    app.include_router(account.router)
    app.include_router(reservations.router)
    if messaging_service is not None:
        app.state.messaging = messaging_service
        app.state.sms_key = sms_key
        app.include_router(messaging.organizer)
        app.include_router(messaging.operator)
        if sms_key:
            app.include_router(messaging.gateway)
    if dialout is not None:
        app.state.dialout = dialout
        app.include_router(dialout_api.router)
    if recordings is not None:
        app.state.recordings = recordings
        app.include_router(recordings_api.router)
    if billing is not None:
        app.state.billing = billing
        app.include_router(billing_api.organizer)
        app.include_router(billing_api.operator)

    @app.get("/healthz", tags=["operations"], summary="Liveness probe")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
