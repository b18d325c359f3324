"""The booking rules exactly as the sources state them (R3, R23, R24, R27, R30, R43)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from booking.domain.model import ReservationKind
from booking.domain.rules import BookingRequest, assess
from booking.settings import BookingSettings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
S = BookingSettings()
PANEL, ON_DEMAND, ANYTIME = ReservationKind.PANEL, ReservationKind.ON_DEMAND, ReservationKind.ANYTIME


def req(
    kind: ReservationKind, start_min: int | None, length_min: int | None, seats: int, **kw: object
) -> BookingRequest:
    start = None if start_min is None else NOW + timedelta(minutes=start_min)
    end = None if start is None or length_min is None else start + timedelta(minutes=length_min)
    return BookingRequest(kind, start, end, seats, **kw)  # type: ignore[arg-type]


def codes(r: BookingRequest, **kw: object) -> list[str]:
    return [v.code for v in assess(r, NOW, S, **kw).violations]  # type: ignore[arg-type]


def test_on_demand_within_limits_is_confirmed() -> None:
    a = assess(req(ON_DEMAND, 0, 120, 20), NOW, S)
    assert not a.violations and not a.over_limit


@pytest.mark.parametrize(("length", "seats"), [(121, 10), (60, 21), (150, 25)])
def test_on_demand_over_the_limits_waits_for_an_operator(length: int, seats: int) -> None:
    a = assess(req(ON_DEMAND, 30, length, seats), NOW, S)
    assert not a.violations
    assert a.needs_operator
    assert a.over_limit


def test_panel_start_at_least_10_minutes_ahead() -> None:
    assert codes(req(PANEL, 9, 60, 5)) == ["start_too_soon"]
    assert codes(req(PANEL, 10, 60, 5)) == []
    assert codes(req(PANEL, 5, 60, 5), check_lead=False) == []


def test_panel_start_at_most_30_days_ahead() -> None:
    assert codes(req(PANEL, 30 * 24 * 60, 60, 5)) == []
    assert codes(req(PANEL, 30 * 24 * 60 + 1, 60, 5)) == ["start_too_far"]


def test_panel_window_up_to_14_days_and_30_participants() -> None:
    assert not assess(req(PANEL, 60, 14 * 24 * 60, 30), NOW, S).over_limit
    assert assess(req(PANEL, 60, 60, 31), NOW, S).needs_operator
    assert codes(req(PANEL, 60, 14 * 24 * 60 + 1, 5)) == ["too_long"]


def test_anytime_room_has_no_date() -> None:
    assert codes(req(ANYTIME, None, None, 10)) == []
    assert codes(BookingRequest(ANYTIME, NOW, NOW + timedelta(hours=1), 10)) == ["anytime_has_date"]


def test_dates_must_make_sense() -> None:
    assert codes(BookingRequest(PANEL, None, None, 5)) == ["date_missing"]
    assert codes(BookingRequest(PANEL, NOW + timedelta(hours=2), NOW + timedelta(hours=1), 5)) == [
        "end_before_start"
    ]
    assert codes(req(ON_DEMAND, -60, 30, 5)) == ["start_in_past"]


def test_seats_and_the_bookers_own_maximum() -> None:
    assert codes(req(PANEL, 60, 60, 0)) == ["seats_too_few"]
    assert codes(req(PANEL, 60, 60, 10, max_participants=11)) == ["max_out_of_range"]
    assert codes(req(PANEL, 60, 60, 10, max_participants=4)) == []


def test_every_limit_is_a_setting() -> None:
    tight = BookingSettings(on_demand_max_minutes=30, panel_min_lead_minutes=60, panel_max_seats=5)
    assert assess(req(ON_DEMAND, 0, 31, 5), NOW, tight).needs_operator
    assert [v.code for v in assess(req(PANEL, 30, 60, 5), NOW, tight).violations] == ["start_too_soon"]
    assert assess(req(PANEL, 90, 60, 6), NOW, tight).needs_operator
