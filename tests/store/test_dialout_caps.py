"""Dial-out caps in the store (toll fraud), on SQLite and PostgreSQL: counted in the
transaction that adds the calls, so concurrent requests never pass a cap together; and
migration 0009 gives the calls made before it their profile."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from structlog.testing import capture_logs

from booking.domain.dialout import Requester
from booking.domain.dialout_policy import CallCaps, NumberPolicy
from booking.domain.errors import RuleViolation, TooMany
from booking.domain.messages import Channel, InviteeDraft
from booking.domain.model import Reservation, ReservationKind
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.services.dialout import DialOutRules, DialOutService, Presence
from booking.services.ports import Transaction
from booking.store.engine import make_engine
from booking.store.migrate import upgrade
from booking.store.unit_of_work import SqlUnitOfWork
from tests.store.conftest import T0, Store

RUNNING = Presence(True)


def dial_out_room(svc: BookingService, profile: str = "acme") -> Reservation:
    req = BookingRequest(
        ReservationKind.PANEL, T0 - timedelta(minutes=5), T0 + timedelta(hours=2), 5, dial_out=True
    )
    return svc.request(svc.profile_named(profile).id, req, operator=True)


def calls(store: Store, caps: CallCaps) -> DialOutService:
    return DialOutService(SqlUnitOfWork(store.engine), store.clock, DialOutRules(NumberPolicy(), caps))


def test_concurrent_requests_never_pass_the_profile_cap_together(
    store: Store, service: BookingService
) -> None:
    rooms = [dial_out_room(service) for _ in range(2)]
    svc = calls(store, CallCaps(profile_per_hour=5))
    placed: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(12)

    def ask(i: int) -> None:
        start.wait()
        r = rooms[i % 2]
        try:
            got = svc.place(r.id or 0, f"+420601{i:06d}", Requester.WEB, RUNNING)
        except TooMany as e:
            with lock:
                refused.append(e.code)
            return
        with lock:
            placed.extend(c.id or 0 for c in got)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(placed) == 5 and refused == ["rate"] * 7
    assert sum(len(svc.calls(r.id or 0)) for r in rooms) == 5


def test_a_number_being_called_is_not_queued_twice_and_refusals_store_nothing(
    store: Store, service: BookingService
) -> None:
    r = dial_out_room(service)
    svc = calls(store, CallCaps())
    [first] = svc.place(r.id or 0, "601 000 111", Requester.WEB, RUNNING)
    [again] = svc.place(r.id or 0, "+420601000111", Requester.MODERATOR, RUNNING)
    assert again.id == first.id and first.number == "+420601000111"
    for number, why in (("+88213000000", "premium"), ("+447911123456", "abroad"), ("112", "not_allowed")):
        with pytest.raises(RuleViolation) as e:
            svc.place(r.id or 0, number, Requester.WEB, RUNNING)
        assert e.value.code == why
    with pytest.raises(RuleViolation) as e:
        svc.place(r.id or 0, "601000222", Requester.WEB)  # no presence given: the store has no open legs
    assert e.value.code == "not_running"
    assert [c.number for c in svc.calls(r.id or 0)] == ["+420601000111"]


def test_migration_0009_gives_earlier_calls_their_profile(empty_url: str) -> None:
    upgrade(empty_url, "0008")
    engine = make_engine(empty_url)
    try:
        # Stored as 0008 stores it, in raw SQL: today's repositories read the later migrations'
        # tables and columns, which this schema does not have yet.
        with engine.begin() as conn:
            profile_id = conn.execute(
                text("INSERT INTO profiles (name, created_at) VALUES ('acme', :t) RETURNING id"), {"t": T0}
            ).scalar_one()
            room_id = conn.execute(
                text(
                    "INSERT INTO rooms (profile_id, conference_number, pin, admin_pin, created_at)"
                    " VALUES (:p, '482915', '111222333', '444555666', :t) RETURNING id"
                ),
                {"p": profile_id, "t": T0},
            ).scalar_one()
            reservation_id = conn.execute(
                text(
                    "INSERT INTO reservations (room_id, kind, starts_at, ends_at, seats, status, dial_out,"
                    " created_at) VALUES (:room, 'panel', :s, :e, 5, 'pending', :yes, :t) RETURNING id"
                ),
                {"room": room_id, "s": T0 - timedelta(minutes=5), "e": T0 + timedelta(hours=2), "yes": True,
                 "t": T0},
            ).scalar_one()  # fmt: skip
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO dialout_calls (reservation_id, number, language, next_at, state, created_at)"
                    " VALUES (:r, '+420601000111', 'en', :t, 'failed', :t)"
                ),
                {"r": reservation_id, "t": T0},
            )
    finally:
        engine.dispose()
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        with engine.connect() as conn:
            profile = conn.execute(text("SELECT profile_id FROM dialout_calls")).scalar_one()
        assert profile == profile_id
    finally:
        engine.dispose()


def test_the_start_plans_only_what_the_caps_and_the_policy_allow(
    store: Store, service: BookingService
) -> None:
    listed = ["601000001", "601000002", "+88213000000", "601000003", "601000004", "601000005"]
    req = BookingRequest(
        ReservationKind.PANEL, T0 - timedelta(minutes=1), T0 + timedelta(hours=1), 5, dial_out=True
    )
    invitees = [InviteeDraft(Channel.SMS, n, "en") for n in listed]

    def invite(tx: Transaction, made: Reservation) -> None:
        tx.messages.replace_invitees(made.id, invitees, T0)

    r = service.request(service.profile_named("acme").id, req, operator=True, within=invite)
    svc = calls(store, CallCaps(reservation_per_day=3))
    with capture_logs() as logs:
        planned = svc.start_due()
        assert svc.start_due() == []  # once
    assert [c.number for c in planned] == ["+420601000001", "+420601000002", "+420601000003"]
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["dialout.plan_capped"]
    assert [c.requested_by for c in svc.calls(r.id or 0)] == ["schedule"] * 3
