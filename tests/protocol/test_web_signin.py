"""Signing in to the web pages: profile token, operator token, conference number + ADMIN PIN;
sign-in CSRF tokens, revocable sessions, cookie flags, and hostile cookies and fields."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from booking.services.dialin import DialInStatus
from booking.settings import BookingSettings
from booking.web.app import install_web
from booking.web.presession import KNOWN_COOKIE
from booking.web.session import COOKIE, SIGNIN_COOKIE, CookiePolicy, Signer, Viewer
from booking.web.signin import BAD_CREDENTIALS, EXPIRED, TOO_MANY
from conference_ivr.settings import ApiSettings
from tests.support.api import OPERATOR_TOKEN, Api, running_api
from tests.support.signin import post_sign_in, signin_token

FAST = BookingSettings(
    pin_base_delay_s=0.01, pin_max_delay_s=0.02, pin_web_per_client=5, pin_web_per_conference=8
)


def _web(tmp_path: Path, cookies: CookiePolicy | None = None) -> Iterator[Api]:
    with running_api(tmp_path, FAST) as a:
        app = a.client.app
        s = a.services
        install_web(
            app,  # type: ignore[arg-type]
            "a-web-secret-for-tests",
            ZoneInfo("Europe/Prague"),
            cookies=cookies,
            sessions=s.web_sessions,
            clock=s.clock,
        )
        app.middleware_stack = None  # type: ignore[attr-defined]  # rebuilt with the web's handlers
        yield a


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Api]:
    yield from _web(tmp_path)


def moderator(web: Api, conference: str, admin_pin: str, **kw: Any) -> httpx.Response:
    return post_sign_in(
        web.client, "/panel/login/moderator", {"conference": conference, "admin_pin": admin_pin}, **kw
    )


def test_the_sign_in_page_is_accessible_and_a_profile_token_signs_in(web: Api) -> None:
    page = web.client.get("/panel/login")
    assert page.status_code == 200 and '<label for="token">' in page.text and 'lang="en"' in page.text
    assert SIGNIN_COOKIE in page.cookies and page.text.count('name="csrf"') == 3  # one per form
    web.profile("acme")
    bad = post_sign_in(web.client, "/panel/login", {"token": "nope"}, follow_redirects=False)
    assert bad.status_code == 401 and "Unknown token" in bad.text and COOKIE not in bad.cookies
    ok = post_sign_in(
        web.client,
        "/panel/login",
        {"token": web.tokens["acme"], "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/panel"  # never off-site
    cookie = next(v for v in ok.headers.get_list("set-cookie") if v.startswith(COOKIE))
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower() and "secure" not in cookie.lower()


def test_the_operator_and_a_moderator_sign_in(web: Api) -> None:
    ok = post_sign_in(web.client, "/panel/login/operator", {"token": OPERATOR_TOKEN}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/dashboard"
    r = web.book("acme")
    wrong = moderator(web, r["conference_number"], r["pin"])
    assert wrong.status_code == 401 and BAD_CREDENTIALS in wrong.text
    mod = moderator(web, r["conference_number"], r["admin_pin"], follow_redirects=False)
    assert mod.headers["location"] == f"/panel/reservations/{r['id']}/live"
    assert KNOWN_COOKIE in mod.cookies


@pytest.mark.parametrize("path", ["/panel/login", "/panel/login/operator", "/panel/login/moderator"])
def test_a_sign_in_without_its_csrf_token_is_refused(web: Api, path: str) -> None:
    form = {"token": OPERATOR_TOKEN, "conference": "123456", "admin_pin": "123456789"}
    web.client.get("/panel/login")  # the browser has its pre-session cookie...
    for csrf in ("", "1.forged", "x" * 40):  # ...but the form carries no token, or a forged one
        refused = web.client.post(path, data={**form, "csrf": csrf}, follow_redirects=False)
        assert refused.status_code == 403 and EXPIRED in refused.text and COOKIE not in refused.cookies
    # A token from another browser (another site's page, say) does not match this cookie.
    other = TestClient(web.client.app)
    token = signin_token(other.get("/panel/login").text)
    assert web.client.post(path, data={**form, "csrf": token}, follow_redirects=False).status_code == 403
    # Nor is a token good without any pre-session cookie (a cross-site POST sends none).
    fresh = TestClient(web.client.app)
    assert fresh.post(path, data={**form, "csrf": token}, follow_redirects=False).status_code == 403


def test_a_sign_in_form_expires(web: Api) -> None:
    token = signin_token(web.client.get("/panel/login").text)
    web.clock.advance(timedelta(minutes=61))
    late = web.client.post("/panel/login/operator", data={"token": OPERATOR_TOKEN, "csrf": token})
    assert late.status_code == 403
    reloaded = post_sign_in(
        web.client, "/panel/login/operator", {"token": OPERATOR_TOKEN}, follow_redirects=False
    )
    assert reloaded.status_code == 303  # reloading the page gives a fresh token


def test_signing_out_revokes_the_session_everywhere(web: Api) -> None:
    web.profile("acme")
    signed = post_sign_in(web.client, "/panel/login", {"token": web.tokens["acme"]}, follow_redirects=False)
    assert signed.status_code == 303
    stolen = web.client.cookies[COOKIE]
    page = web.client.get("/panel/login").text
    assert "Sign out (acme)" in page
    csrf = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]  # the header's: the session's
    out = web.client.post("/panel/logout", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/panel/login"
    # The old cookie, replayed from anywhere, is a signed-out visitor now.
    replay = TestClient(web.client.app, cookies={COOKIE: stolen})
    assert "Sign out" not in replay.get("/panel/login").text
    again = replay.post("/panel/logout", data={"csrf": csrf}, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"].startswith("/panel/login?next=")


def test_an_expired_session_is_a_signed_out_visitor(web: Api) -> None:
    post_sign_in(web.client, "/panel/login/operator", {"token": OPERATOR_TOKEN})
    assert "Sign out" in web.client.get("/panel/login").text
    web.clock.advance(timedelta(hours=12, seconds=1))
    assert "Sign out" not in web.client.get("/panel/login").text
    away = web.client.post("/panel/logout", data={"csrf": "x"}, follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/panel/login?next=/panel/logout"


def test_cookies_are_secure_by_setting_not_by_proxy_headers(tmp_path: Path) -> None:
    for api in _web(tmp_path, CookiePolicy(secure=True)):
        api.client.base_url = "https://testserver"
        ok = post_sign_in(
            api.client, "/panel/login/operator", {"token": OPERATOR_TOKEN}, follow_redirects=False
        )
        cookies = [c for c in ok.headers.get_list("set-cookie") if "Max-Age=0" not in c]  # not deletions
        assert cookies and all("secure" in c.lower() for c in cookies), cookies
    (tmp_path / "plain").mkdir()
    for api in _web(tmp_path / "plain"):
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
        token = signin_token(api.client.get("/panel/login", headers=forwarded).text)
        ok = api.client.post(
            "/panel/login/operator",
            data={"token": OPERATOR_TOKEN, "csrf": token},
            headers=forwarded,
            follow_redirects=False,
        )
        assert ok.status_code == 303 and not any(
            "secure" in c.lower() for c in ok.headers.get_list("set-cookie")
        )


def test_the_secure_setting_defaults_to_on_unless_the_api_is_on_loopback() -> None:
    assert ApiSettings().secure_cookies is False  # 127.0.0.1: plain HTTP on this machine
    assert ApiSettings(bind_address="::1").secure_cookies is False
    assert ApiSettings(bind_address="0.0.0.0").secure_cookies is True
    assert ApiSettings(bind_address="192.0.2.4").secure_cookies is True
    assert ApiSettings(cookie_secure=True).secure_cookies is True  # a TLS proxy on this machine
    assert ApiSettings(bind_address="0.0.0.0", cookie_secure=False).secure_cookies is False


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert ApiSettings(trusted_proxies=["127.0.0.1", "10.0.0.0/24", "::1"]).trusted_proxies
    for bad in ("*", "proxy.example", "10.0.0.0/40"):
        with pytest.raises(ValueError, match="trusted_proxies"):
            ApiSettings(trusted_proxies=[bad])


def test_non_ascii_cookies_and_fields_are_no_session_and_bad_forms_never_500(web: Api) -> None:
    for value in ("é" * 20, "données.sig", "😀"):
        raw = f"{COOKIE}={value}; {SIGNIN_COOKIE}={value}".encode()
        client = TestClient(web.client.app, raise_server_exceptions=True)
        page = client.get("/panel/login", headers={"Cookie": raw})
        assert page.status_code == 200 and "Sign out" not in page.text
        assert SIGNIN_COOKIE in page.cookies  # a useless pre-session cookie is replaced
        away = client.post("/panel/logout", headers={"Cookie": raw}, follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"].startswith("/panel/login?next=")
    post_sign_in(web.client, "/panel/login/operator", {"token": OPERATOR_TOKEN})
    for csrf in ("é", "ü" * 43, "\u202e"):
        refused = web.client.post("/panel/logout", data={"csrf": csrf}, follow_redirects=False)
        assert refused.status_code == 403
        signin = web.client.post("/panel/login/operator", data={"token": OPERATOR_TOKEN, "csrf": csrf})
        assert signin.status_code == 403
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in "123456789")  # digits to str.isdigit()
    bad_digits = moderator(web, fullwidth[:6], fullwidth)
    assert bad_digits.status_code == 422
    assert moderator(web, "123456", "x" * 5000).status_code == 422


def test_a_tampered_or_old_session_is_not_accepted() -> None:
    s = Signer("another-secret-of-enough-length")
    value = s.dumps(Viewer("acme", profile_id=1, nonce="n", issued=1_000_000))
    assert s.loads(value, now=1_000_100) == Viewer("acme", profile_id=1, nonce="n", issued=1_000_000)
    assert s.loads(value, now=1_000_000 + 13 * 3600) is None  # expired
    data, mac = value.split(".")
    assert s.loads(data.replace("a", "b", 1) + "." + mac, now=1_000_100) is None
    assert Signer("yet-another-secret-value").loads(value, now=1_000_100) is None
    assert s.open("moderator", value) is None  # a session never passes for another kind of value
    assert s.loads(value + "é", now=1_000_100) is None and s.loads("é.é", now=1_000_100) is None


def test_web_guessing_is_limited_with_one_answer_and_never_touches_the_phone(web: Api) -> None:
    r = web.book("acme")
    number = r["conference_number"]
    answers = [moderator(web, number, f"10000000{i}") for i in range(8)]
    codes = [a.status_code for a in answers]
    assert codes == [401] * 5 + [429] * 3  # this client is locked out after 5
    assert {a.text.count(BAD_CREDENTIALS) for a in answers[:5]} == {1}
    assert TOO_MANY in answers[-1].text and answers[-1].headers["retry-after"]
    # A wrong number answers exactly as a wrong ADMIN PIN (from a client not yet locked out).
    other = TestClient(web.client.app, client=("192.0.2.50", 50000))
    unknown = post_sign_in(
        other, "/panel/login/moderator", {"conference": "918273", "admin_pin": "123456789"}
    )
    assert unknown.status_code == 401 and BAD_CREDENTIALS in unknown.text
    # The phone's counters never saw any of it.
    assert web.services.dialin.dial_in(number, r["pin"], "+420601000009").status is DialInStatus.DECIDED
    assert {a.key for a in web.services.dialin.pin_lockouts()} == {"web:testclient"}


def test_a_known_moderator_browser_is_heard_while_the_conference_is_throttled(web: Api) -> None:
    r = web.book("acme")
    number = r["conference_number"]
    assert moderator(web, number, r["admin_pin"], follow_redirects=False).status_code == 303
    for i in range(8):  # guessers from eight addresses use up the conference's web budget
        guesser = TestClient(web.client.app, client=(f"198.51.100.{i}", 40000))
        post_sign_in(guesser, "/panel/login/moderator", {"conference": number, "admin_pin": "100000000"})
    newcomer = TestClient(web.client.app, client=("203.0.113.7", 40000))
    refused = post_sign_in(
        newcomer, "/panel/login/moderator", {"conference": number, "admin_pin": r["admin_pin"]}
    )
    assert refused.status_code == 429
    assert web.services.dialin.web_sign_in(number, "1", "x").status is DialInStatus.THROTTLED
    again = moderator(web, number, r["admin_pin"], follow_redirects=False)  # the known browser
    assert again.status_code == 303


def test_an_operator_can_end_every_session_of_one_subject(web: Api) -> None:
    browsers = [TestClient(web.client.app) for _ in range(2)]
    for b in browsers:
        post_sign_in(b, "/panel/login/operator", {"token": OPERATOR_TOKEN}, follow_redirects=False)
        assert "Sign out (operator)" in b.get("/panel/login").text
    sessions = web.client.app.state.web_sessions  # type: ignore[attr-defined]
    assert sessions.revoke_subject("operator") == 2
    assert all("Sign out" not in b.get("/panel/login").text for b in browsers)
