"""The reservation form: what was typed, read into a booking request, and the booking rules'
answers placed next to the field they are about (the form is shown again, refilled)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from booking.domain.bounds import text_problem
from booking.domain.errors import CapacityExceeded, RuleViolation
from booking.domain.model import Reservation, ReservationKind
from booking.domain.rules import BookingRequest
from booking.settings import BookingSettings
from booking.web.panel_base import BadValue, from_input, to_input, whole_number

FIELDS = ("kind", "starts_at", "minutes", "ends_at", "seats", "max_participants", "title")
GENERAL = "form"  # an answer about no one field (e.g. the profile's room limit): shown on top
T = TypeVar("T")


@dataclass
class ReservationForm:
    """The form's fields as typed (strings), so a refused form comes back exactly as sent."""

    kind: str = ReservationKind.PANEL.value
    starts_at: str = ""
    minutes: str = ""
    ends_at: str = ""
    seats: str = ""
    max_participants: str = ""
    title: str = ""
    record: str = ""  # the checkbox: "yes" when ticked (issue 19)
    # checkboxes: "on" when ticked, "" when not (a browser sends nothing for an unticked box)
    wait_for_moderator: str = ""
    end_with_moderator: str = ""

    @classmethod
    def of(cls, r: Reservation, tz: ZoneInfo) -> ReservationForm:
        minutes = ""
        if r.starts_at is not None and r.ends_at is not None:
            minutes = str(int((r.ends_at - r.starts_at).total_seconds() // 60))
        return cls(
            r.kind.value,
            to_input(r.starts_at, tz),
            minutes,
            "",
            str(r.seats),
            "" if r.max_participants is None else str(r.max_participants),
            r.title,
            record="yes" if r.record else "",
            wait_for_moderator=_ticked(r.wait_for_moderator),
            end_with_moderator=_ticked(r.end_with_moderator),
        )


@dataclass
class Answer:
    """What the page shows about a form: a message per field, and starts that would fit."""

    errors: dict[str, str] = field(default_factory=dict)
    suggestions: list[tuple[str, str]] = field(default_factory=list)  # (input value, as shown)
    status_code: int = 422


def sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _read(errors: dict[str, str], name: str, read: Callable[[], T]) -> T | None:
    try:
        return read()
    except BadValue as e:
        errors[name] = sentence(str(e))
        return None


def read_request(
    form: ReservationForm, tz: ZoneInfo, keep: Reservation | None = None
) -> tuple[BookingRequest | None, dict[str, str]]:
    """The request the form asks for, or the messages of the fields that cannot be read.

    ``keep``: the reservation being edited; its kind stays, and a time shown unchanged keeps
    its exact value (a form has minutes only), so an edit of a started reservation is not
    held to the lead time again.
    """
    errors: dict[str, str] = {}
    kind: ReservationKind | None = keep.kind if keep is not None else None
    if kind is None:
        try:
            kind = ReservationKind(form.kind)
        except ValueError:
            errors["kind"] = "Choose one of the kinds."

    def when(text: str, kept: datetime | None) -> datetime | None:
        if not text.strip():
            return None
        if keep is not None and kept is not None and text.strip() == to_input(kept, tz):
            return kept
        return from_input(text, tz)

    start = _read(errors, "starts_at", lambda: when(form.starts_at, keep.starts_at if keep else None))
    end = _read(errors, "ends_at", lambda: when(form.ends_at, keep.ends_at if keep else None))
    minutes = _read(errors, "minutes", lambda: whole_number(form.minutes))
    seats = _read(errors, "seats", lambda: whole_number(form.seats))
    maximum = _read(errors, "max_participants", lambda: whole_number(form.max_participants))
    if seats is None and "seats" not in errors:
        errors["seats"] = "How many participants? At least 1."
    if len(form.title.strip()) > 200:
        errors["title"] = "At most 200 characters."
    elif (problem := text_problem(form.title)) is not None:
        errors["title"] = sentence(f"the title {problem}")
    if minutes is not None and end is not None:
        errors["minutes"] = "Give either a length or an end, not both."
    elif minutes is not None:
        if start is None:
            errors.setdefault("starts_at", "A length needs a start.")
        elif (
            keep is not None
            and start == keep.starts_at
            and keep.ends_at == start + timedelta(minutes=minutes)
        ):
            end = keep.ends_at
        else:
            end = start + timedelta(minutes=minutes)
    if errors or kind is None or seats is None:
        return None, errors
    request = BookingRequest(
        kind, start, end, seats, maximum, form.title.strip(), record=form.record == "yes",
        wait_for_moderator=bool(form.wait_for_moderator), end_with_moderator=bool(form.end_with_moderator),
    )  # fmt: skip
    return request, {}


def _ticked(on: bool) -> str:
    return "on" if on else ""


def rule_answer(e: RuleViolation) -> Answer:
    name = e.field if e.field in FIELDS else GENERAL
    return Answer({name: sentence(e.reason)})


def capacity_answer(e: CapacityExceeded, tz: ZoneInfo) -> Answer:
    """The refusal with what would fit: fewer seats, or another start (R7)."""
    r = e.refusal
    busiest = f"{r.busiest_at.astimezone(tz):%Y-%m-%d %H:%M}"
    fits = f"At most {r.free_seats} would fit then." if r.free_seats > 0 else "None are free then."
    errors = {
        "seats": f"{e.seats} seats do not fit: {r.peak_reserved} seats of the system are already "
        f"reserved at {busiest}. {fits}"
    }
    suggestions = [(to_input(s, tz), f"{s.astimezone(tz):%Y-%m-%d %H:%M}") for s in r.suggested_starts]
    if suggestions:
        errors["starts_at"] = f"{e.seats} seats fit at another start: see the suggestions below."
    return Answer(errors, suggestions, 409)


def limits_hint(s: BookingSettings) -> dict[str, str]:
    """What each kind allows without an operator: said on the form, before anyone is refused."""
    return {
        ReservationKind.PANEL.value: f"A window of up to {s.panel_max_window_days} days, starting "
        f"{s.panel_min_lead_minutes} minutes to {s.panel_max_ahead_days} days from now, "
        f"up to {s.panel_max_seats} participants",
        ReservationKind.ANYTIME.value: f"No date, usable until you delete it, up to {s.anytime_max_seats} "
        "participants",
        ReservationKind.ON_DEMAND.value: f"Up to {s.on_demand_max_minutes} minutes and "
        f"{s.on_demand_max_seats} participants, from now on",
    }
