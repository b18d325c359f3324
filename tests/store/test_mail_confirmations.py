"""Ordering by e-mail cannot be forged or abused: the one-time code, DKIM trust, no paid SMS,
the new-sender limits, senders that are no address (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.domain.clock import FakeClock
from booking.domain.errors import BadSender
from booking.domain.messages import Channel, Inbound, Outcome
from booking.domain.model import Reservation, ReservationStatus
from booking.domain.texts import Texts
from booking.store.confirmation_tables import confirmations
from booking.store.messaging_tables import inbound_messages, outbox, senders
from booking.store.tables import profiles
from tests.store.conftest import Store
from tests.support.messaging import Harness, messaging_settings

NOW = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Prague
OWNER = "owner@example.com"
FORGER = "forger@evil.test"


@pytest.fixture
def h(store: Store) -> Iterator[Harness]:
    yield Harness(store.engine, FakeClock(NOW))


def mine(h: Harness, address: str = OWNER) -> list[Reservation]:
    return [
        r
        for r in h.booking.reservations_of(f"email:{address}")
        if r.status in (ReservationStatus.ACTIVE, ReservationStatus.PENDING)
    ]


def count(h: Harness, table: object) -> int:
    with h.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def booked(h: Harness) -> Reservation:
    assert h.confirmed_mail(OWNER, "conf 0907 1400 60 10", "<order@owner>") is Outcome.BOOKED
    [r] = mine(h)
    return r


def test_an_email_order_books_nothing_until_the_from_address_sends_the_code_back(h: Harness) -> None:
    assert h.mail(OWNER, "conf 0907 1400 60 10", "<o1@owner>") is Outcome.AWAITING_CONFIRMATION
    assert mine(h) == []
    code = h.mailed_code(OWNER)
    assert len(code) == 8
    [ask] = h.outbox(OWNER)
    assert ask.subject == f"Please confirm: confirm {code}" and ask.body is not None
    assert '"conf 0907 1400 60 10"' in ask.body and "nothing will be booked" in ask.body
    assert h.mail(OWNER, f"confirm {code}", "<o2@owner>", "anything") is Outcome.BOOKED
    [r] = mine(h)
    assert r.seats == 10
    assert h.outbox(OWNER)[-1].body is not None and r.room.pin in (h.outbox(OWNER)[-1].body or "")
    # Used once: the same code again opens nothing.
    assert h.mail(OWNER, f"confirm {code}", "<o3@owner>") is Outcome.WRONG_CODE
    assert len(mine(h)) == 1
    with h.engine.connect() as conn:
        [row] = conn.execute(select(confirmations)).all()
    assert row.state == "used" and code not in (row.code_hash, row.code_salt)


def test_a_forged_cancel_cancels_nothing_and_the_owner_is_asked_instead(h: Harness) -> None:
    r = booked(h)
    # The forger writes the owner's From (and its own Reply-To, which the intake never reads).
    assert h.mail(OWNER, "cancel", "<forged@evil>") is Outcome.AWAITING_CONFIRMATION
    assert mine(h) == [r]
    ask = h.outbox(OWNER)[-1]
    assert ask.body is not None and f"cancel conference {r.room.conference_number}" in ask.body
    assert "the conference stays booked" in ask.body
    assert h.outbox(FORGER) == []
    # The code from another address does nothing: it has no request waiting.
    code = h.mailed_code(OWNER)
    assert h.mail(FORGER, f"confirm {code}", "<guess@evil>") is Outcome.WRONG_CODE
    assert mine(h) == [r]
    # The owner confirms: now it is cancelled, and told so.
    assert h.mail(OWNER, "", "<yes@owner>", f"Re: Please confirm: confirm {code}") is Outcome.CANCELLED
    assert mine(h) == []
    assert (h.outbox(OWNER)[-1].body or "").startswith(f"Conference {r.room.conference_number} on ")


def test_a_forged_order_changes_nothing_of_the_owners_not_even_its_language(h: Harness) -> None:
    booked(h)  # ordered in English ("conf"), so English it is
    assert h.mail(OWNER, "konf 0907 1600 60 10", "<forged-konf>") is Outcome.AWAITING_CONFIRMATION
    [owner] = [s for s in h.messaging.senders() if s.address == OWNER]
    assert owner.language == "en" and len(mine(h)) == 1


def test_a_cancel_of_a_conference_that_is_not_yours_is_answered_at_once_without_a_code(h: Harness) -> None:
    booked(h)
    assert h.mail(OWNER, "cancel 99999999", "<c@owner>") is Outcome.INVALID
    assert "You have no conference 99999999" in (h.outbox(OWNER)[-1].body or "")


def test_wrong_codes_void_the_waiting_requests_and_guessing_stops_after_the_daily_allowance(
    h: Harness,
) -> None:
    h.mail(OWNER, "conf 0907 1400 60 10", "<o@owner>")
    code = h.mailed_code(OWNER)
    wrong = "1" * 8 if code != "1" * 8 else "2" * 8
    assert h.mail(OWNER, f"confirm {wrong}", "<w1>") is Outcome.WRONG_CODE
    assert "That code is not right" in (h.outbox(OWNER)[-1].body or "")
    assert h.mail(OWNER, f"confirm {wrong}", "<w2>") is Outcome.WRONG_CODE
    assert h.mail(OWNER, f"confirm {wrong}", "<w3>") is Outcome.WRONG_CODE  # the third: void
    assert "are void" in (h.outbox(OWNER)[-1].body or "")
    assert h.mail(OWNER, f"confirm {code}", "<late>") is Outcome.WRONG_CODE  # the right one, too late
    assert mine(h) == []
    # Ten wrong codes a day at most are even looked at; after that, silence, even for a right one.
    limit = h.settings.messaging.mail.confirm.wrong_codes_per_day
    h.clock.advance(timedelta(hours=1))  # a new hour: the hourly message limit is not the point here
    for n in range(limit - 4):
        if n % 5 == 4:
            h.clock.advance(timedelta(hours=1))
        h.mail(OWNER, f"confirm {wrong}", f"<more{n}>")
    h.clock.advance(timedelta(hours=1))
    h.mail(OWNER, "conf 0907 1500 60 10", "<o2@owner>")
    fresh = h.mailed_code(OWNER)
    replies = len(h.outbox(OWNER))
    assert h.mail(OWNER, f"confirm {fresh}", "<o2-yes>") is Outcome.IGNORED
    assert len(h.outbox(OWNER)) == replies and mine(h) == []
    h.clock.advance(timedelta(hours=24))
    h.mail(OWNER, "conf 0907 1500 60 10", "<o3@owner>")
    assert h.mail(OWNER, f"confirm {h.mailed_code(OWNER)}", "<o3-yes>") is Outcome.BOOKED


def test_a_code_expires(h: Harness) -> None:
    h.mail(OWNER, "conf 0907 1400 60 10", "<o@owner>")
    code = h.mailed_code(OWNER)
    h.clock.advance(timedelta(minutes=h.settings.messaging.mail.confirm.valid_minutes + 1))
    assert h.mail(OWNER, f"confirm {code}", "<yes>") is Outcome.WRONG_CODE
    assert "valid for 24 hours" in (h.outbox(OWNER)[-1].body or "")
    assert mine(h) == []


def test_an_order_whose_start_passed_while_it_waited_is_refused_and_its_code_used(h: Harness) -> None:
    h.mail(OWNER, "conf 0107 1100 60 10", "<o@owner>")  # today 11:00, an hour from now
    code = h.mailed_code(OWNER)
    h.clock.advance(timedelta(hours=2))
    assert h.mail(OWNER, f"confirm {code}", "<yes>") is Outcome.INVALID
    assert "already passed today" in (h.outbox(OWNER)[-1].body or "")
    assert h.mail(OWNER, f"confirm {code}", "<again>") is Outcome.WRONG_CODE


def test_an_address_may_have_only_a_few_requests_waiting(h: Harness) -> None:
    most = h.settings.messaging.mail.confirm.max_waiting
    for n in range(most):
        assert h.mail(OWNER, f"conf 0907 {10 + n}00 60 5", f"<o{n}>") is Outcome.AWAITING_CONFIRMATION
    assert h.mail(OWNER, "conf 0907 1500 60 5", "<one-more>") is Outcome.REFUSED
    assert f"{most} requests from your address are already waiting" in (h.outbox(OWNER)[-1].body or "")
    assert count(h, confirmations) == most


def test_the_same_code_delivered_twice_at_once_acts_once(h: Harness) -> None:
    h.mail(OWNER, "conf 0907 1400 60 10", "<o@owner>")
    code = h.mailed_code(OWNER)
    outcomes: list[Outcome] = []
    start = threading.Barrier(3)

    def confirm(n: int) -> None:
        start.wait()
        outcomes.append(h.mail(OWNER, f"confirm {code}", f"<yes-{n}>"))

    threads = [threading.Thread(target=confirm, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == sorted([Outcome.BOOKED, Outcome.WRONG_CODE, Outcome.WRONG_CODE])
    assert len(mine(h)) == 1


def test_status_answers_at_once_and_only_to_the_from_address(h: Harness) -> None:
    r = booked(h)
    assert h.mail(OWNER, "status", "<s@forged>") is Outcome.STATUS
    assert r.room.pin in (h.outbox(OWNER)[-1].body or "")
    assert h.outbox(FORGER) == []


def test_a_dkim_authenticated_order_acts_at_once_only_when_the_operator_trusts_dkim(store: Store) -> None:
    untrusting = Harness(store.engine, FakeClock(NOW))
    assert untrusting.mail(OWNER, "conf 0907 1400 60 10", "<a>", authenticated=True) is (
        Outcome.AWAITING_CONFIRMATION
    )
    settings = messaging_settings()
    settings.messaging.mail.dkim.trust = True
    trusting = Harness(store.engine, FakeClock(NOW), settings)
    assert trusting.mail(OWNER, "conf 0907 1500 60 10", "<b>", authenticated=True) is Outcome.BOOKED
    assert trusting.mail(OWNER, "conf 0907 1600 60 10", "<c>") is Outcome.AWAITING_CONFIRMATION
    [r] = mine(trusting)
    assert trusting.mail(OWNER, f"cancel {r.room.conference_number}", "<d>", authenticated=True) is (
        Outcome.CANCELLED
    )


def test_an_email_order_with_phone_invitees_is_refused_and_queues_no_sms(h: Harness) -> None:
    text = "conf 0907 1400 60 10 +420602111222 +441632960000 eva@example.com"
    assert h.mail(OWNER, text, "<o@owner>") is Outcome.INVALID
    body = h.outbox(OWNER)[-1].body or ""
    assert "cannot send SMS notices" in body and "+420602111222, +441632960000" in body
    assert mine(h) == [] and count(h, confirmations) == 0
    assert [m for m in h.outbox() if m.channel is Channel.SMS] == []
    # E-mail invitees are fine: after the confirmation they get their notice by e-mail.
    assert h.confirmed_mail(OWNER, "conf 0907 1400 60 10 eva@example.com", "<o2@owner>") is Outcome.BOOKED
    assert [m.recipient for m in h.outbox() if m.kind.value == "booked"] == ["eva@example.com"]


def test_an_sms_order_keeps_its_sms_invitees(h: Harness) -> None:
    assert h.sms("+420601111222", "conf 0907 1400 60 10 +420602111222", "m1") is Outcome.BOOKED
    assert [m.recipient for m in h.outbox() if m.kind.value == "booked"] == ["+420602111222"]


def test_new_senders_are_limited_per_domain_and_per_channel_with_one_reply_an_hour(store: Store) -> None:
    settings = messaging_settings()
    settings.messaging.new_senders_per_hour = 5
    settings.messaging.mail.new_senders_per_domain_per_hour = 3
    h = Harness(store.engine, FakeClock(NOW), settings)
    outcomes = [h.mail(f"u{n}@flood.test", "status", f"<f{n}>") for n in range(5)]
    assert outcomes == [Outcome.STATUS] * 3 + [Outcome.NEW_SENDER_LIMITED] * 2
    flood_reply = Texts(settings.messaging.default_language)("reply.new_senders_limited")
    [told] = [m for m in h.outbox() if m.body == flood_reply]
    assert told.recipient == "u3@flood.test"
    assert h.mail("eva@other.test", "status", "<e1>") is Outcome.STATUS  # another domain is not held up
    assert h.mail("jan@other.test", "status", "<e2>") is Outcome.STATUS
    assert h.mail("ota@third.test", "status", "<e3>") is Outcome.NEW_SENDER_LIMITED  # 5 new this hour
    assert h.mail("u0@flood.test", "status", "<known>") is Outcome.STATUS  # known senders go on
    assert h.sms("+420601000111", "status", "s1") is Outcome.STATUS  # per channel: SMS is apart
    with h.engine.connect() as conn:
        refused = conn.execute(
            select(func.count()).where(inbound_messages.c.outcome == Outcome.NEW_SENDER_LIMITED.value)
        ).scalar_one()
        stored = {r.address for r in conn.execute(select(senders.c.address))}
    assert refused == 3  # counted, and no profile made for them
    assert "u3@flood.test" not in stored and "ota@third.test" not in stored
    assert len([m for m in h.outbox() if m.body == flood_reply]) == 1  # one an hour, whoever sent
    h.clock.advance(timedelta(minutes=61))
    assert h.mail("u3@flood.test", "status", "<f3-later>") is Outcome.STATUS


@pytest.mark.parametrize("sender", ["abc", "Vodafone", "1", "+", "12a", ""])
def test_an_sms_sender_that_is_no_phone_number_stores_nothing(h: Harness, sender: str) -> None:
    before = {t: count(h, t) for t in (senders, inbound_messages, outbox, profiles)}
    with pytest.raises(BadSender):
        h.messaging.desk.handle(Inbound(Channel.SMS, sender, "konf 0907 1400 60 10", f"id-{sender}"))
    assert {t: count(h, t) for t in before} == before


def test_control_characters_and_lone_surrogates_never_reach_the_store(h: Harness) -> None:
    """PostgreSQL cannot store NUL; the reply quotes the word, so it would have failed there."""
    assert h.sms("+420601111222", "konf\x00 0907\ud800 1400 60 10", "id\x00-1") is Outcome.INVALID
    [reply] = h.outbox("+420601111222")
    assert reply.body is not None and "\x00" not in reply.body and "\ud800" not in reply.body
    assert h.mail(OWNER, "conf 0907 1400 60 10", "<nul\x00>", "confer\x00ence") is Outcome.INVALID
