"""The personal join page over HTTP (issue 20): a link from a sent invitation opens a page in the
invitee's language with a fresh call token; the name is kept with it; a used, expired, forged or
unknown token or link, a cancelled, ended or not yet open conference each get their own 4xx and
words (never a 500); the people and the time left are polled; answers are never cached; page
opens are rate-limited per client address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from booking.domain.model import Reservation, Role
from booking.settings import ApiLimits, Budget
from booking.web.join import join_router
from booking.web.ports import Participant
from conference_ivr.dialconf.services import timezone
from tests.support.composed_api import Composed, composed_api

INVITEE = "jana@example.com"


class People:
    def __init__(self) -> None:
        self.now: list[Participant] = []

    def running(self, conference: str) -> bool:
        return bool(self.now)

    def participants(self, conference: str) -> list[Participant]:
        return self.now


@pytest.fixture
def people() -> People:
    return People()


def _with_join(c: Composed, people: People) -> Composed:
    """The page as ``controller_routers`` adds it, with ``people`` for the live model."""
    s = c.services
    app = c.client.app
    assert isinstance(app, FastAPI)
    app.include_router(
        join_router(s.join_links, c.clock, timezone(s.settings), "ws://127.0.0.1:1/ws", people)
    )
    return c


@pytest.fixture
def web(tmp_path: Path, people: People) -> Iterator[Composed]:
    with composed_api(tmp_path) as c:
        yield _with_join(c, people)


def invited(web: Composed, start: datetime | None, minutes: int | None = 60) -> tuple[Reservation, str]:
    """A reservation whose invitation was sent to one invitee (Czech): the link it carried."""
    r = web.booking.book(start, minutes, 5, profile="org")
    assert r.id is not None
    m = web.services.messaging
    m.set_invitees(r.room.profile_id, r.id, [(INVITEE, "cs")])
    assert m.send_invitation(r.room.profile_id, r.id) == 1
    with web.services.uow(read_only=True) as tx:
        sent = [x for x in tx.messages.messages_for(r.id) if x.recipient == INVITEE and x.body]
    found = re.search(r"/join/([A-Za-z0-9_.-]+)", sent[-1].body or "")
    assert found is not None, sent[-1].body
    assert "{join_link}" not in (sent[-1].body or "")
    return r, found.group(1)


def token_of(page: str) -> str:
    found = re.search(r'data-token="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_invitations_link_opens_the_page_and_names_its_token(web: Composed, people: People) -> None:
    r, link = invited(web, web.clock.now() + timedelta(minutes=2))
    page = web.client.get(f"/join/{link}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    assert 'lang="cs"' in page.text and "Připojit" in page.text and "PIN" in page.text
    assert "/static/dialconf-phone.js" in page.text and "/static/join.js" in page.text
    assert web.client.get("/static/join.js").status_code == 200
    token = token_of(page.text)
    assert token != token_of(web.client.get(f"/join/{link}").text)  # each opening its own token
    named = web.client.post(f"/join/{link}/name", json={"token": token, "name": " Jana  Nováková "})
    assert named.status_code == 200 and named.json() == {"name": "Jana Nováková"}
    live = web.client.get(f"/join/{link}/live").json()
    assert live == {"remaining_s": 62 * 60, "people": []}
    joined = web.clock.now()
    people.now = [
        Participant("1", "+420602000111", True, joined, False, True, True),
        Participant("2", "", False, joined, True, False, False, web=True, name="Jana Nováková"),
    ]
    shown = web.client.get(f"/join/{link}/live").json()["people"]
    assert shown == [
        {"name": "účastník po telefonu", "moderator": True, "web": False, "muted": False, "talking": True},
        {"name": "Jana Nováková", "moderator": False, "web": True, "muted": True, "talking": False},
    ]
    assert "+420602000111" not in web.client.get(f"/join/{link}/live").text  # never a number
    web.services.join_links.redeem(token, "call-1")  # the controller let the call in
    used = web.client.post(f"/join/{link}/name", json={"token": token, "name": "Jana"})
    assert used.status_code == 409 and used.json()["reason"] == "used"
    assert "znovu načtěte" in used.json()["message"]
    assert r.id is not None


def test_every_refusal_has_its_status_and_words(web: Composed) -> None:
    _, link = invited(web, web.clock.now() + timedelta(minutes=2), 30)
    token = token_of(web.client.get(f"/join/{link}").text)
    for bad in (
        "nothing",
        link[:-1] + ("B" if link[-1] != "B" else "C"),
        "a" * 22 + "." + "b" * 22,
        "x" * 300,
    ):
        answer = web.client.get(f"/join/{bad}")
        assert answer.status_code == 404 and 'data-reason="unknown"' in answer.text
    flipped = token[:-1] + ("B" if token[-1] != "B" else "C")
    forged = web.client.post(f"/join/{link}/name", json={"token": flipped, "name": "x"})
    assert forged.status_code == 404 and forged.json()["reason"] == "unknown"
    too_long = web.client.post(f"/join/{link}/name", json={"token": "t" * 500, "name": "x"})
    assert too_long.status_code == 422
    web.clock.advance(timedelta(minutes=11))  # past the token's ten minutes
    expired = web.client.post(f"/join/{link}/name", json={"token": token, "name": "Jana"})
    assert expired.status_code == 410 and expired.json()["reason"] == "expired"
    web.clock.advance(timedelta(minutes=30))
    over = web.client.get(f"/join/{link}")
    assert over.status_code == 410 and 'data-reason="over"' in over.text and "skončila" in over.text
    early_r, early = invited(web, web.clock.now() + timedelta(hours=3))
    too_early = web.client.get(f"/join/{early}")
    assert too_early.status_code == 425 and 'data-reason="too_early"' in too_early.text
    assert re.search(r"začíná v \d\d:\d\d", too_early.text)
    assert early_r.id is not None
    web.booking.delete(early_r.room.profile_id, early_r.id)
    cancelled = web.client.get(f"/join/{early}")
    assert cancelled.status_code == 410 and 'data-reason="not_active"' in cancelled.text
    assert web.client.get(f"/join/{early}/live").json()["reason"] == "not_active"


def test_the_organizers_link_is_a_moderators(web: Composed) -> None:
    r = web.booking.book(None, None, 5, profile="org")
    assert r.id is not None
    link = web.services.join_links.organizer_link(r.room.profile_id, r.id)
    page = web.client.get(f"/join/{link}")
    assert page.status_code == 200 and 'data-moderator="yes"' in page.text
    got = web.services.join_links.redeem(token_of(page.text), "call-9")
    assert got.role is Role.MODERATOR


def test_page_opens_are_rate_limited_per_address(tmp_path: Path, people: People) -> None:
    limits = ApiLimits(join=Budget(per_second=0.01, burst=3))
    with composed_api(tmp_path, limits=limits) as c:
        web = _with_join(c, people)
        answers = [web.client.get("/join/forged.link").status_code for _ in range(5)]
        assert answers[:3] == [404, 404, 404] and answers[3:] == [429, 429]
        assert isinstance(web.client, TestClient)
