"""PIN guessing against the real store (SQLite and PostgreSQL): the conference budget holds
under parallel guessers, an unknown number answers like a wrong PIN, and a conference under
attack still lets in the callers it knows; the web's counters are its own."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import timedelta

from booking.domain.model import Reservation, Role, Verdict
from booking.services.dialin import DialInService, DialInStatus
from booking.services.usage import UsageService
from booking.settings import BookingSettings
from booking.store.pin_attempts import PinAttemptsRepository
from booking.store.unit_of_work import SqlUnitOfWork
from tests.store.conftest import Store

SMALL = BookingSettings(pin_per_caller=3, pin_per_conference=4, pin_web_per_conference=2, pin_max_delay_s=16)
_callers = itertools.count(100)


def spoofed() -> str:
    """A new caller number each time: what an attacker's SIP trunk can present."""
    return f"+42077{next(_callers):07d}"


def dialin(store: Store, settings: BookingSettings = SMALL) -> DialInService:
    return DialInService(SqlUnitOfWork(store.engine), store.clock, settings)


def booked(store: Store) -> Reservation:
    return store.service().book(None, None, 10)  # an anytime room: open now


def joined_before(store: Store, r: Reservation, caller: str, moderator: bool) -> None:
    usage = UsageService(SqlUnitOfWork(store.engine), store.clock, SMALL)
    uniqueid = f"leg-{caller}-{moderator}"
    assert usage.record_join(uniqueid, r.room.conference_number, caller, moderator)
    usage.record_leave(uniqueid)


def flood(service: DialInService, number: str, guesses: int) -> list[DialInStatus]:
    return [service.dial_in(number, "100000000", spoofed()).status for _ in range(guesses)]


def test_a_flood_of_spoofed_callers_throttles_the_conference_not_its_known_callers(store: Store) -> None:
    r = booked(store)
    number, room = r.room.conference_number, r.room
    participant, moderator, stranger = spoofed(), spoofed(), spoofed()
    joined_before(store, r, participant, moderator=False)
    joined_before(store, r, moderator, moderator=True)
    service = dialin(store)

    outcomes = flood(service, number, 10)
    assert outcomes[:4] == [DialInStatus.BAD_CREDENTIALS] * 4  # the budget: 4 heard...
    assert set(outcomes[4:]) == {DialInStatus.THROTTLED}  # ...the rest not even compared
    assert f"conference:{number}" in {a.key for a in service.pin_lockouts()}

    # A new caller with the right PIN is not heard while the attack lasts; callers it knows are.
    assert service.dial_in(number, room.pin, stranger).status is DialInStatus.THROTTLED
    assert service.dial_in(number, room.pin, participant).admitted
    known_mod = service.dial_in(number, room.admin_pin, moderator)
    assert known_mod.admitted and known_mod.admission is not None
    assert known_mod.admission.role is Role.MODERATOR
    # A number that only ever joined as a participant gets no ADMIN PIN guesses out of it.
    as_moderator = service.dial_in(number, room.admin_pin, participant)
    assert as_moderator.status is DialInStatus.BAD_CREDENTIALS and as_moderator.delay_s == 16
    # Nor does a known number keep its pass for long: one more wrong code and it is a stranger.
    assert service.dial_in(number, "100000000", participant).status is DialInStatus.BAD_CREDENTIALS
    assert service.dial_in(number, room.pin, participant).status is DialInStatus.THROTTLED

    # The throttle ends with the conference's window, without an operator.
    store.clock.advance(timedelta(minutes=SMALL.pin_conference_window_minutes))
    assert service.dial_in(number, room.pin, stranger).admitted


def test_only_the_guess_that_uses_up_the_budget_raises_the_alert(store: Store) -> None:
    r = booked(store)
    service = dialin(store)
    outcomes = [service.dial_in(r.room.conference_number, "100000000", spoofed()) for _ in range(6)]
    assert [o.throttle_started for o in outcomes] == [False, False, False, True, False, False]


def test_an_unknown_number_answers_exactly_like_a_wrong_pin(store: Store) -> None:
    r = booked(store)
    service = dialin(store)
    real = [service.dial_in(r.room.conference_number, "100000000", "+420601000001") for _ in range(6)]
    store.clock.advance(timedelta(hours=2))  # both the caller's and the conference's windows
    unknown = [service.dial_in("918273", "100000000", "+420601000001") for _ in range(6)]
    assert [(o.status, o.delay_s, o.throttle_started, o.reservation) for o in real] == [
        (o.status, o.delay_s, o.throttle_started, o.reservation) for o in unknown
    ]
    assert real[0].status is DialInStatus.BAD_CREDENTIALS and real[-1].status is DialInStatus.CALLER_LOCKED


def test_parallel_guessers_never_get_more_guesses_heard_than_the_budget(store: Store) -> None:
    r = booked(store)
    service = dialin(store)
    start = threading.Barrier(24)
    statuses: list[DialInStatus] = []
    lock = threading.Lock()

    def guess() -> None:
        caller = spoofed()
        start.wait()
        for _ in range(3):  # three guesses per call, 24 calls at once
            status = service.dial_in(r.room.conference_number, "100000000", caller).status
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=guess) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    counted = Counter(statuses)
    assert counted[DialInStatus.BAD_CREDENTIALS] == SMALL.pin_per_conference, counted
    assert counted[DialInStatus.THROTTLED] == 24 * 3 - SMALL.pin_per_conference, counted


def test_older_shorter_pins_get_a_smaller_budget(store: Store) -> None:
    legacy = store.service(pin_length=6).book(None, None, 5)  # booked before PINs grew to 9 digits
    current = dialin(store, BookingSettings(pin_per_conference=10, pin_length=9))
    assert current.dial_in(legacy.room.conference_number, legacy.room.pin, spoofed()).admitted
    outcomes = flood(current, legacy.room.conference_number, 3)
    assert outcomes == [DialInStatus.BAD_CREDENTIALS, DialInStatus.THROTTLED, DialInStatus.THROTTLED]


def test_web_guessing_has_its_own_counters_and_takes_only_the_admin_pin(store: Store) -> None:
    r = booked(store)
    number, room = r.room.conference_number, r.room
    service = dialin(store)
    web = [service.web_sign_in(number, "100000000", f"192.0.2.{i}").status for i in range(5)]
    assert web == [DialInStatus.BAD_CREDENTIALS] * 2 + [DialInStatus.THROTTLED] * 3
    # The participants' PIN is as wrong as any code on the moderator sign-in (no oracle for it).
    store.clock.advance(timedelta(hours=1))
    pin = service.web_sign_in(number, room.pin, "192.0.2.77")
    assert pin.status is DialInStatus.BAD_CREDENTIALS and pin.reservation is None
    # The web throttle is the web's: phone callers never notice it.
    again = [service.web_sign_in(number, "100000000", f"198.51.100.{i}").status for i in range(3)]
    assert again[-1] is DialInStatus.THROTTLED
    assert service.dial_in(number, room.pin, spoofed()).admitted
    assert service.dial_in(number, room.admin_pin, spoofed()).admitted
    # A browser that signed in as this moderator before is heard despite the throttle.
    assert service.web_sign_in(number, room.admin_pin, "203.0.113.9").status is DialInStatus.THROTTLED
    known = service.web_sign_in(number, room.admin_pin, "203.0.113.9", known_device=True)
    assert known.admitted and known.admission is not None and known.admission.role is Role.MODERATOR
    keys = {a.key for a in service.pin_lockouts()}
    assert f"web-conference:{number}" in keys and f"conference:{number}" not in keys


def test_operators_list_and_clear_what_is_held(store: Store) -> None:
    r = booked(store)
    service = dialin(store)
    caller = spoofed()
    for _ in range(3):
        service.dial_in(r.room.conference_number, "100000000", caller)
    flood(service, r.room.conference_number, 4)
    held = {a.key: a for a in service.pin_lockouts()}
    assert set(held) == {f"caller:{caller}", f"conference:{r.room.conference_number}"}
    assert service.clear_pin_lockout(f"conference:{r.room.conference_number}")
    assert service.dial_in(r.room.conference_number, r.room.pin, spoofed()).admitted
    assert service.dial_in(r.room.conference_number, r.room.pin, caller).status is (
        DialInStatus.CALLER_LOCKED
    )
    assert service.clear_pin_lockout(f"caller:{caller}")
    assert service.dial_in(r.room.conference_number, r.room.pin, caller).admitted
    assert not service.clear_pin_lockout(f"caller:{caller}")


def test_counters_of_numbers_nobody_keys_any_more_are_pruned(store: Store) -> None:
    service = dialin(store)
    for n in range(5):
        service.dial_in(f"5000{n:02d}", "100000000", spoofed())
    with store.engine.connect() as conn:
        kept = PinAttemptsRepository(conn).get_many([f"conference:5000{n:02d}" for n in range(5)])
    assert [a.failures for a in kept] == [1] * 5
    store.clock.advance(timedelta(hours=3))
    service.dial_in("600000", "100000000", spoofed())  # any wrong guess prunes the stale ones
    with store.engine.connect() as conn:
        left = PinAttemptsRepository(conn).get_many([f"conference:5000{n:02d}" for n in range(5)])
    assert all(a.failures == 0 and a.window_start is None for a in left)  # gone: never counted


def test_a_right_pin_too_early_or_over_is_still_told_after_the_pin(store: Store) -> None:
    later = store.service().book(store.clock.now() + timedelta(hours=2), 60, 5)
    outcome = dialin(store).dial_in(later.room.conference_number, later.room.pin, spoofed())
    assert outcome.status is DialInStatus.DECIDED and outcome.admission is not None
    assert outcome.admission.verdict is Verdict.TOO_EARLY
