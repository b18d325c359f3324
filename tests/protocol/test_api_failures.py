"""What nobody expected: a generic 500 JSON for the client, the stack trace in the log, and
neither ever carries a PIN or a token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError
from structlog.testing import capture_logs

from booking.settings import ApiLimits
from tests.support.composed_api import Composed, composed_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Composed]:
    with composed_api(tmp_path, ApiLimits(rate_limit=False)) as a:
        yield a


def test_an_unexpected_error_is_a_generic_500_and_a_redacted_stack_in_the_log(
    api: Composed, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = api.profile("acme")
    booked = api.send("POST", "/api/reservations", {"kind": "anytime", "seats": 2}, headers=headers).json()
    pin, token = booked["pin"], api.tokens["acme"]

    def broken(profile_id: int) -> object:
        # A failure whose message carries a PIN and a token, as a driver's might.
        cause = ValueError(f"row for pin {pin} and token {token}")
        raise IntegrityError("SELECT * FROM rooms WHERE pin = ?", (pin, token), cause) from cause

    monkeypatch.setattr(api.booking, "visible_reservations", broken)
    with capture_logs() as logs:
        r = api.client.get("/api/reservations", headers=headers)
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"detail": "internal error: the request failed and was logged"}
    (entry,) = [e for e in logs if e["event"] == "request_failed"]
    assert entry["log_level"] == "error"
    assert (entry["method"], entry["route"], entry["error"]) == ("GET", "/api/reservations", "IntegrityError")
    stack = entry["stack"]
    assert "in broken" in stack and "sqlalchemy.exc.IntegrityError" in stack and "which led to:" in stack
    assert pin not in str(entry) and token not in str(entry)


def test_an_error_in_a_page_is_the_same_generic_500(api: Composed, monkeypatch: pytest.MonkeyPatch) -> None:
    api.sign_in("acme")

    def broken(profile_id: int) -> object:
        raise RuntimeError("the store went away")

    monkeypatch.setattr(api.booking, "visible_reservations", broken)
    with capture_logs() as logs:
        r = api.client.get("/panel")
    assert r.status_code == 500 and "internal error" in r.json()["detail"]
    assert [e["route"] for e in logs if e["event"] == "request_failed"] == ["/panel"]


def test_the_query_string_never_reaches_the_log(api: Composed, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> object:
        raise RuntimeError("intake down")

    monkeypatch.setattr(api.booking, "profile_for_token", broken)
    with capture_logs() as logs:
        r = api.client.get(
            "/api/me", params={"key": "the-kannel-secret"}, headers={"Authorization": "Bearer t"}
        )
    assert r.status_code == 500
    assert "the-kannel-secret" not in str(logs)
