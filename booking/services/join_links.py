"""Joining from a browser without a PIN (issue 20, R42, R49): the personal links invitations
carry, the call tokens their pages mint, and the controller's redeeming of a token.

``link_in`` gives an invitee's link (made once, the same in every invitation sent);
``open`` checks a link and mints a call token for the page; ``name`` keeps the name typed on
the page with its token; ``redeem`` is the controller's check when the browser's call arrives:
the token is used up atomically, once. Every refusal is a ``JoinRefused`` with its reason
(booking.domain.join_links.JoinRefusal); a forged link or token is refused before the store is
asked, so the store's timing tells nothing about which ids exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from booking.domain.clock import Clock
from booking.domain.errors import NotFound
from booking.domain.join_links import (
    JoinLink,
    JoinLinkDraft,
    JoinRefusal,
    JoinRefused,
    JoinTokenDraft,
    Signer,
    clean_name,
    invitee_key,
    new_id,
    reservation_refusal,
    token_expiry,
    token_hash,
    token_refusal,
)
from booking.domain.messages import Invitee
from booking.domain.model import Reservation, Role
from booking.services.ports import Transaction, UnitOfWork
from booking.settings import BookingSettings

# Tokens are kept a day past their expiry (what a page or a late call was refused for), then dropped.
TOKEN_KEPT = timedelta(days=1)


@dataclass(frozen=True)
class JoinPage:
    """An opened link: what its page shows and the call token it joins with."""

    link: str
    token: str
    expires_at: datetime
    reservation: Reservation
    role: Role
    language: str


@dataclass(frozen=True)
class Redeemed:
    """A browser's call let in: into which reservation, as what, under which typed name."""

    reservation: Reservation
    role: Role
    name: str
    language: str


class JoinLinkService:
    def __init__(
        self, uow: UnitOfWork, clock: Clock, settings: BookingSettings, signer: Signer, base_url: str
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._s = settings
        self._signer = signer
        self._base = base_url.rstrip("/")

    def url(self, link: str) -> str:
        """The address an invitee opens."""
        return f"{self._base}/join/{link}"

    # --- links (invitations, the organizer) --------------------------------------------

    def link_in(self, tx: Transaction, reservation_id: int, invitee: Invitee | None, role: Role) -> str:
        """The invitee's link in this reservation (None: the organizer's), made the first time,
        inside the caller's transaction: the invitation that carries it is queued in the same one."""
        key = None if invitee is None else invitee_key(invitee.channel.value, invitee.address)
        found = tx.join_links.link_for(reservation_id, key, role)
        if found is None:
            language = (
                invitee.language if invitee is not None else self._organizer_language(tx, reservation_id)
            )
            draft = JoinLinkDraft(
                new_id(),
                reservation_id,
                invitee.id if invitee else None,
                key,
                role,
                language,
                self._clock.now(),
            )
            found = tx.join_links.add_link(draft)
        return self._signer.link(found.link_id)

    def organizer_link(self, profile_id: int, reservation_id: int) -> str:
        """The organizer's own moderator link (no invitee; NotFound for anyone else)."""
        with self._uow() as tx:
            r = tx.reservations.get_reservation(reservation_id)
            if r is None or r.room.profile_id != profile_id:
                raise NotFound(f"no reservation {reservation_id}")
            return self.link_in(tx, reservation_id, None, Role.MODERATOR)

    @staticmethod
    def _organizer_language(tx: Transaction, reservation_id: int) -> str:
        r = tx.reservations.get_reservation(reservation_id)
        profile = tx.reservations.get_profile(r.room.profile_id) if r is not None else None
        return profile.language if profile is not None else "en"

    # --- the page ----------------------------------------------------------------------

    def open(self, link: str) -> JoinPage:
        """A link opened: checked, and a fresh call token minted for its page."""
        now = self._clock.now()
        with self._uow() as tx:
            found, reservation = self._checked_link(tx, link, now)
            token_id = new_id()
            expires = token_expiry(now, self._s.join_token_lifetime)
            draft = JoinTokenDraft(token_hash(token_id), found.id, reservation.id, found.role, now, expires)
            tx.join_links.add_token(draft)
            tx.join_links.prune_tokens(now - TOKEN_KEPT)
        token = self._signer.token(token_id, expires)
        return JoinPage(link, token, expires, reservation, found.role, found.language)

    def view(self, link: str) -> tuple[Reservation, str]:
        """A link's reservation and language, checked, nothing minted (the page's polling)."""
        with self._uow(read_only=True) as tx:
            found, reservation = self._checked_link(tx, link, self._clock.now())
        return reservation, found.language

    def name(self, link: str, token: str, typed: str) -> str:
        """Keep the name typed on the page with its (unused, unexpired) token; the name kept."""
        now = self._clock.now()
        name = clean_name(typed)
        with self._uow() as tx:
            found, _ = self._checked_link(tx, link, now)
            try:
                digest = self._token_digest(token, now)
            except JoinRefused as e:
                raise JoinRefused(e.reason, language=found.language) from None
            stored = tx.join_links.token(digest)
            if stored is None or stored.link_id != found.id:
                raise JoinRefused(JoinRefusal.UNKNOWN, language=found.language)
            if not tx.join_links.name_token(digest, name, now):
                raise JoinRefused(token_refusal(stored, now) or JoinRefusal.USED, language=found.language)
        return name

    # --- the controller ----------------------------------------------------------------

    def redeem(self, token: str, used_by: str) -> Redeemed:
        """The browser's call (Asterisk unique id ``used_by``) presents ``token``: used up now,
        once, if it is good and its reservation admits now. A refusal leaves it as it was."""
        now = self._clock.now()
        digest = self._token_digest(token, now)
        with self._uow() as tx:
            used = tx.join_links.redeem(digest, now, used_by)
            if used is None:
                stored = tx.join_links.token(digest)
                link = tx.join_links.link_by_row(stored.link_id) if stored is not None else None
                reason = token_refusal(stored, now) or JoinRefusal.USED
                raise JoinRefused(reason, language=link.language if link is not None else "")
            link = tx.join_links.link_by_row(used.link_id)
            reservation = tx.reservations.get_reservation(used.reservation_id)
            if link is None or not self._listed(tx, link):
                raise JoinRefused(JoinRefusal.UNKNOWN)
            self._admits(reservation, now, link.language)
            assert reservation is not None
        return Redeemed(reservation, used.role, used.name, link.language)

    # --- the checks --------------------------------------------------------------------

    def _token_digest(self, token: str, now: datetime) -> str:
        signed = self._signer.read_token(token)
        if signed is None:
            raise JoinRefused(JoinRefusal.UNKNOWN)
        if now >= signed.expires_at:  # the signed expiry: no store read for a stale token
            raise JoinRefused(JoinRefusal.EXPIRED)
        return token_hash(signed.token_id)

    def _checked_link(self, tx: Transaction, link: str, now: datetime) -> tuple[JoinLink, Reservation]:
        link_id = self._signer.link_id(link)
        found = tx.join_links.link(link_id) if link_id is not None else None
        if found is None or not self._listed(tx, found):
            raise JoinRefused(JoinRefusal.UNKNOWN)
        reservation = tx.reservations.get_reservation(found.reservation_id)
        self._admits(reservation, now, found.language)
        assert reservation is not None
        return found, reservation

    def _admits(self, reservation: Reservation | None, now: datetime, language: str = "") -> None:
        refusal = reservation_refusal(reservation, now, self._s.join_lead)
        if refusal is not None:
            starts = reservation.starts_at if reservation is not None else None
            raise JoinRefused(refusal, starts if refusal is JoinRefusal.TOO_EARLY else None, language)

    @staticmethod
    def _listed(tx: Transaction, link: JoinLink) -> bool:
        """An invitee's link opens while their address is on the list (taken off: it is gone)."""
        if link.invitee_key is None:
            return True
        listed = tx.messages.invitees(link.reservation_id)
        return any(invitee_key(i.channel.value, i.address) == link.invitee_key for i in listed)
