"""The pure parts of the request limits: token buckets, the bounded client table, who a client
is, what counts as a credential, which cap a path has, and what reaches the error log."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from booking.api.body_limit import BodyCaps
from booking.api.failures import redacted, stack_of
from booking.api.in_flight import is_event_stream
from booking.api.rate_limit import Bucket, ClientTable
from booking.api.traffic import client_key, is_panel, is_sign_in, presents_credential
from booking.domain.bounds import moment_problem, text_problem
from booking.settings import Budget

pytestmark = pytest.mark.unit

TWO_PER_S = Budget(per_second=2, burst=3)


def test_a_bucket_spends_its_burst_then_refills_at_its_rate() -> None:
    b = Bucket(TWO_PER_S, now=100.0)
    for _ in range(3):
        assert b.wait_s(TWO_PER_S) == 0
        b.spend()
    assert b.wait_s(TWO_PER_S) == pytest.approx(0.5)  # one token at 2 per second
    b.refill(TWO_PER_S, 100.25)
    assert b.wait_s(TWO_PER_S) == pytest.approx(0.25)
    b.refill(TWO_PER_S, 100.5)
    assert b.wait_s(TWO_PER_S) == 0
    b.refill(TWO_PER_S, 1000.0)
    assert b.tokens == 3  # never more than the burst
    b.refill(TWO_PER_S, 10.0)  # a clock going back changes nothing
    assert b.tokens == 3 and b.at == 1000.0


def test_spending_an_empty_bucket_does_not_go_below_zero() -> None:
    b = Bucket(Budget(per_second=1, burst=1), now=0.0)
    b.spend()
    b.spend()
    assert b.tokens == 0


def test_the_client_table_forgets_the_least_recently_seen() -> None:
    table = ClientTable({"api": TWO_PER_S}, size=3)
    for client in ("a", "b", "c"):
        table.bucket(table.buckets(client), "api", 0.0).spend()
    table.buckets("a")  # seen again: now the most recent
    table.buckets("d")
    assert len(table) == 3
    fresh = table.bucket(table.buckets("b"), "api", 0.0)  # b was forgotten: a full budget again
    assert fresh.tokens == 3
    assert table.bucket(table.buckets("a"), "api", 0.0).tokens == 2  # a was kept, with what it spent


def test_the_table_stays_bounded_whatever_the_number_of_clients() -> None:
    table = ClientTable({"api": TWO_PER_S}, size=100)
    for n in range(10_000):
        table.bucket(table.buckets(f"10.0.{n // 256}.{n % 256}"), "api", 0.0).spend()
    assert len(table) == 100


def scope(**kw: Any) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/api/me", "headers": [], "query_string": b"", **kw}


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::9", "2001:db8:1:2::/64"),  # the same host's network
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("testclient", "testclient"),
        (None, "unknown"),
    ],
)
def test_a_client_is_its_address_or_its_ipv6_network(host: str | None, key: str) -> None:
    s = scope(client=(host, 1) if host is not None else None)
    assert client_key(s, 64) == key


def test_credentials_are_claims_not_proofs() -> None:
    assert presents_credential(scope(headers=[(b"authorization", b"Bearer x")]), "dialconf_session")
    assert presents_credential(scope(headers=[(b"cookie", b"a=1; dialconf_session=x")]), "dialconf_session")
    assert presents_credential(scope(query_string=b"sender=1&key=k"), "dialconf_session")
    assert not presents_credential(scope(headers=[(b"cookie", b"other=1")]), "dialconf_session")
    assert not presents_credential(scope(query_string=b"monkey=1"), "dialconf_session")


def test_which_paths_are_the_panel_and_which_posts_sign_in() -> None:
    assert is_panel("/panel/reservations/1/edit") and is_panel("/static/panel.css") and is_panel("/dashboard")
    assert not is_panel("/api/reservations") and not is_panel("/sms/kannel")
    assert is_sign_in(scope(method="POST", path="/panel/login/moderator"))
    assert not is_sign_in(scope(method="GET", path="/panel/login"))


def test_each_path_has_its_body_cap() -> None:
    caps = BodyCaps(64, 256, {r"/api/tariff": 512, r"/api/reservations/[0-9]+/invitation": 300})
    assert caps.cap("/api/reservations") == 64
    assert caps.cap("/panel/reservations/new") == 256
    assert caps.cap("/api/tariff") == 512 and caps.cap("/api/tariffs") == 64  # the whole path matches
    assert caps.cap("/api/reservations/12/invitation") == 300
    assert caps.cap("/api/reservations/12/invitation/send") == 64


def test_an_event_stream_is_known_by_its_content_type() -> None:
    start = {"type": "http.response.start", "status": 200}
    assert is_event_stream({**start, "headers": [(b"content-type", b"text/event-stream; charset=utf-8")]})
    assert not is_event_stream({**start, "headers": [(b"content-type", b"application/json")]})


@pytest.mark.parametrize(
    ("text", "multiline", "problem"),
    [
        ("Board meeting", False, None),
        ("Příliš žluťoučký kůň \u200d\U0001f469", False, None),
        ("two\nlines\ttabbed\r\n", True, None),
        ("two\nlines", False, "contains a control character (U+000A) at position 3"),
        ("nul\x00", True, "contains a control character (U+0000) at position 3"),
        ("\x7f", False, "contains a control character (U+007F) at position 0"),
        ("c1 \x9b", True, "contains a control character (U+009B) at position 3"),
        ("half \udc00", True, "contains a lone surrogate (U+DC00) at position 5"),
    ],
)
def test_text_without_controls_or_surrogates(text: str, multiline: bool, problem: str | None) -> None:
    assert text_problem(text, multiline) == problem


def test_moments_outside_1970_to_2999_are_refused() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    assert moment_problem(datetime(2026, 3, 2, tzinfo=UTC)) is None
    assert moment_problem(datetime(2999, 12, 31, 23, 59, tzinfo=UTC)) is None
    assert moment_problem(datetime(3000, 1, 1, tzinfo=UTC)) is not None
    assert moment_problem(datetime(1969, 12, 31, 23, 59, tzinfo=UTC)) is not None
    late = datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=5)))  # past datetime.max in UTC
    assert moment_problem(late) is not None


def test_what_looks_like_a_secret_is_masked_in_the_log() -> None:
    token = "Uc_e-HbcHeDmPTKPRTtfP8gg9D8lw8OZn3Y41e7J8_o"
    said = redacted(f"PIN 490696 for conference 688993, token {token}, at line 42 of reservation_id")
    assert "490696" not in said and "688993" not in said and token not in said
    assert "line 42" in said and "reservation_id" in said


def test_a_failed_statement_is_logged_without_its_parameters() -> None:
    pin = str(490_000 + 696)  # not a literal: the frames show source lines
    try:
        try:
            raise ValueError("unique")
        except ValueError as cause:
            raise IntegrityError("INSERT INTO rooms (pin) VALUES (?)", (pin,), cause) from cause
    except IntegrityError as e:
        stack = stack_of(e)
    assert pin not in stack and "parameters hidden" in stack.lower()
    assert "which led to:" in stack and "ValueError: unique" in stack
    assert "test_a_failed_statement_is_logged_without_its_parameters" in stack  # the frames are there
