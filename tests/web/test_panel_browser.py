"""The organizer panel in a real headless chromium against the booking API as ``dialconf run``
composes it (``build_api`` with messaging and billing), served by uvicorn on a free loopback
port. Screenshots of each main step land in test-artifacts/screenshots/panel-*.png."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from booking.domain.messages import Channel
from booking.domain.model import Reservation, ReservationKind, ReservationStatus
from booking.services.booking import BookingService
from booking.store.migrate import upgrade
from conference_ivr.dialconf.api_server import api_config
from conference_ivr.dialconf.compose import build_api
from conference_ivr.dialconf.services import build_services, timezone
from tests.support.browser import Browser, browser
from tests.support.messaging import RecordingGateway
from tests.support.poll import until_sync
from tests.support.system import isolated_settings


@dataclass
class Running:
    url: str
    booking: BookingService
    gateway: RecordingGateway
    tz: ZoneInfo
    send_due: Callable[[], int]

    def token(self, name: str) -> str:
        _, token = self.booking.create_profile(name)
        return token

    def reservations(self, token: str) -> list[Reservation]:
        profile = self.booking.profile_for_token(token)
        assert profile is not None
        return self.booking.visible_reservations(profile.id)


@contextmanager
def _serving(tmp: Path) -> Iterator[Running]:
    settings = isolated_settings(tmp, "panel")
    upgrade(settings.database_url)
    gateway = RecordingGateway()
    services = build_services(settings, sms=gateway, mail=gateway)
    booking, messaging = services.booking, services.messaging
    app = build_api(services)
    host, port = settings.api.bind_address, settings.api.port
    server = uvicorn.Server(api_config(app, settings.api))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        until_sync(lambda: server.started, 30, "uvicorn started")
        assert messaging.dispatcher is not None
        yield Running(
            f"http://{host}:{port}", booking, gateway, timezone(settings), messaging.dispatcher.send_due
        )
    finally:
        server.should_exit = True
        thread.join(30)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with _serving(tmp_path_factory.mktemp("panel")) as r:
        yield r


def _local(at: datetime, tz: ZoneInfo) -> datetime:
    return at.astimezone(tz).replace(second=0, microsecond=0)


def type_time(b: Browser, css: str, at: datetime) -> None:
    """Type a datetime-local value as a person does: chromium's en-US widget takes
    MMDDYYYY, Tab, then hhmm and AM/PM. The value is checked, so another locale fails loudly."""
    field = b.find(css)
    field.clear()
    field.send_keys(f"{at:%m%d%Y}" + Keys.TAB + f"{at:%I%M%p}")
    b.wait(lambda d: field.get_attribute("value") == f"{at:%Y-%m-%dT%H:%M}", 5, f"{css} = {at}")


def sign_in(b: Browser, token: str) -> None:
    b.open("/panel")
    b.wait(lambda d: "/panel/login" in d.current_url, what="the sign-in page")
    b.fill("Your profile's API token", token)
    b.find("#token").send_keys(Keys.ENTER)  # the keyboard submits the form
    see(b, "Your reservations")


PHONE_WIDTH = 390


def phone(b: Browser) -> None:
    """A phone's viewport. Chromium keeps a window at least 500 px wide, whatever
    --window-size says, so the viewport is set through the DevTools protocol instead."""
    metrics = {"width": PHONE_WIDTH, "height": 844, "deviceScaleFactor": 3, "mobile": True}
    b.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)


def shown(b: Browser, css: str) -> None:
    b.wait(lambda d: b.finds(css), what=css)


def see(b: Browser, text: str, timeout: float = 15) -> None:
    """``Browser.wait_text``, but a body replaced by the next page mid-check is read again
    (selenium's wait gives up on a stale element instead of polling on)."""
    wait = WebDriverWait(b.driver, timeout, 0.1, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: text in d.find_element(By.TAG_NAME, "body").text, f"text {text!r}")


def card(b: Browser, r: Reservation) -> str:
    return str(b.find(f"#r{r.id}").text)


def test_an_organizer_books_edits_invites_and_deletes(running: Running) -> None:
    token = running.token("browser-desk")
    with browser(running.url) as b:
        sign_in(b, token)
        b.shot("panel-01-signed-in")
        r = book_after_a_rule_error(b, running, token)
        edit(b, running, token, r)
        invite(b, running, r)
        delete(b, running, token, r)


def book_after_a_rule_error(b: Browser, running: Running, token: str) -> Reservation:
    now = datetime.now(running.tz)
    b.click("Add a reservation")
    shown(b, "#starts_at")
    type_time(b, "#starts_at", _local(now + timedelta(minutes=3), running.tz))
    b.fill("Length in minutes", "60")
    b.fill("Seats", "5")
    b.fill("Title", "Browser test")
    b.click("Book")
    shown(b, "#starts_at-error")
    assert b.find("#starts_at-error").text == "Must be at least 10 minutes from now."
    assert "starts_at-error" in (b.find("#starts_at").get_attribute("aria-describedby") or "")
    assert b.find("#title").get_attribute("value") == "Browser test"  # refilled
    assert running.reservations(token) == []
    b.shot("panel-02-rule-error")

    start = _local(now + timedelta(hours=2), running.tz)
    type_time(b, "#starts_at", start)
    b.click("Book")
    see(b, "Your conference is booked.")
    (r,) = running.reservations(token)
    assert r.starts_at == start
    listed = card(b, r)
    for code in (r.room.conference_number, r.room.pin, r.room.admin_pin):
        assert code in listed
    assert b.find(f"#r{r.id} [data-code=pin]").text == r.room.pin
    b.shot("panel-03-booked")
    return r


def edit(b: Browser, running: Running, token: str, r: Reservation) -> None:
    b.find(f"a[href='/panel/reservations/{r.id}/edit']").click()
    shown(b, "form[action$='/edit']")
    b.fill("Seats", "8")
    b.fill("Title", "Browser test, edited")
    b.click("Save changes")
    see(b, "Your changes are saved")
    (edited,) = running.reservations(token)
    assert (edited.seats, edited.title, edited.room) == (8, "Browser test, edited", r.room)
    assert "Browser test, edited" in card(b, r)
    b.shot("panel-04-edited")


def invite(b: Browser, running: Running, r: Reservation) -> None:
    b.find(f"a[href='/panel/reservations/{r.id}/invitees']").click()
    shown(b, "textarea#invitees")
    b.fill("Invitees", "eva@example.com\n+420 602 111 222 cs")
    b.click("Save the invitees")
    see(b, "Invitees saved")
    assert b.find("#invitees").get_attribute("value") == "eva@example.com en\n+420602111222 cs"
    # Two hours ahead: a single notice, at the start (R25); the SMS is paid (R21).
    assert "At the start" in b.text() and "SMS, paid" in b.text()
    b.shot("panel-05-invitees")

    b.open(f"/panel/reservations/{r.id}/invitation")
    shown(b, "#preview-body")
    assert r.room.conference_number in b.find("#preview-body").text
    b.fill("Subject", "Invitation: {title}")
    b.click("Save the invitation")
    see(b, "The invitation is saved")
    assert b.find("#preview-subject").text == "Invitation: Browser test, edited"
    b.click("Send the invitation")
    see(b, "on its way to 1 e-mail invitee")
    b.shot("panel-06-invitation-sent")
    running.send_due()
    mails = [s for s in running.gateway.to("eva@example.com") if s.channel is Channel.EMAIL]
    assert any(m.subject == "Invitation: Browser test, edited" for m in mails)


def delete(b: Browser, running: Running, token: str, r: Reservation) -> None:
    b.open("/panel")
    b.find(f"a[href='/panel/reservations/{r.id}/delete']").click()
    shown(b, "form[action$='/delete']")
    b.shot("panel-07-delete-confirm")
    assert len(running.reservations(token)) == 1  # asking deletes nothing
    b.click("Delete it")
    see(b, "The reservation is deleted")
    assert running.reservations(token) == [] and not b.finds(f"#r{r.id}")
    b.shot("panel-08-deleted")


def test_the_panel_is_usable_by_keyboard_and_at_a_phone_width(running: Running) -> None:
    token = running.token("browser-phone")
    profile = running.booking.profile_for_token(token)
    assert profile is not None
    running.booking.book(datetime.now(running.tz) + timedelta(hours=3), 60, 4, profile.name)
    with browser(running.url, width=390, height=844) as b:
        phone(b)
        b.open("/panel/login")
        shown(b, "#token")
        ActionChains(b.driver).send_keys(Keys.TAB).perform()  # the first stop skips to the content
        assert b.driver.switch_to.active_element.get_attribute("class") == "skip"
        sign_in(b, token)
        (r,) = running.reservations(token)
        fits = "return document.documentElement.scrollWidth <= window.innerWidth"
        assert b.driver.execute_script(fits), "the list scrolls sideways on a phone"
        pin = b.find(f"#r{r.id} [data-code=admin_pin]")
        right = b.driver.execute_script("return arguments[0].getBoundingClientRect().right", pin)
        assert b.driver.execute_script("return window.innerWidth") == PHONE_WIDTH
        assert pin.is_displayed() and right <= PHONE_WIDTH and pin.text == r.room.admin_pin
        b.shot("panel-09-phone-list")
        b.click("Add a reservation")
        shown(b, "#seats")
        assert b.driver.execute_script(fits), "the form scrolls sideways on a phone"
        b.find("#kind-anytime").send_keys(Keys.SPACE)  # radios are chosen with the keyboard too
        assert b.find("#kind-anytime").is_selected()
        seats = b.find("#seats")
        seats.send_keys("40")
        seats.send_keys(Keys.ENTER)  # over the limits: submitted from the keyboard, waits for an operator
        see(b, "Your request is over the standard limits")  # the list's message, not the form's hints
        (pending,) = [x for x in running.reservations(token) if x.id != r.id]
        assert pending.status is ReservationStatus.PENDING and pending.kind is ReservationKind.ANYTIME
        b.shot("panel-10-phone-pending")
        assert b.driver.find_element(By.TAG_NAME, "h1").text == "Your reservations"
