"""Per-client rate limits on the composed app: 429 with Retry-After once a budget is spent, and
served again once the injected clock has moved on by that long (no sleeping)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from booking.settings import ApiLimits, Budget
from tests.support.composed_api import SMS_KEY, Composed, composed_api
from tests.support.signin import signin_token

LIMITS = ApiLimits(
    api=Budget(per_second=1, burst=4),
    panel=Budget(per_second=2, burst=3),
    unauthenticated=Budget(per_second=0.5, burst=3),
    sign_in=Budget(per_second=0.1, burst=2),
)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Composed]:
    with composed_api(tmp_path, LIMITS) as a:
        a.profile("acme")  # made in the store, not through the limited API
        yield a


def refused(r: httpx.Response, retry_after: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["retry-after"] == str(retry_after)
    assert f"try again in {retry_after} s" in r.json()["detail"]


def test_a_spent_api_budget_answers_429_until_the_window_passes(api: Composed) -> None:
    me = api.profile("acme")
    for _ in range(4):
        assert api.client.get("/api/me", headers=me).status_code == 200
    refused(api.client.get("/api/me", headers=me), 1)
    api.clock.advance(timedelta(milliseconds=500))
    refused(api.client.get("/api/me", headers=me), 1)  # half a token: still a second to wait (rounded up)
    api.clock.advance(timedelta(milliseconds=500))
    assert api.client.get("/api/me", headers=me).status_code == 200
    refused(api.client.get("/api/me", headers=me), 1)
    api.clock.advance(timedelta(seconds=60))  # refills to the burst, not beyond
    assert [api.client.get("/api/me", headers=me).status_code for _ in range(5)] == [200] * 4 + [429]


def test_a_429_is_answered_before_the_request_is_read(api: Composed) -> None:
    me = api.profile("acme")
    for _ in range(4):
        api.client.get("/api/me", headers=me)
    before = api.digest()
    r = api.client.post("/api/reservations", json={"seats": 1, "kind": "anytime"}, headers=me)
    refused(r, 1)
    assert api.digest() == before


def test_the_api_and_the_panel_have_separate_budgets(api: Composed) -> None:
    me = api.profile("acme")
    for _ in range(4):
        api.client.get("/api/me", headers=me)
    refused(api.client.get("/api/me", headers=me), 1)
    cookie = {"Cookie": "dialconf_session=not-signed"}  # a claim: the panel budget, not the stricter one
    assert [
        api.client.get("/panel", headers=cookie, follow_redirects=False).status_code for _ in range(3)
    ] == [303] * 3
    refused(api.client.get("/panel", headers=cookie), 1)  # 2 per second: half a second, rounded up


def test_requests_without_a_credential_have_a_stricter_budget(api: Composed) -> None:
    assert [api.client.get("/healthz").status_code for _ in range(3)] == [200] * 3
    refused(api.client.get("/healthz"), 2)  # 0.5 per second
    # While it is spent nothing from this client is served, a token or not.
    refused(api.client.get("/api/me", headers=api.profile("acme")), 2)
    api.clock.advance(timedelta(seconds=2))
    assert api.client.get("/api/me", headers=api.profile("acme")).status_code == 200


def test_refused_tokens_spend_the_unauthenticated_budget(api: Composed) -> None:
    wrong = {"Authorization": "Bearer guessed"}
    assert [api.client.get("/api/me", headers=wrong).status_code for _ in range(3)] == [401] * 3
    refused(api.client.get("/api/me", headers=wrong), 2)
    refused(api.client.get("/api/me", headers=api.profile("acme")), 2)  # the guesser's address waits
    api.clock.advance(timedelta(seconds=2))
    assert api.client.get("/api/me", headers=api.profile("acme")).status_code == 200


def test_a_wrong_kannel_key_is_a_refusal_too(api: Composed) -> None:
    query = {"sender": "+420601111222", "text": "konf", "id": "m1"}
    for n in range(3):
        assert api.client.get("/sms/kannel", params={**query, "key": f"wrong{n}"}).status_code == 403
    refused(api.client.get("/sms/kannel", params={**query, "key": SMS_KEY}), 2)


def test_sign_in_forms_have_their_own_stricter_budget(api: Composed) -> None:
    def form() -> dict[str, str]:  # a sign-in uses its form up: each one reads a fresh page
        return {"token": api.tokens["acme"], "csrf": signin_token(api.client.get("/panel/login").text)}

    api.client.cookies.set("dialconf_session", "stale")  # so only the sign-in budget is in play
    first_form = form()
    api.clock.advance(timedelta(seconds=60))  # every budget full: sign-in 2, panel 3
    assert api.client.post("/panel/login", data=first_form).status_code == 200  # signed in, the list
    api.clock.advance(timedelta(seconds=2))  # the panel budget refills (sign-in: 1.2)
    again = form()
    assert api.client.post("/panel/login", data=again, follow_redirects=False).status_code == 303
    refused(api.client.post("/panel/login", data=again), 8)  # 0.2 left at 0.1 per second
    api.clock.advance(timedelta(seconds=1))
    assert api.client.get("/panel").status_code == 200  # pages are still served
    refused(api.client.post("/panel/login", data=again), 7)
    api.clock.advance(timedelta(seconds=7))
    assert api.client.post("/panel/login", data=form()).status_code == 200


def test_budgets_are_per_client_address(api: Composed) -> None:
    me = api.profile("acme")
    for _ in range(4):
        api.client.get("/api/me", headers=me)
    refused(api.client.get("/api/me", headers=me), 1)
    other = TestClient(api.client.app, client=("203.0.113.9", 40000))
    assert other.get("/api/me", headers=me).status_code == 200
    v6 = TestClient(api.client.app, client=("2001:db8:7:7::1", 40000))
    same_net = TestClient(api.client.app, client=("2001:db8:7:7:ffff::2", 40000))
    for _ in range(4):
        assert v6.get("/api/me", headers=me).status_code == 200
    refused(same_net.get("/api/me", headers=me), 1)  # the same /64: the same client


def test_the_client_table_is_bounded(tmp_path: Path) -> None:
    """With room for one client, a second one makes the first be forgotten: its budget is full
    again (forgetting only ever errs on the client's side; memory stays bounded)."""
    with composed_api(tmp_path, LIMITS.model_copy(update={"max_clients": 1})) as api:
        me = api.profile("acme")
        for _ in range(4):
            api.client.get("/api/me", headers=me)
        refused(api.client.get("/api/me", headers=me), 1)
        TestClient(api.client.app, client=("203.0.113.9", 40000)).get("/api/me", headers=me)
        assert api.client.get("/api/me", headers=me).status_code == 200


def test_rate_limits_can_be_switched_off(tmp_path: Path) -> None:
    with composed_api(tmp_path, LIMITS.model_copy(update={"rate_limit": False})) as api:
        assert {api.client.get("/healthz").status_code for _ in range(20)} == {200}
