"""Hostile input to the panel's forms and links: the form comes back (422) with the message next
to the field, an id beyond the store is "no such reservation" (404), and nothing is stored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from booking.settings import ApiLimits
from tests.support.composed_api import Composed, composed_api

BIG = 2**64
FORM = {"kind": "panel", "starts_at": "2026-03-02T11:00", "minutes": "60", "seats": "5"}


@dataclass
class Panel:
    api: Composed
    csrf: str
    reservation: int

    def post(self, path: str, **data: str) -> tuple[int, dict[str, str]]:
        """The status and the messages shown next to the fields (id "<field>-error")."""
        r = self.api.client.post(path, data={"csrf": self.csrf, **data}, follow_redirects=False)
        return r.status_code, dict(re.findall(r'id="([a-z_]+)-error"[^>]*>\s*([^<]*?)\s*<', r.text))


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Panel]:
    with composed_api(tmp_path_factory.mktemp("panel"), ApiLimits(rate_limit=False)) as api:
        csrf = api.sign_in("acme")
        made = api.client.post("/panel/reservations/new", data={"csrf": csrf, **FORM}, follow_redirects=False)
        assert made.status_code == 303, made.text
        reservation = int(made.headers["location"].rpartition("id=")[2])
        yield Panel(api, csrf, reservation)


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"seats": str(BIG)}, "seats", "At most 2147483647."),
        ({"seats": "9" * 5000}, "seats", "Write a whole number."),  # past Python's digit limit
        ({"seats": "NaN"}, "seats", "Write a whole number."),
        ({"minutes": str(10**12)}, "minutes", "At most 2147483647."),
        ({"max_participants": str(2**63)}, "max_participants", "At most 2147483647."),
        ({"starts_at": "9999-12-31T23:59"}, "starts_at", "Give a date between 1970 and 2999 (UTC)."),
        ({"starts_at": "0001-01-01T00:00"}, "starts_at", "Give a date between 1970 and 2999 (UTC)."),
        ({"starts_at": "1969-12-31T23:00"}, "starts_at", "Give a date between 1970 and 2999 (UTC)."),
        (
            {"minutes": "", "ends_at": "9999-12-31T23:59"},
            "ends_at",
            "Give a date between 1970 and 2999 (UTC).",
        ),
        ({"title": "a\x00b"}, "title", "The title contains a control character (U+0000) at position 1."),
        ({"title": "esc\x1b[31m"}, "title", "The title contains a control character (U+001B) at position 3."),
        ({"title": "x" * 201}, "title", "At most 200 characters."),
        ({"kind": "\x00"}, "kind", "Choose one of the kinds."),
    ],
)
def test_the_reservation_form_refuses_hostile_values_next_to_the_field(
    panel: Panel, change: dict[str, str], field: str, says: str
) -> None:
    before = panel.api.digest()
    edit = f"/panel/reservations/{panel.reservation}/edit"
    for path in ["/panel/reservations/new"] + ([edit] if field != "kind" else []):  # an edit keeps its kind
        status, errors = panel.post(path, **{**FORM, **change})
        assert status == 422 and errors.get(field) == says, (path, errors)
    if "starts_at" in change:
        status, errors = panel.post(
            f"/panel/reservations/{panel.reservation}/copy", starts_at=change["starts_at"]
        )
        assert status == 422 and errors.get("starts_at") == says
    assert panel.api.digest() == before


@pytest.mark.parametrize(
    ("path", "data", "field", "says"),
    [
        (
            "invitees",
            {"invitees": "eva@example.com\na\x00@example.com"},
            "invitees",
            "Line 2 contains a control character (U+0000) at position 1.",
        ),
        (
            "invitation",
            {"language": "en", "subject": "Hi\x00", "body": "Body"},
            "subject",
            "It contains a control character (U+0000) at position 2.",
        ),
        (
            "invitation",
            {"language": "en", "subject": "Hi", "body": "bell\x07"},
            "body",
            "It contains a control character (U+0007) at position 4.",
        ),
        (
            "invitation",
            {"language": "en", "subject": "s" * 301, "body": "Body"},
            "subject",
            "At most 300 characters.",
        ),
        (
            "invitation",
            {"language": "en", "subject": "Hi", "body": "b" * 20_001},
            "body",
            "At most 20000 characters.",
        ),
        (
            "invitation",
            {"language": "\x00", "subject": "Hi", "body": "Body"},
            "language",
            "Choose one of the languages.",
        ),
    ],
)
def test_the_message_forms_refuse_hostile_values(
    panel: Panel, path: str, data: dict[str, str], field: str, says: str
) -> None:
    before = panel.api.digest()
    status, errors = panel.post(f"/panel/reservations/{panel.reservation}/{path}", **data)
    assert status == 422 and errors.get(field) == says, errors
    assert panel.api.digest() == before


@pytest.mark.parametrize("action", ["edit", "copy", "delete", "invitees", "invitation"])
@pytest.mark.parametrize("rid", [BIG, 2**31, 0, -1])
def test_an_id_beyond_the_store_is_no_such_reservation(panel: Panel, action: str, rid: int) -> None:
    before = panel.api.digest()
    page = panel.api.client.get(f"/panel/reservations/{rid}/{action}")
    assert page.status_code == 404 and "No such reservation" in page.text
    posted = panel.api.client.post(
        f"/panel/reservations/{rid}/{action}", data={"csrf": panel.csrf, **FORM}, follow_redirects=False
    )
    assert posted.status_code == 404 and "No such reservation" in posted.text
    assert panel.api.digest() == before


def test_a_confirmation_link_with_an_id_beyond_the_store_shows_the_list(panel: Panel) -> None:
    page = panel.api.client.get(f"/panel?done=booked&id={BIG}")
    assert page.status_code == 200 and "Your conference is booked." in page.text


@pytest.mark.parametrize("month", ["0000-01", "9999-12", "0001-01", "2026-13", "9" * 300])
def test_statement_months_are_bounded(panel: Panel, month: str) -> None:
    page = panel.api.client.get("/panel/statements", params={"month": month})
    assert page.status_code == 422 and 'id="month-error"' in page.text
    csv = panel.api.client.get(f"/panel/statements/{month}.csv")
    assert csv.status_code == 422 and "month" in csv.text.lower()
