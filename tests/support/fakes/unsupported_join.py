"""The join links are not held by the fakes: their tests run on the SQL store (both backends)."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn

from booking.domain.join_links import JoinLink, JoinLinkDraft, JoinToken, JoinTokenDraft
from booking.domain.model import Role


def _unsupported() -> NoReturn:
    raise NotImplementedError("the fake unit of work holds no join links: test them against the SQL store")


class UnsupportedJoinLinks:
    def add_link(self, draft: JoinLinkDraft) -> JoinLink:
        _unsupported()

    def link(self, link_id: str) -> JoinLink | None:
        _unsupported()

    def link_by_row(self, row_id: int) -> JoinLink | None:
        _unsupported()

    def link_for(self, reservation_id: int, invitee_key: str | None, role: Role) -> JoinLink | None:
        _unsupported()

    def add_token(self, draft: JoinTokenDraft) -> JoinToken:
        _unsupported()

    def token(self, token_hash: str) -> JoinToken | None:
        _unsupported()

    def name_token(self, token_hash: str, name: str, now: datetime) -> bool:
        _unsupported()

    def redeem(self, token_hash: str, now: datetime, used_by: str) -> JoinToken | None:
        _unsupported()

    def prune_tokens(self, expired_before: datetime) -> int:
        _unsupported()
