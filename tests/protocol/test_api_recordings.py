"""A reservation's recordings through the API (issue 19): the ``record`` option, the list with
sizes, the download, for the organizer only."""

from __future__ import annotations

from pathlib import Path

from tests.support.api import Api

WAV = b"RIFF" + bytes(2000)


def _recorded(api: Api, tmp_path: Path, reservation_id: int, session: str, finished: bool = True) -> int:
    """A recording as the controller stores it: started, and finished when its session ends."""
    path = tmp_path / f"{reservation_id}-{session}.wav"
    path.write_bytes(WAV)
    made = api.services.recordings.started(reservation_id, session, str(path))
    if finished:
        api.services.recordings.finished(made.id, len(WAV))
    return made.id


def test_record_is_off_by_default_and_set_on_booking_and_edit(api: Api) -> None:
    assert api.book("acme")["record"] is False
    recorded = api.book("acme", record=True)
    assert recorded["record"] is True
    r = api.client.patch(
        f"/api/reservations/{recorded['id']}", json={"record": False}, headers=api.profile("acme")
    )
    assert r.status_code == 200 and r.json()["record"] is False
    assert api.service.get(api.service.profile_named("acme").id, recorded["id"]).record is False


def test_the_organizer_lists_and_downloads_the_recordings(api: Api, tmp_path: Path) -> None:
    booked = api.book("acme", record=True)
    done = _recorded(api, tmp_path, booked["id"], "s1")
    running = _recorded(api, tmp_path, booked["id"], "s2", finished=False)
    r = api.client.get(f"/api/reservations/{booked['id']}/recordings", headers=api.profile("acme"))
    assert r.status_code == 200
    listed = r.json()
    assert [x["id"] for x in listed] == [done, running]
    assert listed[0]["size_bytes"] == len(WAV) and listed[0]["session_ended_at"] is not None
    assert listed[1]["download"] is None and listed[1]["session_ended_at"] is None
    got = api.client.get(listed[0]["download"], headers=api.profile("acme"))
    assert got.status_code == 200 and got.content == WAV
    assert got.headers["content-type"] == "audio/wav"
    assert "attachment" in got.headers["content-disposition"]
    # still being recorded: not yet downloadable
    url = f"/api/reservations/{booked['id']}/recordings/{running}"
    assert api.client.get(url, headers=api.profile("acme")).status_code == 404


def test_other_accounts_get_404(api: Api, tmp_path: Path) -> None:
    booked = api.book("acme", record=True)
    rid = _recorded(api, tmp_path, booked["id"], "s1")
    other = api.profile("intruder")
    assert api.client.get(f"/api/reservations/{booked['id']}/recordings", headers=other).status_code == 404
    r = api.client.get(f"/api/reservations/{booked['id']}/recordings/{rid}", headers=other)
    assert r.status_code == 404 and WAV not in r.content
    # nor through a reservation of their own
    theirs = api.book("intruder")
    r = api.client.get(f"/api/reservations/{theirs['id']}/recordings/{rid}", headers=other)
    assert r.status_code == 404
    assert api.client.get(f"/api/reservations/{booked['id']}/recordings").status_code == 401


def test_a_deleted_reservation_or_file_is_gone(api: Api, tmp_path: Path) -> None:
    booked = api.book("acme", record=True)
    rid = _recorded(api, tmp_path, booked["id"], "s1")
    (tmp_path / f"{booked['id']}-s1.wav").unlink()
    url = f"/api/reservations/{booked['id']}/recordings/{rid}"
    r = api.client.get(url, headers=api.profile("acme"))
    assert r.status_code == 404 and "no longer kept" in r.json()["detail"]
    assert (
        api.client.delete(f"/api/reservations/{booked['id']}", headers=api.profile("acme")).status_code == 204
    )
    listed = api.client.get(f"/api/reservations/{booked['id']}/recordings", headers=api.profile("acme"))
    assert listed.status_code == 404
