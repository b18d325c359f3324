"""The join links and their call tokens (booking.domain.join_links, issue 20)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from booking.domain.join_links import JoinLink, JoinLinkDraft, JoinToken, JoinTokenDraft
from booking.domain.model import Role
from booking.store.join_tables import join_links, join_tokens


def _link(row: Any) -> JoinLink:
    return JoinLink(
        row.link_id, row.reservation_id, row.invitee_id, row.invitee_key, Role(row.role), row.language,
        row.created_at, id=row.id,
    )  # fmt: skip


def _token(row: Any) -> JoinToken:
    return JoinToken(
        row.token_hash, row.link_id, row.reservation_id, Role(row.role), row.issued_at, row.expires_at,
        row.name, id=row.id, used_at=row.used_at, used_by=row.used_by,
    )  # fmt: skip


class JoinLinkRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- links ---------------------------------------------------------------------------

    def add_link(self, draft: JoinLinkDraft) -> JoinLink:
        values = {**dataclasses.asdict(draft), "role": draft.role.value}
        key = self.conn.execute(insert(join_links).values(**values)).inserted_primary_key
        assert key is not None
        return JoinLink(**draft.__dict__, id=int(key[0]))

    def link(self, link_id: str) -> JoinLink | None:
        row = self.conn.execute(select(join_links).where(join_links.c.link_id == link_id)).first()
        return None if row is None else _link(row)

    def link_by_row(self, row_id: int) -> JoinLink | None:
        row = self.conn.execute(select(join_links).where(join_links.c.id == row_id)).first()
        return None if row is None else _link(row)

    def link_for(self, reservation_id: int, invitee_key: str | None, role: Role) -> JoinLink | None:
        j = join_links.c
        who = j.invitee_key.is_(None) if invitee_key is None else j.invitee_key == invitee_key
        q = select(join_links).where(j.reservation_id == reservation_id, who, j.role == role.value)
        row = self.conn.execute(q.order_by(j.id).limit(1)).first()
        return None if row is None else _link(row)

    # --- call tokens ---------------------------------------------------------------------

    def add_token(self, draft: JoinTokenDraft) -> JoinToken:
        values = {**dataclasses.asdict(draft), "role": draft.role.value}
        key = self.conn.execute(insert(join_tokens).values(**values)).inserted_primary_key
        assert key is not None
        return JoinToken(**draft.__dict__, id=int(key[0]))

    def token(self, token_hash: str) -> JoinToken | None:
        row = self.conn.execute(select(join_tokens).where(join_tokens.c.token_hash == token_hash)).first()
        return None if row is None else _token(row)

    def name_token(self, token_hash: str, name: str, now: datetime) -> bool:
        """Keep the typed name with a token not yet used nor expired."""
        t = join_tokens.c
        q = (
            update(join_tokens)
            .where(t.token_hash == token_hash, t.used_at.is_(None), t.expires_at > now)
            .values(name=name)
        )
        return bool(self.conn.execute(q).rowcount)

    def redeem(self, token_hash: str, now: datetime, used_by: str) -> JoinToken | None:
        """Mark the token used, if it is unused and unexpired: one conditional UPDATE, so of
        calls racing with the same token exactly one gets it (PostgreSQL re-checks the
        condition on the row it waited for; SQLite has one writer). None: not redeemed."""
        t = join_tokens.c
        q = (
            update(join_tokens)
            .where(t.token_hash == token_hash, t.used_at.is_(None), t.expires_at > now)
            .values(used_at=now, used_by=used_by)
        )
        if not self.conn.execute(q).rowcount:
            return None
        return self.token(token_hash)

    def prune_tokens(self, expired_before: datetime) -> int:
        """Forget tokens that expired before ``expired_before`` (used or not)."""
        q = delete(join_tokens).where(join_tokens.c.expires_at < expired_before)
        return int(self.conn.execute(q).rowcount)
