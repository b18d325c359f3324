"""Adding, editing, deleting and copying a reservation from the panel (R20, R22-R24, R27, R32,
R48). The booking rules are the API's: the same service calls, their answers shown next to
the field they are about, the form refilled."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from booking.domain.errors import CapacityExceeded, NotFound, RuleViolation
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from booking.web.panel_base import (
    KIND_LABELS,
    BadValue,
    Organizer,
    Panel,
    PostingOrganizer,
    from_input,
    missing,
    see_other,
    to_input,
    tz_of,
)
from booking.web.panel_forms import (
    Answer,
    ReservationForm,
    capacity_answer,
    limits_hint,
    read_request,
    rule_answer,
    sentence,
)
from booking.web.render import pages

Text = Annotated[str, Form()]


def _outcome(r: Reservation, done: str) -> Response:
    """Back to the list, which says what happened (and, when booked, the codes: R22)."""
    pending = r.status is ReservationStatus.PENDING
    return see_other("/panel", done=f"{done}_pending" if pending else done, id=r.id)


def add_reservation_routes(router: APIRouter, panel: Panel) -> None:
    _add_form_routes(router, panel)
    _add_delete_routes(router, panel)
    _add_copy_routes(router, panel)


def _add_form_routes(router: APIRouter, panel: Panel) -> None:
    """Adding and editing: one form, refilled with the rules' answers next to the fields."""
    limits = limits_hint(panel.rules)

    def form_page(
        request: Request, form: ReservationForm, answer: Answer, editing: Reservation | None = None
    ) -> Response:
        context: dict[str, Any] = {
            "title": "Edit the reservation" if editing else "Add a reservation",
            "form": form,
            "errors": answer.errors,
            "suggestions": answer.suggestions,
            "kinds": [(k.value, KIND_LABELS[k], limits[k.value]) for k in KIND_LABELS],
            "editing": editing,
            "kind_label": KIND_LABELS,
            "timezone": tz_of(request).key,
        }
        return pages(request).render(request, "panel_form.html", context, answer.status_code)

    def submitted(
        request: Request, profile: int, form: ReservationForm, keep: Reservation | None
    ) -> Response:
        tz = tz_of(request)
        req, errors = read_request(form, tz, keep)
        if req is None:
            return form_page(request, form, Answer(errors), keep)
        try:
            if keep is None:
                return _outcome(panel.booking.request(profile, req), "booked")
            maximum = req.max_participants
            if maximum is None and keep.max_participants is not None:
                maximum = req.seats  # emptied: no own maximum below the seats
            edited = panel.booking.edit(
                profile,
                keep.id,
                starts_at=req.starts_at,
                ends_at=req.ends_at,
                seats=req.seats,
                max_participants=maximum,
                title=req.title,
                record=req.record,
                wait_for_moderator=req.wait_for_moderator,
                end_with_moderator=req.end_with_moderator,
            )
            return _outcome(edited, "edited")
        except NotFound:  # deleted meanwhile (another tab, the operator)
            return missing(request, keep.id if keep and keep.id else 0)
        except RuleViolation as e:
            return form_page(request, form, rule_answer(e), keep)
        except CapacityExceeded as e:
            return form_page(request, form, capacity_answer(e, tz), keep)

    @router.get("/panel/reservations/new")
    def new_page(request: Request, profile: Organizer) -> Response:
        return form_page(request, ReservationForm(), Answer())

    @router.post("/panel/reservations/new")
    def add(
        request: Request,
        profile: PostingOrganizer,
        seats: Text = "",
        kind: Text = ReservationKind.PANEL.value,
        starts_at: Text = "",
        minutes: Text = "",
        ends_at: Text = "",
        max_participants: Text = "",
        title: Text = "",
        record: Text = "",
        wait_for_moderator: Text = "",
        end_with_moderator: Text = "",
    ) -> Response:
        form = ReservationForm(
            kind, starts_at, minutes, ends_at, seats, max_participants, title, record,
            wait_for_moderator=wait_for_moderator, end_with_moderator=end_with_moderator,
        )  # fmt: skip
        return submitted(request, profile, form, None)

    @router.get("/panel/reservations/{reservation_id}/edit")
    def edit_page(request: Request, reservation_id: int, profile: Organizer) -> Response:
        try:
            r = panel.booking.get(profile, reservation_id)
        except NotFound:
            return missing(request, reservation_id)
        return form_page(request, ReservationForm.of(r, tz_of(request)), Answer(), r)

    @router.post("/panel/reservations/{reservation_id}/edit")
    def edit(
        request: Request,
        reservation_id: int,
        profile: PostingOrganizer,
        seats: Text = "",
        starts_at: Text = "",
        minutes: Text = "",
        ends_at: Text = "",
        max_participants: Text = "",
        title: Text = "",
        record: Text = "",
        wait_for_moderator: Text = "",
        end_with_moderator: Text = "",
    ) -> Response:
        try:
            r = panel.booking.get(profile, reservation_id)
        except NotFound:
            return missing(request, reservation_id)
        form = ReservationForm(
            r.kind.value, starts_at, minutes, ends_at, seats, max_participants, title, record,
            wait_for_moderator=wait_for_moderator, end_with_moderator=end_with_moderator,
        )  # fmt: skip
        return submitted(request, profile, form, r)


def _add_delete_routes(router: APIRouter, panel: Panel) -> None:
    @router.get("/panel/reservations/{reservation_id}/delete")
    def delete_page(request: Request, reservation_id: int, profile: Organizer) -> Response:
        try:
            r = panel.booking.get(profile, reservation_id)
        except NotFound:
            return missing(request, reservation_id)
        context = {"title": "Delete the reservation?", "r": r, "kind_label": KIND_LABELS}
        return pages(request).render(request, "panel_delete.html", context)

    @router.post("/panel/reservations/{reservation_id}/delete")
    def delete(request: Request, reservation_id: int, profile: PostingOrganizer) -> Response:
        try:
            panel.booking.delete(profile, reservation_id)
        except NotFound:
            return missing(request, reservation_id)
        return see_other("/panel", done="deleted")


def _add_copy_routes(router: APIRouter, panel: Panel) -> None:
    def copy_page(request: Request, r: Reservation, start: str, answer: Answer) -> Response:
        context = {
            "title": "Copy the reservation",
            "r": r,
            "starts_at": start,
            "errors": answer.errors,
            "suggestions": answer.suggestions,
            "kind_label": KIND_LABELS,
            "timezone": tz_of(request).key,
        }
        return pages(request).render(request, "panel_copy.html", context, answer.status_code)

    @router.get("/panel/reservations/{reservation_id}/copy")
    def copy_form(request: Request, reservation_id: int, profile: Organizer) -> Response:
        try:
            r = panel.booking.get(profile, reservation_id)
        except NotFound:
            return missing(request, reservation_id)
        start = ""
        if r.starts_at is not None:
            # The same time of day on the first day it can still be booked: the usual repeat.
            lead = timedelta(minutes=panel.rules.panel_min_lead_minutes + 5)
            days = max(1, math.ceil((panel.now() + lead - r.starts_at) / timedelta(days=1)))
            start = to_input(r.starts_at + timedelta(days=days), tz_of(request))
        return copy_page(request, r, start, Answer())

    @router.post("/panel/reservations/{reservation_id}/copy")
    def copy(
        request: Request, reservation_id: int, profile: PostingOrganizer, starts_at: Text = ""
    ) -> Response:
        try:
            r = panel.booking.get(profile, reservation_id)
        except NotFound:
            return missing(request, reservation_id)
        tz = tz_of(request)
        try:
            start = from_input(starts_at, tz) if starts_at.strip() else None
            return _outcome(panel.booking.copy(profile, reservation_id, start), "copied")
        except BadValue as e:
            return copy_page(request, r, starts_at, Answer({"starts_at": sentence(str(e))}))
        except RuleViolation as e:
            return copy_page(request, r, starts_at, rule_answer(e))
        except CapacityExceeded as e:
            return copy_page(request, r, starts_at, capacity_answer(e, tz))
