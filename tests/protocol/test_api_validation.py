"""422 answers name the field and say why: pydantic's own checks and the booking rules alike."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.api import Api, at


def errors_of(api: Api, body: dict[str, Any], who: str = "acme") -> list[dict[str, Any]]:
    r = api.client.post("/api/reservations", json=body, headers=api.profile(who))
    assert r.status_code == 422, r.text
    detail: list[dict[str, Any]] = r.json()["detail"]
    for e in detail:
        assert set(e) >= {"loc", "msg", "type"} and e["msg"]
    return detail


def one_error(api: Api, body: dict[str, Any]) -> tuple[list[Any], str, str]:
    [e] = errors_of(api, body)
    return e["loc"], e["type"], e["msg"]


VALID = {"kind": "panel", "starts_at": at(60), "minutes": 60, "seats": 5}


@pytest.mark.parametrize(
    ("change", "field", "kind"),
    [
        ({"seats": 0}, "seats", "greater_than_equal"),
        ({"seats": "many"}, "seats", "int_parsing"),
        ({"seats": None}, "seats", "int_type"),
        ({"minutes": 0}, "minutes", "greater_than_equal"),
        ({"max_participants": 0}, "max_participants", "greater_than_equal"),
        ({"starts_at": "2026-03-02T12:00:00"}, "starts_at", "timezone_aware"),
        ({"starts_at": "tomorrow"}, "starts_at", "datetime_from_date_parsing"),
        ({"kind": "weekly"}, "kind", "enum"),
        ({"title": "x" * 201}, "title", "string_too_long"),
        ({"seat": 5}, "seat", "extra_forbidden"),
    ],
)
def test_pydantic_errors_name_the_field(api: Api, change: dict[str, Any], field: str, kind: str) -> None:
    loc, type_, _ = one_error(api, {**VALID, **change})
    assert loc == ["body", field]
    assert type_ == kind


def test_a_missing_field_is_named(api: Api) -> None:
    body = dict(VALID)
    del body["seats"]
    assert one_error(api, body)[:2] == (["body", "seats"], "missing")


@pytest.mark.parametrize(
    ("change", "field", "code", "says"),
    [
        ({"starts_at": at(5)}, "starts_at", "start_too_soon", "at least 10 minutes"),
        ({"starts_at": at(31 * 24 * 60)}, "starts_at", "start_too_far", "at most 30 days"),
        ({"minutes": None, "ends_at": at(30)}, "ends_at", "end_before_start", "after the start"),
        ({"minutes": None, "ends_at": at(60)}, "ends_at", "end_before_start", "after the start"),
        ({"seats": 5, "max_participants": 6}, "max_participants", "max_out_of_range", "seats"),
        ({"ends_at": at(120)}, "minutes", "end_ambiguous", "not both"),
        ({"minutes": None}, "starts_at", "date_missing", "end"),
        ({"starts_at": None}, "starts_at", "date_missing", "start"),
        ({"kind": "anytime"}, "starts_at", "anytime_has_date", "no date"),
        ({"minutes": None, "ends_at": at(60 + 15 * 24 * 60)}, "ends_at", "too_long", "14 days"),
        ({"kind": "on_demand", "starts_at": at(-60)}, "starts_at", "start_in_past", "past"),
    ],
)
def test_rule_violations_name_the_field(
    api: Api, change: dict[str, Any], field: str, code: str, says: str
) -> None:
    loc, type_, msg = one_error(api, {**VALID, **change})
    assert loc == ["body", field]
    assert type_ == code
    assert says in msg


def test_rule_violations_have_the_shape_of_pydantic_errors(api: Api) -> None:
    rule = errors_of(api, {**VALID, "starts_at": at(5)})
    pydantic = errors_of(api, {**VALID, "seats": 0})
    assert list(rule[0])[:3] == ["loc", "msg", "type"]
    assert set(list(pydantic[0])[:3]) == {"loc", "msg", "type"}


def test_a_fourth_active_room_is_refused(api: Api) -> None:
    for i in range(3):
        api.book("acme", starts_at=at(60 + i))
    loc, type_, msg = one_error(api, VALID)
    assert (loc, type_) == (["body", "profile"], "too_many_rooms")
    assert "at most 3" in msg
    api.book("other")  # the limit is per profile


def test_a_pending_request_takes_a_slot_too(api: Api) -> None:
    api.book("acme", kind="on_demand", minutes=150, expect=202)
    api.book("acme")
    api.book("acme")
    assert one_error(api, VALID)[1] == "too_many_rooms"


def test_an_edit_is_checked_by_the_same_rules(api: Api) -> None:
    booked = api.book("acme")
    r = api.client.patch(
        f"/api/reservations/{booked['id']}", json={"ends_at": at(30)}, headers=api.profile("acme")
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "ends_at"]
    r = api.client.patch(f"/api/reservations/{booked['id']}", json={"seats": 0}, headers=api.profile("acme"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "seats"]
    r = api.client.patch(
        f"/api/reservations/{booked['id']}", json={"starts_at": at(3)}, headers=api.profile("acme")
    )
    assert r.json()["detail"][0]["type"] == "start_too_soon"


def test_a_malformed_json_body_is_a_422(api: Api) -> None:
    r = api.client.post(
        "/api/reservations",
        content=b"{not json",
        headers={**api.profile("acme"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "json_invalid"


def test_a_non_numeric_id_names_the_path_parameter(api: Api) -> None:
    r = api.client.get("/api/reservations/abc", headers=api.profile("acme"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["path", "reservation_id"]
