"""R7: the shared capacity. Pure checks of the sweep, the refusal, and the suggestions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from booking.domain.capacity import Booked, check, fits, horizon, live_within, peak, peak_seats

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def b(start: int, end: int, seats: int) -> Booked:
    return Booked(at(start), at(end), seats)


def test_peak_counts_only_overlapping_seats() -> None:
    booked = [b(0, 60, 5), b(30, 90, 7), b(120, 180, 9)]
    assert peak(booked, at(0), at(60)) == (12, at(30))
    assert peak(booked, at(60), at(120)) == (7, at(60))
    assert peak(booked, at(200), at(300)) == (0, at(200))


def test_back_to_back_windows_do_not_overlap() -> None:
    booked = [b(0, 60, 10)]
    assert fits(booked, at(60), at(120), 10, capacity=10)
    assert not fits(booked, at(59), at(120), 1, capacity=10)


def test_exact_boundary_fits_one_more_does_not() -> None:
    booked = [b(0, 60, 6)]
    assert check(booked, at(0), at(60), 4, 10, at(-60), at(60)) is None
    refusal = check(booked, at(0), at(60), 5, 10, at(-60), at(60))
    assert refusal is not None
    assert refusal.peak_reserved == 6
    assert refusal.free_seats == 4


def test_refusal_suggests_nearest_starts_where_the_seats_fit() -> None:
    # 08:00-09:00 is full; the same 60 minutes fit from 09:00 (after it) or at 07:00 (before).
    booked = [b(0, 60, 10)]
    refusal = check(booked, at(0), at(60), 5, 10, not_before=at(-180), not_after=at(180))
    assert refusal is not None
    assert refusal.free_seats == 0
    assert at(60) in refusal.suggested_starts
    assert at(-60) in refusal.suggested_starts
    for start in refusal.suggested_starts:
        assert fits(booked, start, start + timedelta(minutes=60), 5, 10)


def test_suggestions_respect_the_allowed_start_range() -> None:
    booked = [b(0, 60, 10)]
    refusal = check(booked, at(0), at(60), 5, 10, not_before=at(0), not_after=at(180))
    assert refusal is not None
    assert refusal.suggested_starts == (at(60),)


def test_no_suggestion_when_nothing_fits_in_the_horizon() -> None:
    booked = [b(-1000, 1000, 10)]
    refusal = check(booked, at(0), at(60), 1, 10, not_before=at(-100), not_after=at(100))
    assert refusal is not None
    assert refusal.suggested_starts == ()


def test_horizon_covers_the_window_and_the_search_span() -> None:
    lo, hi = horizon(at(0), at(60), timedelta(hours=1))
    assert lo == at(-60) and hi == at(120)


windows = st.tuples(st.integers(0, 300), st.integers(1, 120), st.integers(1, 10)).map(
    lambda t: b(t[0], t[0] + t[1], t[2])
)


@given(st.lists(windows, max_size=25), windows, st.integers(1, 40))
def test_check_agrees_with_a_minute_by_minute_count(booked: list[Booked], want: Booked, cap: int) -> None:
    minutes = int((want.ends_at - want.starts_at).total_seconds() // 60)
    busiest = max(
        (sum(x.seats for x in booked if x.starts_at <= want.starts_at + timedelta(minutes=m) < x.ends_at))
        for m in range(minutes)
    )
    refusal = check(booked, want.starts_at, want.ends_at, want.seats, cap, at(-500), at(800))
    assert (refusal is None) == (busiest + want.seats <= cap)
    if refusal is not None:
        assert refusal.peak_reserved == busiest
        assert refusal.free_seats == max(0, cap - busiest)
        length = want.ends_at - want.starts_at
        for start in refusal.suggested_starts:
            assert fits(booked, start, start + length, want.seats, cap)


def test_a_live_seat_counts_over_all_of_any_window_it_reaches_into() -> None:
    # Held from -10 until +20 (renewed while its member talks): a window it reaches into counts it
    # for the whole window, beside the booking that starts after +20.
    live = [b(-10, 20, 1), b(-5, 30, 1)]
    assert live_within(live, at(0), at(60)) == 2
    assert live_within(live, at(20), at(60)) == 1  # [a, b) and [b, c) do not overlap
    assert live_within(live, at(30), at(60)) == 0
    booked = [b(25, 60, 8)]
    assert peak(booked + live, at(0), at(60))[0] == 9  # never 10 at one instant, by their ends
    assert not fits(booked, at(0), at(60), 1, 10, live)  # but the live members go on talking
    assert fits(booked, at(30), at(60), 2, 10, live)


def test_a_refusal_counts_the_live_seats_and_suggests_starts_after_them() -> None:
    live = [b(-10, 30, 1)] * 3
    booked = [b(0, 120, 6)]
    refusal = check(booked, at(0), at(60), 2, 10, not_before=at(0), not_after=at(180), live=live)
    assert refusal is not None
    assert (refusal.peak_reserved, refusal.free_seats) == (9, 1)
    assert refusal.suggested_starts == (at(30), at(120))  # once the live seats are not counted
    assert check(booked, at(30), at(90), 4, 10, at(0), at(180), live=live) is None


@given(
    st.lists(windows, max_size=15), st.lists(st.integers(1, 300), max_size=12), windows, st.integers(1, 40)
)
def test_check_with_live_seats_agrees_with_counting_them_over_the_window(
    booked: list[Booked], ends: list[int], want: Booked, cap: int
) -> None:
    live = [b(0, end, 1) for end in ends]  # all held from now (0), as far as they are known
    held = peak(booked, want.starts_at, want.ends_at)[0] + sum(1 for x in live if x.ends_at > want.starts_at)
    refusal = check(booked, want.starts_at, want.ends_at, want.seats, cap, at(0), at(800), live=live)
    assert (refusal is None) == (held + want.seats <= cap)
    if refusal is not None:
        assert refusal.peak_reserved == held
        length = want.ends_at - want.starts_at
        for start in refusal.suggested_starts:
            assert fits(booked, start, start + length, want.seats, cap, live)


def test_peak_seats_counts_back_to_back_bookings_once() -> None:
    assert peak_seats([]) == 0
    assert peak_seats([(at(0), at(60), 5), (at(60), at(120), 7)]) == 7
    assert peak_seats([(at(0), at(60), 5), (at(59), at(120), 7)]) == 12


def _stored(d: datetime) -> str:
    """A datetime as SQLite stores it: text that orders like the instant."""
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")


@given(st.lists(windows, max_size=25), windows)
def test_peak_seats_over_raw_values_is_the_peak(booked: list[Booked], window: Booked) -> None:
    """Given exactly the bookings that overlap a window, unclipped and as the database stores
    them, the sweep finds the window's peak; the seats summed never fall below it."""
    start, end = window.starts_at, window.ends_at
    near = [x for x in booked if x.starts_at < end and x.ends_at > start]
    held = peak(near, start, end)[0]
    assert peak_seats((x.starts_at, x.ends_at, x.seats) for x in near) == held
    assert peak_seats((_stored(x.starts_at), _stored(x.ends_at), x.seats) for x in near) == held
    assert sum(x.seats for x in near) >= held
