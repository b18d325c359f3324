"""The operator's queue and account-plan pages in a real headless chromium against the booking
API as ``dialconf run`` composes it: over-limit requests approved or rejected (the reason reaches
the requester), a profile put on the provider plan. Screenshots land in
test-artifacts/screenshots/operator-*.png."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from selenium.webdriver.common.keys import Keys

from booking.domain.account_plans import AccountPlan
from booking.domain.messages import Channel, Inbound, Outcome
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from booking.domain.rules import BookingRequest
from booking.store.migrate import upgrade
from conference_ivr.dialconf.api_server import api_config
from conference_ivr.dialconf.compose import build_api
from conference_ivr.dialconf.services import Services, build_services, operator_token, timezone
from tests.support.browser import Browser, browser
from tests.support.messaging import RecordingGateway
from tests.support.poll import until_sync
from tests.support.system import isolated_settings

PHONE = "+420601300400"


@dataclass
class Running:
    url: str
    services: Services
    gateway: RecordingGateway
    tz: ZoneInfo
    operator_token: str

    def stored(self, r: Reservation) -> Reservation:
        found = self.services.booking.reservation(r.id)
        assert found is not None
        return found


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    settings = isolated_settings(tmp_path_factory.mktemp("operator"), "oper")
    upgrade(settings.database_url)
    gateway = RecordingGateway()
    services = build_services(settings, sms=gateway, mail=gateway)
    server = uvicorn.Server(api_config(build_api(services), settings.api))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        until_sync(lambda: server.started, 30, "uvicorn started")
        url = f"http://{settings.api.bind_address}:{settings.api.port}"
        yield Running(url, services, gateway, timezone(settings), operator_token(settings))
    finally:
        server.should_exit = True
        thread.join(30)


def sign_in_as_operator(b: Browser, running: Running, path: str) -> None:
    b.open(path)
    b.wait(lambda d: "/panel/login" in d.current_url, what="the sign-in page")
    b.fill("Operator token", running.operator_token)
    b.find("#operator_token").send_keys(Keys.ENTER)
    b.wait(lambda d: d.current_url.endswith(path), what=path)


def sms_request_over_the_limits(running: Running) -> Reservation:
    """An on-demand order by SMS of 150 minutes (R3 allows 120): it waits for an operator."""
    start = datetime.now(running.tz) + timedelta(days=1)
    text = f"conf {start:%d%m} 1000 150 5"
    outcome = running.services.messaging.desk.handle(Inbound(Channel.SMS, PHONE, text, "sms-1"))
    assert outcome is Outcome.QUEUED
    [r] = running.services.booking.reservations_of(f"sms:{PHONE}")
    return r


def test_the_operator_approves_and_rejects_queued_requests(running: Running) -> None:
    booking = running.services.booking
    booking.create_profile("acme")
    acme = booking.profile_named("acme")
    start = datetime.now(running.tz) + timedelta(hours=3)
    big = booking.request(
        acme.id, BookingRequest(ReservationKind.PANEL, start, start + timedelta(hours=1), 40)
    )
    by_sms = sms_request_over_the_limits(running)
    assert big.status is ReservationStatus.PENDING and by_sms.status is ReservationStatus.PENDING

    with browser(running.url) as b:
        sign_in_as_operator(b, running, "/operator/queue")
        for r in (big, by_sms):
            card = b.find(f"#q{r.id}").text
            assert f"Request {r.id}" in card and "Why it waits" in card
        assert "acme" in b.find(f"#q{big.id}").text and "40 participants" in b.find(f"#q{big.id}").text
        assert f"sms:{PHONE}" in b.find(f"#q{by_sms.id}").text
        b.shot("operator-01-queue")

        b.click(f"Approve request {big.id}")
        b.wait_text("The request is approved")
        assert running.stored(big).status is ReservationStatus.ACTIVE
        assert not b.finds(f"#q{big.id}")

        b.click(f"Reject request {by_sms.id}")  # no reason: refused, next to the field
        b.wait_text("Say why: the requester is told this reason.")
        assert b.find(f"#reason-{by_sms.id}").get_attribute("aria-invalid") == "true"
        assert running.stored(by_sms).status is ReservationStatus.PENDING
        b.shot("operator-02-reason-missing")
        b.fill(f"Reason for rejecting request {by_sms.id}", "No operator on duty for long calls")
        b.click(f"Reject request {by_sms.id}")
        b.wait_text("The request is rejected")
        b.shot("operator-03-rejected")
        assert b.finds("#queue-empty")

    rejected = running.stored(by_sms)
    assert (
        rejected.status is ReservationStatus.REJECTED
        and rejected.note == "No operator on duty for long calls"
    )
    dispatcher = running.services.messaging.dispatcher
    assert dispatcher is not None
    dispatcher.send_due()
    told = [s for s in running.gateway.to(PHONE) if "No operator on duty for long calls" in s.text]
    assert told and told[0].channel is Channel.SMS  # the requester hears the reason


def test_the_operator_puts_a_profile_on_the_provider_plan(running: Running) -> None:
    booking = running.services.booking
    booking.create_profile("provider-co")
    with browser(running.url) as b:
        sign_in_as_operator(b, running, "/operator/accounts")
        assert b.finds("#providers-none") or "provider-co" not in b.text()
        b.fill("Profile name", "no-such-profile")
        b.find("#plan-provider").click()
        b.click("Save the plan")
        b.wait_text("No profile has this name")
        b.fill("Profile name", "provider-co")
        b.find("#plan-provider").click()
        b.click("Save the plan")
        b.wait_text("The account plan is saved.")
        assert "provider-co" in b.find("#providers").text
        b.shot("operator-04-provider-plan")
    profile = booking.profile_named("provider-co")
    assert profile.account_plan is AccountPlan.PROVIDER and booking.room_limit(profile.id) is None
