"""Dial-out calls over the API (R50): list them, call a number now, call again who is missing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from booking.api.app import create_app
from booking.dialout import DialOutService
from tests.support.api import OPERATOR_TOKEN, Api, running_api


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as a:
        calls = DialOutService(a.service.uow, a.clock, r"\+?[1-9][0-9]{5,14}", 3, timedelta(minutes=1))
        with TestClient(create_app(a.service, OPERATOR_TOKEN, dialout=calls)) as client:
            yield Api(client, a.service, a.clock, a.tokens)


def test_a_number_is_called_now_and_listed(api: Api) -> None:
    r = api.book("acme", dial_out=True)
    assert r["dial_out"] is True
    path = f"/api/reservations/{r['id']}/dialout"
    placed = api.client.post(path, json={"number": "+420 601 234 567"}, headers=api.profile("acme"))
    assert placed.status_code == 202, placed.text
    assert [(c["number"], c["state"], c["requested_by"]) for c in placed.json()] == [
        ("+420601234567", "pending", "web")
    ]
    listed = api.client.get(path, headers=api.profile("acme")).json()
    assert [c["number"] for c in listed] == ["+420601234567"]


def test_numbers_that_may_not_be_dialled_are_refused(api: Api) -> None:
    r = api.book("acme")
    path = f"/api/reservations/{r['id']}/dialout"
    for number, code in (
        ("112", "not_allowed"),
        ("601234567&Local/x", "not_dialable"),
        ("sip:1@h", "not_dialable"),
    ):
        got = api.client.post(path, json={"number": number}, headers=api.profile("acme"))
        assert got.status_code == 422 and got.json()["detail"][0]["type"] == code
    assert api.client.get(path, headers=api.profile("acme")).json() == []


def test_another_profile_cannot_dial_from_my_reservation(api: Api) -> None:
    r = api.book("acme")
    path = f"/api/reservations/{r['id']}/dialout"
    assert (
        api.client.post(path, json={"number": "601234567"}, headers=api.profile("other")).status_code == 404
    )
    assert api.client.get(path, headers=api.profile("other")).status_code == 404
