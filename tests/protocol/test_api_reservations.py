"""Reservations through the API: create, list, show, edit, delete, copy (R20-R24, R27, R32, R48)."""

from __future__ import annotations

from datetime import timedelta

from tests.support.api import NOW, Api, at, parse

ACCESS_FIELDS = {"conference_number", "pin", "admin_pin"}


def test_create_answers_the_access_data(api: Api) -> None:
    r = api.client.post(
        "/api/reservations",
        json={"kind": "panel", "starts_at": at(60), "ends_at": at(120), "seats": 10, "title": "Board"},
        headers=api.profile("acme"),
    )
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "active" and body["kind"] == "panel"
    assert parse(body["starts_at"]) == NOW + timedelta(minutes=60)
    assert parse(body["ends_at"]) == NOW + timedelta(minutes=120)
    assert body["seats"] == 10 and body["title"] == "Board" and body["message"] is None
    assert len(body["conference_number"]) == 6
    assert body["pin"].isdigit() and body["admin_pin"].isdigit() and body["pin"] != body["admin_pin"]
    assert "access_numbers" not in body  # booking does not know the telephony side


def test_minutes_give_the_end(api: Api) -> None:
    body = api.book("acme", starts_at=at(30), minutes=90)
    assert parse(body["ends_at"]) - parse(body["starts_at"]) == timedelta(minutes=90)


def test_a_start_in_another_zone_is_the_same_instant(api: Api) -> None:
    body = api.book("acme", starts_at="2026-03-02T11:00:00+01:00")
    assert parse(body["starts_at"]) == NOW + timedelta(hours=1)


def test_anytime_room_has_no_date(api: Api) -> None:
    body = api.book("acme", kind="anytime", starts_at=None, minutes=None, seats=8)
    assert body["kind"] == "anytime" and body["starts_at"] is None and body["ends_at"] is None


def test_max_participants_is_kept(api: Api) -> None:
    assert api.book("acme", seats=10, max_participants=6)["max_participants"] == 6


def test_list_and_show(api: Api) -> None:
    first = api.book("acme", starts_at=at(60))
    second = api.book("acme", starts_at=at(30))
    listed = api.client.get("/api/reservations", headers=api.profile("acme")).json()
    assert [x["id"] for x in listed] == [second["id"], first["id"]]  # earliest first
    shown = api.client.get(f"/api/reservations/{first['id']}", headers=api.profile("acme"))
    assert shown.status_code == 200
    assert shown.json() == first


def test_show_missing_is_404(api: Api) -> None:
    r = api.client.get("/api/reservations/4242", headers=api.profile("acme"))
    assert r.status_code == 404
    assert r.json() == {"detail": "no reservation 4242"}


def test_edit_keeps_number_and_pins(api: Api) -> None:
    booked = api.book("acme", seats=5, title="old")
    r = api.client.patch(
        f"/api/reservations/{booked['id']}", json={"title": "new", "seats": 12}, headers=api.profile("acme")
    )
    assert r.status_code == 200
    edited = r.json()
    assert edited["title"] == "new" and edited["seats"] == 12
    assert {k: edited[k] for k in ACCESS_FIELDS} == {k: booked[k] for k in ACCESS_FIELDS}
    assert api.client.get(f"/api/reservations/{booked['id']}", headers=api.profile("acme")).json() == edited


def test_waiting_for_the_moderator_is_off_unless_asked_and_kept_by_edits_and_copies(api: Api) -> None:
    plain = api.book("acme")
    assert (plain["wait_for_moderator"], plain["end_with_moderator"]) == (False, False)
    booked = api.book("acme", wait_for_moderator=True)
    assert (booked["wait_for_moderator"], booked["end_with_moderator"]) == (True, False)
    path, who = f"/api/reservations/{booked['id']}", api.profile("acme")
    edited = api.client.patch(path, json={"end_with_moderator": True}, headers=who).json()
    assert (edited["wait_for_moderator"], edited["end_with_moderator"]) == (True, True)
    titled = api.client.patch(path, json={"title": "kept"}, headers=who).json()  # other edits keep them
    assert (titled["wait_for_moderator"], titled["end_with_moderator"]) == (True, True)
    assert api.client.get(path, headers=who).json() == titled
    copy = api.client.post(f"{path}/copy", json={"starts_at": at(24 * 60)}, headers=who).json()
    assert (copy["wait_for_moderator"], copy["end_with_moderator"]) == (True, True)
    off = api.client.patch(path, json={"wait_for_moderator": False}, headers=who).json()
    assert (off["wait_for_moderator"], off["end_with_moderator"]) == (False, True)


def test_edit_minutes_count_from_the_kept_start(api: Api) -> None:
    booked = api.book("acme", starts_at=at(60), minutes=60)
    r = api.client.patch(
        f"/api/reservations/{booked['id']}", json={"minutes": 90}, headers=api.profile("acme")
    )
    assert r.status_code == 200
    assert parse(r.json()["ends_at"]) == NOW + timedelta(minutes=150)


def test_edit_times(api: Api) -> None:
    booked = api.book("acme", starts_at=at(60), minutes=60)
    r = api.client.patch(
        f"/api/reservations/{booked['id']}",
        json={"starts_at": at(120), "ends_at": at(240)},
        headers=api.profile("acme"),
    )
    assert r.status_code == 200
    assert parse(r.json()["starts_at"]) == NOW + timedelta(minutes=120)
    assert parse(r.json()["ends_at"]) == NOW + timedelta(minutes=240)


def test_edit_over_the_limits_waits_for_an_operator(api: Api) -> None:
    booked = api.book("acme", kind="on_demand", starts_at=at(30), minutes=60, seats=5)
    r = api.client.patch(
        f"/api/reservations/{booked['id']}", json={"minutes": 150}, headers=api.profile("acme")
    )
    assert r.status_code == 202
    assert r.json()["status"] == "pending"
    assert "operator" in r.json()["message"]


def test_delete_frees_the_slot(api: Api) -> None:
    ids = [api.book("acme", starts_at=at(60 * (i + 1)))["id"] for i in range(3)]
    api.book("acme", expect=422, starts_at=at(400))
    r = api.client.delete(f"/api/reservations/{ids[0]}", headers=api.profile("acme"))
    assert r.status_code == 204 and r.content == b""
    assert api.client.get(f"/api/reservations/{ids[0]}", headers=api.profile("acme")).status_code == 404
    assert api.client.delete(f"/api/reservations/{ids[0]}", headers=api.profile("acme")).status_code == 404
    listed = api.client.get("/api/reservations", headers=api.profile("acme")).json()
    assert [x["id"] for x in listed] == ids[1:]
    api.book("acme", starts_at=at(400))  # the slot is free again


def test_copy_makes_a_new_room_with_the_same_shape(api: Api) -> None:
    original = api.book("acme", starts_at=at(60), minutes=45, seats=7, title="weekly", max_participants=5)
    r = api.client.post(
        f"/api/reservations/{original['id']}/copy",
        json={"starts_at": at(24 * 60)},
        headers=api.profile("acme"),
    )
    assert r.status_code == 201
    copy = r.json()
    assert copy["id"] != original["id"]
    assert copy["conference_number"] != original["conference_number"]
    assert parse(copy["starts_at"]) == NOW + timedelta(days=1)
    assert parse(copy["ends_at"]) - parse(copy["starts_at"]) == timedelta(minutes=45)
    for key in ("kind", "seats", "title", "max_participants", "status"):
        assert copy[key] == original[key]


def test_copy_of_a_past_conference(api: Api) -> None:
    original = api.book("acme", starts_at=at(15), minutes=30)
    api.clock.advance(timedelta(days=2))  # long over and gone from the list
    assert api.client.get("/api/reservations", headers=api.profile("acme")).json() == []
    r = api.client.post(
        f"/api/reservations/{original['id']}/copy",
        json={"starts_at": at(3 * 24 * 60)},
        headers=api.profile("acme"),
    )
    assert r.status_code == 201


def test_copy_of_an_anytime_room_needs_no_start(api: Api) -> None:
    original = api.book("acme", kind="anytime", starts_at=None, minutes=None)
    r = api.client.post(f"/api/reservations/{original['id']}/copy", json={}, headers=api.profile("acme"))
    assert r.status_code == 201
    assert r.json()["kind"] == "anytime"


def test_copy_of_a_dated_conference_needs_a_start(api: Api) -> None:
    original = api.book("acme")
    r = api.client.post(f"/api/reservations/{original['id']}/copy", json={}, headers=api.profile("acme"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "starts_at"]
    assert r.json()["detail"][0]["type"] == "date_missing"


def test_ended_reservation_stays_listed_for_an_hour(api: Api) -> None:
    booked = api.book("acme", starts_at=at(15), minutes=30)
    end = parse(booked["ends_at"])

    def listed() -> list[int]:
        return [x["id"] for x in api.client.get("/api/reservations", headers=api.profile("acme")).json()]

    def rooms() -> list[int]:
        return [x["reservation_id"] for x in api.client.get("/api/rooms", headers=api.profile("acme")).json()]

    api.clock.advance(end - NOW)  # just ended
    assert listed() == [booked["id"]] and rooms() == [booked["id"]]
    api.clock.advance(timedelta(minutes=59, seconds=59))
    assert listed() == [booked["id"]]
    api.clock.advance(timedelta(seconds=1))  # one hour after the end
    assert listed() == [] and rooms() == []


def test_an_ended_reservation_frees_its_slot(api: Api) -> None:
    for i in range(3):
        api.book("acme", starts_at=at(15 + i), minutes=30)
    api.book("acme", expect=422, starts_at=at(60))
    api.clock.advance(timedelta(minutes=60))  # all three have ended; still listed for an hour
    assert len(api.client.get("/api/reservations", headers=api.profile("acme")).json()) == 3
    api.book("acme", starts_at=at(120))


def test_rooms_list_live_rooms_with_their_codes(api: Api) -> None:
    booked = api.book("acme", seats=9)
    api.book("acme", kind="on_demand", minutes=150, expect=202)  # pending: no usable room yet
    [room] = api.client.get("/api/rooms", headers=api.profile("acme")).json()
    assert room["reservation_id"] == booked["id"]
    assert {k: room[k] for k in ACCESS_FIELDS} == {k: booked[k] for k in ACCESS_FIELDS}
    assert room["seats"] == 9
