"""The operator queue: requests over the limits wait; the operator approves or rejects (R3, R4)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

from booking.settings import BookingSettings
from tests.support.api import Api, at

ApiWith = Callable[[BookingSettings], AbstractContextManager[Api]]


def queued(api: Api, who: str = "acme", **body: object) -> dict[str, object]:
    return api.book(who, kind="on_demand", starts_at=at(30), minutes=150, seats=5, expect=202, **body)


def test_the_queue_lists_pending_requests_with_their_profile(api: Api) -> None:
    waiting = queued(api)
    api.book("acme")  # booked at once: not queued
    r = api.client.get("/api/queue", headers=api.operator)
    assert r.status_code == 200
    [item] = r.json()
    assert item["id"] == waiting["id"]
    assert item["status"] == "pending"
    me = api.client.get("/api/me", headers=api.profile("acme")).json()
    assert item["profile_id"] == me["id"]
    assert "150 minutes" in item["note"]


def test_approve_confirms_the_request(api: Api) -> None:
    waiting = queued(api)
    r = api.client.post(f"/api/queue/{waiting['id']}/approve", headers=api.operator)
    assert r.status_code == 200
    assert r.json()["status"] == "active" and r.json()["note"] == "approved by operator"
    assert api.client.get("/api/queue", headers=api.operator).json() == []
    shown = api.client.get(f"/api/reservations/{waiting['id']}", headers=api.profile("acme")).json()
    assert shown["status"] == "active" and shown["message"] is None
    assert shown["conference_number"] == waiting["conference_number"]
    rooms = api.client.get("/api/rooms", headers=api.profile("acme")).json()
    assert [x["reservation_id"] for x in rooms] == [waiting["id"]]


def test_reject_tells_the_requester_why(api: Api) -> None:
    waiting = queued(api)
    r = api.client.post(
        f"/api/queue/{waiting['id']}/reject", json={"reason": "no operator on duty"}, headers=api.operator
    )
    assert r.status_code == 200
    assert r.json()["status"] == "rejected" and r.json()["note"] == "no operator on duty"
    assert api.client.get("/api/queue", headers=api.operator).json() == []
    shown = api.client.get(f"/api/reservations/{waiting['id']}", headers=api.profile("acme")).json()
    assert shown["status"] == "rejected" and shown["note"] == "no operator on duty"
    listed = api.client.get("/api/reservations", headers=api.profile("acme")).json()
    assert listed == []  # a rejected request frees the profile's slot


def test_reject_needs_a_reason(api: Api) -> None:
    waiting = queued(api)
    for body in ({}, {"reason": ""}):
        r = api.client.post(f"/api/queue/{waiting['id']}/reject", json=body, headers=api.operator)
        assert r.status_code == 422
        assert r.json()["detail"][0]["loc"] == ["body", "reason"]


def test_only_queued_requests_can_be_decided(api: Api) -> None:
    booked = api.book("acme")
    for action, body in (("approve", None), ("reject", {"reason": "x"})):
        for rid in (booked["id"], 4242):
            r = api.client.post(f"/api/queue/{rid}/{action}", json=body, headers=api.operator)
            assert r.status_code == 404
            assert r.json() == {"detail": f"no queued request {rid}"}


def test_approval_still_respects_the_capacity(api_with: ApiWith) -> None:
    with api_with(BookingSettings(system_capacity=30)) as api:
        waiting = api.book("acme", kind="on_demand", starts_at=at(30), minutes=60, seats=25, expect=202)
        api.book("other", starts_at=at(30), minutes=60, seats=10)
        r = api.client.post(f"/api/queue/{waiting['id']}/approve", headers=api.operator)
        assert r.status_code == 409
        assert r.json()["free_seats"] == 20
        assert [x["id"] for x in api.client.get("/api/queue", headers=api.operator).json()] == [waiting["id"]]


def test_the_queue_is_for_the_operator_only(api: Api) -> None:
    waiting = queued(api)
    profile = api.profile("acme")
    assert api.client.get("/api/queue", headers=profile).status_code == 401
    assert api.client.get("/api/queue").status_code == 401
    assert api.client.post(f"/api/queue/{waiting['id']}/approve", headers=profile).status_code == 401
    r = api.client.post(f"/api/queue/{waiting['id']}/reject", json={"reason": "x"}, headers=profile)
    assert r.status_code == 401
    assert api.client.get("/api/queue", headers=api.operator).json()[0]["status"] == "pending"


def test_operator_lists_and_clears_pin_lockouts(api: Api) -> None:
    booked = api.book("acme", starts_at=at(30), minutes=60)
    api.clock.advance(timedelta(minutes=30))
    for _ in range(api.services.settings.booking.pin_per_caller):
        api.services.dialin.dial_in(booked["conference_number"], "1", caller="+420600111222")
    listed = api.client.get("/api/pin-lockouts", headers=api.operator)
    assert listed.status_code == 200
    assert "caller:+420600111222" in {row["key"] for row in listed.json()}
    assert api.client.get("/api/pin-lockouts", headers=api.profile("acme")).status_code == 401
    cleared = api.client.delete("/api/pin-lockouts/caller:+420600111222", headers=api.operator)
    assert cleared.status_code == 204
    again = api.client.delete("/api/pin-lockouts/caller:+420600111222", headers=api.operator)
    assert again.status_code == 404
