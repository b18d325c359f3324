"""The messaging endpoints: invitees, notices, the invitation (R46), senders (R12), Kannel's forward."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from booking.domain.clock import FakeClock
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from tests.support.api import NOW, OPERATOR_TOKEN, Api, at
from tests.support.messaging import Harness, RecordingGateway
from tests.support.services import api_app

KEY = "kannel-key"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Api, RecordingGateway, Harness]]:
    url = f"sqlite:///{tmp_path / 'booking.db'}"
    upgrade(url)
    engine = make_engine(url)
    h = Harness(engine, FakeClock(NOW))
    try:
        with TestClient(api_app(h.services, OPERATOR_TOKEN, KEY)) as client:
            yield Api(client, h.booking, h.clock, h.services), h.gateway, h
    finally:
        engine.dispose()


def test_invitees_are_set_listed_and_planned(api: tuple[Api, RecordingGateway, Harness]) -> None:
    a, gateway, h = api
    r = a.book("org", starts_at=at(60 * 24))
    path = f"/api/reservations/{r['id']}"
    body = {"invitees": [{"address": "Eva@Example.com"}, {"address": "+420 602 111 222", "language": "cs"}]}
    got = a.client.put(f"{path}/invitees", json=body, headers=a.profile("org"))
    assert got.status_code == 200, got.text
    assert [(i["channel"], i["address"], i["language"]) for i in got.json()] == [
        ("email", "Eva@example.com", "en"),
        ("sms", "+420602111222", "cs"),
    ]
    notices = a.client.get(f"{path}/notices", headers=a.profile("org")).json()
    assert sorted((n["kind"], n["channel"], n["paid"]) for n in notices) == [
        ("booked", "email", False),
        ("booked", "sms", True),
        ("reminder", "email", False),
        ("reminder", "sms", True),
    ]
    h.dispatch()
    assert {s.to for s in gateway.sent} == {"Eva@example.com", "+420602111222"}


def test_a_bad_invitee_address_is_named(api: tuple[Api, RecordingGateway, Harness]) -> None:
    a, _, _ = api
    r = a.book("org")
    bad = a.client.put(
        f"/api/reservations/{r['id']}/invitees",
        json={"invitees": [{"address": "nobody@"}]},
        headers=a.profile("org"),
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "invitees.0"]


def test_another_profiles_reservation_is_not_found(api: tuple[Api, RecordingGateway, Harness]) -> None:
    a, _, _ = api
    r = a.book("org")
    for method, suffix in (
        ("get", "invitees"),
        ("get", "notices"),
        ("get", "invitation"),
        ("post", "invitation/send"),
    ):
        got = a.client.request(method, f"/api/reservations/{r['id']}/{suffix}", headers=a.profile("intruder"))
        assert got.status_code == 404, suffix


def test_the_invitation_is_edited_then_sent(api: tuple[Api, RecordingGateway, Harness]) -> None:
    a, gateway, h = api
    r = a.book("org", starts_at=at(60 * 24), title="Board")
    path = f"/api/reservations/{r['id']}"
    a.client.put(
        f"{path}/invitees", json={"invitees": [{"address": "eva@example.com"}]}, headers=a.profile("org")
    )
    shown: dict[str, Any] = a.client.get(f"{path}/invitation", headers=a.profile("org")).json()
    assert "{pin}" in shown["body_template"] and r["pin"] in shown["body"] and shown["sent_at"] is None
    bad = a.client.put(f"{path}/invitation", json={"body": "PIN {secret}"}, headers=a.profile("org"))
    assert bad.status_code == 422 and bad.json()["detail"][0]["type"] == "unknown_placeholder"
    edit = {"subject": "{title} at {time}", "body": "Join us: {access}, conference {conference}, PIN {pin}."}
    edited = a.client.put(f"{path}/invitation", json=edit, headers=a.profile("org")).json()
    assert edited["subject"] == "Board at 10:00" and edited["edited_at"] is not None
    sent = a.client.post(f"{path}/invitation/send", headers=a.profile("org"))
    assert sent.status_code == 202 and sent.json() == {"queued": 1}
    h.dispatch()
    mail = [s for s in gateway.sent if s.subject == "Board at 10:00"]
    assert (
        len(mail) == 1
        and mail[0].text
        == f"Join us: +420222111001, +420222111000, conference {r['conference_number']}, PIN {r['pin']}."
    )


def test_operators_block_limit_and_unblock_senders(api: tuple[Api, RecordingGateway, Harness]) -> None:
    a, _, _ = api
    assert a.client.get("/api/senders").status_code == 401
    block = {"channel": "sms", "address": "+420601000111", "note": "abuse", "cancel_bookings": True}
    got = a.client.post("/api/senders/block", json=block, headers=a.operator)
    assert got.status_code == 200 and got.json()["blocked"] is True
    listed = a.client.get("/api/senders?blocked=true", headers=a.operator).json()
    assert [s["address"] for s in listed] == ["+420601000111"]
    limit = a.client.post(
        "/api/senders/limit",
        json={"channel": "email", "address": "x@example.com", "hourly_limit": 3},
        headers=a.operator,
    )
    assert limit.json()["hourly_limit"] == 3
    un = a.client.post(
        "/api/senders/unblock", json={"channel": "sms", "address": "+420601000111"}, headers=a.operator
    )
    assert un.json()["blocked"] is False


def test_kannels_forward_needs_the_key_and_books_once_per_id(
    api: tuple[Api, RecordingGateway, Harness],
) -> None:
    a, _, h = api
    query = {"sender": "+420601000222", "receiver": "8000", "text": "conf 0303 1400 60 5", "id": "abc"}
    assert a.client.get("/sms/kannel", params=query | {"key": "nope"}).status_code == 403
    assert a.client.get("/sms/kannel", params=query | {"key": KEY}).status_code == 200
    assert a.client.get("/sms/kannel", params=query | {"key": KEY}).status_code == 200
    assert len(h.booking.reservations_of("sms:+420601000222")) == 1
    assert a.client.get("/sms/kannel", params={"key": KEY}).status_code == 422


@pytest.mark.parametrize("sender", ["abc", "Vodafone", "12"])
def test_a_forward_from_a_sender_that_is_no_number_is_taken_and_stores_nothing(
    api: tuple[Api, RecordingGateway, Harness], sender: str
) -> None:
    """Kannel retries every answer but 200 and 202: a sender we cannot answer gets an empty 200,
    with nothing kept."""
    a, _, h = api
    query = {
        "sender": sender,
        "receiver": "8000",
        "text": "conf 0303 1400 60 5",
        "id": f"id-{sender}",
        "key": KEY,
    }
    assert a.client.get("/sms/kannel", params=query).status_code == 200
    assert a.client.get("/sms/kannel", params=query | {"key": "nope"}).status_code == 403
    assert h.messaging.senders() == [] and h.outbox() == []
