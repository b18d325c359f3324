"""The operator's queue and account-plan pages over HTTP (the app ``build_api`` composes): only
the operator sees them, every POST needs the session's CSRF token, and every bad input or race
is a clear answer that changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from booking.domain.account_plans import AccountPlan
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from booking.domain.rules import BookingRequest
from tests.support.composed_api import OPERATOR_TOKEN, Composed, composed_api
from tests.support.signin import post_sign_in


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Composed]:
    with composed_api(tmp_path) as c:
        yield c


def operator_csrf(web: Composed) -> str:
    ok = post_sign_in(web.client, "/panel/login/operator", {"token": OPERATOR_TOKEN}, follow_redirects=False)
    assert ok.status_code == 303
    found = re.search(r'name="csrf" value="([^"]+)"', web.client.get("/operator/queue").text)
    assert found is not None
    return found.group(1)


def queued(web: Composed, seats: int = 40) -> Reservation:
    start = web.clock.now() + timedelta(hours=2)
    req = BookingRequest(ReservationKind.PANEL, start, start + timedelta(hours=1), seats)
    r = web.booking.request(web.booking.profile_named("acme").id, req)
    assert r.status is ReservationStatus.PENDING
    return r


def test_the_pages_are_the_operators_only(web: Composed) -> None:
    away = web.client.get("/operator/queue", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/panel/login?next=/operator/queue"
    csrf = web.sign_in("acme")
    assert web.client.get("/operator/queue").status_code == 403
    assert web.client.get("/operator/accounts").status_code == 403
    r = queued(web)
    answer = web.client.post(f"/operator/queue/{r.id}/approve", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 403 and web.booking.reservation(r.id) == r


def test_a_post_without_the_sessions_token_changes_nothing(web: Composed) -> None:
    operator_csrf(web)
    r = queued(web)
    digest = web.digest()
    for path in (f"/operator/queue/{r.id}/approve", f"/operator/queue/{r.id}/reject", "/operator/accounts"):
        answer = web.client.post(
            path, data={"csrf": "forged", "reason": "x", "name": "acme", "plan": "provider"}
        )
        assert answer.status_code == 403, path
    assert web.digest() == digest


def test_approving_when_full_or_deciding_twice_says_so(web: Composed) -> None:
    csrf = operator_csrf(web)
    r = queued(web)
    assert r.starts_at is not None
    assert web.services.settings.booking.system_capacity == 200
    for _ in range(6):  # 180 seats booked then: the request's 40 do not fit
        web.booking.book(r.starts_at, 60, 30)
    full = web.client.post(f"/operator/queue/{r.id}/approve", data={"csrf": csrf})
    assert "the shared capacity is full then" in full.text
    assert web.booking.reservation(r.id) == r
    rejected = web.client.post(f"/operator/queue/{r.id}/reject", data={"csrf": csrf, "reason": "full then"})
    assert "The request is rejected" in rejected.text
    again = web.client.post(f"/operator/queue/{r.id}/approve", data={"csrf": csrf})
    assert "no longer waits" in again.text
    stored = web.booking.reservation(r.id)
    assert stored is not None and stored.status is ReservationStatus.REJECTED and stored.note == "full then"


@pytest.mark.parametrize(
    ("reason", "said"),
    [("", "Say why"), ("x" * 501, "At most 500 characters"), ("bad\x07bell", "control character")],
    ids=["empty", "too-long", "control-character"],
)
def test_a_reason_that_cannot_be_sent_is_refused_next_to_its_field(
    web: Composed, reason: str, said: str
) -> None:
    csrf = operator_csrf(web)
    r = queued(web)
    digest = web.digest()
    answer = web.client.post(f"/operator/queue/{r.id}/reject", data={"csrf": csrf, "reason": reason})
    assert answer.status_code == 422 and said in answer.text
    assert web.digest() == digest


def test_the_account_plan_form(web: Composed) -> None:
    csrf = operator_csrf(web)
    web.booking.profile_named("acme")
    digest = web.digest()
    for data, said in (
        ({"name": "nobody", "plan": "provider"}, "No profile has this name"),
        ({"name": "acme", "plan": "gold"}, "Choose a plan."),
        ({"name": "acme\x00", "plan": "provider"}, "No profile has this name"),
    ):
        answer = web.client.post("/operator/accounts", data={"csrf": csrf, **data})
        assert answer.status_code == 422 and said in answer.text
    assert web.digest() == digest
    saved = web.client.post("/operator/accounts", data={"csrf": csrf, "name": " acme ", "plan": "provider"})
    assert saved.status_code == 200 and "The account plan is saved." in saved.text
    assert web.booking.profile_named("acme").account_plan is AccountPlan.PROVIDER
    assert "<li>acme</li>" in saved.text
