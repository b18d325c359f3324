"""Live web sessions: a signed cookie is honoured only while its session is here.

The cookie carries a random session id; the store keeps its SHA-256 (a copy of the table
opens no session) with who signed in and when it expires. Signing out deletes the row, so
the old cookie is refused at once; expired rows are pruned as new sessions open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Connection, Index, String, Table, bindparam, delete, insert, select

from booking.store.tables import UtcDateTime, metadata

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("subject", String(64), nullable=False),  # profile:<id>, operator, reservation:<id>
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)
Index("ix_web_sessions_expires", web_sessions.c.expires_at)

# Read on every signed-in request: built once, one primary-key lookup.
_LIVE = select(web_sessions.c.expires_at).where(web_sessions.c.id_hash == bindparam("id_hash"))


class WebSessionRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open(self, id_hash: str, subject: str, created_at: datetime, expires_at: datetime) -> None:
        self.conn.execute(
            insert(web_sessions).values(
                id_hash=id_hash, subject=subject, created_at=created_at, expires_at=expires_at
            )
        )

    def is_live(self, id_hash: str, now: datetime) -> bool:
        expires = self.conn.execute(_LIVE, {"id_hash": id_hash}).scalar_one_or_none()
        return expires is not None and now < expires

    def revoke(self, id_hash: str) -> bool:
        return bool(self.conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash)).rowcount)

    def revoke_subject(self, subject: str) -> int:
        return int(self.conn.execute(delete(web_sessions).where(web_sessions.c.subject == subject)).rowcount)

    def prune(self, now: datetime) -> int:
        return int(self.conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now)).rowcount)
