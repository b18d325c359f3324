"""Recordings on the organizer panel (issue 19): the form's ``record`` box, the recordings page
with sizes and downloads, for the reservation's organizer only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.protocol.test_web_panel import Page, Web, _web
from tests.support.api import at

WAV = b"RIFF" + bytes(1_500_000)


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Web]:
    yield from _web(tmp_path)


def test_the_form_books_and_edits_the_record_option(web: Web) -> None:
    web.sign_in()
    form = Page(web.client.get("/panel/reservations/new").text)
    assert form.attrs("record")["type"] == "checkbox" and "checked" not in form.attrs("record")
    assert web.add(title="Plain").status_code == 303
    assert web.add(title="Taped", record="yes").status_code == 303
    by_title = {r.title: r for r in web.reservations()}
    assert by_title["Plain"].record is False and by_title["Taped"].record is True
    taped = by_title["Taped"]
    page = Page(web.client.get(f"/panel/reservations/{taped.id}/edit").text)
    assert "checked" in page.attrs("record")
    # an unticked box sends nothing: the option goes off
    edited = web.post(
        f"/panel/reservations/{taped.id}/edit",
        starts_at="2026-03-02T11:00",
        minutes="60",
        seats="5",
        title="Taped",
    )
    assert edited.status_code == 303
    assert {r.title: r for r in web.reservations()}["Taped"].record is False


def test_the_organizer_sees_the_sizes_and_downloads(web: Web, tmp_path: Path) -> None:
    booked = web.api.book("acme", starts_at=at(60), record=True, title="Board")
    path = tmp_path / "rec.wav"
    path.write_bytes(WAV)
    recordings = web.api.services.recordings
    made = recordings.started(booked["id"], "session-1", str(path))
    recordings.finished(made.id, len(WAV))
    running = recordings.started(booked["id"], "session-2", str(tmp_path / "later.wav"))
    web.sign_in()
    assert f'href="/panel/reservations/{booked["id"]}/recordings"' in web.client.get("/panel").text
    page = Page(web.client.get(f"/panel/reservations/{booked['id']}/recordings").text)
    row = page.text(f"recording-{made.id}")
    assert "1.5 MB" in row and "Download" in row
    assert "Being recorded" in page.text(f"recording-{running.id}")
    got = web.client.get(f"/panel/reservations/{booked['id']}/recordings/{made.id}")
    assert got.status_code == 200 and got.content == WAV and got.headers["content-type"] == "audio/wav"
    assert web.client.get(f"/panel/reservations/{booked['id']}/recordings/{running.id}").status_code == 404


def test_another_organizer_gets_no_such_reservation(web: Web, tmp_path: Path) -> None:
    booked = web.api.book("acme", starts_at=at(60), record=True)
    path = tmp_path / "rec.wav"
    path.write_bytes(WAV)
    made = web.api.services.recordings.started(booked["id"], "s", str(path))
    web.api.services.recordings.finished(made.id, len(WAV))
    web.sign_in("intruder")
    listed = web.client.get(f"/panel/reservations/{booked['id']}/recordings")
    assert listed.status_code == 404 and "No such reservation" in listed.text
    got = web.client.get(f"/panel/reservations/{booked['id']}/recordings/{made.id}")
    assert got.status_code == 404 and WAV[:100] not in got.content
