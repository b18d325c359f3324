"""Hostile input to every kind of API field answers 4xx naming the field and why, in the API's
error shape (422 ``detail[].loc/msg/type``, nothing else echoed), and stores nothing.

The app is the composed one (``build_api``: every router and guard), on SQLite; the same
bounds hold on PostgreSQL (tests/protocol/test_api_fuzz.py runs there too).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from booking.settings import ApiLimits
from tests.support.api import at
from tests.support.composed_api import SMS_KEY, Composed, composed_api

BIG = 2**63  # an id or count "beyond 64 bits" starts here
NAN, INF = float("nan"), float("inf")
VALID = {"kind": "panel", "starts_at": at(60), "minutes": 60, "seats": 5}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Composed]:
    """One app for the module: every request here is refused, so none sees another's rows."""
    with composed_api(tmp_path_factory.mktemp("bounds"), ApiLimits(rate_limit=False)) as a:
        a.profile("acme")
        yield a


@pytest.fixture(scope="module")
def booked(api: Composed) -> int:
    r = api.send("POST", "/api/reservations", VALID, headers=api.profile("acme"))
    assert r.status_code == 201, r.text
    rid: int = r.json()["id"]
    return rid


def refused(
    api: Composed, method: str, path: str, body: Any = None, operator: bool = False
) -> dict[str, Any]:
    """The one error of a 422, after checking the shape and that nothing was stored."""
    before = api.digest()
    headers = api.operator if operator else api.profile("acme")
    r = api.send(method, path, body, headers=headers)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail and all(set(e) == {"loc", "msg", "type"} and e["msg"] for e in detail), detail
    assert api.digest() == before, "a refused request changed the store"
    first: dict[str, Any] = detail[0]
    return first


RESERVATION_BODIES: list[tuple[dict[str, Any], str, str]] = [
    # (change to a valid booking, field, error type)
    ({"seats": BIG}, "seats", "less_than_equal"),
    ({"seats": 2**64}, "seats", "less_than_equal"),
    ({"seats": 2**31}, "seats", "less_than_equal"),  # PostgreSQL's INTEGER ends just below
    ({"seats": NAN}, "seats", "finite_number"),
    ({"seats": INF}, "seats", "finite_number"),
    ({"seats": -INF}, "seats", "finite_number"),
    ({"seats": 5.5}, "seats", "int_from_float"),
    ({"seats": [5]}, "seats", "int_type"),
    ({"seats": {"n": 5}}, "seats", "int_type"),
    ({"seats": True}, "seats", "int_type"),
    ({"minutes": 10**12}, "minutes", "less_than_equal"),
    ({"minutes": NAN}, "minutes", "finite_number"),
    ({"max_participants": BIG}, "max_participants", "less_than_equal"),
    ({"starts_at": "9999-12-31T23:00:00Z"}, "starts_at", "datetime_out_of_range"),
    ({"starts_at": "9999-12-31T23:00:00-05:00"}, "starts_at", "datetime_out_of_range"),  # past max in UTC
    ({"starts_at": "0001-01-01T00:00:00+14:00"}, "starts_at", "datetime_out_of_range"),
    ({"starts_at": "1969-12-31T23:59:59Z"}, "starts_at", "datetime_out_of_range"),
    ({"starts_at": "3000-01-01T00:00:00Z"}, "starts_at", "datetime_out_of_range"),
    ({"starts_at": NAN}, "starts_at", "datetime_parsing"),
    ({"starts_at": 10**20}, "starts_at", "datetime_parsing"),
    ({"minutes": None, "ends_at": "9999-12-31T23:59:59Z"}, "ends_at", "datetime_out_of_range"),
    ({"title": "\ud800"}, "title", "string_unicode"),
    ({"title": "a\x00b"}, "title", "text_character"),
    ({"title": "tab\tin a title"}, "title", "text_character"),
    ({"title": "bell\x07"}, "title", "text_character"),
    ({"title": "\x85next line"}, "title", "text_character"),
    ({"title": "x" * 201}, "title", "string_too_long"),
    ({"title": "x" * 60_000}, "title", "string_too_long"),
    ({"title": 42}, "title", "string_type"),
    ({"kind": "\ud800"}, "kind", "string_unicode"),
    ({"dial_out": "\ud800"}, "dial_out", "string_unicode"),
    ({"dial_out": "maybe"}, "dial_out", "bool_parsing"),
    ({"wait_for_moderator": "maybe"}, "wait_for_moderator", "bool_parsing"),
    ({"end_with_moderator": [True]}, "end_with_moderator", "bool_type"),
    ({"seat": 5}, "seat", "extra_forbidden"),
]


@pytest.mark.parametrize(("change", "field", "kind"), RESERVATION_BODIES)
def test_a_booking_with_a_hostile_field_is_refused_by_name(
    api: Composed, change: dict[str, Any], field: str, kind: str
) -> None:
    e = refused(api, "POST", "/api/reservations", {**VALID, **change})
    assert (e["loc"], e["type"]) == (["body", field], kind)


PATCHABLE = {
    "starts_at", "ends_at", "minutes", "seats", "max_participants", "title", "dial_out",
    "wait_for_moderator", "end_with_moderator",
}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "field", "kind"), [row for row in RESERVATION_BODIES if set(row[0]) <= PATCHABLE]
)
def test_an_edit_with_a_hostile_field_is_refused_by_name(
    api: Composed, booked: int, change: dict[str, Any], field: str, kind: str
) -> None:
    e = refused(api, "PATCH", f"/api/reservations/{booked}", change)
    assert (e["loc"], e["type"]) == (["body", field], kind)


@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("GET", "/api/reservations/{big}", "reservation_id"),
        ("GET", "/api/reservations/{huge}", "reservation_id"),
        ("GET", "/api/reservations/0", "reservation_id"),
        ("GET", "/api/reservations/-1", "reservation_id"),
        ("GET", "/api/reservations/2147483648", "reservation_id"),
        ("PATCH", "/api/reservations/{big}", "reservation_id"),
        ("DELETE", "/api/reservations/{big}", "reservation_id"),
        ("POST", "/api/reservations/{big}/copy", "reservation_id"),
        ("GET", "/api/reservations/{big}/participants", "reservation_id"),
        ("GET", "/api/reservations/{big}/sessions", "reservation_id"),
        ("GET", "/api/reservations/{big}/sessions/s1/report", "reservation_id"),
        ("GET", "/api/reservations/{big}/invitees", "reservation_id"),
        ("PUT", "/api/reservations/{big}/invitees", "reservation_id"),
        ("GET", "/api/reservations/{big}/notices", "reservation_id"),
        ("GET", "/api/reservations/{big}/invitation", "reservation_id"),
        ("POST", "/api/reservations/{big}/invitation/send", "reservation_id"),
        ("GET", "/api/reservations/{big}/dialout", "reservation_id"),
        ("POST", "/api/reservations/{big}/dialout", "reservation_id"),
    ],
)
def test_an_id_beyond_the_store_names_the_path_parameter(
    api: Composed, method: str, path: str, field: str
) -> None:
    body = {"PATCH": {"seats": 1}, "PUT": {"invitees": []}, "POST": {}}.get(method)
    e = refused(api, method, path.format(big=BIG, huge="9" * 40), body)
    assert e["loc"] == ["path", field]


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        ("POST", "/api/queue/{big}/approve", None, ["path", "reservation_id"]),
        ("POST", "/api/queue/{big}/reject", {"reason": "no"}, ["path", "reservation_id"]),
        ("PUT", "/api/profiles/{big}/plan", {"plan": "professional"}, ["path", "profile_id"]),
        ("GET", "/api/profiles/{big}/statements/2026-03", None, ["path", "profile_id"]),
        ("DELETE", "/api/pin-lockouts/caller:%00", None, ["path", "key"]),
        ("DELETE", "/api/pin-lockouts/" + "9" * 65, None, ["path", "key"]),
        ("POST", "/api/profiles", {"name": "a\x00"}, ["body", "name"]),
        ("POST", "/api/profiles", {"name": "\ud800"}, ["body", "name"]),
        ("POST", "/api/queue/1/reject", {"reason": "line\nbreak"}, ["body", "reason"]),
        ("PUT", "/api/tariff", {"text": "\ud800"}, ["body", "text"]),
        ("PUT", "/api/tariff", {"text": "a = 1\x00"}, ["body", "text"]),
        ("PUT", "/api/tariff", {"text": "a = 1", "note": "n" * 201}, ["body", "note"]),
        ("PUT", "/api/profiles/1/plan", {"plan": "p" * 41}, ["body", "plan"]),
        (
            "POST",
            "/api/senders/limit",
            {"channel": "sms", "address": "+420601111222", "hourly_limit": BIG},
            ["body", "hourly_limit"],
        ),
        (
            "POST",
            "/api/senders/limit",
            {"channel": "sms", "address": "+420601111222", "hourly_limit": NAN},
            ["body", "hourly_limit"],
        ),
        (
            "POST",
            "/api/senders/block",
            {"channel": "sms", "address": "+420\x00601111222"},
            ["body", "address"],
        ),
        (
            "POST",
            "/api/senders/block",
            {"channel": "\ud800", "address": "+420601111222"},
            ["body", "channel"],
        ),
    ],
)
def test_operator_inputs_are_bounded(
    api: Composed, method: str, path: str, body: Any, loc: list[str]
) -> None:
    assert refused(api, method, path.format(big=BIG), body, operator=True)["loc"] == loc


@pytest.mark.parametrize(
    ("method", "path", "body", "loc"),
    [
        (
            "PUT",
            "/invitees",
            {"invitees": [{"address": "a\x00@example.com"}]},
            ["body", "invitees", 0, "address"],
        ),
        (
            "PUT",
            "/invitees",
            {"invitees": [{"address": "\ud800@example.com"}]},
            ["body", "invitees", 0, "address"],
        ),
        ("PUT", "/invitees", {"invitees": [{"address": "e@example.com"}] * 101}, ["body", "invitees"]),
        ("PUT", "/invitation", {"subject": "a\nb"}, ["body", "subject"]),
        ("PUT", "/invitation", {"body": "zero\x00byte"}, ["body", "body"]),
        ("PUT", "/invitation", {"body": "\udfff"}, ["body", "body"]),
        ("PUT", "/invitation", {"body": "b" * 20_001}, ["body", "body"]),
        ("POST", "/dialout", {"number": "+420\x00601"}, ["body", "number"]),
        ("POST", "/dialout", {"number": NAN}, ["body", "number"]),
        ("POST", "/copy", {"starts_at": "9999-12-31T23:59:00Z"}, ["body", "starts_at"]),
        ("GET", "/sessions/" + "s" * 65 + "/report", None, ["path", "session_id"]),
        ("GET", "/sessions/s%01/report", None, ["path", "session_id"]),
    ],
)
def test_organizer_inputs_are_bounded(
    api: Composed, booked: int, method: str, path: str, body: Any, loc: list[Any]
) -> None:
    assert refused(api, method, f"/api/reservations/{booked}{path}", body)["loc"] == loc


@pytest.mark.parametrize(
    ("month", "says"),
    [
        ("0000-01", "between 1970-01 and 2999-12"),
        ("9999-12", "between 1970-01 and 2999-12"),
        ("0001-01", "between 1970-01 and 2999-12"),
        ("1969-12", "between 1970-01 and 2999-12"),
        ("2026-13", "YYYY-MM"),
        ("2026-00", "YYYY-MM"),
        ("2026-1", "YYYY-MM"),
        ("\u0662\u0660\u0662\u0666-\u0660\u0663", "YYYY-MM"),  # 2026-03 in Arabic-Indic digits
        ("9" * 300, "YYYY-MM"),
        ("%ED%A0%80", "YYYY-MM"),
    ],
)
def test_statement_months_are_bounded(api: Composed, month: str, says: str) -> None:
    for method, path, operator in [
        ("GET", f"/api/statements/{month}", False),
        ("GET", f"/api/statements/{month}.csv", False),
        ("POST", f"/api/billing/{month}/rate", True),
        ("GET", f"/api/profiles/1/statements/{month}", True),
    ]:
        e = refused(api, method, path, operator=operator)
        assert (e["loc"], e["type"]) == (["body", "month"], "bad_month") and says in e["msg"], path
        assert len(e["msg"]) < 120  # a long month is not echoed back


@pytest.mark.parametrize(
    "query",
    [
        {"sender": "+420601111222", "text": "konf", "id": "1\x1b[2J"},
        {"sender": "x" * 65, "text": "konf", "id": "1"},
        {"sender": "+420601111222", "text": "k" * 2001, "id": "1"},
    ],
)
def test_kannel_parameters_are_bounded(api: Composed, query: dict[str, str]) -> None:
    before = api.digest()
    r = api.client.get("/sms/kannel", params={**query, "key": SMS_KEY})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][0] == "query", r.text
    assert api.digest() == before


def test_kannel_control_characters_are_taken_not_refused(api: Composed) -> None:
    """Kannel retries every answer but 200: a sender that is no number is dropped with nothing
    stored, a text with control characters is read without them."""
    before = api.digest()
    dropped = api.client.get(
        "/sms/kannel", params={"sender": "abc\x00", "text": "konf", "id": "1", "key": SMS_KEY}
    )
    assert (dropped.status_code, dropped.text) == (200, "")
    assert api.digest() == before
    taken = api.client.get(
        "/sms/kannel", params={"sender": "+420601111222", "text": "stav\x00", "id": "2", "key": SMS_KEY}
    )
    assert (taken.status_code, taken.text) == (200, "")
    assert api.digest() != before  # the message and its answer are recorded


@pytest.mark.parametrize(
    ("content", "status", "kind"),
    [
        (b'{"seats": NaN, "starts_at": "2026-03-02T12:00:00Z", "minutes": 60}', 422, "finite_number"),
        (b'{"seats": 5, "starts_at": "2026-03-02T12:00:00Z", "minutes": Infinity}', 422, "finite_number"),
        (b'{"seats": 1e400, "starts_at": "2026-03-02T12:00:00Z", "minutes": 60}', 422, "finite_number"),
        (
            b'{"seats": 5, "starts_at": "2026-03-02T12:00:00Z", "minutes": 60, "title": "\\ud800"}',
            422,
            "string_unicode",
        ),
        (b'{"seats": ' + b"9" * 5000 + b"}", 400, ""),  # beyond Python's digits limit: unreadable
        (b"[" * 30_000 + b"]" * 30_000, 400, ""),  # nested past the parser's recursion limit
        (b'{"seats": "\xff\xfe"}', 400, ""),  # not UTF-8
        (b"{not json", 422, "json_invalid"),
        (b"[]", 422, "model_attributes_type"),
        (b'"a string"', 422, "model_attributes_type"),
        (b"null", 422, "model_attributes_type"),
        (b'{"\\ud800": 1}', 422, "string_unicode"),  # a key pydantic cannot read as text
    ],
)
def test_unreadable_or_unrepresentable_json_is_a_4xx(
    api: Composed, content: bytes, status: int, kind: str
) -> None:
    before = api.digest()
    headers = {**api.profile("acme"), "Content-Type": "application/json"}
    r = api.client.post("/api/reservations", content=content, headers=headers)
    assert r.status_code == status, r.text
    if kind:
        assert r.json()["detail"][0]["type"] == kind
    assert "input" not in r.text and "ctx" not in r.text
    assert api.digest() == before


def test_a_value_at_the_bound_is_still_taken(api: Composed) -> None:
    """The bounds are the store's, not policy: 2^31-1 seats is over the limits, so it waits
    for an operator (R3) rather than being refused as unreadable."""
    r = api.send("POST", "/api/reservations", {**VALID, "seats": 2**31 - 1}, headers=api.profile("acme"))
    assert r.status_code == 202 and r.json()["status"] == "pending", r.text
    last = {**VALID, "title": "ok \u200d\U0001f469\u200d\U0001f4bb", "starts_at": at(61)}  # joiners are text
    assert api.send("POST", "/api/reservations", last, headers=api.profile("acme")).status_code == 201
