"""A month of conferences and their members for the placement simulation (issue 21, item 6).

Generated from the booking rules (REQUIREMENTS R3, R10, R28, R48): standard conferences of 2-20
participants and at most 120 minutes, a few non-standard ones (larger or longer, approved by an
operator), starting in working hours with peaks on the hour and the half hour; anytime rooms
(R48) used at any minute of the working day. Weekdays carry the load, weekends a trickle.

Each member gets an arrival (the moment the IVR has the PIN and asks for a placement: most
around the start, some late) and a hang-up (most at the booked end, some early). Everything is
drawn from one seeded numpy generator, so a seed gives the same month. The month is sized by a
first draw: the number of conferences a day is scaled so the peak of concurrent members comes
out at ``peak_members``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

DAY_S = 86_400
MINUTE_S = 60
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

# Monday first: the load a weekday carries against the busiest.
WEEKDAY_WEIGHT = (0.9, 1.0, 1.0, 0.95, 0.7, 0.06, 0.04)
# Scheduled starts by hour of the day (8:00-17:00): morning and early afternoon peaks.
START_HOURS = np.arange(8, 18)
START_HOUR_WEIGHT = np.array([0.5, 1.0, 1.3, 1.0, 0.4, 0.8, 1.2, 1.0, 0.7, 0.3])
# The minute in the hour: on the hour, on the half hour, the quarters, any five minutes.
_OTHER_FIVES = [m for m in range(5, 60, 5) if m % 15]
START_MINUTES = np.array([0, 30, 15, 45, *_OTHER_FIVES])
START_MINUTE_WEIGHT = np.array([0.55, 0.25, 0.05, 0.05] + [0.1 / len(_OTHER_FIVES)] * len(_OTHER_FIVES))
# R3 / R10: a standard conference lasts at most 120 minutes.
LENGTHS_MIN = np.array([15, 30, 45, 60, 90, 120])
LENGTH_WEIGHT = np.array([0.05, 0.3, 0.15, 0.3, 0.1, 0.1])
STANDARD_MAX_SEATS = 20  # R3
NON_STANDARD_SHARE = 0.03  # larger or longer, handled by operations
LARGEST = 150  # participants in the largest non-standard conference
ANYTIME_SHARE = 0.2  # of all conferences: anytime rooms in use (R48)
LATE_SHARE = 0.2  # members who join after the start
EARLY_LEAVE_SHARE = 0.15  # members who hang up before the end


@dataclass(frozen=True)
class Month:
    """Conferences (index = conference id) and members (sorted by arrival)."""

    days: int
    conference_start: Floats  # seconds from the month's first midnight (a Monday)
    conference_end: Floats
    conference_size: Ints
    non_standard: npt.NDArray[np.bool_]
    anytime: npt.NDArray[np.bool_]
    member_conference: Ints
    member_arrival: Floats
    member_leave: Floats
    peak_members: int
    peak_at: float  # seconds: when the peak was reached

    @property
    def members(self) -> int:
        return len(self.member_arrival)


def _sizes(rng: np.random.Generator, n: int) -> Ints:
    """2-20 participants, small ones the most common (p ~ 1/k^1.2): a mean of about 6."""
    k = np.arange(2, STANDARD_MAX_SEATS + 1)
    p = 1.0 / k**1.2
    return rng.choice(k, size=n, p=p / p.sum()).astype(np.int64)


Flags = npt.NDArray[np.bool_]


def _conferences(
    rng: np.random.Generator, days: int, per_day: float
) -> tuple[Floats, Floats, Ints, Flags, Flags]:
    counts = rng.poisson([per_day * WEEKDAY_WEIGHT[d % 7] for d in range(days)])
    day = np.repeat(np.arange(days), counts).astype(np.float64)
    n = len(day)
    anytime = rng.random(n) < ANYTIME_SHARE
    hour = rng.choice(START_HOURS, size=n, p=START_HOUR_WEIGHT / START_HOUR_WEIGHT.sum())
    minute = rng.choice(START_MINUTES, size=n, p=START_MINUTE_WEIGHT / START_MINUTE_WEIGHT.sum())
    start = day * DAY_S + hour * 3600.0 + minute * MINUTE_S
    # Anytime rooms have no booked start: any second from 7:00 to 19:00.
    start = np.where(anytime, day * DAY_S + rng.uniform(7 * 3600, 19 * 3600, n), start)
    length = rng.choice(LENGTHS_MIN, size=n, p=LENGTH_WEIGHT).astype(np.float64) * MINUTE_S
    length = np.where(anytime, rng.uniform(10, 90, n) * MINUTE_S, length)
    size = _sizes(rng, n)
    size = np.where(anytime, np.minimum(size, 10), size)
    # Non-standard (R3): half larger (21-150, heavy-tailed), half longer (2-4 hours).
    odd = (rng.random(n) < NON_STANDARD_SHARE) & ~anytime
    larger = odd & (rng.random(n) < 0.5)
    size = np.where(larger, np.minimum(21 + (rng.pareto(2.0, n) * 20).astype(np.int64), LARGEST), size)
    length = np.where(odd & ~larger, rng.uniform(121, 240, n) * MINUTE_S, length)
    return start, start + length, size.astype(np.int64), odd, anytime


def _members(rng: np.random.Generator, start: Floats, end: Floats, size: Ints) -> tuple[Ints, Floats, Floats]:
    conf = np.repeat(np.arange(len(size)), size).astype(np.int64)
    s, e = start[conf], end[conf]
    m = len(conf)
    # On time: within a few minutes of the start (dial-in opens 5 minutes before, R28).
    on_time = s + np.clip(rng.normal(-45.0, 75.0, m), -300.0, 180.0)
    late = s + 60.0 + rng.exponential(300.0, m)
    arrival = np.where(rng.random(m) < LATE_SHARE, late, on_time)
    arrival = np.minimum(arrival, e - 120.0)
    at_end = e + np.clip(rng.normal(0.0, 60.0, m), -180.0, 180.0)
    early = arrival + rng.uniform(0.0, 1.0, m) * (e - arrival)
    leave = np.where(rng.random(m) < EARLY_LEAVE_SHARE, early, at_end)
    leave = np.maximum(leave, arrival + 60.0)  # nobody hangs up in the IVR's seconds
    order = np.argsort(arrival, kind="stable")
    return conf[order], arrival[order], leave[order]


def concurrency_peak(arrival: Floats, leave: Floats) -> tuple[int, float]:
    """The most members present at once, and when (a sweep of +1 / -1 steps)."""
    if len(arrival) == 0:
        return 0, 0.0
    times = np.concatenate([arrival, leave])
    steps = np.concatenate([np.ones(len(arrival)), -np.ones(len(leave))])
    order = np.argsort(times, kind="stable")
    present = np.cumsum(steps[order])
    i = int(np.argmax(present))
    return int(present[i]), float(times[order][i])


def generate(seed: int, days: int, peak_members: int) -> Month:
    """A month of ``days`` days whose concurrent members peak near ``peak_members``."""
    per_day, best = 1000.0, None
    for _ in range(4):  # size the month: scale the conferences a day to the peak asked for
        rng = np.random.default_rng(seed)
        start, end, size, odd, anytime = _conferences(rng, days, per_day)
        conf, arrival, leave = _members(rng, start, end, size)
        peak, at = concurrency_peak(arrival, leave)
        month = Month(days, start, end, size, odd, anytime, conf, arrival, leave, peak, at)
        if best is None or abs(peak - peak_members) < abs(best.peak_members - peak_members):
            best = month
        if peak == 0 or abs(peak - peak_members) <= 0.01 * peak_members:
            break
        per_day *= peak_members / peak
    assert best is not None
    return best
