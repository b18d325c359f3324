"""The panel's mail settings: where statements and reports go, and the report switch (R51, R53)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.protocol.test_web_panel import Page, Web, _web


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    yield from _web(tmp_path)


def test_the_organizer_sets_the_address_and_the_reports(web: Web) -> None:
    web.sign_in()
    assert 'href="/panel/mail"' in web.client.get("/panel/statements").text
    page = Page(web.client.get("/panel/mail").text)
    assert page.attrs("address")["value"] == "" and "checked" not in page.attrs("reports")
    bad = web.post("/panel/mail", address="not an address", reports="on")
    assert bad.status_code == 422
    page = Page(bad.text)
    assert page.text("address-error").startswith("Not an e-mail address")
    assert page.attrs("address")["value"] == "not an address" and "checked" in page.attrs(
        "reports"
    )  # refilled
    profile = web.api.service.profile_for_token(web.api.tokens["acme"])
    assert profile is not None
    billing = web.api.services.billing
    assert billing.mail_settings(profile.id)[0] is None  # nothing stored
    done = web.post("/panel/mail", address="boss@acme.example", reports="on")
    assert done.status_code == 303 and done.headers["location"] == "/panel/mail?done=saved"
    shown = web.client.get(done.headers["location"]).text
    assert "Saved." in shown and "<strong>boss@acme.example</strong>" in shown
    own, mail = billing.mail_settings(profile.id)
    assert own == "boss@acme.example" and mail.reports
    off = web.post("/panel/mail", address="boss@acme.example")  # an unticked box is not sent
    assert off.status_code == 303 and not billing.mail_settings(profile.id)[1].reports


def test_the_mail_form_needs_its_csrf_token(web: Web) -> None:
    web.sign_in()
    refused = web.client.post("/panel/mail", data={"address": "x@example.com"}, follow_redirects=False)
    assert refused.status_code == 403
