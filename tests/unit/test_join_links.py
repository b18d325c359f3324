"""The pure rules of join links and call tokens (issue 20): what a signature binds, what a
reservation's schedule allows, when a stored token may be redeemed, and typed names."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.join_links import (
    NAME_MAX,
    JoinRefusal,
    JoinToken,
    Signer,
    clean_name,
    new_id,
    reservation_refusal,
    token_expiry,
    token_refusal,
)
from booking.domain.model import Reservation, ReservationKind, ReservationStatus, Role, Room

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LEAD = timedelta(minutes=5)
SIGNER = Signer("sixteen-chars-or-more")


def test_a_link_verifies_under_its_secret_only() -> None:
    link_id = new_id()
    assert len(link_id) == 22 and link_id != new_id()
    text = SIGNER.link(link_id)
    assert SIGNER.link_id(text) == link_id
    assert Signer("another-secret-entirely").link_id(text) is None
    link, signature = text.split(".")
    assert SIGNER.link_id(f"{new_id()}.{signature}") is None  # the signature binds the id
    assert SIGNER.link_id(link) is None and SIGNER.link_id(text + ".") is None
    assert SIGNER.link_id(text + "x" * 100) is None  # long input refused before parsing


def test_a_token_binds_its_id_and_expiry() -> None:
    token_id, expires = new_id(), NOW + timedelta(minutes=10)
    text = SIGNER.token(token_id, expires)
    signed = SIGNER.read_token(text)
    assert signed is not None and signed.token_id == token_id and signed.expires_at == expires
    tid, epoch, signature = text.split(".")
    assert SIGNER.read_token(f"{tid}.{int(epoch) + 1}.{signature}") is None
    assert SIGNER.read_token(f"{new_id()}.{epoch}.{signature}") is None
    assert SIGNER.read_token(SIGNER.link(tid)) is None  # a link is no token (another purpose label)
    assert SIGNER.link_id(f"{tid}.{SIGNER.signature('token', tid, epoch)}") is None
    assert SIGNER.read_token(f" {text}") is None and SIGNER.read_token(text + "\r\n") is None


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        Signer("short")


def test_the_expiry_is_whole_seconds_never_later() -> None:
    issued = NOW + timedelta(microseconds=900_000)
    assert token_expiry(issued, timedelta(minutes=10)) == NOW + timedelta(minutes=10)


def _reservation(
    starts: datetime | None, minutes: int = 60, status: ReservationStatus = ReservationStatus.ACTIVE
) -> Reservation:
    room = Room("123456", "111111111", "999999999", 1, id=1)
    ends = None if starts is None else starts + timedelta(minutes=minutes)
    return Reservation(room, ReservationKind.PANEL, starts, ends, 5, status=status, id=7)


@pytest.mark.parametrize(
    ("reservation", "refusal"),
    [
        (None, JoinRefusal.UNKNOWN),
        (_reservation(NOW, status=ReservationStatus.DELETED), JoinRefusal.NOT_ACTIVE),
        (_reservation(NOW, status=ReservationStatus.PENDING), JoinRefusal.NOT_ACTIVE),
        (_reservation(NOW - timedelta(hours=2)), JoinRefusal.OVER),
        (_reservation(NOW - timedelta(minutes=60)), JoinRefusal.OVER),  # ends exactly now
        (_reservation(NOW + timedelta(minutes=6)), JoinRefusal.TOO_EARLY),
        (_reservation(NOW + timedelta(minutes=5)), None),  # the lead: as for phone callers (R28)
        (_reservation(NOW - timedelta(minutes=59)), None),
        (_reservation(None), None),  # an anytime room
    ],
)
def test_the_schedule_is_a_phone_callers(
    reservation: Reservation | None, refusal: JoinRefusal | None
) -> None:
    assert reservation_refusal(reservation, NOW, LEAD) is refusal


def test_a_used_token_stays_used_and_an_old_one_expires() -> None:
    token = JoinToken("h", 1, 7, Role.PARTICIPANT, NOW, NOW + timedelta(minutes=10), id=1)
    assert token_refusal(token, NOW) is None
    assert token_refusal(None, NOW) is JoinRefusal.UNKNOWN
    assert token_refusal(token, NOW + timedelta(minutes=10)) is JoinRefusal.EXPIRED
    used = dataclasses.replace(token, used_at=NOW)
    assert token_refusal(used, NOW) is JoinRefusal.USED
    assert token_refusal(used, NOW + timedelta(hours=1)) is JoinRefusal.USED


def test_a_typed_name_is_printable_single_spaced_and_bounded() -> None:
    assert clean_name("  Eva \t Nováková\x1b[31m ") == "Eva Nováková [31m"
    assert clean_name("\u202eevil\u0000") == "evil"
    assert len(clean_name("x" * 500)) == NAME_MAX
    assert clean_name("   ") == ""
