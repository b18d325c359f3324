"""The operations dashboard page: who may see it, what it shows, and its accessible markup.

The controller here is built but never started (no sockets): its live state and counters are
set by hand, the booking store is a SQLite file.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from booking.domain.clock import FakeClock
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from booking.web.app import install_web
from booking.web.dashboard import dashboard_router
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ami.client import AmiClient
from conference_ivr.ami.events import parse_event
from conference_ivr.conference.booking_gauges import BookingGauges
from conference_ivr.conference.live import LiveConferences
from conference_ivr.conference.web_port import OperationsPort
from conference_ivr.controller import Controller
from conference_ivr.metrics import Metrics
from conference_ivr.pbx import names
from conference_ivr.settings import ControllerSettings
from tests.support.api import NOW, OPERATOR_TOKEN, Api
from tests.support.services import api_app, services_on
from tests.support.signin import post_sign_in

FIGURE = re.compile(r'data-figure="([^"]+)"[^>]*>([^<]*)<')


def figures(html: str) -> dict[str, str]:
    return {name: value.strip() for name, value in FIGURE.findall(html)}


@dataclass
class Page:
    api: Api
    controller: Controller

    @property
    def client(self) -> TestClient:
        return self.api.client

    def sign_in_operator(self) -> None:
        r = post_sign_in(
            self.client, "/panel/login/operator", {"token": OPERATOR_TOKEN}, follow_redirects=False
        )
        assert r.status_code == 303


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    url = f"sqlite:///{tmp_path / 'booking.db'}"
    upgrade(url)
    engine = make_engine(url)
    clock = FakeClock(NOW)
    s = services_on(engine, clock, data_dir=tmp_path)
    metrics = Metrics()
    ami = AmiClient("127.0.0.1", 9, "nobody", "never-connected")
    agi, live = FastAgiServer(), LiveConferences(ami, metrics)
    operations = OperationsPort(live, ami, agi, metrics, BookingGauges(s.figures, metrics))
    controller = Controller(ControllerSettings(), agi, ami, live, metrics, operations=operations)
    # The web pages are installed before the client starts the app (its exception handlers).
    app = api_app(s, OPERATOR_TOKEN)
    tz = ZoneInfo("Europe/Prague")
    install_web(
        app,
        "a-web-secret-for-tests",
        tz,
        [dashboard_router(operations)],
        sessions=s.web_sessions,
        clock=s.clock,
    )
    with TestClient(app) as client:
        yield Page(Api(client, s.booking, clock, s), controller)
    engine.dispose()


def test_only_the_operator_sees_the_dashboard(page: Page) -> None:
    anonymous = page.client.get("/dashboard", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/panel/login?next=/dashboard"
    assert page.client.get("/dashboard/figures", follow_redirects=False).status_code == 303
    page.api.profile("acme")
    r = post_sign_in(page.client, "/panel/login", {"token": page.api.tokens["acme"]}, follow_redirects=False)
    assert r.status_code == 303
    assert page.client.get("/dashboard").status_code == 403  # an organizer is not the operator
    assert page.client.get("/dashboard/figures").status_code == 403
    page.sign_in_operator()
    assert page.client.get("/dashboard").status_code == 200


def test_the_figures_come_from_the_live_state_the_counters_and_the_store(page: Page) -> None:
    booking = page.api.service
    number = booking.book(NOW, 60, seats=8).room.conference_number
    booking.book(NOW + timedelta(minutes=90), 60, seats=4)
    anytime = booking.book(None, None, seats=10)
    for member in ("a1", "a2", "a3"):  # members of an anytime room hold live seats
        assert page.api.services.seats.hold(anytime.id or 0, member)
    live, m = page.controller.live, page.controller.metrics

    def event(name: str, bridge: str, uid: str, admin: bool = False) -> None:
        fields = {"Event": name, "Conference": bridge, "Channel": f"Local/{uid};2", "Uniqueid": uid}
        asyncio.run(live.on_event(parse_event(fields | {"Admin": "Yes" if admin else "No", "Muted": "No"})))

    event("ConfbridgeJoin", names.bridge_name(number), "u1", admin=True)
    event("ConfbridgeJoin", names.bridge_name(number), "u2")
    event("ConfbridgeJoin", "conf-000000", "u3")
    event("ConfbridgeLeave", "conf-000000", "u3")  # an emptied room is not live
    m.join_failures.labels(reason="bad_credentials").inc()
    m.join_failures.labels(reason="full").inc(2)
    m.extensions.labels(result="granted").inc()
    m.terminations.inc()
    m.moderator_ends.inc()
    m.mobile_cuts.inc()
    m.calls.inc(5)
    page.sign_in_operator()

    html = page.client.get("/dashboard").text
    f = figures(html)

    assert f["ami"] == "not connected" and f["ami_reconnects"] == "0"
    assert (f["conferences"], f["members"], f["moderators"]) == ("1", "2", "1")
    assert f[f"members-{number}"] == "2" and f[f"seats-{number}"] == "8"
    assert (f["reserved-now"], f["reserved-1h"], f["reserved-2h"], f["used"]) == ("8", "8", "8", "2")
    assert f["capacity-now"] == "200"
    assert (f["live_seats"], f["live-now"], f["taken-now"]) == ("3", "3", "11")
    assert f["failures-bad_credentials"] == "1" and f["failures-full"] == "2" and f["failures-over"] == "0"
    assert f["calls"] == "5" and f["extensions_granted"] == "1" and f["extensions_denied"] == "0"
    assert f["ended_at_booked_end"] == "1" and f["ended_by_moderator"] == "1" and f["mobile_cap_cuts"] == "1"
    assert f["lockouts"] == "0"
    # viewing the page also refreshed the gauges a scrape reports
    assert m.registry.get_sample_value("dialconf_seats_reserved", {"horizon": "now"}) == 8
    assert m.registry.get_sample_value("dialconf_live_seats") == 3
    # the fragment the page's script fetches carries the same figures, without the layout
    fragment = page.client.get("/dashboard/figures")
    assert fragment.headers["cache-control"] == "no-store" and "<html" not in fragment.text
    assert figures(fragment.text)["members"] == "2"


def test_the_markup_is_accessible_and_phone_sized(page: Page) -> None:
    page.sign_in_operator()
    html = page.client.get("/dashboard?refresh=1").text
    assert 'lang="en"' in html and 'name="viewport"' in html
    assert "<h1>Operations dashboard</h1>" in html
    headings = re.findall(r'<h2 id="(\w+)">', html)
    assert headings == ["health", "live", "seats", "calls", "lockouts", "ends"]
    assert all(f'aria-labelledby="{h}"' in html for h in headings)
    assert "<th>" not in html  # every header cell says what it heads
    assert html.count('<th scope="row">') >= 4 + 10 + 5 and '<th scope="col">' in html
    assert re.search(r"<meter [^>]*aria-label=", html)
    assert 'data-refresh-s="2"' in html  # ?refresh is kept within 2..300 s
    assert "http://" not in html and "https://" not in html  # nothing from elsewhere (no CDN)
    assert 'aria-pressed="true"' in html and "Refresh now" in html
