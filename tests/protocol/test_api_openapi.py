"""The OpenAPI document lists every endpoint, each with a summary, tags and its answers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api

ENDPOINTS = {
    ("post", "/api/profiles"),
    ("put", "/api/profiles/{profile_id}/account-plan"),
    ("get", "/api/me"),
    ("get", "/api/rooms"),
    ("post", "/api/reservations"),
    ("get", "/api/reservations"),
    ("get", "/api/reservations/{reservation_id}"),
    ("patch", "/api/reservations/{reservation_id}"),
    ("delete", "/api/reservations/{reservation_id}"),
    ("post", "/api/reservations/{reservation_id}/copy"),
    ("get", "/api/queue"),
    ("post", "/api/queue/{reservation_id}/approve"),
    ("post", "/api/queue/{reservation_id}/reject"),
    ("get", "/api/pin-lockouts"),
    ("get", "/api/reservations/{reservation_id}/participants"),
    ("get", "/api/reservations/{reservation_id}/recordings"),
    ("get", "/api/reservations/{reservation_id}/recordings/{recording_id}"),
    ("delete", "/api/pin-lockouts/{key}"),
    ("get", "/healthz"),
}


@pytest.fixture
def doc(api: Api) -> dict[str, Any]:
    r = api.client.get("/openapi.json")
    assert r.status_code == 200
    result: dict[str, Any] = r.json()
    return result


def operations(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m, p): op for p, item in doc["paths"].items() for m, op in item.items()}


def test_every_endpoint_is_documented(doc: dict[str, Any]) -> None:
    assert set(operations(doc)) == ENDPOINTS


def test_every_operation_has_a_summary_and_tags(doc: dict[str, Any]) -> None:
    for key, op in operations(doc).items():
        assert op.get("summary"), key
        assert op.get("tags"), key


def test_protected_operations_document_their_token_and_401(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert {s["scheme"] for s in schemes.values()} == {"bearer"}
    for key, op in operations(doc).items():
        if key == ("get", "/healthz"):
            assert "security" not in op
            continue
        assert op.get("security"), key
        assert "401" in op["responses"], key


def test_error_bodies_are_documented(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    create = ops[("post", "/api/reservations")]["responses"]
    assert {"201", "202", "409", "422"} <= set(create)
    assert create["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/CapacityOut")
    assert create["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ValidationErrorOut")
    assert "404" in ops[("get", "/api/reservations/{reservation_id}")]["responses"]
    assert "409" in ops[("post", "/api/queue/{reservation_id}/approve")]["responses"]


def test_the_reservation_schema_documents_its_fields(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert {"kind", "starts_at", "ends_at", "minutes", "seats", "max_participants", "title"} <= set(
        schemas["ReservationIn"]["properties"]
    )
    assert {"conference_number", "pin", "admin_pin", "status", "note"} <= set(
        schemas["ReservationOut"]["properties"]
    )
    assert set(schemas["ReservationKind"]["enum"]) == {"on_demand", "panel", "anytime"}


def test_docs_page_is_served(api: Api) -> None:
    assert api.client.get("/docs").status_code == 200
