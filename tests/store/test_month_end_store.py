"""The month end in the store (SQLite and PostgreSQL): paid SMS notices on the statement (R21),
the post-conference report queued as a session's last leg closes (R53), the month's run with
its attachments, and the profiles' mail settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import FakeClock
from booking.domain.errors import RuleViolation
from booking.domain.messages import Channel, Kind, Status
from booking.domain.model import Reservation
from booking.domain.usage import EndReason
from booking.services.usage import LiveLeg
from tests.store.conftest import Store
from tests.support.messaging import Harness

MARCH_9 = datetime(2027, 3, 9, 9, 0, tzinfo=UTC)
START = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def h(store: Store) -> Harness:
    return Harness(store.engine, FakeClock(MARCH_9))


def booked(h: Harness, profile: str = "acme") -> Reservation:
    return h.booking.book(START, 60, 5, profile=profile)


def test_a_sent_paid_sms_notice_is_on_the_statement_and_an_unsent_one_is_not(h: Harness) -> None:
    r = booked(h)
    h.messaging.set_invitees(r.room.profile_id, r.id, [("+420602000001", None), ("guest@example.com", None)])
    assert h.dispatch() == 2  # the booked notices: one SMS (paid), one e-mail (free)
    s = h.services.billing.statement(r.room.profile_id, "2027-03")
    assert [(p.sms.recipient, p.price, str(p.net)) for p in s.sms] == [
        ("+420602000001", "SMS notice to an invitee (R21)", "1.50")
    ]
    assert s.sms_net == s.net and s.gross == s.net + s.vat  # no calls yet: the SMS is the bill
    # The reminder is still pending: not sent, not billed.
    pending = [m for m in h.outbox("+420602000001") if m.status is Status.PENDING]
    assert [m.kind for m in pending] == [Kind.REMINDER] and pending[0].paid
    assert h.services.billing.statement(r.room.profile_id, "2027-04").sms == ()


def _join(h: Harness, r: Reservation, uid: str, caller: str, at: datetime, session: str = "bridge-1") -> None:
    h.services.usage.record_join(uid, r.room.conference_number, caller, False, None, at, session, "8000")


def test_the_report_is_queued_once_when_the_last_leg_of_a_session_closes(h: Harness) -> None:
    r = booked(h)
    h.services.billing.set_mail_settings(r.room.profile_id, "boss@acme.example", reports=True)
    usage = h.services.usage
    _join(h, r, "a", "+420601000001", START)
    _join(h, r, "b", "+420601000002", START + timedelta(minutes=1))
    usage.record_leave("a", at=START + timedelta(minutes=5))
    assert [m for m in h.outbox("boss@acme.example") if m.kind is Kind.REPORT] == []  # b is still in
    h.clock._now = START + timedelta(minutes=9)
    usage.record_leave("b", at=START + timedelta(minutes=9))
    usage.record_leave("b", EndReason.KICKED)  # a replayed leave changes nothing
    [report] = [m for m in h.outbox("boss@acme.example") if m.kind is Kind.REPORT]
    assert report.channel is Channel.EMAIL and report.body is None  # rendered when sent
    assert h.dispatch() == 1
    [sent] = h.gateway.to("boss@acme.example")
    assert (
        sent.subject == "Dialconf: report of conference " + r.room.conference_number + ", 10 March 2027 10:00"
    )
    assert "+420601000001" in sent.text and "+420601000002" in sent.text and "2 participant legs" in sent.text

    # A new session of the same room: its own report.
    _join(h, r, "c", "+420601000003", START + timedelta(minutes=20), session="bridge-2")
    usage.reconcile([LiveLeg("c", r.room.conference_number, "+420601000003", False)])  # still there
    usage.reconcile([])  # gone while the controller was down: closed by the reconcile, reported
    assert len([m for m in h.outbox("boss@acme.example") if m.kind is Kind.REPORT]) == 2


def test_no_report_unless_the_profile_asks_for_it(h: Harness) -> None:
    r = booked(h)
    h.services.billing.set_mail_settings(r.room.profile_id, "boss@acme.example", reports=False)
    _join(h, r, "a", "+420601000001", START)
    h.services.usage.record_leave("a", at=START + timedelta(minutes=5))
    assert h.outbox("boss@acme.example") == []


def test_mail_settings_are_checked_and_fall_back_to_the_ordering_address(h: Harness) -> None:
    billing = h.services.billing
    r = booked(h)
    with pytest.raises(RuleViolation) as refused:
        billing.set_mail_settings(r.room.profile_id, "not an address", reports=True)
    assert refused.value.field == "address"
    assert billing.mail_settings(r.room.profile_id)[1].address is None  # nothing half-stored
    mailer = h.booking.find_profile("acme")
    assert mailer is not None
    own, found = billing.mail_settings(mailer)
    assert own is None and found.address is None and not found.reports
    billing.set_mail_settings(mailer, "Boss <Boss@ACME.example>", reports=True)
    own, found = billing.mail_settings(mailer)
    assert own == found.address == "Boss@acme.example" and found.reports


def test_a_month_end_run_stores_its_progress_and_attachments(h: Harness) -> None:
    r = booked(h)
    other = booked(h, "beta")
    h.services.billing.set_mail_settings(r.room.profile_id, "boss@acme.example", reports=False)
    h.messaging.set_invitees(other.room.profile_id, other.id, [("+420602000009", None)])
    h.dispatch()  # beta's only charge is a paid SMS: it is billed all the same
    _join(h, r, "a", "+420601000001", START)
    h.services.usage.record_leave("a", at=START + timedelta(minutes=5))
    h.clock._now = datetime(2027, 4, 2, tzinfo=UTC)
    run = h.services.month_end.run_due()
    assert run is not None and (run.month, run.statements, run.mailed) == ("2027-03", 2, 1)
    assert h.services.month_end.run_due() is None
    with h.services.uow(read_only=True) as tx:
        progress = tx.statements.progress_of("2027-03")
        [mail] = [m for m in tx.messages.outbox("boss@acme.example") if m.kind is Kind.STATEMENT]
        files = tx.attachments.of(mail.key)
    assert [(p.profile_id, p.recipient) for p in progress] == [
        (r.room.profile_id, "boss@acme.example"),
        (other.room.profile_id, None),
    ]
    assert [f.filename for f in files] == ["statement-2027-03.pdf", "statement-2027-03.csv"]
    assert files[0].data.startswith(b"%PDF-") and b"total:gross" in files[1].data
    h.dispatch()
    [sent] = h.gateway.to("boss@acme.example")
    assert [a.filename for a in sent.attachments] == ["statement-2027-03.pdf", "statement-2027-03.csv"]
