"""Dial-out calls over the API (R50) and its toll-fraud defences: list them, call a number
now, call again who is missing; only a dial-out reservation whose conference runs, only
numbers the policy admits, within the caps (422 with the field and a reason code, 429 with
Retry-After)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from booking.domain.dialout_policy import CallCaps, NumberPolicy
from booking.services.dialout import DialOutRules, DialOutService
from tests.support.api import OPERATOR_TOKEN, Api, running_api
from tests.support.services import api_app
from tests.support.sql import sql

CAPS = CallCaps(reservation_per_day=8, reservation_per_minute=3, profile_per_hour=6, profile_per_day=10)
_legs = itertools.count(1)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as a:
        calls = DialOutService(a.services.uow, a.clock, DialOutRules(NumberPolicy(), CAPS))
        services = dataclasses.replace(a.services, dialout=calls)
        with TestClient(api_app(services, OPERATOR_TOKEN, messaging=False, billing=False)) as client:
            yield Api(client, a.service, a.clock, services, a.tokens)


def anytime(api: Api, who: str = "acme", dial_out: bool = True) -> dict[str, Any]:
    return api.book(who, kind="anytime", starts_at=None, minutes=None, dial_out=dial_out)


def someone_joins(api: Api, r: dict[str, Any], number: str = "+420221000111") -> None:
    """An open usage leg, as the controller writes it when a caller joins."""
    usage = api.services.usage
    assert usage.record_join(f"leg-{next(_legs)}", r["conference_number"], number, moderator=True)


def post(api: Api, r: dict[str, Any], number: str | None, who: str = "acme") -> Any:
    body = {} if number is None else {"number": number}
    return api.client.post(f"/api/reservations/{r['id']}/dialout", json=body, headers=api.profile(who))


def refusal(answer: Any) -> tuple[int, str, str]:
    detail = answer.json()["detail"][0]
    return answer.status_code, detail["loc"][-1], detail["type"]


def listed(api: Api, r: dict[str, Any]) -> list[str]:
    answer = api.client.get(f"/api/reservations/{r['id']}/dialout", headers=api.profile("acme"))
    return [c["number"] for c in answer.json()]


def test_a_number_is_called_now_in_e164_and_listed(api: Api) -> None:
    r = anytime(api)
    assert r["dial_out"] is True
    someone_joins(api, r)
    placed = post(api, r, "601 234 567")
    assert placed.status_code == 202, placed.text
    assert [(c["number"], c["state"], c["requested_by"]) for c in placed.json()] == [
        ("+420601234567", "pending", "web")
    ]
    again = post(api, r, "+420601234567")  # already being called: not twice
    assert again.status_code == 202 and again.json()[0]["id"] == placed.json()[0]["id"]
    assert listed(api, r) == ["+420601234567"]


def test_only_a_dial_out_reservation_calls_out_and_only_while_it_runs(api: Api) -> None:
    room = anytime(api, dial_out=False)
    someone_joins(api, room)
    assert refusal(post(api, room, "601234567")) == (422, "reservation_id", "not_dial_out")
    idle = anytime(api)
    assert refusal(post(api, idle, "601234567")) == (422, "reservation_id", "not_running")
    assert refusal(post(api, idle, None)) == (422, "reservation_id", "not_running")
    later = api.book("acme", dial_out=True)  # starts in an hour: not running yet
    assert refusal(post(api, later, "601234567")) == (422, "reservation_id", "not_running")
    assert listed(api, room) == listed(api, idle) == listed(api, later) == []


def test_numbers_that_may_not_be_dialled_are_refused_with_why(api: Api) -> None:
    r = anytime(api)
    someone_joins(api, r)
    for number, why in (
        ("+88213000000", "premium"),  # the satellite range of the issue
        ("00881612345678", "premium"),
        ("900123456", "premium"),
        ("810123456", "premium"),
        ("+447911123456", "abroad"),
        ("+421905123456", "abroad"),
        ("800123456", "not_allowed"),
        ("112", "not_allowed"),
        ("601234567&Local/x", "not_dialable"),
        ("sip:1@h", "not_dialable"),
    ):
        assert refusal(post(api, r, number)) == (422, "number", why), number
    assert listed(api, r) == []


def test_the_issue_300_satellite_calls_in_seconds_places_none(api: Api) -> None:
    r = anytime(api)
    someone_joins(api, r)
    answers = {post(api, r, f"+88213{n:06d}").status_code for n in range(300)}
    assert answers == {422} and listed(api, r) == []


def test_the_caps_answer_429_with_retry_after_and_recover(api: Api) -> None:
    r = anytime(api)
    someone_joins(api, r)
    for n in range(3):
        assert post(api, r, f"60100{n:04d}").status_code == 202
    over = post(api, r, "601009999")
    assert refusal(over) == (429, "reservation_id", "rate")  # 3 per minute per reservation
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    api.clock.advance(timedelta(seconds=int(over.headers["Retry-After"])))
    for n in range(3, 6):
        assert post(api, r, f"60100{n:04d}").status_code == 202, n
    api.clock.advance(timedelta(minutes=1))
    other = anytime(api)  # the same profile's other room: the profile's 6 per hour are used up
    someone_joins(api, other)
    hourly = post(api, other, "601009999")
    assert refusal(hourly) == (429, "reservation_id", "rate") and "hour" in hourly.json()["detail"][0]["msg"]
    assert int(hourly.headers["Retry-After"]) > 60
    api.clock.advance(timedelta(hours=1))
    assert post(api, r, "601000006").status_code == 202
    assert post(api, r, "601000007").status_code == 202
    api.clock.advance(timedelta(minutes=1))
    daily = post(api, r, "601000008")  # 8 per reservation per day
    assert refusal(daily) == (429, "reservation_id", "limit")
    assert int(daily.headers["Retry-After"]) > 3600
    assert len(listed(api, r)) == 8


def test_calling_again_who_is_missing_counts_every_call(api: Api) -> None:
    r = anytime(api)
    someone_joins(api, r)
    for n in range(3):
        assert post(api, r, f"60100{n:04d}").status_code == 202
    assert post(api, r, None).json() == []  # everyone dialled is still being called
    with sql(api.services.uow) as conn:  # the three were not reached
        conn.exec_driver_sql("UPDATE dialout_calls SET state = 'failed'")
    api.clock.advance(timedelta(minutes=2))
    someone_joins(api, r, "+420601000001")  # one of them dialled in meanwhile
    again = post(api, r, None)
    assert again.status_code == 202
    assert sorted(c["number"] for c in again.json()) == ["+420601000000", "+420601000002"]


def test_another_profile_cannot_dial_from_my_reservation(api: Api) -> None:
    r = anytime(api)
    someone_joins(api, r)
    assert post(api, r, "601234567", who="other").status_code == 404
    path = f"/api/reservations/{r['id']}/dialout"
    assert api.client.get(path, headers=api.profile("other")).status_code == 404
