"""The post-conference report e-mailed to the organizer after each session (R53), when the
profile asks for it.

When a session's last leg closes, ``queue`` adds the report to the outbox inside the same
transaction that closes the leg (the usage service's hook), so a crash loses neither; its key
(reservation and session) makes a replayed leave or a reconcile add nothing more. The body is
rendered when the dispatcher sends it (``render``): by then every leg is closed and rated.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from booking.domain.errors import NotFound
from booking.domain.messages import Channel, Kind, Message, MessageDraft
from booking.domain.month_end import report_key, report_mail
from booking.domain.texts import Texts
from booking.domain.usage import Leg
from booking.services.billing import BillingService
from booking.services.ports import Transaction, UnitOfWork


class SessionReports:
    def __init__(self, uow: UnitOfWork, billing: BillingService, service_name: str, tz: ZoneInfo) -> None:
        self._uow = uow
        self._billing = billing
        self._service = service_name
        self._tz = tz

    def queue(self, tx: Transaction, leg: Leg, now: datetime) -> bool:
        """A leg just closed: queue the session's report if it was the last one open and the
        organizer wants reports. True when queued."""
        if leg.reservation_id is None or not leg.session_id:
            return False
        legs = tx.usage.for_reservation(leg.reservation_id)
        if any(other.left_at is None and other.session_id == leg.session_id for other in legs):
            return False  # the session goes on
        r = tx.reservations.get_reservation(leg.reservation_id)
        mail = None if r is None else tx.statements.profile_mail(r.room.profile_id)
        if mail is None or not mail.reports or mail.address is None:
            return False
        key = report_key(leg.reservation_id, leg.session_id)
        draft = MessageDraft(
            key,
            Channel.EMAIL,
            mail.address,
            mail.language,
            Kind.REPORT,
            now,
            reservation_id=leg.reservation_id,
        )
        return tx.messages.enqueue(draft, now)

    def render(self, m: Message) -> tuple[str, str] | None:
        """(subject, body) of a queued report; None when its reservation or session is gone."""
        _, reservation, session = m.key.split(":", 2)
        with self._uow(read_only=True) as tx:
            r = tx.reservations.get_reservation(int(reservation))
        if r is None:
            return None
        try:
            rows = self._billing.session_report(r.room.profile_id, r.id, session)
        except NotFound:
            return None
        return report_mail(rows, r.room.conference_number, self._service, Texts(m.language), self._tz)
