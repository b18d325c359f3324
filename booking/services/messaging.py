"""Messaging use cases for the API and the CLI: invitees, invitations, notices, senders (R12)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from booking.domain.addresses import invitee_for, normalise_sender
from booking.domain.clock import Clock
from booking.domain.compose import Composer, unknown_names
from booking.domain.errors import AddressError, NotFound, RuleViolation
from booking.domain.messages import (
    Channel,
    Invitation,
    Invitee,
    InviteeDraft,
    Kind,
    Message,
    MessageDraft,
    Sender,
)
from booking.domain.model import Change, Reservation, ReservationStatus, Role
from booking.domain.texts import Texts
from booking.services.booking import BookingService
from booking.services.dispatcher import Dispatcher
from booking.services.join_links import JoinLinkService
from booking.services.notices import NoticePlanner
from booking.services.orders import OrderDesk
from booking.services.ports import UnitOfWork
from booking.settings import BookingSettings


@dataclass(frozen=True)
class InvitationView:
    invitation: Invitation
    subject: str  # filled in with the reservation's values, as it would be sent now
    body: str


class MessagingService:
    def __init__(
        self,
        booking: BookingService,
        uow: UnitOfWork,
        clock: Clock,
        rules: BookingSettings,
        composer: Composer,
        planner: NoticePlanner,
        desk: OrderDesk,
        dispatcher: Dispatcher | None = None,
        join_links: JoinLinkService | None = None,
    ) -> None:
        self.booking = booking
        self._uow = uow
        self._clock = clock
        self._rules = rules
        self.composer = composer
        self.desk = desk
        self.dispatcher = dispatcher
        self._planner = planner
        self._join_links = join_links  # each invitee's {join_link} (issue 20)

    def wake(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.wake()

    # --- invitees (R21) ---------------------------------------------------------------------

    def invitees(self, profile_id: int, reservation_id: int) -> list[Invitee]:
        self.booking.get(profile_id, reservation_id)  # 404 unless it is this profile's
        with self._uow(read_only=True) as tx:
            return tx.messages.invitees(reservation_id)

    def set_invitees(
        self, profile_id: int, reservation_id: int, addresses: Sequence[tuple[str, str | None]]
    ) -> list[Invitee]:
        """Replace the list: (address, language or None for the profile's). Notices follow."""
        self.booking.get(profile_id, reservation_id)  # 404 unless it is this profile's
        language = self._language(profile_id)
        region = self._rules.phone_region
        wanted: list[InviteeDraft] = []
        for n, (address, lang) in enumerate(addresses):
            try:
                wanted.append(invitee_for(address, lang or language, region))
            except AddressError as e:
                raise RuleViolation(f"invitees.{n}", str(e), "bad_address") from e
        now = self._clock.now()
        with self._uow() as tx:
            found = tx.messages.replace_invitees(reservation_id, wanted, now)
            current = tx.reservations.get_reservation(reservation_id)
            assert current is not None
            self._planner(tx, Change(current, current), now)
        self.wake()
        return found

    def notices(self, profile_id: int, reservation_id: int) -> list[Message]:
        self.booking.get(profile_id, reservation_id)
        with self._uow(read_only=True) as tx:
            return [m for m in tx.messages.messages_for(reservation_id) if m.kind is not Kind.REPLY]

    # --- the invitation e-mail (R46) ---------------------------------------------------------

    def invitation(self, profile_id: int, reservation_id: int) -> InvitationView:
        r = self.booking.get(profile_id, reservation_id)
        with self._uow(read_only=True) as tx:
            stored = tx.messages.invitation(reservation_id)
        inv = stored or self._default_invitation(r, self._language(profile_id))
        return self._view(inv, r)

    def edit_invitation(
        self,
        profile_id: int,
        reservation_id: int,
        subject: str | None,
        body: str | None,
        language: str | None,
    ) -> InvitationView:
        current = self.invitation(profile_id, reservation_id).invitation
        if language is not None and language != current.language and subject is None and body is None:
            # A new language without own texts: that language's template.
            r = self.booking.get(profile_id, reservation_id)
            current = self._default_invitation(r, language)
        for name, text in (("subject", subject), ("body", body)):
            if text is not None and unknown_names(text):
                names = ", ".join("{" + n + "}" for n in unknown_names(text))
                raise RuleViolation(name, f"unknown placeholders {names}", "unknown_placeholder")
        edited = Invitation(
            reservation_id,
            language or current.language,
            subject if subject is not None else current.subject,
            body if body is not None else current.body,
            self._clock.now(),
            current.sent_at,
        )
        with self._uow() as tx:
            tx.messages.put_invitation(edited)
        return self.invitation(profile_id, reservation_id)

    def send_invitation(self, profile_id: int, reservation_id: int) -> int:
        """Queue the invitation to every e-mail invitee; how many. R46 invitations are e-mails."""
        view = self.invitation(profile_id, reservation_id)
        r = self.booking.get(profile_id, reservation_id)
        if r.status is not ReservationStatus.ACTIVE:
            raise RuleViolation("status", "only a confirmed reservation can be announced", "not_active")
        now = self._clock.now()
        with self._uow() as tx:
            store = tx.messages
            targets = [i for i in store.invitees(reservation_id) if i.channel is Channel.EMAIL]
            if not targets:
                raise RuleViolation("invitees", "no e-mail invitees: add some first", "no_invitees")
            t = Texts(view.invitation.language)
            for i in targets:
                key = f"inv:{reservation_id}:{i.id}:{now:%Y%m%dT%H%M%S%f}"
                subject, body = view.subject, view.body
                if self._join_links is not None:  # the invitee's own link, made once (issue 20)
                    link = self._join_links.link_in(tx, reservation_id, i, Role.PARTICIPANT)
                    extra = {"join_link": self._join_links.url(link)}
                    subject = self.composer.fill(view.invitation.subject, r, t, extra)
                    body = self.composer.fill(view.invitation.body, r, t, extra)
                store.enqueue(
                    MessageDraft(
                        key,
                        Channel.EMAIL,
                        i.address,
                        view.invitation.language,
                        Kind.INVITATION,
                        now,
                        reservation_id,
                        i.id,
                        subject,
                        body,
                    ),
                    now,
                )
            sent = view.invitation
            store.put_invitation(
                Invitation(sent.reservation_id, sent.language, sent.subject, sent.body, sent.edited_at, now)
            )
        self.wake()
        return len(targets)

    def _default_invitation(self, r: Reservation, language: str) -> Invitation:
        subject, body = self.composer.invitation_template(Texts(language))
        return Invitation(r.id, Texts(language).language, subject, body)

    def _view(self, inv: Invitation, r: Reservation) -> InvitationView:
        t = Texts(inv.language)
        return InvitationView(inv, self.composer.fill(inv.subject, r, t), self.composer.fill(inv.body, r, t))

    def _language(self, profile_id: int) -> str:
        with self._uow(read_only=True) as tx:
            profile = tx.reservations.get_profile(profile_id)
        return profile.language if profile is not None else "en"

    # --- price changes (R62) -----------------------------------------------------------------

    def announce_price_change(self, version: int, starts: date, changes: list[str]) -> int:
        """Tell every customer who orders by SMS (and is not blocked) of a price change; how many.
        Once per tariff version and number, whatever happens to this call."""
        now = self._clock.now()
        sent = 0
        with self._uow() as tx:
            store = tx.messages
            for s in store.senders():
                if s.channel is not Channel.SMS or s.blocked:
                    continue
                t = Texts(s.language)
                text = t(
                    "notice.sms_price_change",
                    service=self.composer.service_name,
                    date=t.date(datetime.combine(starts, datetime.min.time())),
                    changes="; ".join(changes),
                )
                sent += store.enqueue(
                    MessageDraft(
                        f"price:{version}:{s.address}",
                        Channel.SMS,
                        s.address,
                        s.language,
                        Kind.PRICE_CHANGE,
                        now,
                        body=text,
                    ),
                    now,
                )
        self.wake()
        return sent

    # --- senders (R12) -----------------------------------------------------------------------

    def senders(self, blocked_only: bool = False) -> list[Sender]:
        with self._uow(read_only=True) as tx:
            return tx.messages.senders(blocked_only)

    def _update_sender(self, channel: Channel, address: str, **values: object) -> Sender:
        normal = self._address(channel, address)
        with self._uow() as tx:
            store = tx.messages
            if store.sender(channel, normal) is None:
                now = self._clock.now()
                profile = tx.reservations.profile_id(f"{channel.value}:{normal}", now)
                store.add_sender(Sender(channel, normal, profile, self.desk_language, now))
            store.update_sender(channel, normal, **values)
            found = store.sender(channel, normal)
            assert found is not None
            return found

    @property
    def desk_language(self) -> str:
        return self.desk.default_language

    def _address(self, channel: Channel, address: str) -> str:
        try:
            return normalise_sender(channel, address, self._rules.phone_region)
        except AddressError as e:
            raise RuleViolation("address", str(e), "bad_address") from e

    def block(
        self, channel: Channel, address: str, note: str = "", cancel_bookings: bool = False
    ) -> tuple[Sender, list[int]]:
        """Block a sender (one polite refusal, then silence); optionally cancel its bookings
        (their invitees are told). Returns the sender and the reservations cancelled."""
        sender = self._update_sender(channel, address, blocked=True, refusal_sent=False, note=note[:200])
        cancelled: list[int] = []
        if cancel_bookings:
            for r in self.booking.visible_reservations(sender.profile_id):
                if r.status in (ReservationStatus.ACTIVE, ReservationStatus.PENDING):
                    try:
                        self.booking.cancel(r.id)
                    except NotFound:
                        continue
                    cancelled.append(r.id)
        return sender, cancelled

    def unblock(self, channel: Channel, address: str) -> Sender:
        return self._update_sender(channel, address, blocked=False, refusal_sent=False)

    def limit(self, channel: Channel, address: str, hourly_limit: int | None) -> Sender:
        if hourly_limit is not None and hourly_limit < 0:
            raise RuleViolation("hourly_limit", "0 or more (or none for the default)", "bad_limit")
        return self._update_sender(channel, address, hourly_limit=hourly_limit)
