"""Billing endpoints: a profile's monthly statements and session reports (R29, R51-R53), and the
operator's tariffs, rating runs and plans (R62).

A month is ``YYYY-MM``, a calendar month of the service's time zone; anything else answers 422
naming ``month``. Statements rate the month first, so they always reflect the tariff in force.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from booking.api import errors
from booking.api.auth import CurrentProfile, Operator, Service
from booking.api.billing_schemas import (
    PlanIn,
    PlanOut,
    RatingRunOut,
    ReportRowOut,
    SessionOut,
    StatementOut,
    TariffIn,
    TariffOut,
    TariffVersionOut,
)
from booking.api.inputs import ProfileId, ReservationId, SessionId
from booking.api.month_end_schemas import MailSettingsIn, MailSettingsOut, MonthEndIn, MonthEndRunOut
from booking.api.schemas import MessageOut, ValidationErrorOut
from booking.domain.errors import NotFound
from booking.services.billing import BillingService
from booking.services.month_end import MonthEndService


def billing(request: Request) -> BillingService:
    svc = request.app.state.billing
    assert isinstance(svc, BillingService)
    return svc


Billing = Annotated[BillingService, Depends(billing)]

organizer = APIRouter(prefix="/api", tags=["billing"], responses=errors.UNAUTHORIZED)
operator = APIRouter(
    prefix="/api", tags=["operator", "billing"], dependencies=[Operator], responses=errors.UNAUTHORIZED
)

BAD_MONTH: errors.Responses = {
    422: {"model": ValidationErrorOut, "description": "the month is not YYYY-MM (loc names `month`)"}
}
NO_PROFILE: errors.Responses = {404: {"model": MessageOut, "description": "no such profile"}}
CSV: errors.Responses = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "one row per leg, then the totals; served as an attachment",
    }
}


def csv_response(text: str, filename: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# --- the organizer's own (profile token) ---------------------------------------------------


# Declared before /statements/{month}: that path would otherwise take "2027-03.csv" as a month.
@organizer.get(
    "/statements/{month}.csv",
    summary="The month's statement as CSV",
    description="The statement of `GET /api/statements/{month}` for a spreadsheet or an accounting "
    "import: a header row, one row per participant leg (caller numbers kept as text), then one row "
    "per total (`total:usage_net` ... `total:gross`). Sent as `statement-<month>.csv`.",
    response_class=Response,
    responses={**CSV, **BAD_MONTH},
)
def statement_csv(month: str, profile: CurrentProfile, svc: Billing) -> Response:
    return csv_response(svc.statement_csv(profile.id, month), f"statement-{month}.csv")


@organizer.get(
    "/statements/{month}",
    summary="The month's statement",
    description="What the profile's conferences cost in a calendar month (service time zone): one "
    "line per session billed per participant-minute by the profile's plan, the plan's monthly "
    "minimum as a top-up, VAT, and what the callers' carriers bill them, for information (R51, R52). "
    "Money is a string with two decimals. For CSV ask for `/api/statements/{month}.csv`.",
    responses=BAD_MONTH,
)
def statement(month: str, profile: CurrentProfile, svc: Billing) -> StatementOut:
    return StatementOut.of(svc.statement(profile.id, month))


@organizer.get(
    "/reservations/{reservation_id}/sessions",
    summary="The reservation's sessions",
    description="Each time the conference was held (R29): its id, first join and participant legs.",
    responses=errors.NOT_FOUND,
)
def sessions(reservation_id: ReservationId, profile: CurrentProfile, svc: Billing) -> list[SessionOut]:
    return [
        SessionOut(session_id=sid, started_at=at, legs=n)
        for sid, at, n in svc.sessions(profile.id, reservation_id)
    ]


@organizer.get(
    "/reservations/{reservation_id}/sessions/{session_id}/report",
    summary="Post-conference report of a session",
    description="Every participant leg (R53): caller number, role, recorded name, joined and left, "
    "how it ended, seconds, billed seconds, the organizer's amount and the caller's own connection "
    "charge.",
    responses=errors.NOT_FOUND,
)
def session_report(
    reservation_id: ReservationId, session_id: SessionId, profile: CurrentProfile, svc: Billing
) -> list[ReportRowOut]:
    return [ReportRowOut.of(row) for row in svc.session_report(profile.id, reservation_id, session_id)]


# --- the operator's (operator token) -------------------------------------------------------


@operator.get("/tariff", summary="The tariff in force", description="Its version and its TOML text.")
def get_tariff(svc: Billing) -> TariffOut:
    version, text = svc.tariff_text()
    return TariffOut(version=version, text=text)


@operator.put(
    "/tariff",
    summary="Load a new tariff version",
    description="The whole file, validated first (a bad file changes nothing; 422 names the entry at "
    "fault). A price change must start at least 31 days ahead (R62); a correction of prices in force "
    "needs `fix: true`, then re-rate the months it touches. Earlier versions are kept.",
    responses=errors.INVALID,
)
def put_tariff(body: TariffIn, svc: Billing) -> TariffVersionOut:
    return TariffVersionOut(version=svc.load_tariff(body.text, body.note, fix=body.fix))


@operator.post(
    "/billing/{month}/rate",
    summary="Rate a month",
    description="Rates every closed leg that joined in the month with the tariff in force. Idempotent: "
    "a second run changes nothing; after a tariff fix only the legs it prices differently.",
    responses=BAD_MONTH,
)
def rate_month(month: str, svc: Billing) -> RatingRunOut:
    return RatingRunOut.of(svc.rate_month(month))


@operator.put(
    "/profiles/{profile_id}/plan",
    summary="Set a profile's plan",
    description="A plan of the tariff (the default has `on_demand` and `professional`, R51).",
    responses={**NO_PROFILE, **errors.INVALID},
)
def set_plan(profile_id: ProfileId, body: PlanIn, svc: Billing) -> PlanOut:
    svc.set_plan(profile_id, body.plan)
    return PlanOut(profile_id=profile_id, plan=svc.plan_name(profile_id))


@operator.get(
    "/profiles/{profile_id}/statements/{month}",
    summary="Any profile's statement",
    description="As `GET /api/statements/{month}` for the profile.",
    responses={**NO_PROFILE, **BAD_MONTH},
)
def profile_statement(profile_id: ProfileId, month: str, svc: Billing, booking: Service) -> StatementOut:
    if booking.profile(profile_id) is None:
        raise NotFound(f"no profile {profile_id}")
    return StatementOut.of(svc.statement(profile_id, month))


# --- where statements and reports are e-mailed; the month-end run (R51, R53) ---------------


@organizer.get(
    "/me/mail",
    summary="Where the profile's statements and reports are e-mailed",
    description="The profile's own address (if set), where mail goes now, and whether the "
    "post-conference report is e-mailed after each session.",
)
def my_mail(profile: CurrentProfile, svc: Billing) -> MailSettingsOut:
    return MailSettingsOut.of(*svc.mail_settings(profile.id))


@organizer.put(
    "/me/mail",
    summary="Set where statements and reports are e-mailed",
    description="`address` (null or empty: the address the profile orders by e-mail from) and "
    "`reports`: the post-conference report by e-mail after each session (R53).",
    responses=errors.INVALID,
)
def set_my_mail(body: MailSettingsIn, profile: CurrentProfile, svc: Billing) -> MailSettingsOut:
    svc.set_mail_settings(profile.id, body.address, body.reports)
    return MailSettingsOut.of(*svc.mail_settings(profile.id))


@operator.put(
    "/profiles/{profile_id}/mail",
    summary="Set a profile's mail settings",
    description="As `PUT /api/me/mail` for the profile.",
    responses={**NO_PROFILE, **errors.INVALID},
)
def set_profile_mail(profile_id: ProfileId, body: MailSettingsIn, svc: Billing) -> MailSettingsOut:
    svc.set_mail_settings(profile_id, body.address, body.reports)
    return MailSettingsOut.of(*svc.mail_settings(profile_id))


def month_end(request: Request) -> MonthEndService:
    svc = getattr(request.app.state, "month_end", None)
    if not isinstance(svc, MonthEndService):
        raise NotFound("the month-end run is not served by this process")
    return svc


@operator.post(
    "/billing/{month}/month-end",
    summary="Run (or resume) a month's month-end",
    description="Rates the month, builds each organizer's statement and queues its e-mail with the "
    "PDF and the CSV. A finished run changes nothing unless `again`; a run that did not finish "
    "resumes where it stopped. Nobody is mailed twice by one revision.",
    responses={**BAD_MONTH, **NO_PROFILE},
)
def run_month_end(
    month: str, svc: Annotated[MonthEndService, Depends(month_end)], body: MonthEndIn | None = None
) -> MonthEndRunOut:
    return MonthEndRunOut.of(svc.run(month, again=body is not None and body.again))
