"""Ordering by SMS and e-mail through the order desk, on SQLite and PostgreSQL (R1-R5, R7, R12, R13)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.domain.clock import FakeClock
from booking.domain.messages import Channel, Outcome
from booking.domain.model import Reservation, ReservationStatus
from tests.store.conftest import Store
from tests.support.messaging import Harness, messaging_settings

NOW = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Prague
PHONE = "+420601111222"


@pytest.fixture
def h(store: Store) -> Iterator[Harness]:
    yield Harness(store.engine, FakeClock(NOW))


def reservations(h: Harness, sender: str = PHONE) -> list[Reservation]:
    return h.booking.reservations_of(f"sms:{sender}")


def test_an_sms_order_books_and_the_reply_carries_the_access_data(h: Harness) -> None:
    assert h.sms(PHONE, "konf 0907 1400 60 10", "m1") is Outcome.BOOKED
    assert h.dispatch() == 1
    [r] = h.booking.reservations_of(f"sms:{PHONE}")
    assert r.starts_at == datetime(2027, 7, 9, 12, 0, tzinfo=UTC) and r.seats == 10
    [reply] = h.gateway.to(PHONE)
    assert reply.channel is Channel.SMS
    for part in (
        "9. 7. 2027",
        "14:00-15:00",
        "10",
        "+420222111000",
        r.room.conference_number,
        r.room.pin,
        r.room.admin_pin,
    ):
        assert part in reply.text
    assert "nejvýše 10 účastníků" in reply.text  # konf answers in Czech


def test_an_english_order_gets_an_english_reply_and_a_local_number_is_the_same_sender(h: Harness) -> None:
    h.sms("00420601111222", "conf 0907 1400 60 10", "m1")
    h.dispatch()
    [reply] = h.gateway.to(PHONE)  # 00420... and +420... are one sender
    assert reply.text.startswith("Conference booked: 9 July 2027 14:00-15:00")


def test_a_message_delivered_twice_books_once(h: Harness) -> None:
    assert h.sms(PHONE, "konf 0907 1400 60 10", "kannel-id-1") is Outcome.BOOKED
    assert h.sms(PHONE, "konf 0907 1400 60 10", "kannel-id-1") is Outcome.BOOKED
    h.dispatch()
    assert len(h.booking.reservations_of(f"sms:{PHONE}")) == 1
    assert len(h.gateway.to(PHONE)) == 1


def test_a_message_delivered_twice_at_once_books_once(h: Harness) -> None:
    outcomes: list[Outcome] = []
    start = threading.Barrier(4)

    def deliver() -> None:
        start.wait()
        outcomes.append(h.sms(PHONE, "konf 0907 1400 60 10", "same-id"))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes == [Outcome.BOOKED] * 4
    assert len(h.booking.reservations_of(f"sms:{PHONE}")) == 1
    assert len(h.outbox(PHONE)) == 1


def test_a_full_system_refuses_with_what_would_fit_and_stores_nothing(store: Store) -> None:
    h = Harness(store.engine, FakeClock(NOW), messaging_settings(system_capacity=15))
    assert h.sms("+420601000001", "konf 0907 1400 60 10", "a") is Outcome.BOOKED
    assert h.sms(PHONE, "conf 0907 1400 60 10", "b") is Outcome.REFUSED
    h.dispatch()
    [reply] = h.gateway.to(PHONE)
    assert "only 5 of the 10 places" in reply.text
    assert "with 5 participants or fewer" in reply.text
    assert "9 July 2027 15:00" in reply.text  # the nearest start that fits: after the other booking
    assert reservations(h) == []


def test_over_the_limits_waits_for_an_operator_then_the_sender_gets_the_access_data(h: Harness) -> None:
    assert h.sms(PHONE, "conf 0907 1400 180 30", "m1") is Outcome.QUEUED
    h.dispatch()
    assert "An operator will decide" in h.gateway.to(PHONE)[0].text
    [queued] = h.booking.queue()
    assert queued.id is not None
    h.booking.approve(queued.id)
    h.dispatch()
    confirmation = h.gateway.to(PHONE)[1].text
    assert confirmation.startswith("Conference booked") and queued.room.pin in confirmation


def test_a_rejected_request_is_told_why(h: Harness) -> None:
    h.sms(PHONE, "konf 0907 1400 180 30", "m1")
    [queued] = h.booking.queue()
    assert queued.id is not None
    h.booking.reject(queued.id, "we have no room for 30 that day")
    h.dispatch()
    assert "we have no room for 30 that day" in h.gateway.to(PHONE)[-1].text


def test_rule_refusals_are_specific(h: Harness) -> None:
    assert h.sms(PHONE, "conf 0109 1400 60 10", "far") is Outcome.REFUSED  # 62 days ahead
    h.dispatch()
    assert "more than 30 days ahead" in h.gateway.to(PHONE)[0].text
    assert reservations(h) == []


def test_a_bad_text_says_what_is_wrong_and_stores_no_booking(h: Harness) -> None:
    assert h.sms(PHONE, "konf 3106 1400 60 10", "m1") is Outcome.INVALID
    h.dispatch()
    assert h.gateway.to(PHONE)[0].text == "'3106': měsíc června má jen 30 dní."
    assert reservations(h) == []


def test_status_and_cancel_act_on_the_senders_own_bookings_only(h: Harness) -> None:
    h.sms(PHONE, "conf 0907 1400 60 10", "m1")
    h.sms("+420601999888", "conf 0907 1600 60 5", "other")
    [mine] = reservations(h)
    [theirs] = reservations(h, "+420601999888")
    h.sms(PHONE, "status", "m2")
    assert h.sms(PHONE, f"cancel {theirs.room.conference_number}", "m3") is Outcome.INVALID
    assert h.sms(PHONE, "cancel", "m4") is Outcome.CANCELLED
    h.dispatch()
    texts = [s.text for s in h.gateway.to(PHONE)]
    assert mine.room.conference_number in texts[1] and mine.room.admin_pin in texts[1]
    assert "You have no conference" in texts[2]
    assert texts[3].startswith(f"Conference {mine.room.conference_number} on 9 July 2027 14:00 is cancelled")
    assert reservations(h) == []  # deleted
    assert reservations(h, "+420601999888")[0].status is ReservationStatus.ACTIVE


def test_a_blocked_sender_gets_one_polite_refusal_then_silence(h: Harness) -> None:
    h.sms(PHONE, "conf 0907 1400 60 10", "m1")
    _, cancelled = h.messaging.block(Channel.SMS, "+420 601 111 222", "spam", cancel_bookings=True)
    assert len(cancelled) == 1
    assert h.sms(PHONE, "conf 0907 1500 60 10", "m2") is Outcome.BLOCKED
    assert h.sms(PHONE, "conf 0907 1500 60 10", "m3") is Outcome.IGNORED
    h.dispatch()
    texts = [s.text for s in h.gateway.to(PHONE)]
    assert len(texts) == 2 and texts[1].startswith("This service does not take orders")
    h.messaging.unblock(Channel.SMS, PHONE)
    assert h.sms(PHONE, "conf 0907 1500 60 10", "m4") is Outcome.BOOKED


def test_a_sender_over_its_hourly_limit_is_told_once_then_ignored(h: Harness) -> None:
    h.messaging.limit(Channel.SMS, PHONE, 2)
    assert h.sms(PHONE, "status", "1") is Outcome.STATUS
    assert h.sms(PHONE, "status", "2") is Outcome.STATUS
    assert h.sms(PHONE, "status", "3") is Outcome.RATE_LIMITED
    assert h.sms(PHONE, "status", "4") is Outcome.IGNORED
    h.clock.advance(timedelta(minutes=61))
    assert h.sms(PHONE, "status", "5") is Outcome.STATUS


def test_an_email_order_is_confirmed_then_answered_by_email_with_the_warning(h: Harness) -> None:
    assert (
        h.confirmed_mail("Jan Novák <Jan@Example.COM>", "konf 0907 1400 60 10", "<a@x>", "Re: Conference")
        is Outcome.BOOKED
    )
    h.dispatch()
    [ask, reply] = h.gateway.to("Jan@example.com")
    assert ask.subject.startswith("Potvrďte prosím: potvrdit ") and "konf 0907 1400 60 10" in ask.text
    assert reply.channel is Channel.EMAIL and reply.subject == "Vaše rezervace konference"
    assert "ADMIN PIN" in reply.text and "e-mail není bezpečný kanál" in reply.text  # R13


def test_an_email_with_another_subject_is_told_the_right_one(h: Harness) -> None:
    assert h.mail("jan@example.com", "konf 0907 1400 60 10", "<b@x>", "hello") is Outcome.INVALID
    h.dispatch()
    assert "'conference'" in h.gateway.to("jan@example.com")[0].text
    assert h.booking.reservations_of("email:jan@example.com") == []


_senders = itertools.count(100000)


@pytest.mark.parametrize("empty_url", ["sqlite"], indirect=True)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.lists(
            st.sampled_from(
                [
                    "konf",
                    "conf",
                    "0907",
                    "1400",
                    "60",
                    "10",
                    "3106",
                    "2400",
                    "0",
                    "stav",
                    "zrus",
                    "a@b.cz",
                    "x",
                ]
            ),
            max_size=7,
        ).map(" ".join),
    )
)
def test_no_text_crashes_the_desk_or_half_stores_a_booking(store: Store, text: str) -> None:
    h = Harness(store.engine, FakeClock(NOW))
    sender = f"+420601{next(_senders)}"
    outcome = h.sms(sender, text, f"id-{sender}")
    made = reservations(h, sender)
    assert len(made) == (1 if outcome in (Outcome.BOOKED, Outcome.QUEUED) else 0)
    [reply] = h.outbox(sender)  # every message is answered exactly once
    assert reply.body


def test_a_price_change_is_announced_once_to_every_sms_customer_not_blocked(h: Harness) -> None:
    h.sms(PHONE, "konf 0907 1400 60 10", "a")
    h.sms("+420601999000", "conf 0907 1600 60 5", "b")
    h.sms("+420601999111", "status", "c")
    h.messaging.block(Channel.SMS, "+420601999111")
    h.confirmed_mail("eva@example.com", "conf 0907 1500 60 5", "<d@x>")
    h.dispatch()
    changes = ["O2 mobile: 3.00 CZK/min excl. VAT"]
    assert h.messaging.announce_price_change(2, date(2027, 8, 1), changes) == 2
    assert h.messaging.announce_price_change(2, date(2027, 8, 1), changes) == 0  # once per version
    h.dispatch()
    assert h.gateway.to(PHONE)[-1].text == (
        "Dialconf: od 1. 8. 2027 se mění ceny: O2 mobile: 3.00 CZK/min excl. VAT. "
        "Na tuto zprávu nelze odpovědět."
    )
    assert h.gateway.to("+420601999000")[-1].text.startswith("Dialconf: prices change from 1 August 2027")
    assert not any("prices" in s.text for s in h.gateway.to("+420601999111"))
