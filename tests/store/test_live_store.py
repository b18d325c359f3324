"""The live conferences' durable state on both backends: one end decision per booked end,
the warning marked once, live seats held once, renewed forward only, released, and counted
over a window; a leg's mobile-cap warning and the recorded name a caller number left."""

from __future__ import annotations

from datetime import timedelta

from booking.domain.live import EndDecision, EndOutcome, LiveSeat
from booking.domain.model import Role
from booking.domain.usage import EndReason, Leg
from tests.store.conftest import T0, Store

END = T0 + timedelta(minutes=30)


def test_the_first_end_decision_stands_and_the_warning_is_marked_once(store: Store) -> None:
    with store.uow() as tx:
        assert tx.live.decision(7, END) is None
        assert tx.live.decide(EndDecision(7, END, EndOutcome.WARNED, T0))
        assert not tx.live.decide(EndDecision(7, END, EndOutcome.EXTENDED, T0))
        assert tx.live.decide(EndDecision(7, END + timedelta(minutes=30), EndOutcome.EXTENDED, T0))
    with store.uow() as tx:
        assert tx.live.mark_warned(7, END, T0 + timedelta(minutes=1))
        assert not tx.live.mark_warned(7, END, T0 + timedelta(minutes=2))
    with store.uow(read_only=True) as tx:
        d = tx.live.decision(7, END)
        assert d == EndDecision(7, END, EndOutcome.WARNED, T0, T0 + timedelta(minutes=1))
    with store.uow() as tx:
        assert tx.live.forget_decisions(7) == 2
        assert tx.live.decision(7, END) is None


def test_live_seats_are_held_once_renewed_forward_and_counted_over_a_window(store: Store) -> None:
    hold = timedelta(minutes=30)
    with store.uow() as tx:
        assert tx.live.hold_seat(LiveSeat("a", 1, T0, T0 + hold))
        assert not tx.live.hold_seat(LiveSeat("a", 1, T0, T0 + 2 * hold))  # a replay
        assert tx.live.hold_seat(LiveSeat("b", 1, T0 + timedelta(minutes=5), T0 + hold))
    with store.uow() as tx:
        assert tx.live.renew_seats(["a", "b", "gone"], T0 + 2 * hold) == 2
        assert tx.live.renew_seats(["a"], T0 + hold) == 0  # never back
    with store.uow(read_only=True) as tx:
        assert [s.held_until for s in tx.live.seats()] == [T0 + 2 * hold] * 2
        assert tx.live.seats_held(T0, T0 + timedelta(minutes=1)) == 1  # b joins later
        assert tx.live.seats_held(T0, T0 + timedelta(minutes=10)) == 2
        assert tx.live.seats_held(T0 + 2 * hold, T0 + 3 * hold) == 0  # after they are held
    with store.uow() as tx:
        assert tx.live.release_seats(["a", "nobody"]) == 1
        assert tx.live.release_seats([]) == 0
    with store.uow(read_only=True) as tx:
        assert [s.uniqueid for s in tx.live.seats()] == ["b"]


def _leg(uid: str, caller: str, name: str | None, minutes: int) -> Leg:
    return Leg(
        uid, "123456", 3, caller, True, Role.PARTICIPANT, name, T0 + timedelta(minutes=minutes), language="cs"
    )


def test_a_leg_keeps_its_language_the_cap_warning_and_the_callers_last_name(store: Store) -> None:
    with store.uow() as tx:
        tx.usage.open(_leg("u1", "+420602000001", "/names/3/u1", 0))
        tx.usage.open(_leg("u2", "+420602000001", "/names/3/u2", 10))
        tx.usage.open(_leg("u3", "+420602000001", None, 20))
        tx.usage.open(_leg("u4", "+420602000002", None, 20))
    with store.uow() as tx:
        assert tx.usage.mark_cap_warned("u3", T0 + timedelta(minutes=69))
        assert not tx.usage.mark_cap_warned("u3", T0 + timedelta(minutes=70))
    with store.uow(read_only=True) as tx:
        leg = tx.usage.get("u3")
        assert leg is not None and leg.language == "cs"
        assert leg.cap_warned_at == T0 + timedelta(minutes=69)
        assert tx.usage.recorded_name(3, "+420602000001") == "/names/3/u2"
        assert tx.usage.recorded_name(3, "+420602000002") is None
        assert tx.usage.recorded_name(4, "+420602000001") is None
        assert sorted(tx.usage.name_files(3)) == ["/names/3/u1", "/names/3/u2"]


def test_names_expire_with_their_reservation_or_after_the_retention(store: Store) -> None:
    service = store.service()
    kept, deleted = service.book(None, None, 5), service.book(None, None, 5)
    assert kept.id is not None and deleted.id is not None
    legs = [
        ("old", kept.id, "/n/old", T0 - timedelta(days=40)),
        ("recent", kept.id, "/n/recent", T0 - timedelta(days=2)),
        ("unnamed", kept.id, None, T0 - timedelta(days=40)),
        ("of-deleted", deleted.id, "/n/of-deleted", T0 - timedelta(minutes=5)),
        ("still-in", deleted.id, "/n/still-in", None),
    ]
    with store.uow() as tx:
        for uid, rid, name, left in legs:
            tx.usage.open(
                Leg(uid, "1", rid, "+420221000001", False, Role.PARTICIPANT, name, T0 - timedelta(days=41))
            )
            if left is not None:
                tx.usage.close(uid, left, EndReason.LEFT)
    service.delete(deleted.room.profile_id, deleted.id)
    with store.uow(read_only=True) as tx:
        due = tx.usage.expired_names(T0 - timedelta(days=30))
    assert due == [("old", "/n/old"), ("of-deleted", "/n/of-deleted")]  # by when they ended
    with store.uow() as tx:
        assert tx.usage.forget_names(["old", "of-deleted"]) == 2
        assert tx.usage.expired_names(T0 - timedelta(days=30)) == []
        assert tx.usage.recorded_name(kept.id, "+420221000001") == "/n/recent"
