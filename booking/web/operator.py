"""The operator's pages beside the dashboard: the queue of over-limit requests (R3, R4:
approve, or reject with a reason the requester is told) and the profiles' account plans
(R27, R45). Signed in with the operator token; every POST carries the session's CSRF token
and answers with a redirect whose query names a fixed message (post/redirect/get).

The requester hears of a decision as the API's decisions are heard of: by SMS or e-mail when the
request came by message (booking.services.notice_hook), on the panel's list otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import Response

from booking.domain.account_plans import AccountPlan
from booking.domain.bounds import text_problem
from booking.domain.errors import CapacityExceeded, NotFound
from booking.domain.model import Reservation
from booking.services.booking import BookingService
from booking.web.panel_base import KIND_LABELS, see_other
from booking.web.render import pages
from booking.web.session import OperatorViewer, PostingViewer, Viewer

REASON_MAX = 500  # what the reservation's note keeps
NAME_MAX = 100  # a profile's name in the store

DONE = {
    "approved": "The request is approved: the requester gets the access data.",
    "rejected": "The request is rejected: the requester is told the reason.",
    "full": "It cannot be approved: the shared capacity is full then. Reject it, or ask the "
    "requester for another time or fewer participants.",
    "gone": "That request no longer waits: someone decided it meanwhile, or its owner deleted it.",
    "plan_set": "The account plan is saved.",
}
PLAN_LABELS = {
    AccountPlan.PANEL: "Panel: at most 3 active rooms at once (R27)",
    AccountPlan.PROVIDER: "Provider: any number of rooms, each with its own codes (R45)",
}


def posting_operator(viewer: PostingViewer) -> Viewer:
    """The operator, for a POST whose CSRF token was checked."""
    if not viewer.operator:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the operator's page: sign in with the operator token")
    return viewer


PostingOperator = Annotated[Viewer, Depends(posting_operator)]


@dataclass(frozen=True)
class Queued:
    r: Reservation
    profile: str


def operator_router(booking: BookingService) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def queue_page(
        request: Request,
        done: str = "",
        errors: dict[int, str] | None = None,
        reasons: dict[int, str] | None = None,
    ) -> Response:
        queued = []
        for r in booking.queue():
            profile = booking.profile(r.room.profile_id)
            queued.append(Queued(r, profile.name if profile is not None else str(r.room.profile_id)))
        context: dict[str, Any] = {
            "title": "Requests waiting for an operator",
            "queued": queued,
            "kind_label": KIND_LABELS,
            "messages": [DONE[done]] if done in DONE else [],
            "errors": errors or {},
            "reasons": reasons or {},
            "reason_max": REASON_MAX,
        }
        code = status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK
        return pages(request).render(request, "operator_queue.html", context, code)

    @router.get("/operator/queue")
    def queue(request: Request, viewer: OperatorViewer, done: str = "") -> Response:
        return queue_page(request, done)

    @router.post("/operator/queue/{reservation_id}/approve")
    def approve(reservation_id: int, viewer: PostingOperator) -> Response:
        try:
            booking.approve(reservation_id)
        except NotFound:
            return see_other("/operator/queue", done="gone")
        except CapacityExceeded:
            return see_other("/operator/queue", done="full")
        return see_other("/operator/queue", done="approved")

    @router.post("/operator/queue/{reservation_id}/reject")
    def reject(
        request: Request, reservation_id: int, viewer: PostingOperator, reason: Annotated[str, Form()] = ""
    ) -> Response:
        text = reason.strip()
        problem = text_problem(text)
        if not text:
            problem = "Say why: the requester is told this reason."
        elif len(text) > REASON_MAX:
            problem = f"At most {REASON_MAX} characters."
        elif problem is not None:
            problem = f"The reason {problem}."
        if problem is not None:
            return queue_page(
                request, errors={reservation_id: problem}, reasons={reservation_id: reason[:REASON_MAX]}
            )
        try:
            booking.reject(reservation_id, text)
        except NotFound:
            return see_other("/operator/queue", done="gone")
        return see_other("/operator/queue", done="rejected")

    def accounts_page(
        request: Request, done: str = "", error: str = "", name: str = "", code: int = status.HTTP_200_OK
    ) -> Response:
        context: dict[str, Any] = {
            "title": "Account plans",
            "plans": PLAN_LABELS,
            "providers": booking.profiles_on_plan(AccountPlan.PROVIDER),
            "messages": [DONE[done]] if done in DONE else [],
            "error": error,
            "name": name,
        }
        return pages(request).render(request, "operator_accounts.html", context, code)

    @router.get("/operator/accounts")
    def accounts(request: Request, viewer: OperatorViewer, done: str = "") -> Response:
        return accounts_page(request, done)

    @router.post("/operator/accounts")
    def set_plan(
        request: Request,
        viewer: PostingOperator,
        name: Annotated[str, Form()] = "",
        plan: Annotated[str, Form()] = "",
    ) -> Response:
        wanted = name.strip()[:NAME_MAX]
        profile_id = booking.find_profile(wanted) if wanted and text_problem(wanted) is None else None
        chosen = next((p for p in AccountPlan if p.value == plan), None)
        if profile_id is None or chosen is None:
            error = "Choose a plan." if chosen is None else "No profile has this name: check its spelling."
            return accounts_page(
                request, error=error, name=wanted, code=status.HTTP_422_UNPROCESSABLE_CONTENT
            )
        booking.set_account_plan(profile_id, chosen)
        return see_other("/operator/accounts", done="plan_set")

    return router
