"""No endpoint reveals another profile's rooms or PINs: its ids answer like missing ones (R45)."""

from __future__ import annotations

import json

import pytest

from tests.support.api import Api, at


@pytest.fixture
def theirs(api: Api) -> dict[str, object]:
    api.profile("mallory")
    return api.book("victim", seats=7, title="secret board meeting")


def _requests(rid: object) -> list[tuple[str, str, dict[str, object] | None]]:
    return [
        ("GET", f"/api/reservations/{rid}", None),
        ("PATCH", f"/api/reservations/{rid}", {"title": "mine now"}),
        ("PATCH", f"/api/reservations/{rid}", {"minutes": 30}),
        ("POST", f"/api/reservations/{rid}/copy", {"starts_at": at(600)}),
        ("DELETE", f"/api/reservations/{rid}", None),
    ]


def test_another_profiles_reservation_answers_like_a_missing_one(api: Api, theirs: dict[str, object]) -> None:
    missing = 4242
    for (method, path, body), (_, missing_path, _) in zip(
        _requests(theirs["id"]), _requests(missing), strict=True
    ):
        r = api.client.request(method, path, json=body, headers=api.profile("mallory"))
        m = api.client.request(method, missing_path, json=body, headers=api.profile("mallory"))
        assert r.status_code == m.status_code == 404, (method, path)
        assert r.json() == {"detail": f"no reservation {theirs['id']}"}
        assert m.json() == {"detail": f"no reservation {missing}"}
        assert set(r.headers) == set(m.headers)


def test_nothing_of_theirs_changed(api: Api, theirs: dict[str, object]) -> None:
    for method, path, body in _requests(theirs["id"]):
        api.client.request(method, path, json=body, headers=api.profile("mallory"))
    shown = api.client.get(f"/api/reservations/{theirs['id']}", headers=api.profile("victim"))
    assert shown.status_code == 200
    assert shown.json() == theirs
    assert api.client.get("/api/reservations", headers=api.profile("mallory")).json() == []


def test_lists_and_rooms_show_only_the_callers_own(api: Api, theirs: dict[str, object]) -> None:
    mine = api.book("mallory", seats=3)
    for path in ("/api/reservations", "/api/rooms", "/api/me"):
        r = api.client.get(path, headers=api.profile("mallory"))
        assert r.status_code == 200
        text = json.dumps(r.json())
        for secret in ("conference_number", "pin", "admin_pin"):
            assert str(theirs[secret]) not in text, (path, secret)
        assert "secret board meeting" not in text
    listed = api.client.get("/api/reservations", headers=api.profile("mallory")).json()
    assert [x["id"] for x in listed] == [mine["id"]]
    rooms = api.client.get("/api/rooms", headers=api.profile("mallory")).json()
    assert [x["reservation_id"] for x in rooms] == [mine["id"]]


def test_a_deleted_reservation_is_gone_for_its_owner_too(api: Api, theirs: dict[str, object]) -> None:
    assert (
        api.client.delete(f"/api/reservations/{theirs['id']}", headers=api.profile("victim")).status_code
        == 204
    )
    r = api.client.get(f"/api/reservations/{theirs['id']}", headers=api.profile("victim"))
    assert r.status_code == 404
    assert api.client.get("/api/rooms", headers=api.profile("victim")).json() == []
