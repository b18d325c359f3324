"""Ordering by e-mail and SMS cannot be forged or abused, through the real SMTP intake, the
real relay and the real Kannel: forged senders, the one-time code, DKIM signatures made with
dkimpy (their keys answered from a table, no network), paid SMS, new-sender floods, bad
senders that must not be retried forever."""

from __future__ import annotations

import itertools
import smtplib
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.domain.keyword import confirmation_code
from booking.domain.messages import Channel, Inbound, Outcome
from booking.domain.model import Reservation, ReservationStatus
from booking.domain.texts import Texts
from booking.store.messaging_tables import inbound_messages, senders
from tests.support.dkim import FakeDns, SigningKey, new_key, sign
from tests.support.messaging_system import MessagingSystem, running_messaging
from tests.support.poll import until_sync
from tests.support.smtp import body
from tests.support.sql import sql
from tests.support.system import isolated_settings

PRAGUE = ZoneInfo("Europe/Prague")
PER_DOMAIN = 3
_hours = itertools.count(8)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_key("signed.test")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory, key: SigningKey) -> Iterator[MessagingSystem]:
    tmp = tmp_path_factory.mktemp("forgery")
    settings = isolated_settings(tmp, "forge")
    settings.messaging.mail.dkim.trust = True
    settings.messaging.mail.new_senders_per_domain_per_hour = PER_DOMAIN
    # Kannel retries a forward it did not like after this delay: short, so a retry would show.
    settings.messaging.kannel.http_retry_delay_s = 1
    settings.messaging.kannel.http_retries = 3
    dns = FakeDns()
    dns.publish(key)
    with running_messaging(settings, tmp, dns.lookup) as s:
        yield s


def order(minutes: int = 30, seats: int = 4, extra: str = "") -> str:
    day = datetime.now(PRAGUE) + timedelta(days=2)
    return f"conf {day:%d%m} {next(_hours):02d}00 {minutes} {seats}{extra}"


def raw_mail(sender: str, subject: str, text: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "conference@localhost", subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return msg.as_bytes()


def send(system: MessagingSystem, raw: bytes, envelope_from: str = "someone@example.net") -> None:
    m = system.settings.messaging.mail
    with smtplib.SMTP(m.bind_address, m.intake_port, timeout=10) as smtp:
        smtp.sendmail(envelope_from, [m.booking_address], raw)


def refused(system: MessagingSystem, raw: bytes) -> tuple[int, str]:
    with pytest.raises(smtplib.SMTPDataError) as e:
        send(system, raw)
    assert isinstance(e.value.smtp_error, bytes)  # smtplib keeps the server's reply as it came
    return e.value.smtp_code, e.value.smtp_error.decode()


def default_text(system: MessagingSystem, key: str, **values: object) -> str:
    """A reply to a sender whose language is not known yet."""
    return Texts(system.settings.messaging.default_language)(key, **values)


def mails_to(system: MessagingSystem, address: str) -> list[EmailMessage]:
    return system.relay.to(address)


def next_mail(system: MessagingSystem, address: str, seen: int) -> EmailMessage:
    """The mail to ``address`` after the first ``seen`` ones."""
    return system.relay.wait_for(lambda m: m in mails_to(system, address)[seen:])


def own(system: MessagingSystem, address: str) -> list[Reservation]:
    return [
        r for r in system.booking.reservations_of(f"email:{address}") if r.status is ReservationStatus.ACTIVE
    ]


def confirm(system: MessagingSystem, address: str, ask: EmailMessage) -> EmailMessage:
    """The owner of ``address`` hits Reply on the request; the answer it gets."""
    seen = len(mails_to(system, address))
    send(system, raw_mail(address, f"Re: {ask['Subject']}", "> We received this order"), address)
    return next_mail(system, address, seen)


def test_a_forged_cancel_cancels_nothing_and_only_the_owner_can_confirm_it(system: MessagingSystem) -> None:
    owner, forger = "owner@example.com", "forger@evil.test"
    send(system, raw_mail(owner, "conference", order()), owner)
    ask = next_mail(system, owner, 0)
    assert "Please confirm" in str(ask["Subject"]) and own(system, owner) == []
    booked = confirm(system, owner, ask)
    [r] = own(system, owner)
    assert r.room.pin in body(booked)
    # The forger writes the owner's From, its own Reply-To and envelope: what was a cancel.
    send(system, raw_mail(owner, "conference", "cancel", Reply_To=forger), forger)
    request = next_mail(system, owner, 2)
    assert f"cancel conference {r.room.conference_number}" in body(request)
    assert own(system, owner) == [r] and mails_to(system, forger) == []
    # The right code, but from another address: it opens nothing there.
    code = confirmation_code(str(request["Subject"]))
    assert code is not None
    send(system, raw_mail(forger, f"Re: confirm {code}", ""), forger)
    nothing = next_mail(system, forger, 0)
    assert body(nothing).strip() == default_text(system, "reply.confirm_none", hours=24)
    assert own(system, owner) == [r]
    # The owner confirms: cancelled.
    done = confirm(system, owner, request)
    assert body(done).startswith(f"Conference {r.room.conference_number} on ")
    assert own(system, owner) == []


def test_a_dkim_signed_order_acts_at_once_and_a_bad_signature_waits_for_the_code(
    system: MessagingSystem, key: SigningKey
) -> None:
    eva = "eva@signed.test"
    send(system, sign(raw_mail(f"Eva <{eva}>", "conference", order()), key), eva)
    booked = next_mail(system, eva, 0)
    assert str(booked["Subject"]) == "Your conference booking"
    [r] = own(system, eva)
    assert r.room.pin in body(booked)
    # Signed, then changed on the way (another order in the body): the signature fails.
    signed = sign(raw_mail(eva, "conference", "conf 0101 0900 60 5"), key)
    send(system, signed.replace(b"conf 0101 0900 60 5", order().encode()), eva)
    ask = next_mail(system, eva, 1)
    assert "Please confirm" in str(ask["Subject"]) and own(system, eva) == [r]
    # A signature of another domain (the forger's own key) vouches for nobody at signed.test.
    forged = sign(raw_mail(eva, "conference", "cancel"), new_key("evil.test"))
    send(system, forged, eva)
    assert "Please confirm" in str(next_mail(system, eva, 2)["Subject"]) and own(system, eva) == [r]


def test_an_email_order_with_phone_invitees_queues_no_sms(system: MessagingSystem) -> None:
    jan, number = "jan@example.org", "+420602999001"
    send(system, raw_mail(jan, "conference", order(extra=f" {number} +12025550123 ota@example.org")), jan)
    reply = next_mail(system, jan, 0)
    assert "cannot send SMS notices" in body(reply) and number in body(reply)
    with system.services.uow(read_only=True) as repo:
        queued = repo.messages.outbox()
    assert [m for m in queued if m.channel is Channel.SMS and m.recipient == number] == []
    assert own(system, jan) == []


def test_new_senders_of_one_domain_are_limited_with_one_reply_an_hour(system: MessagingSystem) -> None:
    for n in range(PER_DOMAIN + 2):
        address = f"u{n}@flood.test"
        send(system, raw_mail(address, "conference", "status"), address)  # recorded before 250
    with sql(system.services.uow) as conn:
        rows = conn.execute(
            select(inbound_messages.c.sender, inbound_messages.c.outcome).where(
                inbound_messages.c.sender.like("%@flood.test")
            )
        ).all()
        profiles = conn.execute(select(senders.c.address).where(senders.c.address.like("%@flood.test")))
        known = {p.address for p in profiles}
    outcomes = dict((r.sender, r.outcome) for r in rows)
    limited = Outcome.NEW_SENDER_LIMITED.value
    assert [outcomes[f"u{n}@flood.test"] for n in range(PER_DOMAIN + 2)] == ["status"] * PER_DOMAIN + [
        limited,
        limited,
    ]
    assert known == {f"u{n}@flood.test" for n in range(PER_DOMAIN)}  # no profile for the refused
    told = next_mail(system, f"u{PER_DOMAIN}@flood.test", 0)
    assert body(told).strip() == default_text(system, "reply.new_senders_limited")
    # The last one is refused silently (one reply an hour): the outbox holds nothing for it.
    with system.services.uow(read_only=True) as repo:
        assert repo.messages.outbox(f"u{PER_DOMAIN + 1}@flood.test") == []
    # Another domain is not held up.
    send(system, raw_mail("ota@other.test", "conference", "status"), "ota@other.test")
    assert "no conferences" in body(next_mail(system, "ota@other.test", 0))


@pytest.mark.parametrize(
    ("from_header", "reason"),
    [
        ("eva", "no domain"),
        ("eva@example.com, jan@example.com", "names 2 mailboxes"),
        ("undisclosed-recipients:;", "names no mailboxes"),
    ],
)
def test_a_bad_from_is_answered_550_with_the_reason_and_stores_nothing(
    system: MessagingSystem, from_header: str, reason: str
) -> None:
    raw = f"From: {from_header}\r\nTo: conference@localhost\r\nSubject: conference\r\n\r\nstatus\r\n"
    with sql(system.services.uow) as conn:
        before = len(conn.execute(select(inbound_messages.c.id)).all())
    for _ in range(2):  # the same answer each time: permanent, never a 451 to retry
        code, text = refused(system, raw.encode())
        assert code == 550 and text.startswith("5.1.7") and reason in text
    with sql(system.services.uow) as conn:
        assert len(conn.execute(select(inbound_messages.c.id)).all()) == before


def test_unreadable_mail_is_refused_with_a_clear_permanent_answer(system: MessagingSystem) -> None:
    charset = b"From: eva@example.com\r\nContent-Type: text/plain; charset=x-nonsense\r\n\r\nstatus\r\n"
    assert refused(system, charset)[0] == 550 and "x-nonsense" in refused(system, charset)[1]
    surrogate = b"From: eva@example.com\r\nSubject: =?utf-7?Q?+2D0-?=\r\n\r\nstatus\r\n"
    assert refused(system, surrogate)[0] == 550
    huge_line = b"From: eva@example.com\r\nSubject: conference\r\n\r\n" + b"x" * 5000 + b"\r\n"
    code, text = refused(system, huge_line)
    assert code == 500 and "too long" in text.lower()


def _forward(system: MessagingSystem, sender: str, text: str, message_id: str) -> int:
    query = urlencode(
        {"sender": sender, "receiver": "8000", "text": text, "id": message_id, "key": system.sms_key}
    )
    try:
        with urllib.request.urlopen(f"{system.api}/sms/kannel?{query}", timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_an_sms_from_a_sender_that_is_no_number_is_taken_once_with_nothing_stored(
    system: MessagingSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = system.messaging.desk
    seen: list[tuple[str, str]] = []
    handle = desk.handle

    def spy(msg: Inbound) -> Outcome:
        try:
            outcome = handle(msg)
        except Exception as e:
            seen.append((msg.sender, type(e).__name__))
            raise
        seen.append((msg.sender, outcome.value))
        return outcome

    monkeypatch.setattr(desk, "handle", spy)
    # Through the fake SMSC, bearerbox and smsbox: an operator's name, and a customer.
    system.phone.send("abc", "8000", order())
    system.phone.send("+420601777002", "8000", "status")
    until_sync(lambda: len(seen) == 2, 20, "Kannel's forwards of both SMS")
    assert sorted(seen) == [("+420601777002", "status"), ("abc", "BadSender")]
    # Kannel retries any answer but 200 and 202, after http_retry_delay_s: none comes.
    quiet_until = time.monotonic() + 3 * system.settings.messaging.kannel.http_retry_delay_s
    until_sync(lambda: len(seen) > 2 or time.monotonic() > quiet_until, 10, "a retry or the quiet time")
    assert len(seen) == 2, seen
    assert _forward(system, "abc", order(), "abc-1") == 200  # what Kannel got
    assert _forward(system, "Vodafone", "konf\x00 0101", "abc-2") == 200
    with sql(system.services.uow) as conn:
        stored = conn.execute(
            select(senders.c.address).where(
                senders.c.channel == "sms", senders.c.address.in_(["abc", "Vodafone"])
            )
        ).all()
    with system.services.uow(read_only=True) as repo:
        answered = repo.messages.outbox("abc")
    assert stored == [] and answered == []
    # A control character in a real number's SMS is answered, not a 500 (PostgreSQL rejects NUL).
    assert _forward(system, "+420601777001", "konf\x00 0101", "nul-1") == 200
    system.phone.wait_for(lambda m: m.receiver == "+420601777001", timeout=20)
