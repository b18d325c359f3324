"""Profiles and tokens: only the operator creates profiles; a token is shown once (R20, R45)."""

from __future__ import annotations

import pytest

from tests.support.api import Api, bearer
from tests.support.services import api_app
from tests.support.sql import sql


def test_operator_creates_a_profile_and_its_token_works(api: Api) -> None:
    r = api.client.post("/api/profiles", json={"name": "acme", "language": "cs"}, headers=api.operator)
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "acme" and body["language"] == "cs"
    assert len(body["token"]) >= 32
    me = api.client.get("/api/me", headers=bearer(body["token"]))
    assert me.status_code == 200
    assert me.json() == {"id": body["id"], "name": "acme", "language": "cs", "account_plan": "panel"}


def test_the_token_is_stored_hashed_only(api: Api) -> None:
    r = api.client.post("/api/profiles", json={"name": "acme"}, headers=api.operator)
    token = r.json()["token"]
    with sql(api.services.uow) as conn:
        row = conn.exec_driver_sql("SELECT token_hash FROM profiles WHERE name = 'acme'").one()
    assert row[0] != token and token not in row[0]


@pytest.mark.parametrize(
    "headers",
    [{}, bearer("wrong"), {"Authorization": "Basic b3A6b3A="}, {"Authorization": "Bearer "}],
    ids=["none", "wrong-token", "basic-auth", "empty-bearer"],
)
def test_creating_a_profile_needs_the_operator_token(api: Api, headers: dict[str, str]) -> None:
    r = api.client.post("/api/profiles", json={"name": "acme"}, headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert "detail" in r.json()


def test_a_profile_token_is_not_the_operator_token(api: Api) -> None:
    r = api.client.post("/api/profiles", json={"name": "other"}, headers=api.profile("acme"))
    assert r.status_code == 401


def test_the_operator_token_is_not_a_profile_token(api: Api) -> None:
    assert api.client.get("/api/me", headers=api.operator).status_code == 401


@pytest.mark.parametrize("path", ["/api/me", "/api/rooms", "/api/reservations", "/api/reservations/1"])
def test_profile_endpoints_need_a_known_token(api: Api, path: str) -> None:
    assert api.client.get(path).status_code == 401
    assert api.client.get(path, headers=bearer("not-a-token")).status_code == 401


def test_a_duplicate_name_names_the_field(api: Api) -> None:
    api.profile("acme")
    r = api.client.post("/api/profiles", json={"name": "acme"}, headers=api.operator)
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {"loc": ["body", "name"], "msg": "a profile with this name exists", "type": "profile_exists"}
        ]
    }


@pytest.mark.parametrize(
    ("body", "field", "kind"),
    [
        ({"name": "acme", "language": "czech"}, "language", "string_pattern_mismatch"),
        ({"name": ""}, "name", "string_too_short"),
        ({}, "name", "missing"),
        ({"name": "acme", "admin": True}, "admin", "extra_forbidden"),
    ],
)
def test_invalid_profile_bodies_name_the_field(
    api: Api, body: dict[str, object], field: str, kind: str
) -> None:
    r = api.client.post("/api/profiles", json=body, headers=api.operator)
    assert r.status_code == 422
    [error] = r.json()["detail"]
    assert error["loc"] == ["body", field]
    assert error["type"] == kind
    assert error["msg"]


def test_healthz_needs_no_token(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}


def test_an_app_without_an_operator_token_is_refused(api: Api) -> None:
    with pytest.raises(ValueError, match="operator token"):
        api_app(api.services, "")
