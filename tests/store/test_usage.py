"""Usage legs on both backends: once per unique id, closed once, reconciled after a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking.domain.errors import NotFound
from booking.domain.usage import EndReason, is_mobile
from booking.services.booking import BookingService
from booking.services.usage import LiveLeg, UsageService
from booking.settings import BookingSettings
from tests.store.conftest import Store


@pytest.fixture
def usage(store: Store) -> UsageService:
    return UsageService(store.uow, store.clock, BookingSettings())


def test_a_join_is_written_once_and_a_leave_closes_it_once(
    store: Store, service: BookingService, usage: UsageService
) -> None:
    r = service.book(store.clock.now(), 60, 5)
    number = r.room.conference_number
    assert usage.record_join("1700.1", number, "+420602123456", moderator=False, name_file="/n/1700.1")
    assert not usage.record_join("1700.1", number, "+420602123456", moderator=False)  # a replay
    store.clock.advance(timedelta(minutes=3))
    assert usage.record_leave("1700.1", EndReason.LEFT)
    store.clock.advance(timedelta(minutes=3))
    assert not usage.record_leave("1700.1", EndReason.LEFT)  # the first end stands
    (leg,) = usage.history(r.room.profile_id, r.id or 0)
    assert leg.reservation_id == r.id and leg.role == "participant" and leg.mobile
    assert leg.name_file == "/n/1700.1" and leg.seconds == 180 and leg.end_reason == "left"


def test_reconcile_closes_what_ended_while_down_and_opens_what_was_missed(
    store: Store, service: BookingService, usage: UsageService
) -> None:
    r = service.book(store.clock.now(), 60, 5)
    number = r.room.conference_number
    usage.record_join("gone", number, "+420221000111", moderator=False)
    usage.record_join("still", number, "+420221000112", moderator=True)
    store.clock.advance(timedelta(minutes=1))
    live = [LiveLeg("still", number, "+420221000112", True), LiveLeg("new", number, "+420221000113", False)]
    assert usage.reconcile(live) == (1, 1)
    assert usage.reconcile(live) == (0, 0)  # idempotent
    legs = {leg.uniqueid: leg for leg in usage.history(r.room.profile_id, r.id or 0)}
    assert legs["gone"].end_reason == "ended_while_controller_down"
    assert legs["still"].left_at is None and legs["still"].role == "moderator"
    assert legs["new"].left_at is None


def test_history_is_the_owners_only(store: Store, service: BookingService, usage: UsageService) -> None:
    r = service.book(store.clock.now(), 60, 5)
    with pytest.raises(NotFound):
        usage.history(r.room.profile_id + 1000, r.id or 0)


@pytest.mark.parametrize(
    ("number", "mobile"),
    [
        ("+420602123456", True),
        ("602123456", True),
        ("+420221000111", False),
        ("", False),
        ("anonymous", False),
    ],
)
def test_mobile_numbers_are_classified(number: str, mobile: bool) -> None:
    assert is_mobile(number, "CZ") is mobile
