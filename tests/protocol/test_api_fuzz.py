"""Every route of the API's own OpenAPI document, fed generated and hostile requests with valid
(and sometimes wrong) tokens, on SQLite and on PostgreSQL: no answer is a 5xx, and an answer
that refuses (4xx) leaves every row of every table as it was.

Bounded in time: ``EXAMPLES`` requests per route and backend, each within ``DEADLINE``; the
examples are derandomized (the same every run, so CI is stable) unless DIALCONF_FUZZ_RANDOM=1,
which draws new ones each run for exploring.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from structlog.testing import capture_logs

from booking.settings import ApiLimits
from conference_ivr.cluster.postgres import Postgres, running_postgres
from tests.support.api import NOW
from tests.support.composed_api import OPERATOR_TOKEN, SMS_KEY, Composed, composed_api
from tests.support.openapi_fuzz import Request, requests

EXAMPLES = int(os.environ.get("DIALCONF_FUZZ_EXAMPLES", "25"))
DEADLINE = timedelta(seconds=5)
RANDOM = os.environ.get("DIALCONF_FUZZ_RANDOM") == "1"
CALLER = "+420601999888"


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with running_postgres() as pg:
        yield pg


@pytest.fixture(params=["sqlite", "postgresql"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Composed]:
    url = None
    if request.param == "postgresql":
        pg: Postgres = request.getfixturevalue("postgres")
        url = pg.create_database(f"fuzz_{os.getpid()}")
    with composed_api(tmp_path, ApiLimits(rate_limit=False), url) as a:
        for name in ("acme", "other"):
            a.profile(name)
        # The tariff loaded, so a route's first use writes nothing of its own accord.
        assert a.client.get("/api/tariff", headers=a.operator).status_code == 200
        yield a


def seeded(api: Composed) -> dict[str, list[Any]]:
    """Rows the routes can find (two live reservations of the profile, a wrong-PIN record), made
    again before each route, since the one before may have deleted them; the values that name
    them, for the generator to try besides its own."""
    mine = [r for r in api.booking.visible_reservations(api.booking.profile_named("acme").id) if r.id]
    for minutes in range(len(mine), 2):  # as the operator: the profile's room limit does not apply
        mine.append(api.booking.book(NOW + timedelta(hours=2 + minutes), 30, 3, profile="acme"))
    api.services.dialin.dial_in(mine[0].room.conference_number, "000000", caller=CALLER)
    return {
        "reservation_id": [r.id for r in mine],
        "profile_id": [api.booking.profile_named("acme").id],
        "month": [f"{NOW:%Y-%m}"],
        "key": [SMS_KEY, f"caller:{CALLER}"],  # Kannel's key; a lockout's key
    }


def operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [(path, method) for path, ops in document["paths"].items() for method in ops]


def test_no_route_answers_5xx_and_no_refusal_stores_anything(api: Composed) -> None:
    app = api.client.app
    assert isinstance(app, FastAPI)  # the composed API itself, no middleware wrapped around it
    document = app.openapi()
    credentials = {
        "operator token": {"Authorization": f"Bearer {OPERATOR_TOKEN}"},
        "profile token": api.profile("acme"),
    }
    found = operations(document)
    assert len(found) >= 35, "the document lost its routes"
    started = time.monotonic()
    served: Counter[str] = Counter()  # routes that answered 2xx at least once
    for path, method in found:
        strategy = requests(document, path, method, credentials, seeded(api))

        @settings(
            max_examples=EXAMPLES,
            deadline=DEADLINE,
            derandomize=not RANDOM,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def answered_safely(request: Request) -> None:
            before = api.digest()
            with capture_logs() as logs:
                r = api.client.request(
                    request.method, request.path, content=request.body, headers=request.headers
                )
            failures = [e.get("stack", "") for e in logs if e.get("event") == "request_failed"]
            assert r.status_code < 500, f"{r.status_code} {r.text[:300]}\n{''.join(failures)}"
            if r.status_code < 300:
                served[request.method + " " + request.route] += 1
            if r.status_code >= 400:
                assert api.digest() == before, f"a {r.status_code} changed the store: {r.text[:300]}"
                assert "detail" in r.json()

        answered_safely()
    took = time.monotonic() - started
    print(f"{len(found)} routes x {EXAMPLES} requests in {took:.1f} s; {len(served)} routes served some")
    # Not only refusals: the generator reaches the routes' own code too.
    assert len(served) >= len(found) * 2 // 3, sorted({f"{m.upper()} {p}" for p, m in found} - set(served))
