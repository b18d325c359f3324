"""Messaging endpoints: Kannel's incoming SMS, invitees, notices, invitations, senders (R12)."""

from __future__ import annotations

import secrets
from typing import Annotated

import structlog
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse

from booking.api import errors
from booking.api.auth import CurrentProfile, Operator
from booking.api.inputs import Line, ReservationId
from booking.api.messaging_schemas import (
    BlockIn,
    InvitationIn,
    InvitationOut,
    InvitationSent,
    InviteeOut,
    InviteesIn,
    LimitIn,
    NoticeOut,
    SenderIn,
    SenderOut,
)
from booking.domain.errors import BadSender
from booking.domain.messages import Channel, Inbound
from booking.services.messaging import MessagingService

log = structlog.get_logger(__name__)


def messaging(request: Request) -> MessagingService:
    svc = request.app.state.messaging
    assert isinstance(svc, MessagingService)
    return svc


Messaging = Annotated[MessagingService, Depends(messaging)]

gateway = APIRouter(tags=["sms gateway"])
organizer = APIRouter(prefix="/api/reservations", tags=["notices"], responses=errors.UNAUTHORIZED)
operator = APIRouter(
    prefix="/api/senders", tags=["operator"], dependencies=[Operator], responses=errors.UNAUTHORIZED
)


@gateway.get(
    "/sms/kannel",
    summary="An SMS from Kannel's sms-service",
    description="Kannel calls this for every incoming SMS (sender=%p, receiver=%P, text=%a, id=%I, key). "
    "The answer is 200 with an empty body: Kannel sends nothing back (omit-empty), the reply goes "
    "out through Kannel's sendsms. A message id seen before changes nothing. A sender that is no "
    "phone number (an operator's alphanumeric name) is answered the same, with nothing stored: "
    "there is nobody to reply to. Kannel 1.4 retries every answer but 200 and 202 (even 204), "
    "so only a store failure (500) is retried.",
    status_code=status.HTTP_200_OK,
    response_class=PlainTextResponse,
    responses={403: {"description": "not Kannel (wrong key)"}},
)
def sms_from_kannel(
    request: Request,
    svc: Messaging,
    # Plain text, not Line/Text: a control character or a sender that is no number must not
    # be refused with a 4xx, which Kannel would retry; the desk cleans the text and drops
    # such senders (booking.services.orders.clean, BadSender).
    sender: Annotated[str, Query(min_length=1, max_length=64)],
    text: Annotated[str, Query(max_length=2000)],
    # Kannel's %I is a UUID; the reply's outbox key ("reply:sms:<id>", 200 at most) must fit.
    id: Annotated[Line, Query(min_length=1, max_length=128)],
    key: Annotated[str, Query(max_length=200)],
    receiver: Annotated[Line, Query(max_length=64)] = "",
) -> PlainTextResponse:
    expected: str = request.app.state.sms_key
    if not expected or not secrets.compare_digest(key.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong key")
    try:
        svc.desk.handle(Inbound(Channel.SMS, sender, text, id))
    except BadSender:
        # Answered 200 with nothing stored: Kannel retries every other answer, 4xx included.
        log.warning("sms.sender_not_a_number", length=len(sender))
        return PlainTextResponse("")
    svc.wake()
    return PlainTextResponse("")  # empty: Kannel's omit-empty sends no SMS of its own


@organizer.get("/{reservation_id}/invitees", summary="Who gets notices", responses=errors.NOT_FOUND)
def get_invitees(reservation_id: ReservationId, profile: CurrentProfile, svc: Messaging) -> list[InviteeOut]:
    return [InviteeOut.of(i) for i in svc.invitees(profile.id, reservation_id)]


@organizer.put(
    "/{reservation_id}/invitees",
    summary="Set who gets notices",
    description="E-mail addresses and phone numbers (SMS is a paid option, R21). Notices go out when "
    "listed and 1 hour before the start, or once at the start when it is 6 hours or less away (R25).",
    responses={**errors.NOT_FOUND, **errors.INVALID},
)
def put_invitees(
    reservation_id: ReservationId, body: InviteesIn, profile: CurrentProfile, svc: Messaging
) -> list[InviteeOut]:
    pairs = [(i.address, i.language) for i in body.invitees]
    return [InviteeOut.of(i) for i in svc.set_invitees(profile.id, reservation_id, pairs)]


@organizer.get("/{reservation_id}/notices", summary="Notices planned and sent", responses=errors.NOT_FOUND)
def get_notices(reservation_id: ReservationId, profile: CurrentProfile, svc: Messaging) -> list[NoticeOut]:
    return [NoticeOut.of(m) for m in svc.notices(profile.id, reservation_id)]


@organizer.get(
    "/{reservation_id}/invitation", summary="The invitation e-mail (R46)", responses=errors.NOT_FOUND
)
def get_invitation(reservation_id: ReservationId, profile: CurrentProfile, svc: Messaging) -> InvitationOut:
    return InvitationOut.of(svc.invitation(profile.id, reservation_id))


@organizer.put(
    "/{reservation_id}/invitation",
    summary="Edit the invitation before it is sent",
    description="Templates may use {title}, {date}, {time}, {end_time}, {minutes}, {timezone}, {access}, "
    "{conference}, {pin}, {admin_pin}, {seats}, {service}; anything else in braces is refused (422).",
    responses={**errors.NOT_FOUND, **errors.INVALID},
)
def put_invitation(
    reservation_id: ReservationId, body: InvitationIn, profile: CurrentProfile, svc: Messaging
) -> InvitationOut:
    return InvitationOut.of(
        svc.edit_invitation(profile.id, reservation_id, body.subject, body.body, body.language)
    )


@organizer.post(
    "/{reservation_id}/invitation/send",
    summary="Send the invitation to every e-mail invitee",
    status_code=status.HTTP_202_ACCEPTED,
    responses={**errors.NOT_FOUND, **errors.INVALID},
)
def send_invitation(reservation_id: ReservationId, profile: CurrentProfile, svc: Messaging) -> InvitationSent:
    return InvitationSent(queued=svc.send_invitation(profile.id, reservation_id))


@operator.get("", summary="Senders of SMS and e-mail orders")
def list_senders(svc: Messaging, blocked: bool = False) -> list[SenderOut]:
    return [SenderOut.of(s) for s in svc.senders(blocked)]


@operator.post("/block", summary="Block a sender (R12)", responses=errors.INVALID)
def block_sender(body: BlockIn, svc: Messaging) -> SenderOut:
    sender, cancelled = svc.block(body.channel, body.address, body.note, body.cancel_bookings)
    return SenderOut.of(sender, cancelled)


@operator.post("/unblock", summary="Unblock a sender", responses=errors.INVALID)
def unblock_sender(body: SenderIn, svc: Messaging) -> SenderOut:
    return SenderOut.of(svc.unblock(body.channel, body.address))


@operator.post("/limit", summary="Set a sender's hourly message limit", responses=errors.INVALID)
def limit_sender(body: LimitIn, svc: Messaging) -> SenderOut:
    return SenderOut.of(svc.limit(body.channel, body.address, body.hourly_limit))
