"""Where the organizer's statements and post-conference reports are e-mailed (R51, R53): one
form, beside the statements."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from booking.domain.errors import RuleViolation
from booking.services.billing import BillingService
from booking.web.panel_base import Organizer, PostingOrganizer, see_other
from booking.web.panel_forms import sentence
from booking.web.render import pages

ADDRESS_MAX = 254


def add_mail_routes(router: APIRouter, billing: BillingService) -> None:
    def mail_page(request: Request, profile: int, address: str | None, reports: bool | None, error: str = "",
                  done: str = "") -> Response:  # fmt: skip
        own, found = billing.mail_settings(profile)
        context: dict[str, Any] = {
            "title": "Statements and reports by e-mail",
            "address": (own or "") if address is None else address,
            "reports": found.reports if reports is None else reports,
            "sends_to": found.address,
            "errors": {"address": error} if error else {},
            "messages": ["Saved."] if done else [],
        }
        return pages(request).render(request, "panel_mail.html", context, 422 if error else 200)

    @router.get("/panel/mail")
    def mail(request: Request, profile: Organizer, done: str = "") -> Response:
        return mail_page(request, profile, None, None, done=done)

    @router.post("/panel/mail")
    def save_mail(
        request: Request,
        profile: PostingOrganizer,
        address: Annotated[str, Form()] = "",
        reports: Annotated[str, Form()] = "",
    ) -> Response:
        wants = reports == "on"
        if len(address) > ADDRESS_MAX:
            return mail_page(
                request, profile, address[:ADDRESS_MAX], wants, "An address is at most 254 characters."
            )
        try:
            billing.set_mail_settings(profile, address, wants)
        except RuleViolation as e:
            return mail_page(request, profile, address, wants, sentence(e.reason))
        return see_other("/panel/mail", done="saved")
