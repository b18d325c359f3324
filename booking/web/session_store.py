"""Live web sessions in the booking store (booking.store.web_sessions): opened at sign-in,
read once per signed-in request, revoked at sign-out. The store keeps only a hash of each
session id."""

from __future__ import annotations

import hashlib
from datetime import datetime

from booking.domain.clock import Clock
from booking.services.ports import UnitOfWork
from booking.web.session import Viewer


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


class SessionStore:
    def __init__(self, uow: UnitOfWork, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def open(self, viewer: Viewer, expires_at: datetime) -> None:
        now = self._clock.now()
        with self._uow() as tx:
            sessions = tx.web_sessions
            sessions.prune(now)  # sessions that expired unused: their cookies are refused anyway
            sessions.open(_hash(viewer.nonce), viewer.subject, now, expires_at)

    def is_live(self, nonce: str) -> bool:
        if not nonce:
            return False
        with self._uow(read_only=True) as tx:
            return tx.web_sessions.is_live(_hash(nonce), self._clock.now())

    def revoke(self, nonce: str) -> bool:
        with self._uow() as tx:
            return tx.web_sessions.revoke(_hash(nonce))

    def revoke_subject(self, subject: str) -> int:
        """Every session of one profile, the operator, or one reservation's moderators."""
        with self._uow() as tx:
            return tx.web_sessions.revoke_subject(subject)
