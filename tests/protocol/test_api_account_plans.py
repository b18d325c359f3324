"""Account plans (R27, R45): a profile on the panel plan holds at most 3 active rooms, one on the
provider plan any number; only the operator moves a profile between them."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import Api, at, bearer
from tests.support.sql import sql


def profile_id(api: Api, name: str) -> int:
    found: int = api.client.get("/api/me", headers=api.profile(name)).json()["id"]
    return found


def put_plan(
    api: Api, profile: int, plan: object, headers: dict[str, str] | None = None
) -> tuple[int, object]:
    path = f"/api/profiles/{profile}/account-plan"
    who = api.operator if headers is None else headers
    r = api.client.put(path, json={"account_plan": plan}, headers=who)
    return r.status_code, r.json()


def try_book(api: Api, starts_at: str) -> httpx.Response:
    body = {"starts_at": starts_at, "minutes": 60, "seats": 5}
    answer: httpx.Response = api.client.post("/api/reservations", json=body, headers=api.profile("acme"))
    return answer


def test_every_profile_starts_on_the_panel_plan(api: Api) -> None:
    me = api.client.get("/api/me", headers=api.profile("acme")).json()
    assert me["account_plan"] == "panel"
    created = api.client.post("/api/profiles", json={"name": "beta"}, headers=api.operator).json()
    assert created["account_plan"] == "panel"


def test_a_fourth_room_is_refused_on_the_panel_plan_and_booked_on_the_provider_plan(api: Api) -> None:
    for i in range(3):
        api.book("acme", starts_at=at(60 + i))
    refused = try_book(api, at(70))
    assert refused.status_code == 422 and refused.json()["detail"][0]["type"] == "too_many_rooms"

    code, body = put_plan(api, profile_id(api, "acme"), "provider")
    assert code == 200 and isinstance(body, dict)
    assert body["account_plan"] == "provider" and body["name"] == "acme"
    made = [api.book("acme", starts_at=at(70 + i)) for i in range(3)]  # rooms 4 to 6
    numbers = {r["conference_number"] for r in made}
    pins = {r["pin"] for r in made}
    assert len(numbers) == 3 and len(pins) == 3  # each room with its own codes (R45)
    rooms = api.client.get("/api/rooms", headers=api.profile("acme")).json()
    assert len(rooms) == 6
    assert api.client.get("/api/me", headers=api.profile("acme")).json()["account_plan"] == "provider"

    # Back on the panel plan: the rooms stay, but no new one until it is under the limit again.
    assert put_plan(api, profile_id(api, "acme"), "panel")[0] == 200
    again = try_book(api, at(90))
    assert again.status_code == 422 and again.json()["detail"][0]["type"] == "too_many_rooms"
    assert len(api.client.get("/api/rooms", headers=api.profile("acme")).json()) == 6


def test_the_plan_is_stored_on_the_profile(api: Api) -> None:
    assert put_plan(api, profile_id(api, "acme"), "provider")[0] == 200
    with sql(api.services.uow) as conn:
        row = conn.exec_driver_sql("SELECT account_plan FROM profiles WHERE name = 'acme'").one()
    assert row[0] == "provider"


@pytest.mark.parametrize("headers", [{}, bearer("wrong")], ids=["none", "wrong-token"])
def test_only_the_operator_sets_a_plan(api: Api, headers: dict[str, str]) -> None:
    me = profile_id(api, "acme")
    assert put_plan(api, me, "provider", headers)[0] == 401
    assert put_plan(api, me, "provider", api.profile("acme"))[0] == 401  # not even for itself
    assert api.client.get("/api/me", headers=api.profile("acme")).json()["account_plan"] == "panel"


def test_an_unknown_plan_or_profile_is_a_clear_4xx(api: Api) -> None:
    me = profile_id(api, "acme")
    code, body = put_plan(api, me, "unlimited")
    assert code == 422 and isinstance(body, dict)
    assert body["detail"][0]["loc"] == ["body", "account_plan"]
    code, body = put_plan(api, 999_999, "provider")
    assert code == 404 and body == {"detail": "no profile 999999"}
    assert put_plan(api, 0, "provider")[0] == 422
