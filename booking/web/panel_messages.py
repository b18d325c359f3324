"""Who is told about a reservation (R21: e-mail free, SMS a paid option), the notices planned
and sent (R25, R26), and the invitation e-mail the organizer reads, edits and sends (R46)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from booking.domain.bounds import text_problem
from booking.domain.compose import TEMPLATE_NAMES
from booking.domain.errors import NotFound, RuleViolation
from booking.domain.messages import INVITATION_BODY_MAX, INVITATION_SUBJECT_MAX, Channel, Invitee, Kind
from booking.domain.texts import LANGUAGES, catalogue
from booking.services.messaging import MessagingService
from booking.web.panel_base import Organizer, Panel, PostingOrganizer, missing, see_other
from booking.web.panel_forms import sentence
from booking.web.render import pages

Text = Annotated[str, Form()]
MAX_INVITEES = 100  # as the API's body allows
# "address" or "address language": a phone number may contain spaces, so only a known
# language code at the end of the line is taken as the language.
_LINE = re.compile(r"^(?P<address>.*?)(?:[\s,;]+(?P<language>" + "|".join(LANGUAGES) + r"))?$", re.I)
PLACEHOLDERS = {
    "title": "the title (or the service and conference number)",
    "date": "the start date",
    "time": "the start time",
    "end_time": "the end time",
    "minutes": "the length in minutes",
    "timezone": "the time zone of the times",
    "access": "the access numbers to call",
    "conference": "the conference number",
    "pin": "the participants' PIN",
    "admin_pin": "the ADMIN PIN (moderator): think twice before sending it to everyone",
    "seats": "how many may take part",
    "service": "the service's name",
    "join_link": "each invitee's own link to join from a browser, without a PIN (filled per invitee)",
}
NOTICE_LABELS = {
    Kind.BOOKED: "Booked",
    Kind.REMINDER: "Reminder, 1 hour before",
    Kind.STARTING: "At the start",
    Kind.CHANGED: "Changed",
    Kind.CANCELLED: "Cancelled",
    Kind.INVITATION: "Invitation",
    Kind.CONFIRMATION: "Confirmed by an operator",
    Kind.REJECTION: "Refused by an operator",
}
assert set(PLACEHOLDERS) == TEMPLATE_NAMES, "every placeholder a template may use is described"


def _languages() -> list[tuple[str, str]]:
    return [(code, catalogue(code).name) for code in LANGUAGES]


def invitee_lines(found: list[Invitee]) -> str:
    return "\n".join(f"{i.address} {i.language}" for i in found)


def read_invitees(text: str) -> tuple[list[tuple[int, str, str | None]], str]:
    """(line number, address, language or None) per non-empty line, or what is wrong."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        problem = text_problem(line)
        if problem is not None:
            return [], f"Line {number} {problem}."
        m = _LINE.match(line.strip())
        if m is None or not m.group("address"):
            continue
        language = m.group("language")
        entries.append((number, m.group("address").strip(), language.lower() if language else None))
    if len(entries) > MAX_INVITEES:
        return [], f"At most {MAX_INVITEES} invitees."
    return entries, ""


def _unix(text: str) -> str:
    """Browsers send a textarea with CRLF line ends; the templates are kept with LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def add_message_routes(router: APIRouter, panel: Panel, messaging: MessagingService) -> None:
    _add_invitee_routes(router, panel, messaging)
    _add_invitation_routes(router, panel, messaging)


def _add_invitee_routes(router: APIRouter, panel: Panel, messaging: MessagingService) -> None:
    def invitees_page(
        request: Request, profile: int, reservation_id: int, text: str | None, error: str, done: str = ""
    ) -> Response:
        r = panel.booking.get(profile, reservation_id)
        if text is None:
            text = invitee_lines(messaging.invitees(profile, reservation_id))
        context: dict[str, Any] = {
            "title": "Invitees",
            "r": r,
            "text": text,
            "errors": {"invitees": error} if error else {},
            "notices": messaging.notices(profile, reservation_id),
            "messages": ["Invitees saved: the notices they get are listed below."] if done else [],
            "languages": _languages(),
            "sms": Channel.SMS,
            "notice_labels": NOTICE_LABELS,
        }
        return pages(request).render(request, "panel_invitees.html", context, 422 if error else 200)

    @router.get("/panel/reservations/{reservation_id}/invitees")
    def invitees(request: Request, reservation_id: int, profile: Organizer, done: str = "") -> Response:
        try:
            return invitees_page(request, profile, reservation_id, None, "", done)
        except NotFound:
            return missing(request, reservation_id)

    @router.post("/panel/reservations/{reservation_id}/invitees")
    def save_invitees(
        request: Request, reservation_id: int, profile: PostingOrganizer, invitees: Text = ""
    ) -> Response:
        entries, error = read_invitees(invitees)
        try:
            if error:
                return invitees_page(request, profile, reservation_id, invitees, error)
            messaging.set_invitees(profile, reservation_id, [(a, lang) for _, a, lang in entries])
        except NotFound:
            return missing(request, reservation_id)
        except RuleViolation as e:
            # The service names the entry ("invitees.3"); the page names the line it came from.
            index = e.field.rpartition(".")[2]
            where = (
                f"Line {entries[int(index)][0]}: " if index.isdigit() and int(index) < len(entries) else ""
            )
            return invitees_page(request, profile, reservation_id, invitees, where + sentence(e.reason))
        return see_other(f"/panel/reservations/{reservation_id}/invitees", done="saved")


def _add_invitation_routes(router: APIRouter, panel: Panel, messaging: MessagingService) -> None:
    def invitation_page(
        request: Request,
        profile: int,
        reservation_id: int,
        errors: dict[str, str] | None = None,
        typed: dict[str, str] | None = None,
        messages: list[str] | None = None,
    ) -> Response:
        r = panel.booking.get(profile, reservation_id)
        view = messaging.invitation(profile, reservation_id)
        emails = [i for i in messaging.invitees(profile, reservation_id) if i.channel is Channel.EMAIL]
        inv = view.invitation
        form = {"language": inv.language, "subject": inv.subject, "body": inv.body, **(typed or {})}
        context: dict[str, Any] = {
            "title": "Invitation",
            "r": r,
            "view": view,
            "form": form,
            "errors": errors or {},
            "emails": emails,
            "languages": _languages(),
            "placeholders": PLACEHOLDERS,
            "messages": messages or [],
        }
        return pages(request).render(request, "panel_invitation.html", context, 422 if errors else 200)

    @router.get("/panel/reservations/{reservation_id}/invitation")
    def invitation(
        request: Request, reservation_id: int, profile: Organizer, done: str = "", n: int = 0
    ) -> Response:
        said = {"saved": ["The invitation is saved: this is how it reads now."]}
        said["sent"] = [f"The invitation is on its way to {n} e-mail invitee{'s' if n != 1 else ''}."]
        try:
            return invitation_page(request, profile, reservation_id, messages=said.get(done))
        except NotFound:
            return missing(request, reservation_id)

    @router.post("/panel/reservations/{reservation_id}/invitation")
    def save_invitation(
        request: Request,
        reservation_id: int,
        profile: PostingOrganizer,
        language: Text = "",
        subject: Text = "",
        body: Text = "",
    ) -> Response:
        typed = {"language": language, "subject": subject, "body": _unix(body)}
        errors: dict[str, str] = {}
        if language not in LANGUAGES:
            errors["language"] = "Choose one of the languages."
        for name, limit in (("subject", INVITATION_SUBJECT_MAX), ("body", INVITATION_BODY_MAX)):
            problem = text_problem(typed[name], multiline=name == "body")
            if not typed[name].strip():
                errors[name] = "It cannot be empty."
            elif len(typed[name]) > limit:
                errors[name] = f"At most {limit} characters."
            elif problem is not None:
                errors[name] = sentence(f"it {problem}")
        try:
            if errors:
                return invitation_page(request, profile, reservation_id, errors, typed)
            current = messaging.invitation(profile, reservation_id).invitation
            # Texts left as they were and a new language: that language's own template.
            messaging.edit_invitation(
                profile,
                reservation_id,
                None if typed["subject"] == current.subject else typed["subject"],
                None if typed["body"] == current.body else typed["body"],
                language,
            )
        except NotFound:
            return missing(request, reservation_id)
        except RuleViolation as e:
            errors[e.field if e.field in typed else "subject"] = sentence(e.reason)
            return invitation_page(request, profile, reservation_id, errors, typed)
        return see_other(f"/panel/reservations/{reservation_id}/invitation", done="saved")

    @router.post("/panel/reservations/{reservation_id}/invitation/send")
    def send_invitation(request: Request, reservation_id: int, profile: PostingOrganizer) -> Response:
        try:
            queued = messaging.send_invitation(profile, reservation_id)
        except NotFound:
            return missing(request, reservation_id)
        except RuleViolation as e:
            return invitation_page(request, profile, reservation_id, {"send": sentence(e.reason)})
        return see_other(f"/panel/reservations/{reservation_id}/invitation", done="sent", n=queued)
