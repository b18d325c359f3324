"""Notices to invitees (R25, R26), invitations (R46): the schedule, durability, edits, deletion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.clock import FakeClock
from booking.domain.errors import RuleViolation
from booking.domain.messages import Channel, Kind, Status
from booking.domain.model import Reservation
from tests.store.conftest import Store
from tests.support.messaging import Harness

NOW = datetime(2027, 7, 1, 6, 0, tzinfo=UTC)  # 08:00 in Prague
MAIL, PHONE = "eva@example.com", "+420602333444"


def booked(h: Harness, ahead: timedelta, minutes: int = 60) -> Reservation:
    r = h.booking.book(h.clock.now() + ahead, minutes, 5, profile="org")
    assert r.id is not None
    h.messaging.set_invitees(r.room.profile_id, r.id, [(MAIL, "en"), (PHONE, "cs")])
    return r


def kinds(h: Harness, to: str) -> list[str]:
    return [m.kind.value for m in h.outbox(to) if m.status is Status.SENT]


@pytest.fixture
def h(store: Store) -> Harness:
    return Harness(store.engine, FakeClock(NOW))


def test_more_than_6_hours_ahead_a_notice_now_and_one_an_hour_before(h: Harness) -> None:
    r = booked(h, timedelta(hours=6, minutes=1))
    assert r.starts_at is not None
    assert h.dispatch() == 2
    assert kinds(h, MAIL) == ["booked"] and kinds(h, PHONE) == ["booked"]
    assert h.at(r.starts_at - timedelta(minutes=61)) == 0
    assert h.at(r.starts_at - timedelta(minutes=60)) == 2
    assert kinds(h, MAIL) == ["booked", "reminder"]
    assert h.at(r.starts_at) == 0  # nothing more, ever
    assert h.at(r.ends_at or r.starts_at) == 0


def test_6_hours_or_less_ahead_one_notice_only_at_the_start(h: Harness) -> None:
    r = booked(h, timedelta(hours=6))
    assert r.starts_at is not None
    assert h.dispatch() == 0
    assert h.at(r.starts_at - timedelta(seconds=1)) == 0
    assert h.at(r.starts_at) == 2
    assert kinds(h, MAIL) == ["starting"] and kinds(h, PHONE) == ["starting"]
    assert h.at(r.starts_at + timedelta(minutes=5)) == 0


def test_the_sms_notice_says_what_r26_lists_and_no_admin_pin(h: Harness) -> None:
    r = booked(h, timedelta(days=2))
    h.dispatch()
    [sms] = h.gateway.to(PHONE)
    assert sms.channel is Channel.SMS
    for part in ("Dialconf", "3. 7. 2027", "08:00", "+420222111000", r.room.conference_number, r.room.pin):
        assert part in sms.text
    assert r.room.admin_pin not in sms.text and "nelze odpovědět" in sms.text
    assert all(m.paid for m in h.outbox(PHONE))  # R21: SMS notices are the paid option
    [mail] = h.gateway.to(MAIL)
    assert mail.subject == "Invitation: conference on 3 July 2027 at 08:00"
    assert r.room.pin in mail.text and r.room.admin_pin not in mail.text


def test_a_restart_neither_loses_nor_repeats_a_notice(h: Harness) -> None:
    r = booked(h, timedelta(days=1))
    assert r.starts_at is not None
    h.dispatch()
    h.restart()  # new service objects: only the store carries over
    assert h.dispatch() == 0
    h.restart()
    assert h.at(r.starts_at - timedelta(minutes=30)) == 2  # late after downtime: sent at once
    h.restart()
    assert h.dispatch() == 0
    assert kinds(h, MAIL) == ["booked", "reminder"] and kinds(h, PHONE) == ["booked", "reminder"]


def test_moving_the_start_moves_the_reminder_and_tells_who_was_told(h: Harness) -> None:
    r = booked(h, timedelta(days=1))
    assert r.id is not None and r.starts_at is not None
    h.dispatch()
    later = r.starts_at + timedelta(days=1)
    h.booking.edit(r.room.profile_id, r.id, starts_at=later, ends_at=later + timedelta(hours=1))
    h.dispatch()
    assert kinds(h, MAIL) == ["booked", "changed"]
    assert "moved to 2 July" not in h.gateway.to(MAIL)[-1].text  # the new date, not the old
    assert h.at(r.starts_at - timedelta(minutes=60)) == 0  # the old reminder is gone
    assert h.at(later - timedelta(minutes=60)) == 2
    assert kinds(h, MAIL) == ["booked", "changed", "reminder"]


def test_deleting_cancels_what_is_pending_and_tells_who_was_told(h: Harness) -> None:
    told = booked(h, timedelta(days=1))
    untold = booked(h, timedelta(hours=2))
    assert told.id is not None and untold.id is not None
    h.dispatch()
    h.booking.delete(told.room.profile_id, told.id)
    h.booking.delete(untold.room.profile_id, untold.id)
    assert h.dispatch() == 2  # a cancellation notice for each invitee of the first only
    assert kinds(h, MAIL) == ["booked", "cancelled"]
    statuses = {m.kind: m.status for m in h.outbox(MAIL)}
    assert statuses[Kind.REMINDER] is Status.CANCELLED and statuses[Kind.STARTING] is Status.CANCELLED
    assert h.at(NOW + timedelta(days=2)) == 0


def test_removing_an_invitee_cancels_their_pending_notices(h: Harness) -> None:
    r = booked(h, timedelta(hours=3))
    assert r.id is not None and r.starts_at is not None
    h.messaging.set_invitees(r.room.profile_id, r.id, [(MAIL, None)])
    assert h.at(r.starts_at) == 1
    assert h.gateway.to(PHONE) == []


def test_a_gateway_failure_is_retried_not_lost(h: Harness) -> None:
    booked(h, timedelta(days=1))
    h.gateway.fail = True
    assert h.dispatch() == 0
    failed = [m for m in h.outbox() if m.attempts]
    assert len(failed) == 2 and all(m.last_error for m in failed)
    h.gateway.fail = False
    assert h.dispatch() == 0  # not before the retry delay
    assert h.at(NOW + timedelta(seconds=61)) == 2


def test_the_invitation_can_be_read_edited_and_sent(h: Harness) -> None:
    r = booked(h, timedelta(days=1))
    assert r.id is not None
    pid = r.room.profile_id
    view = h.messaging.invitation(pid, r.id)
    assert r.room.pin in view.body and "{pin}" in view.invitation.body and view.invitation.sent_at is None
    edited = h.messaging.edit_invitation(
        pid, r.id, "Board call {date}", "Dear board,\nPIN {pin}, call {access}.", None
    )
    assert edited.subject == "Board call 2 July 2027" and edited.body.startswith(
        "Dear board,\nPIN " + r.room.pin
    )
    with pytest.raises(RuleViolation) as bad:
        h.messaging.edit_invitation(pid, r.id, None, "{pin.__class__}", None)
    assert bad.value.code == "unknown_placeholder"
    assert h.messaging.send_invitation(pid, r.id) == 1  # e-mail invitees only
    h.dispatch()
    invitation = h.gateway.to(MAIL)[-1]
    assert invitation.subject == "Board call 2 July 2027" and r.room.pin in invitation.text
    assert h.messaging.invitation(pid, r.id).invitation.sent_at is not None


def test_an_invitation_in_another_language(h: Harness) -> None:
    r = booked(h, timedelta(days=1))
    assert r.id is not None
    for lang, word in (("cs", "Pozvánka"), ("pl", "Zaproszenie"), ("de", "Einladung"), ("fr", "Invitation")):
        view = h.messaging.edit_invitation(r.room.profile_id, r.id, None, None, lang)
        assert view.subject.startswith(word) and r.room.pin in view.body
