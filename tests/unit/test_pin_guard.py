"""PIN guessing rules: caller lockouts, the conference budget and who is heard past it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain.model import Role
from booking.domain.pin_guard import (
    EVERY_ROLE,
    Attempts,
    History,
    PinGuardPolicy,
    Refusal,
    caller_key,
    conference_key,
    delay_after,
    gate,
    record_caller_failure,
    record_conference_failure,
    web_client_key,
    web_conference_key,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
P = PinGuardPolicy(
    per_caller=3,
    caller_window=timedelta(minutes=10),
    lockout=timedelta(minutes=30),
    per_conference=5,
    conference_window=timedelta(minutes=15),
    known_caller_tries=2,
    pin_length=9,
)


def fail_caller(key: str, times: int, start: datetime = NOW) -> Attempts:
    a = Attempts(key)
    for i in range(times):
        a = record_caller_failure(a, start + timedelta(seconds=i), P)
    return a


def fail_conference(times: int, budget: int = 5, start: datetime = NOW) -> Attempts:
    a = Attempts(conference_key("123456"))
    for i in range(times):
        a = record_conference_failure(a, start + timedelta(seconds=i), budget, P)
    return a


def test_a_caller_is_locked_out_after_its_limit_for_the_lockout() -> None:
    assert not fail_caller("caller:+420601", 2).locked(NOW + timedelta(seconds=5))
    locked = fail_caller("caller:+420601", 3)
    assert locked.locked(NOW + timedelta(seconds=5))
    assert locked.locked_until == NOW + timedelta(seconds=2) + timedelta(minutes=30)
    assert not locked.locked(NOW + timedelta(minutes=31))


def test_a_conference_past_its_budget_is_throttled_until_its_window_ends() -> None:
    assert not fail_conference(4).locked(NOW + timedelta(seconds=5))
    throttled = fail_conference(5)
    assert throttled.locked(NOW + timedelta(seconds=5))
    assert throttled.locked_until == NOW + timedelta(minutes=15)  # the window's end, not an hour
    assert not throttled.locked(NOW + timedelta(minutes=15))
    more = record_conference_failure(throttled, NOW + timedelta(minutes=1), 5, P)
    assert more.locked_until == throttled.locked_until  # guessing on does not extend it


def test_failures_outside_the_window_start_over() -> None:
    a = fail_caller("caller:1", 2)
    later = record_caller_failure(a, NOW + timedelta(minutes=11), P)
    assert later.failures == 1 and later.window_start == NOW + timedelta(minutes=11)
    assert not later.locked(NOW + timedelta(minutes=11))
    assert a.failures_within(P.caller_window, NOW + timedelta(minutes=11)) == 0


def test_a_locked_caller_is_refused_whatever_the_conference() -> None:
    locked = fail_caller("caller:+420601", 3)
    g = gate(locked, Attempts("conference:1"), History.MODERATOR, NOW + timedelta(seconds=5), P)
    assert g.refusal is Refusal.CALLER_LOCKED and not g.roles


def test_a_quiet_conference_hears_every_code() -> None:
    g = gate(Attempts("caller:1"), fail_conference(4), History.NONE, NOW + timedelta(seconds=5), P)
    assert g.refusal is None and g.roles == EVERY_ROLE
    anonymous = gate(None, Attempts("conference:1"), History.NONE, NOW, P)
    assert anonymous.refusal is None and anonymous.roles == EVERY_ROLE


def test_a_throttled_conference_hears_only_callers_with_a_history() -> None:
    at = NOW + timedelta(seconds=10)
    throttled = fail_conference(5)
    fresh = Attempts("caller:+420602")
    assert gate(fresh, throttled, History.NONE, at, P).refusal is Refusal.THROTTLED
    assert gate(None, throttled, History.NONE, at, P).refusal is Refusal.THROTTLED  # anonymous
    participant = gate(fresh, throttled, History.PARTICIPANT, at, P)
    assert participant.refusal is None and participant.roles == {Role.PARTICIPANT}
    moderator = gate(fresh, throttled, History.MODERATOR, at, P)
    assert moderator.refusal is None and moderator.roles == EVERY_ROLE
    # The web's moderator sign-in takes only the ADMIN PIN, throttled or not.
    web = gate(fresh, throttled, History.MODERATOR, at, P, frozenset({Role.MODERATOR}))
    assert web.roles == {Role.MODERATOR}
    assert gate(fresh, throttled, History.PARTICIPANT, at, P, frozenset({Role.MODERATOR})).refusal is (
        Refusal.THROTTLED
    )


def test_a_known_caller_keeps_its_pass_only_for_a_few_wrong_guesses() -> None:
    throttled = fail_conference(5)
    once = fail_caller("caller:+420603", 1)
    twice = fail_caller("caller:+420603", 2)
    at = NOW + timedelta(seconds=10)
    assert gate(once, throttled, History.MODERATOR, at, P).refusal is None
    assert gate(twice, throttled, History.MODERATOR, at, P).refusal is Refusal.THROTTLED
    # ...and gets it back when its own window is over.
    assert gate(twice, throttled, History.MODERATOR, NOW + timedelta(minutes=11), P).refusal is None


def test_shorter_pins_get_a_smaller_budget_never_none() -> None:
    policy = PinGuardPolicy(per_conference=10, pin_length=9)
    assert policy.budget(9) == policy.budget(12) == policy.budget(None) == 10
    assert policy.budget(8) == 1 and policy.budget(7) == 1 and policy.budget(6) == 1
    assert PinGuardPolicy(per_conference=300, pin_length=9).budget(7) == 3


def test_delays_grow_and_are_capped() -> None:
    assert [delay_after(n, PinGuardPolicy()) for n in range(7)] == [0, 1, 2, 4, 8, 16, 16]


def test_keys() -> None:
    assert caller_key("") is None and caller_key("  ") is None
    assert caller_key("+420601") == "caller:+420601"
    assert conference_key("42") == "conference:42"
    assert web_client_key("192.0.2.1") == "web:192.0.2.1" and web_client_key("") == "web:unknown"
    assert web_conference_key("42") == "web-conference:42"


# --- properties ---------------------------------------------------------------------------------

offsets = st.lists(st.integers(min_value=0, max_value=3 * 3600), min_size=1, max_size=60).map(sorted)


@settings(max_examples=200, deadline=None)
@given(offsets, st.integers(min_value=1, max_value=12))
def test_a_window_never_counts_more_guesses_heard_than_its_budget(seconds: list[int], budget: int) -> None:
    """Replaying any sequence of guesses from unknown callers: within one window of the
    conference, at most ``budget`` wrong guesses are compared before it is throttled."""
    conference = Attempts(conference_key("1"))
    heard: dict[datetime, int] = {}
    for s in seconds:
        now = NOW + timedelta(seconds=s)
        g = gate(Attempts(f"caller:{s}"), conference, History.NONE, now, P)
        if g.refusal is not None:
            assert g.refusal is Refusal.THROTTLED
            continue
        conference = record_conference_failure(conference, now, budget, P)
        assert conference.window_start is not None
        heard[conference.window_start] = heard.get(conference.window_start, 0) + 1
    assert all(n <= budget for n in heard.values()), heard


@settings(max_examples=200, deadline=None)
@given(offsets)
def test_a_caller_past_its_limit_is_never_heard_until_the_lockout_ends(seconds: list[int]) -> None:
    caller = Attempts("caller:+420601")
    quiet = Attempts(conference_key("1"))
    for s in seconds:
        now = NOW + timedelta(seconds=s)
        g = gate(caller, quiet, History.MODERATOR, now, P)
        if caller.locked(now):
            assert g.refusal is Refusal.CALLER_LOCKED
            continue
        assert g.refusal is None
        caller = record_caller_failure(caller, now, P)
        assert caller.failures <= P.per_caller


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=40), st.sampled_from(list(History)))
def test_the_throttle_never_refuses_a_known_callers_first_guess(flood: int, history: History) -> None:
    conference = fail_conference(flood)
    g = gate(Attempts("caller:+420777"), conference, history, NOW + timedelta(minutes=1), P)
    if not conference.locked(NOW + timedelta(minutes=1)):
        assert g.roles == EVERY_ROLE
    elif history is History.NONE:
        assert g.refusal is Refusal.THROTTLED
    else:
        assert g.refusal is None and Role.PARTICIPANT in g.roles
