"""The shared capacity refuses with a structured 409 (R7); over-limit requests wait (202, R3)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

from booking.settings import BookingSettings
from tests.support.api import NOW, Api, at, parse

SMALL = BookingSettings(system_capacity=10)
ApiWith = Callable[[BookingSettings], AbstractContextManager[Api]]


def test_a_full_window_answers_409_with_alternatives(api_with: ApiWith) -> None:
    with api_with(SMALL) as api:
        api.book("acme", starts_at=at(60), minutes=60, seats=8)  # 10:00-11:00
        r = api.client.post(
            "/api/reservations",
            json={"starts_at": at(90), "minutes": 60, "seats": 5},  # 10:30-11:30
            headers=api.profile("other"),
        )
        assert r.status_code == 409
        body = r.json()
        assert body["error"] == "capacity"
        assert body["seats"] == 5
        assert body["peak_reserved"] == 8
        assert parse(body["busiest_at"]) == NOW + timedelta(minutes=90)
        assert body["free_seats"] == 2
        suggested = [parse(s) for s in body["suggested_starts"]]
        assert NOW + timedelta(minutes=120) in suggested  # right after the other booking ends
        assert all(s >= NOW + timedelta(minutes=10) for s in suggested)  # bookable (R23)
        assert "8 of the system's seats" in body["message"]


def test_the_suggested_start_and_the_free_seats_really_fit(api_with: ApiWith) -> None:
    with api_with(SMALL) as api:
        api.book("acme", starts_at=at(60), minutes=60, seats=8)
        r = api.client.post(
            "/api/reservations",
            json={"starts_at": at(90), "minutes": 60, "seats": 5},
            headers=api.profile("b"),
        )
        body = r.json()
        api.book("b", starts_at=at(90), minutes=60, seats=body["free_seats"])
        api.book("c", starts_at=body["suggested_starts"][0], minutes=60, seats=3)


def test_a_refused_booking_takes_nothing(api_with: ApiWith) -> None:
    with api_with(SMALL) as api:
        api.book("acme", seats=10)
        api.book("other", seats=1, expect=409)
        assert api.client.get("/api/reservations", headers=api.profile("other")).json() == []


def test_an_edit_that_overfills_answers_409(api_with: ApiWith) -> None:
    with api_with(SMALL) as api:
        api.book("acme", seats=6)
        mine = api.book("other", seats=4)
        r = api.client.patch(
            f"/api/reservations/{mine['id']}", json={"seats": 5}, headers=api.profile("other")
        )
        assert r.status_code == 409
        assert r.json()["free_seats"] == 4
        shown = api.client.get(f"/api/reservations/{mine['id']}", headers=api.profile("other")).json()
        assert shown["seats"] == 4  # unchanged


def test_too_long_an_order_waits_for_an_operator(api: Api) -> None:
    body = api.book("acme", kind="on_demand", starts_at=at(30), minutes=150, seats=5, expect=202)
    assert body["status"] == "pending"
    assert "150 minutes" in body["note"] and "120" in body["note"]
    assert "operator will review" in body["message"]


def test_too_many_seats_on_an_order_waits_for_an_operator(api: Api) -> None:
    body = api.book("acme", kind="on_demand", starts_at=at(30), minutes=60, seats=25, expect=202)
    assert body["status"] == "pending"
    assert "25 participants" in body["note"]
    assert "operator" in body["message"]


def test_a_panel_over_30_seats_waits_too(api: Api) -> None:
    assert api.book("acme", seats=31, expect=202)["status"] == "pending"


def test_a_pending_request_holds_no_seats(api_with: ApiWith) -> None:
    with api_with(SMALL) as api:
        api.book("acme", kind="on_demand", minutes=150, seats=10, expect=202)
        api.book("other", seats=10)  # the whole capacity is still free
