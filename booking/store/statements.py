"""The month-end run's progress, the profiles' mail settings and the paid SMS notices sent (R21,
R51, R53); and the files attached to outbox e-mails."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, union, update

from booking.domain.messages import Attachment, Channel, Status
from booking.domain.month_end import MonthEndRun, OrganizerProgress, ProfileMail
from booking.domain.rating import PaidSms
from booking.store.billing_tables import rated_legs
from booking.store.messaging_tables import outbox, senders
from booking.store.statement_tables import month_end_runs, month_end_statements, outbox_attachments
from booking.store.tables import profiles, reservations, rooms


def _run(row: Any) -> MonthEndRun:
    return MonthEndRun(row.month, row.revision, row.started_at, row.finished_at, row.statements, row.mailed)


class StatementRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- where a profile's mail goes -------------------------------------------------------

    def profile_mail(self, profile_id: int) -> ProfileMail | None:
        p = self.conn.execute(select(profiles).where(profiles.c.id == profile_id)).first()
        if p is None:
            return None
        address = p.mail_address
        if address is None:  # an organizer who orders by e-mail is answered at that address
            q = select(senders.c.address).where(
                senders.c.profile_id == profile_id, senders.c.channel == Channel.EMAIL.value
            )
            address = self.conn.execute(q.order_by(senders.c.created_at).limit(1)).scalar_one_or_none()
        return ProfileMail(p.id, p.name, p.language, address, bool(p.mail_reports))

    def set_profile_mail(self, profile_id: int, address: str | None, reports: bool) -> bool:
        q = update(profiles).where(profiles.c.id == profile_id)
        return bool(self.conn.execute(q.values(mail_address=address, mail_reports=reports)).rowcount)

    def own_mail_address(self, profile_id: int) -> str | None:
        q = select(profiles.c.mail_address).where(profiles.c.id == profile_id)
        value = self.conn.execute(q).scalar_one_or_none()
        return None if value is None else str(value)

    # --- the month's run and each organizer's progress ---------------------------------------

    def run(self, month: str) -> MonthEndRun | None:
        row = self.conn.execute(select(month_end_runs).where(month_end_runs.c.month == month)).first()
        return None if row is None else _run(row)

    def put_run(self, run: MonthEndRun) -> None:
        values = {
            "revision": run.revision,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "statements": run.statements,
            "mailed": run.mailed,
        }
        done = self.conn.execute(
            update(month_end_runs).where(month_end_runs.c.month == run.month).values(**values)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(month_end_runs).values(month=run.month, **values))

    def progress(self, month: str, profile_id: int) -> OrganizerProgress | None:
        t = month_end_statements
        row = self.conn.execute(select(t).where(t.c.month == month, t.c.profile_id == profile_id)).first()
        if row is None:
            return None
        return OrganizerProgress(
            row.month, row.profile_id, row.revision, row.built_at, row.net, row.gross, row.recipient
        )

    def put_progress(self, p: OrganizerProgress) -> None:
        t = month_end_statements
        self.conn.execute(delete(t).where(t.c.month == p.month, t.c.profile_id == p.profile_id))
        self.conn.execute(
            insert(t).values(
                month=p.month,
                profile_id=p.profile_id,
                revision=p.revision,
                built_at=p.built_at,
                net=p.net,
                gross=p.gross,
                recipient=p.recipient,
            )
        )

    def progress_of(self, month: str) -> list[OrganizerProgress]:
        t = month_end_statements
        q = select(t.c.profile_id).where(t.c.month == month).order_by(t.c.profile_id)
        return [p for pid in self.conn.execute(q).scalars() if (p := self.progress(month, pid)) is not None]

    # --- who is billed for a month ------------------------------------------------------------

    def billed_profiles(self, month: str, since: datetime, until: datetime) -> list[int]:
        """Profiles with rated legs in ``month`` or paid SMS notices sent in [since, until)."""
        legs = select(rated_legs.c.profile_id.label("pid")).where(
            rated_legs.c.month == month, rated_legs.c.profile_id.is_not(None)
        )
        sms = self._paid_sms_query(since, until).with_only_columns(rooms.c.profile_id.label("pid"))
        found = union(legs, sms).subquery()
        return sorted(int(v) for v in self.conn.execute(select(found.c.pid)).scalars())

    def paid_sms(self, since: datetime, until: datetime, profile_id: int) -> list[PaidSms]:
        q = self._paid_sms_query(since, until).where(rooms.c.profile_id == profile_id)
        return [
            PaidSms(r.id, r.profile_id, r.reservation_id, r.recipient, r.sent_at)
            for r in self.conn.execute(q.order_by(outbox.c.sent_at, outbox.c.id))
        ]

    @staticmethod
    def _paid_sms_query(since: datetime, until: datetime) -> Any:
        """Sent, paid SMS of a reservation, with the profile that owns the reservation."""
        return (
            select(
                outbox.c.id, outbox.c.reservation_id, outbox.c.recipient, outbox.c.sent_at, rooms.c.profile_id
            )
            .select_from(
                outbox.join(reservations, reservations.c.id == outbox.c.reservation_id).join(
                    rooms, rooms.c.id == reservations.c.room_id
                )
            )
            .where(
                outbox.c.paid.is_(True),
                outbox.c.channel == Channel.SMS.value,
                outbox.c.status == Status.SENT.value,
                outbox.c.sent_at >= since,
                outbox.c.sent_at < until,
            )
        )


class AttachmentRepository:
    """Files sent with an outbox e-mail, by the outbox row's key."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, message_key: str, files: Sequence[Attachment]) -> None:
        t = outbox_attachments
        self.conn.execute(delete(t).where(t.c.message_key == message_key))
        for f in files:
            self.conn.execute(
                insert(t).values(
                    message_key=message_key, filename=f.filename, content_type=f.content_type, data=f.data
                )
            )

    def of(self, message_key: str) -> list[Attachment]:
        t = outbox_attachments
        q = select(t).where(t.c.message_key == message_key).order_by(t.c.id)
        return [Attachment(r.filename, r.content_type, bytes(r.data)) for r in self.conn.execute(q)]
