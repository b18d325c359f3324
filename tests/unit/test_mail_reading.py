"""Who an e-mail is from (the From alone), what makes it unreadable, and DKIM with real
signatures (dkimpy signs with a key openssl made; the key's DNS record comes from a table)."""

from __future__ import annotations

import re

import pytest

from booking.adapters.dkim_check import DkimVerifier, aligned
from booking.adapters.mail import take_mail
from booking.adapters.mail_reading import parse_mail
from booking.domain.addresses import normalise_phone
from booking.domain.errors import AddressError, MailRefused
from booking.domain.keyword import confirmation_code
from booking.settings import DkimSettings
from tests.support.dkim import FakeDns, SigningKey, new_key, sign

ENVELOPE = "bounces@example.com"


def mail(headers: str, body: str = "conf 0907 1400 60 10\n") -> bytes:
    return (headers.strip() + "\nTo: conference@localhost\nSubject: conference\n\n" + body).encode()


def test_the_sender_is_the_from_address_never_reply_to_or_the_envelope() -> None:
    inbound = parse_mail(
        mail("From: Eva Dvořák <Eva@Example.COM>\nReply-To: attacker@evil.test\nSender: x@evil.test"),
        "attacker@evil.test",
    )
    assert inbound is not None and inbound.sender == "Eva@example.com"
    assert inbound.text == "conf 0907 1400 60 10" and not inbound.authenticated


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ("Reply-To: eva@example.com", "no From header"),
        ("From: eva@example.com\nFrom: jan@example.com", "several From headers"),
        ("From: eva@example.com, attacker@evil.test", "names 2 mailboxes"),
        ("From: undisclosed-recipients:;", "names no mailboxes"),
        ("From: eva", "has no domain"),
        ("From: <@example.com>", "has no domain"),
        ("From: eva@", "cannot be read as an address"),
        ("From: " + ", ".join(f"u{n}@example.com" for n in range(80)), "longer than 998"),
        ("From: évá@example.com", "plain ASCII"),
        ("From: eva@exa mple.com", "not valid"),
    ],
)
def test_a_bad_from_is_refused_with_550_and_the_reason(headers: str, reason: str) -> None:
    with pytest.raises(MailRefused) as refused:
        parse_mail(mail(headers), ENVELOPE)
    assert refused.value.reply.startswith("550 5.1.7 ") and reason in refused.value.reply


def test_eight_bit_utf8_headers_and_an_idn_domain_are_read() -> None:
    raw = "From: Eva Dvořák <eva@příklad.cz>\nTo: conference@localhost\nSubject: conférence\n\nstatus\n"
    inbound = parse_mail(raw.encode(), ENVELOPE)
    assert inbound is not None and inbound.sender == "eva@xn--pklad-zsa96e.cz"
    assert inbound.subject == "conférence"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"From: eva@example.com\nContent-Type: text/plain; charset=x-nonsense\n\nstatus\n", "charset"),
        (b"From: eva@example.com\nContent-Type: text/plain; charset=rot13\n\nstatus\n", "charset"),
        # UTF-7 can spell a lone surrogate, which no store can keep.
        (b"From: eva@example.com\nContent-Type: text/plain; charset=utf-7\n\n+2D0-\n", "not valid text"),
        (b"From: eva@example.com\nSubject: =?utf-7?Q?+2D0-?=\n\nstatus\n", "Subject header cannot be read"),
        (b"From: eva@example.com\nAuto-Submitted: =?utf-7?Q?+2D0-?=\n\nstatus\n", "Auto-Submitted header"),
    ],
)
def test_a_body_or_header_that_is_no_text_is_refused_with_the_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(MailRefused) as refused:
        parse_mail(raw, ENVELOPE)
    assert refused.value.reply.startswith("550 5.6.0 ") and reason in refused.value.reply


def test_undecodable_eight_bit_bytes_become_replacement_characters_not_a_crash() -> None:
    inbound = parse_mail(b"From: eva@example.com\nSubject: \xff conference\n\nstatus \xff\n", ENVELOPE)
    assert inbound is not None and inbound.subject == "\ufffd conference" and inbound.text == "status \ufffd"


def test_automatic_mail_is_not_read_at_all_even_with_a_bad_from() -> None:
    assert parse_mail(mail("From: nobody"), None) is None
    assert parse_mail(mail("From: eva@example.com\nAuto-Submitted: auto-replied"), ENVELOPE) is None


def test_a_message_id_that_is_no_text_falls_back_to_a_digest() -> None:
    raw = b"From: eva@example.com\nMessage-ID: <\xff@x>\nSubject: conference\n\nstatus\n"
    inbound = parse_mail(raw, ENVELOPE)
    assert inbound is not None and inbound.external_id.startswith("sha256:")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Re: Please confirm: confirm 12345678", "12345678"),
        ("RE: Potvrďte prosím: potvrdit 00012345", "00012345"),
        ("confirm 12345678.", "12345678"),
        ("Bestätigen 87654321", "87654321"),
        ("conference", None),
        ("confirm my order", None),
        ("conf 0907 1400 60 10", None),
    ],
)
def test_the_confirmation_code_is_found_in_a_subject_or_a_first_line(text: str, code: str | None) -> None:
    assert confirmation_code(text) == code


def test_alignment() -> None:
    assert aligned("example.com", "example.com", relaxed=False)
    assert aligned("Example.COM", "mail.example.com", relaxed=True)
    assert not aligned("example.com", "mail.example.com", relaxed=False)
    assert not aligned("com", "example.com", relaxed=True)  # a bare top-level domain vouches for nobody
    assert not aligned("ample.com", "example.com", relaxed=True)
    assert not aligned("evil.test", "example.com", relaxed=True)


@pytest.mark.parametrize("sender", ["abc", "Vodafone", "12", "+", "1-800-FLOWERS", "+420 601 abc"])
def test_a_phone_number_has_no_letters_and_at_least_three_digits(sender: str) -> None:
    with pytest.raises(AddressError):
        normalise_phone(sender, "CZ")
    assert normalise_phone("00420 601 111 222", "CZ") == "+420601111222"
    assert normalise_phone("8000", "CZ") == "8000"


# --- DKIM, with real signatures -----------------------------------------------------------


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return new_key("signed.test")


@pytest.fixture
def dns(key: SigningKey) -> FakeDns:
    table = FakeDns()
    table.publish(key)
    return table


def verifier(dns: FakeDns, **settings: object) -> DkimVerifier:
    return DkimVerifier(DkimSettings(trust=True, **settings), dns.lookup)


SIGNED = (
    b"From: Eva <eva@signed.test>\nTo: conference@localhost\nSubject: conference\n"
    b"Message-ID: <1@signed.test>\n\ncancel 12345678\n"
)


def test_a_valid_aligned_signature_authenticates_and_names_the_message(key: SigningKey, dns: FakeDns) -> None:
    signed = sign(SIGNED, key)
    inbound = take_mail(signed, ENVELOPE, verifier(dns))
    assert inbound is not None and inbound.authenticated and inbound.external_id.startswith("dkim:")
    assert dns.asked == [b"sel1._domainkey.signed.test."]
    # A replay with a new Message-ID (not signed) is the same message: a redelivery.
    replay = signed.replace(b"<1@signed.test>", b"<2@signed.test>")
    again = take_mail(replay, ENVELOPE, verifier(dns))
    assert again is not None and again.authenticated and again.external_id == inbound.external_id


def test_a_signature_of_a_parent_domain_counts_only_when_alignment_is_relaxed(
    key: SigningKey, dns: FakeDns
) -> None:
    signed = sign(SIGNED.replace(b"eva@signed.test", b"eva@mail.signed.test"), key)
    relaxed = take_mail(signed, ENVELOPE, verifier(dns))
    strict = take_mail(signed, ENVELOPE, verifier(dns, alignment="strict"))
    assert relaxed is not None and relaxed.authenticated
    assert strict is not None and not strict.authenticated


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: m.replace(b"cancel 12345678", b"cancel 87654321"),  # the body changed
        lambda m: m.replace(b"Subject: conference", b"Subject: conference now"),  # a signed header
        lambda m: m.replace(b"From: Eva <eva@signed.test>", b"From: Eva <jan@signed.test>"),
    ],
)
def test_a_tampered_message_is_not_authenticated(key: SigningKey, dns: FakeDns, tamper: object) -> None:
    changed = tamper(sign(SIGNED, key))  # type: ignore[operator]
    inbound = take_mail(changed, ENVELOPE, verifier(dns))
    assert inbound is not None and not inbound.authenticated
    assert not inbound.external_id.startswith("dkim:")


def test_signatures_that_prove_nothing_are_not_even_looked_up(key: SigningKey, dns: FakeDns) -> None:
    # Another domain signed it (the forger's own): no alignment, no DNS lookup.
    forged = sign(SIGNED.replace(b"eva@signed.test", b"eva@victim.test"), key)
    # A valid signature with l=: anyone may append to the body after the signed length.
    with_length = sign(SIGNED, key, length=True)
    assert re.search(rb"[;\s]l=\d+;", with_length.split(b"\r\n\r\n")[0])
    # A signature that leaves the From header out (dkimpy will not make one: written by hand).
    unsigned_from = (
        b"DKIM-Signature: v=1; a=rsa-sha256; d=signed.test; s=sel1; h=to:subject; bh=AA==; b=AA==\n"
    )
    for raw in (forged, with_length, unsigned_from + SIGNED):
        inbound = take_mail(raw, ENVELOPE, verifier(dns))
        assert inbound is not None and not inbound.authenticated
    assert dns.asked == []


def test_a_key_missing_from_dns_or_too_short_proves_nothing(key: SigningKey) -> None:
    inbound = take_mail(sign(SIGNED, key), ENVELOPE, verifier(FakeDns()))
    assert inbound is not None and not inbound.authenticated
    short = new_key("signed.test", bits=768)
    table = FakeDns()
    table.publish(short)
    inbound = take_mail(sign(SIGNED, short), ENVELOPE, verifier(table))
    assert inbound is not None and not inbound.authenticated


def test_without_a_verifier_nothing_is_authenticated(key: SigningKey) -> None:
    inbound = take_mail(sign(SIGNED, key), ENVELOPE, None)
    assert inbound is not None and not inbound.authenticated
