"""The organizer panel through FastAPI's TestClient: pages, forms, the rules' answers next to
their fields, post/redirect/get, CSRF, isolation between profiles, invitees and invitations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi.testclient import TestClient

from booking.domain.clock import FakeClock
from booking.domain.model import Reservation, ReservationStatus
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from booking.web.app import install_web
from booking.web.panel import panel_router
from tests.support.api import NOW, OPERATOR_TOKEN, Api, at, bearer
from tests.support.messaging import Harness, messaging_settings
from tests.support.services import api_app
from tests.support.signin import post_sign_in

PRAGUE = ZoneInfo("Europe/Prague")  # NOW is 10:00 there (UTC+1 in March)
SECRET = "a-web-secret-for-the-panel-tests"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Elements with an id: their tag, attributes and text (whitespace collapsed)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: dict[str, tuple[str, dict[str, str], str]] = {}
        self._open: list[tuple[str, dict[str, str], list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in VOID:
            if "id" in a:
                self.elements[a["id"]] = (tag, a, "")
        else:
            self._open.append((tag, a, []))

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            t, a, parts = self._open.pop()
            text = " ".join("".join(parts).split())
            if self._open:
                self._open[-1][2].append(f" {text} ")
            if "id" in a:
                self.elements[a["id"]] = (t, a, text)
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1][2].append(data)

    def text(self, id: str) -> str:
        return self.elements[id][2]

    def attrs(self, id: str) -> dict[str, str]:
        return self.elements[id][1]

    def has(self, id: str) -> bool:
        return id in self.elements


@dataclass
class Web:
    api: Api
    h: Harness
    csrf: str = ""

    @property
    def client(self) -> TestClient:
        return self.api.client

    def sign_in(self, name: str = "acme") -> None:
        self.api.profile(name)
        ok = post_sign_in(
            self.client, "/panel/login", {"token": self.api.tokens[name]}, follow_redirects=False
        )
        assert ok.status_code == 303, ok.text
        page = self.client.get("/panel")
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found is not None
        self.csrf = found.group(1)

    def post(self, path: str, **data: str) -> httpx.Response:
        answer: httpx.Response = self.client.post(
            path, data={"csrf": self.csrf, **data}, follow_redirects=False
        )
        return answer

    def add(self, **data: str) -> httpx.Response:
        form = {"kind": "panel", "starts_at": "2026-03-02T11:00", "minutes": "60", "seats": "5"}
        return self.post("/panel/reservations/new", **{**form, **data})

    def reservations(self, name: str = "acme") -> list[Reservation]:
        profile = self.api.service.profile_for_token(self.api.tokens[name])
        assert profile is not None
        return self.api.service.visible_reservations(profile.id)


def _web(tmp_path: Path, with_messaging: bool = True, **booking: object) -> Iterator[Web]:
    url = f"sqlite:///{tmp_path / 'booking.db'}"
    upgrade(url)
    engine = make_engine(url)
    h = Harness(engine, FakeClock(NOW), messaging_settings(**booking))
    s = h.services
    messaging = s.messaging if with_messaging else None
    app = api_app(s, OPERATOR_TOKEN)
    panel = panel_router(s.booking, s.clock, s.settings.booking, messaging, s.billing, s.recordings)
    install_web(app, SECRET, PRAGUE, [panel], sessions=s.web_sessions, clock=s.clock)
    try:
        with TestClient(app) as client:
            yield Web(Api(client, h.booking, h.clock, s), h)
    finally:
        engine.dispose()


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    yield from _web(tmp_path)


def test_the_list_needs_a_sign_in_and_shows_the_codes_in_local_time(web: Web) -> None:
    away = web.client.get("/panel", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/panel/login?next=/panel"
    booked = web.api.book("acme", starts_at=at(60), minutes=60, seats=5, title="Board")
    pending = web.api.book("acme", expect=202, starts_at=at(120), minutes=60, seats=40)
    web.sign_in("acme")
    page = Page(web.client.get("/panel").text)
    card = page.text(f"r{booked['id']}")
    for shown in ("Board", "Panel window", "2026-03-02 11:00 \N{EN DASH} 12:00", "Booked", "5"):
        assert shown in card
    for code in (booked["conference_number"], booked["pin"], booked["admin_pin"]):
        assert code in card
    waiting = page.text(f"r{pending['id']}")
    assert "Waits for an operator: 40 participants is more than the 30 allowed" in waiting
    assert pending["pin"] not in waiting  # the access data comes when an operator confirms it
    links = web.client.get("/panel").text
    for action in ("edit", "copy", "delete", "invitees", "invitation", "live"):
        assert f'href="/panel/reservations/{booked["id"]}/{action}"' in links
    assert 'href="/panel/statements?month=2026-03"' in links


def test_adding_books_and_confirms_with_the_codes(web: Web) -> None:
    web.sign_in()
    form = Page(web.client.get("/panel/reservations/new").text)
    assert (
        form.attrs("starts_at")["type"] == "datetime-local"
        and "starts_at-hint" in form.attrs("starts_at")["aria-describedby"]
    )
    done = web.add(starts_at="2026-03-02T12:00", minutes="90", seats="6", max_participants="4", title="Sync")
    assert done.status_code == 303
    (r,) = web.reservations()
    assert done.headers["location"] == f"/panel?done=booked&id={r.id}"
    assert r.starts_at == NOW + timedelta(hours=2) and r.ends_at == NOW + timedelta(hours=3, minutes=30)
    assert (r.seats, r.max_participants, r.title, r.status) == (6, 4, "Sync", ReservationStatus.ACTIVE)
    page = web.client.get(done.headers["location"]).text
    assert (
        f"Conference number {r.room.conference_number}, PIN {r.room.pin}, ADMIN PIN {r.room.admin_pin}"
        in page
    )


def test_a_rule_error_is_shown_next_to_its_field_and_nothing_is_stored(web: Web) -> None:
    web.sign_in()
    refused = web.add(starts_at="2026-03-02T10:05", seats="5", title="Too soon")
    assert refused.status_code == 422
    page = Page(refused.text)
    assert page.text("starts_at-error") == "Must be at least 10 minutes from now."
    start = page.attrs("starts_at")
    assert "starts_at-error" in start["aria-describedby"] and start["aria-invalid"] == "true"
    assert start["value"] == "2026-03-02T10:05" and page.attrs("title")["value"] == "Too soon"  # refilled
    assert page.has("error-summary-title") and 'href="#starts_at"' in refused.text
    assert web.reservations() == []
    typed = Page(web.add(seats="many", minutes="60", ends_at="2026-03-02T13:00").text)
    assert typed.text("seats-error") == "Write a whole number."
    assert typed.text("minutes-error") == "Give either a length or an end, not both."
    skipped = Page(web.add(starts_at="2026-03-29T02:30").text)  # the clocks jump 02:00 -> 03:00
    assert "does not exist in Europe/Prague" in skipped.text("starts_at-error")
    too_many = Page(web.add(max_participants="9").text)
    assert too_many.text("max_participants-error") == "Between 1 and the seats reserved."
    assert web.reservations() == []


def test_a_full_system_shows_the_seats_that_fit_and_other_starts(tmp_path: Path) -> None:
    for web in _web(tmp_path, system_capacity=10):
        web.api.book("other", starts_at=at(60), minutes=60, seats=8)
        web.sign_in()
        refused = web.add(starts_at="2026-03-02T11:00", minutes="60", seats="5")
        assert refused.status_code == 409
        page = Page(refused.text)
        assert "5 seats do not fit" in page.text("seats-error") and "At most 2 would fit" in page.text(
            "seats-error"
        )
        assert "2026-03-02 12:00" in page.text("starts_at-suggestions")
        assert "starts_at-suggestions" in page.attrs("starts_at")["aria-describedby"]
        assert page.attrs("seats")["value"] == "5" and web.reservations() == []


def test_an_over_limit_request_waits_for_an_operator(web: Web) -> None:
    web.sign_in()
    done = web.add(seats="45")
    (r,) = web.reservations()
    assert done.headers["location"] == f"/panel?done=booked_pending&id={r.id}"
    assert r.status is ReservationStatus.PENDING
    page = web.client.get(done.headers["location"]).text
    assert "waits for an operator" in page and "45 participants is more than the 30 allowed" in page


def test_editing_keeps_the_number_and_pins(web: Web) -> None:
    web.sign_in()
    web.add(title="Weekly")
    (r,) = web.reservations()
    form = Page(web.client.get(f"/panel/reservations/{r.id}/edit").text)
    assert (form.attrs("starts_at")["value"], form.attrs("minutes")["value"]) == ("2026-03-02T11:00", "60")
    assert not form.has("kind-panel")  # the kind stays
    path = f"/panel/reservations/{r.id}/edit"
    bad = web.post(path, starts_at="2026-03-02T11:00", minutes="60", seats="5", max_participants="7")
    assert bad.status_code == 422 and "Between 1 and the seats" in Page(bad.text).text(
        "max_participants-error"
    )
    ok = web.post(path, starts_at="2026-03-02T11:00", minutes="90", seats="8", title="Weekly sync")
    assert ok.status_code == 303 and ok.headers["location"] == f"/panel?done=edited&id={r.id}"
    (after,) = web.reservations()
    assert (after.seats, after.title, after.ends_at) == (
        8,
        "Weekly sync",
        NOW + timedelta(hours=2, minutes=30),
    )
    assert after.room == r.room


def test_waiting_for_the_moderator_is_ticked_on_the_form_and_kept(web: Web) -> None:
    web.sign_in()
    form = Page(web.client.get("/panel/reservations/new").text)
    for name in ("wait_for_moderator", "end_with_moderator"):
        assert form.attrs(name)["type"] == "checkbox" and "checked" not in form.attrs(name)
    assert web.add(wait_for_moderator="on").status_code == 303
    (r,) = web.reservations()
    assert (r.wait_for_moderator, r.end_with_moderator) == (True, False)
    path = f"/panel/reservations/{r.id}/edit"
    form = Page(web.client.get(path).text)
    assert "checked" in form.attrs("wait_for_moderator") and "checked" not in form.attrs("end_with_moderator")
    # a browser sends nothing for a box left unticked: the edit turns it off
    ok = web.post(path, starts_at="2026-03-02T11:00", minutes="60", seats="5", end_with_moderator="on")
    assert ok.status_code == 303
    (after,) = web.reservations()
    assert (after.wait_for_moderator, after.end_with_moderator) == (False, True)
    # refused, the form comes back with the boxes as they were sent
    bad = web.post(path, starts_at="2026-03-02T11:00", minutes="60", seats="0", wait_for_moderator="on")
    assert bad.status_code == 422 and "checked" in Page(bad.text).attrs("wait_for_moderator")
    assert web.reservations() == [after]


def test_deleting_asks_first_then_frees_the_reservation(web: Web) -> None:
    web.sign_in()
    web.add()
    (r,) = web.reservations()
    confirm = web.client.get(f"/panel/reservations/{r.id}/delete")
    assert confirm.status_code == 200 and "Delete it" in confirm.text and web.reservations() == [r]
    done = web.post(f"/panel/reservations/{r.id}/delete")
    assert done.status_code == 303 and done.headers["location"] == "/panel?done=deleted"
    assert web.reservations() == []
    assert "The reservation is deleted" in web.client.get(done.headers["location"]).text


def test_a_past_conference_is_copied_to_a_new_start(web: Web) -> None:
    web.sign_in()
    web.add(minutes="45", seats="7", title="Retro")
    (r,) = web.reservations()
    web.h.clock.advance(timedelta(hours=2, minutes=10))  # ended 25 minutes ago: still listed
    form = Page(web.client.get(f"/panel/reservations/{r.id}/copy").text)
    assert form.attrs("starts_at")["value"] == "2026-03-03T11:00"  # the same time, the next day
    past = web.post(f"/panel/reservations/{r.id}/copy", starts_at="2026-03-02T11:00")
    assert past.status_code == 422 and "Must be at least 10 minutes" in Page(past.text).text(
        "starts_at-error"
    )
    done = web.post(f"/panel/reservations/{r.id}/copy", starts_at="2026-03-04T09:30")
    assert done.status_code == 303
    copy = next(c for c in web.reservations() if c.id != r.id)
    assert copy.starts_at == NOW + timedelta(days=2, minutes=-30) and copy.ends_at is not None
    assert (copy.ends_at - copy.starts_at, copy.seats, copy.title) == (timedelta(minutes=45), 7, "Retro")
    assert copy.room.conference_number != r.room.conference_number


def test_a_post_without_the_csrf_token_is_refused(web: Web) -> None:
    web.sign_in()
    form = {"kind": "panel", "starts_at": "2026-03-02T11:00", "minutes": "60", "seats": "5"}
    missing = web.client.post("/panel/reservations/new", data=form, follow_redirects=False)
    wrong = web.client.post("/panel/reservations/new", data={**form, "csrf": "x"}, follow_redirects=False)
    assert missing.status_code == 403 and wrong.status_code == 403 and web.reservations() == []


def test_another_profiles_reservation_is_not_found(web: Web) -> None:
    theirs = web.api.book("other")
    web.sign_in("acme")
    rid = theirs["id"]
    for path in ("edit", "copy", "delete", "invitees", "invitation"):
        page = web.client.get(f"/panel/reservations/{rid}/{path}")
        assert page.status_code == 404 and theirs["pin"] not in page.text
    assert web.post(f"/panel/reservations/{rid}/delete").status_code == 404
    assert web.post(f"/panel/reservations/{rid}/edit", seats="9").status_code == 404
    assert web.post(f"/panel/reservations/{rid}/invitees", invitees="x@example.com").status_code == 404
    assert len(web.reservations("other")) == 1 and web.reservations("other")[0].seats == 5
    assert theirs["conference_number"] not in web.client.get("/panel").text


def test_a_moderator_is_sent_to_the_live_page_and_the_operator_to_the_dashboard(web: Web) -> None:
    r = web.api.book("acme")
    data = {"conference": r["conference_number"], "admin_pin": r["admin_pin"]}
    post_sign_in(web.client, "/panel/login/moderator", data)
    away = web.client.get("/panel", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == f"/panel/reservations/{r['id']}/live"
    assert r["pin"] not in away.text
    post_sign_in(web.client, "/panel/login/operator", {"token": OPERATOR_TOKEN})
    assert web.client.get("/panel", follow_redirects=False).headers["location"] == "/dashboard"


def test_invitees_are_saved_with_their_language_and_their_notices_listed(web: Web) -> None:
    web.sign_in()
    web.add(starts_at="2026-03-03T11:00")
    (r,) = web.reservations()
    path = f"/panel/reservations/{r.id}/invitees"
    bad = web.post(path, invitees="eva@example.com\r\nnot-an-address@\r\n")
    assert bad.status_code == 422
    page = Page(bad.text)
    assert page.text("invitees-error").startswith("Line 2: Not an e-mail address")
    assert "invitees-error" in page.attrs("invitees")["aria-describedby"]
    assert "not-an-address@" in page.text("invitees")  # refilled as typed
    assert web.h.messaging.invitees(r.room.profile_id, r.id or 0) == []
    done = web.post(path, invitees="Eva@Example.com\r\n\r\n+420 602 111 222 CS\r\n")
    assert done.status_code == 303 and done.headers["location"] == f"{path}?done=saved"
    page = Page(web.client.get(done.headers["location"]).text)
    assert page.text("invitees") == "Eva@example.com en +420602111222 cs"
    notices = web.client.get(path).text
    assert "Reminder, 1 hour before" in notices and "SMS, paid" in notices and "2026-03-03 10:00" in notices


def test_the_invitation_is_read_edited_and_sent(web: Web) -> None:
    web.sign_in()
    web.add(starts_at="2026-03-03T11:00", title="Planning")
    (r,) = web.reservations()
    path = f"/panel/reservations/{r.id}/invitation"
    page = Page(web.client.get(path).text)
    assert r.room.conference_number in page.text("preview-body") and "{" in page.attrs("subject")["value"]
    unsent = web.post(f"{path}/send")
    assert unsent.status_code == 422 and "No e-mail invitees" in Page(unsent.text).text("send-error")
    unknown = web.post(path, language="en", subject="Join {title}", body="Call {access}, then {secret}.")
    assert unknown.status_code == 422
    assert Page(unknown.text).text("body-error") == "Unknown placeholders {secret}."
    assert Page(unknown.text).text("body") == "Call {access}, then {secret}."  # refilled
    saved = web.post(
        path, language="en", subject="Join {title}", body="Dial {access}\r\nconference {conference}"
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"{path}?done=saved"
    page = Page(web.client.get(path).text)
    assert page.text("preview-subject") == "Join Planning"
    assert f"conference {r.room.conference_number}" in page.text("preview-body")
    czech = Page(web.client.get(path).text)
    web.post(path, language="cs", subject=czech.attrs("subject")["value"], body=czech.text("body"))
    assert web.h.messaging.invitation(r.room.profile_id, r.id or 0).invitation.language == "cs"
    web.post(path, language="en", subject="Join {title}", body="Conference {conference}, PIN {pin}.")
    web.post(f"/panel/reservations/{r.id}/invitees", invitees="eva@example.com\r\n+420602111222")
    sent = web.post(f"{path}/send")
    assert sent.status_code == 303 and sent.headers["location"] == f"{path}?done=sent&n=1"
    assert "on its way to 1 e-mail invitee." in web.client.get(sent.headers["location"]).text
    web.h.dispatch()
    mails = [s for s in web.h.gateway.to("eva@example.com") if s.subject == "Join Planning"]
    assert len(mails) == 1 and mails[0].text == f"Conference {r.room.conference_number}, PIN {r.room.pin}."


def test_statements_are_shown_and_downloaded(web: Web) -> None:
    web.sign_in()
    page = web.client.get("/panel/statements?month=2026-03")
    assert (
        page.status_code == 200 and "No conference sessions in 2026-03" in page.text and "Total" in page.text
    )
    csv = web.client.get("/panel/statements/2026-03.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    bad = web.client.get("/panel/statements?month=2026-13")
    assert bad.status_code == 422 and "YYYY-MM" in Page(bad.text).text("month-error")


def test_without_messaging_the_invitee_pages_are_absent(tmp_path: Path) -> None:
    for web in _web(tmp_path, with_messaging=False):
        web.sign_in()
        web.add()
        (r,) = web.reservations()
        listed = web.client.get("/panel").text
        assert f"/panel/reservations/{r.id}/invitees" not in listed and "/invitation" not in listed
        assert web.client.get(f"/panel/reservations/{r.id}/invitees").status_code == 404


def test_no_page_answers_without_a_sign_in(web: Web) -> None:
    r = web.api.book("acme")
    for path in ("/panel/reservations/new", f"/panel/reservations/{r['id']}/edit", "/panel/statements"):
        away = web.client.get(path, follow_redirects=False)
        assert away.status_code == 303 and away.headers["location"] == f"/panel/login?next={path}"
    posted = web.client.post(f"/panel/reservations/{r['id']}/delete", follow_redirects=False)
    assert posted.status_code == 303 and posted.headers["location"].startswith("/panel/login")
    assert web.reservations()[0].id == r["id"]


def test_bearer_tokens_do_not_open_the_panel(web: Web) -> None:
    web.api.profile("acme")
    page = web.client.get("/panel", headers=bearer(web.api.tokens["acme"]), follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/panel/login")
