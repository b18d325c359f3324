"""Signing in to the web pages: profile token, operator token, conference number + ADMIN PIN."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from booking.web.app import install_web
from booking.web.session import COOKIE, Signer, Viewer
from tests.support.api import OPERATOR_TOKEN, Api, running_api


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Api]:
    with running_api(tmp_path) as a:
        install_web(a.client.app, "a-web-secret-for-tests", ZoneInfo("Europe/Prague"))  # type: ignore[arg-type]
        yield a


def test_the_sign_in_page_is_accessible_and_a_profile_token_signs_in(web: Api) -> None:
    page = web.client.get("/panel/login")
    assert page.status_code == 200 and '<label for="token">' in page.text and 'lang="en"' in page.text
    web.profile("acme")
    bad = web.client.post("/panel/login", data={"token": "nope"}, follow_redirects=False)
    assert bad.status_code == 401 and "Unknown token" in bad.text and COOKIE not in bad.cookies
    ok = web.client.post(
        "/panel/login", data={"token": web.tokens["acme"], "next": "//evil.example/x"}, follow_redirects=False
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/panel"  # never off-site
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")


def test_the_operator_and_a_moderator_sign_in(web: Api) -> None:
    ok = web.client.post("/panel/login/operator", data={"token": OPERATOR_TOKEN}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/dashboard"
    r = web.book("acme")
    wrong = web.client.post(
        "/panel/login/moderator", data={"conference": r["conference_number"], "admin_pin": r["pin"]}
    )
    assert wrong.status_code == 401  # the participants' PIN is not enough
    mod = web.client.post(
        "/panel/login/moderator",
        data={"conference": r["conference_number"], "admin_pin": r["admin_pin"]},
        follow_redirects=False,
    )
    assert mod.headers["location"] == f"/panel/reservations/{r['id']}/live"


def test_a_tampered_or_old_session_is_not_accepted() -> None:
    s = Signer("another-secret-of-enough-length")
    value = s.dumps(Viewer("acme", profile_id=1, nonce="n", issued=1_000_000))
    assert s.loads(value, now=1_000_100) == Viewer("acme", profile_id=1, nonce="n", issued=1_000_000)
    assert s.loads(value, now=1_000_000 + 13 * 3600) is None  # expired
    data, mac = value.split(".")
    assert s.loads(data.replace("a", "b", 1) + "." + mac, now=1_000_100) is None
    assert Signer("yet-another-secret-value").loads(value, now=1_000_100) is None
