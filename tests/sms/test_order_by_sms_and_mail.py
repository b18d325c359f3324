"""Ordering end to end: an SMS through the real Kannel, an e-mail through real SMTP servers.

The system runs as `dialconf run` composes it (minus Asterisk): the booking API receives
Kannel's forwards, the order desk books, the outbox sends the replies back through Kannel's
sendsms to the fake phone and through the SMTP relay (a real server on loopback).
"""

from __future__ import annotations

import smtplib
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from booking.domain.keyword import confirmation_code
from booking.domain.model import Reservation
from tests.support.kannel import Sms
from tests.support.messaging_system import MessagingSystem, running_messaging
from tests.support.smtp import body
from tests.support.system import isolated_settings

PRAGUE = ZoneInfo("Europe/Prague")


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessagingSystem]:
    tmp = tmp_path_factory.mktemp("messaging")
    settings = isolated_settings(tmp, "msg")
    with running_messaging(settings, tmp) as s:
        yield s


def tomorrow() -> str:
    return f"{datetime.now(PRAGUE) + timedelta(days=1):%d%m}"


def booked_by(system: MessagingSystem, profile: str) -> list[Reservation]:
    return system.booking.reservations_of(profile)


def test_an_sms_books_through_kannel_and_the_access_data_comes_back(system: MessagingSystem) -> None:
    system.phone.send("+420601100200", "8000", f"konf {tomorrow()} 1400 60 10")
    reply = system.phone.wait_for(lambda m: m.receiver == "+420601100200", timeout=20)
    [r] = booked_by(system, "sms:+420601100200")
    assert reply.sender == "Dialconf"
    assert reply.text.startswith("Konference rezervována:")  # Czech diacritics intact, both ways
    for part in (r.room.conference_number, r.room.pin, r.room.admin_pin, "14:00-15:00", "8000"):
        assert part in reply.text


def test_an_invitee_in_the_order_gets_its_notice_by_sms(system: MessagingSystem) -> None:
    system.phone.send("+420601100300", "8000", f"conf {tomorrow()} 1500 30 4 +420602100301")
    notice: Sms = system.phone.wait_for(lambda m: m.receiver == "+420602100301", timeout=20)
    [r] = booked_by(system, "sms:+420601100300")
    assert notice.text.startswith("Dialconf: conference") and r.room.pin in notice.text
    assert r.room.admin_pin not in notice.text  # R26


def test_a_bad_sms_gets_a_specific_answer_and_books_nothing(system: MessagingSystem) -> None:
    system.phone.send("+420601100400", "8000", "konf 3106 1400 60 10")
    reply = system.phone.wait_for(lambda m: m.receiver == "+420601100400", timeout=20)
    assert reply.text == "'3106': měsíc června má jen 30 dní."
    assert booked_by(system, "sms:+420601100400") == []


def _forward(system: MessagingSystem, key: str, message_id: str, text: str, sender: str) -> int:
    query = urlencode({"sender": sender, "receiver": "8000", "text": text, "id": message_id, "key": key})
    try:
        with urllib.request.urlopen(f"{system.api}/sms/kannel?{query}", timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as e:
        return e.code


def test_a_forward_repeated_with_the_same_id_books_once(system: MessagingSystem) -> None:
    text = f"conf {tomorrow()} 1600 60 5"
    assert _forward(system, system.sms_key, "dup-1", text, "+420601100500") == 200
    assert _forward(system, system.sms_key, "dup-1", text, "+420601100500") == 200
    system.phone.wait_for(lambda m: m.receiver == "+420601100500", timeout=20)
    assert len(booked_by(system, "sms:+420601100500")) == 1
    assert _forward(system, "wrong", "dup-2", text, "+420601100501") == 403
    assert booked_by(system, "sms:+420601100501") == []


def _mail(system: MessagingSystem, sender: str, subject: str, text: str, **headers: str) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, system.settings.messaging.mail.booking_address, subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    m = system.settings.messaging.mail
    with smtplib.SMTP(m.bind_address, m.intake_port, timeout=10) as smtp:
        smtp.send_message(msg)


def test_an_email_books_once_confirmed_and_the_replies_go_out_through_the_relay(
    system: MessagingSystem,
) -> None:
    _mail(system, "Eva Dvořák <eva@example.com>", "Conference", f"conf {tomorrow()} 0900 45 6\n\n-- \nEva")
    ask = system.relay.wait_for(lambda m: "eva@example.com" in str(m["To"]))
    assert booked_by(system, "email:eva@example.com") == []
    code = confirmation_code(str(ask["Subject"]))
    assert code is not None and f"confirm {code}" in body(ask)
    _mail(system, "eva@example.com", f"Re: {ask['Subject']}", "> quoted\n")  # the customer hits Reply
    reply = system.relay.wait_for(
        lambda m: "eva@example.com" in str(m["To"]) and str(m["Subject"]) == "Your conference booking"
    )
    [r] = booked_by(system, "email:eva@example.com")
    text = body(reply)
    assert reply["Subject"] == "Your conference booking" and reply["Auto-Submitted"] == "auto-replied"
    assert r.room.pin in text and r.room.admin_pin in text and "09:00-09:45" in text
    assert "e-mail is not a secure channel" in text  # R13


def test_the_intake_takes_mail_for_the_booking_address_only(system: MessagingSystem) -> None:
    m = system.settings.messaging.mail
    with (
        smtplib.SMTP(m.bind_address, m.intake_port, timeout=10) as smtp,
        pytest.raises(smtplib.SMTPRecipientsRefused),
    ):
        smtp.sendmail(
            "eva@example.com", ["someone@localhost"], b"Subject: conference\r\n\r\nconf 0101 1000 60 5"
        )


def test_automatic_mail_is_never_answered(system: MessagingSystem) -> None:
    _mail(
        system,
        "robot@example.com",
        "conference",
        f"conf {tomorrow()} 1000 60 5",
        Auto_Submitted="auto-replied",
    )
    _mail(system, "eva2@example.com", "conference", f"conf {tomorrow()} 1000 60 5")
    system.relay.wait_for(lambda m: "eva2@example.com" in str(m["To"]))  # handled after the robot's
    assert system.relay.to("robot@example.com") == []
    assert booked_by(system, "email:robot@example.com") == []


def test_no_pin_is_written_to_kannels_logs(system: MessagingSystem) -> None:
    system.phone.send("+420601100600", "8000", f"konf {tomorrow()} 1700 60 3")
    system.phone.wait_for(lambda m: m.receiver == "+420601100600", timeout=20)
    [r] = booked_by(system, "sms:+420601100600")
    logs = [p for p in (system.settings.data_dir / "kannel").iterdir() if p.suffix in (".log", ".out")]
    assert {p.name for p in logs} >= {"access.log", "bearerbox.log", "smsbox.log"}
    for path in logs:
        text = path.read_text(errors="replace")
        assert r.room.pin not in text and r.room.admin_pin not in text, path.name
