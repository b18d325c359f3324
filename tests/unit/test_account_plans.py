"""Account plans as pure rules, and the booking service reading a profile's plan (fake store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.account_plans import AccountPlan, account_plan, room_limit
from booking.domain.clock import FakeClock
from booking.domain.errors import NotFound, RuleViolation
from booking.domain.model import ReservationKind, ReservationStatus
from booking.domain.rules import BookingRequest
from booking.services.booking import BookingService
from booking.settings import BookingSettings
from tests.support.fakes import FakeUnitOfWork

pytestmark = pytest.mark.unit

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_the_panel_plan_has_the_r27_limit_and_the_provider_plan_none() -> None:
    assert room_limit(AccountPlan.PANEL, 3) == 3
    assert room_limit(AccountPlan.PANEL, 5) == 5
    assert room_limit(AccountPlan.PROVIDER, 3) is None


def test_a_plan_is_read_from_its_name() -> None:
    assert account_plan(" Provider ") is AccountPlan.PROVIDER
    with pytest.raises(ValueError, match="the plans are panel, provider"):
        account_plan("gold")


def _request(hours: int) -> BookingRequest:
    start = T0 + timedelta(hours=hours)
    return BookingRequest(ReservationKind.PANEL, start, start + timedelta(hours=1), 2)


def test_the_service_counts_rooms_only_on_the_panel_plan() -> None:
    service = BookingService(FakeUnitOfWork(), FakeClock(T0), BookingSettings(max_active_per_profile=2))
    profile = service.profile_named("acme")
    assert profile.account_plan is AccountPlan.PANEL and service.room_limit(profile.id) == 2
    for hours in (1, 2):
        service.request(profile.id, _request(hours))
    with pytest.raises(RuleViolation) as refused:
        service.request(profile.id, _request(3))
    assert refused.value.code == "too_many_rooms" and "at most 2" in refused.value.reason

    moved = service.set_account_plan(profile.id, AccountPlan.PROVIDER)
    assert moved.account_plan is AccountPlan.PROVIDER and service.room_limit(profile.id) is None
    assert [p.name for p in service.profiles_on_plan(AccountPlan.PROVIDER)] == ["acme"]
    for hours in (3, 4, 5):
        assert service.request(profile.id, _request(hours)).status is ReservationStatus.ACTIVE
    with pytest.raises(NotFound):
        service.set_account_plan(999, AccountPlan.PROVIDER)
