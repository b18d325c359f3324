"""The join links and their call tokens (booking.domain.join_links, issue 20)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from booking.domain.join_links import JoinLink, JoinLinkDraft, JoinToken, JoinTokenDraft
from booking.domain.model import Role


class JoinLinks(Protocol):
    def add_link(self, draft: JoinLinkDraft) -> JoinLink: ...

    def link(self, link_id: str) -> JoinLink | None: ...

    def link_by_row(self, row_id: int) -> JoinLink | None: ...

    def link_for(self, reservation_id: int, invitee_key: str | None, role: Role) -> JoinLink | None:
        """The first link made for this invitee (None: the organizer's) in this role."""
        ...

    def add_token(self, draft: JoinTokenDraft) -> JoinToken: ...

    def token(self, token_hash: str) -> JoinToken | None: ...

    def name_token(self, token_hash: str, name: str, now: datetime) -> bool:
        """Keep the typed name with an unused, unexpired token; False otherwise."""
        ...

    def redeem(self, token_hash: str, now: datetime, used_by: str) -> JoinToken | None:
        """Atomically mark an unused, unexpired token used; None when it was not."""
        ...

    def prune_tokens(self, expired_before: datetime) -> int: ...
