"""Who may get in: the PIN guard's counters (dial-in and the web's moderator sign-in) and the
web's live sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from booking.domain.pin_guard import Attempts


class PinAttempts(Protocol):
    """Wrong-guess counters by key (caller:N, conference:N, web:A, web-conference:N)."""

    def serialise(self) -> None:
        """Hold the counters' lock until the transaction ends: a wrong guess is answered from
        the count every earlier guess left."""
        ...

    def get_many(self, keys: list[str]) -> list[Attempts]:
        """The counters of these keys, in their order (a key never counted: no failures)."""
        ...

    def put(self, a: Attempts) -> None: ...

    def clear(self, key: str) -> bool:
        """Forget a key's counter; whether there was one."""
        ...

    def prune(self, started_before: datetime, now: datetime) -> int:
        """Forget counters whose window started before ``started_before`` and that hold nothing."""
        ...

    def locked(self, now: datetime) -> list[Attempts]:
        """Counters holding a lockout (a caller) or a throttle (a conference) now, by key."""
        ...


class WebSessions(Protocol):
    """A signed cookie is honoured only while its session is here."""

    def open(self, id_hash: str, subject: str, created_at: datetime, expires_at: datetime) -> None: ...

    def is_live(self, id_hash: str, now: datetime) -> bool: ...

    def revoke(self, id_hash: str) -> bool: ...

    def revoke_subject(self, subject: str) -> int:
        """End every session of ``subject``; how many there were."""
        ...

    def prune(self, now: datetime) -> int:
        """Forget expired sessions; how many."""
        ...
