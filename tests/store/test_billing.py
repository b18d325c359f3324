"""Rating a month in the store (SQLite and PostgreSQL): idempotent, and after a tariff fix
only the legs it prices differently change. Statements and session reports per account."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from booking.domain.errors import NotFound, RuleViolation
from booking.domain.model import Reservation, Role
from booking.domain.tariff_file import default_text
from booking.domain.usage import EndReason, Leg
from booking.services.billing import BillingService
from tests.store.conftest import Store

PRAGUE = ZoneInfo("Europe/Prague")
MARCH = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def billing(store: Store) -> BillingService:
    return BillingService(store.uow, store.clock, PRAGUE)


def booked(store: Store, profile: str = "acme") -> Reservation:
    store.clock._now = MARCH - timedelta(days=1)
    return store.service().book(MARCH, 120, 10, profile=profile)


def add_legs(
    store: Store, r: Reservation, calls: list[tuple[str, str, int]], session: str = "s1", at: datetime = MARCH
) -> list[str]:
    ids = []
    with store.uow() as repo:
        usage = repo.usage
        for n, (caller, access, seconds) in enumerate(calls):
            uid = f"{session}-{n}-{at:%d}"
            joined = at + timedelta(minutes=n)
            usage.open(
                Leg(
                    uid,
                    r.room.conference_number,
                    r.id,
                    caller,
                    caller.startswith("+4206"),
                    Role.PARTICIPANT,
                    f"/names/{uid}",
                    joined,
                    session_id=session,
                    access_number=access,
                )
            )
            usage.close(uid, joined + timedelta(seconds=seconds), EndReason.LEFT)
            ids.append(uid)
    return ids


CALLS = [
    ("+420601234567", "8000", 61),
    ("+420261000111", "8000", 59),
    ("+420261000222", "14111", 180),
    ("+420601000333", "800123456", 3600),
]


def test_rating_twice_writes_nothing_the_second_time(store: Store, billing: BillingService) -> None:
    add_legs(store, booked(store), CALLS)
    first = billing.rate_month("2027-03")
    assert (first.legs, first.changed) == (4, 4)
    again = billing.rate_month("2027-03")
    assert (again.legs, again.changed, again.dropped) == (4, 0, 0)


def test_a_tariff_fix_changes_only_the_legs_it_prices_differently(
    store: Store, billing: BillingService
) -> None:
    add_legs(store, booked(store), CALLS)
    billing.rate_month("2027-03")
    before = {r.uniqueid: r for r in billing.rated("2027-03")}
    fixed = default_text().replace('price_per_minute = "4.00"', 'price_per_minute = "3.60"')
    billing.load_tariff(fixed, "O2 price fix", fix=True)
    run = billing.rate_month("2027-03")
    assert run.changed == 1 and run.tariff_version == 2
    after = {r.uniqueid: r for r in billing.rated("2027-03")}
    changed = [u for u in before if before[u] != after[u]]
    assert changed == ["s1-0-10"] and after["s1-0-10"].caller_net == Decimal("3.66")  # 61 s at 3.60
    assert billing.rate_month("2027-03").changed == 0


def test_a_monthly_statement_and_its_csv(store: Store, billing: BillingService) -> None:
    r = booked(store)
    add_legs(store, r, CALLS, "s1")
    add_legs(store, r, [("+420261000111", "8000", 600)], "s2", MARCH + timedelta(hours=1))
    s = billing.statement(r.room.profile_id, "2027-03")
    assert s.plan == "on_demand" and len(s.lines) == 2
    assert [line.billed_s for line in s.lines] == [120 + 60 + 180 + 3600, 600]  # per started minute
    assert s.usage_net == Decimal("228.00")  # 76 participant-minutes x 3.00
    assert (s.minimum_top_up, s.net, s.vat, s.gross) == (
        Decimal("0.00"),
        Decimal("228.00"),
        Decimal("47.88"),
        Decimal("275.88"),
    )
    csv = billing.statement_csv(r.room.profile_id, "2027-03")
    rows = csv.splitlines()
    assert rows[0].startswith("joined_at,left_at,conference") and len(rows) == 1 + 5 + 6  # sms_net too
    assert "'+420601234567" in csv  # a spreadsheet keeps it as text
    assert rows[-1].split(",")[8:10] == ["275.88", "total:gross"]


def test_the_professional_plan_and_its_monthly_minimum(store: Store, billing: BillingService) -> None:
    r = booked(store)
    add_legs(store, r, CALLS)
    billing.set_plan(r.room.profile_id, "professional")
    s = billing.statement(r.room.profile_id, "2027-03")
    assert s.usage_net == Decimal("132.00") and s.minimum_top_up == Decimal("1368.00")
    with pytest.raises(RuleViolation, match="no plan 'gold'"):
        billing.set_plan(r.room.profile_id, "gold")


def test_the_session_report_lists_participants_with_their_charges(
    store: Store, billing: BillingService
) -> None:
    r = booked(store)
    assert r.id is not None
    add_legs(store, r, CALLS)
    [(session, started, count)] = billing.sessions(r.room.profile_id, r.id)
    assert (session, started, count) == ("s1", MARCH, 4)
    rows = billing.session_report(r.room.profile_id, r.id, "s1")
    assert [row.caller_number for row in rows] == [c for c, _, _ in CALLS]
    assert (
        rows[0].name_file == "/names/s1-0-10" and rows[0].billed_s == 120 and rows[0].net == Decimal("6.00")
    )
    assert rows[0].caller_gross == Decimal("4.92") and rows[3].caller_gross == Decimal("0.00")
    with pytest.raises(NotFound):
        billing.session_report(r.room.profile_id + 1, r.id, "s1")


def test_a_month_is_the_service_time_zones_calendar_month(store: Store, billing: BillingService) -> None:
    r = booked(store)
    late = datetime(2027, 3, 31, 22, 30, tzinfo=UTC)  # 1 April 00:30 in Prague
    add_legs(store, r, [("+420261000111", "8000", 60)], "s9", late)
    assert billing.rate_month("2027-03").legs == 0
    assert billing.rate_month("2027-04").legs == 1
    with pytest.raises(RuleViolation, match="YYYY-MM"):
        billing.rate_month("2027-13")


PRICE_CHANGE = """
[[caller]]
name = "O2 mobile from {day}"
calling_prefixes = ["+420601"]
price_per_minute = "3.00"
minimum_s = 60
increment_s = 1
valid_from = {day}
"""


def test_price_changes_are_announced_31_days_ahead_by_sms(store: Store) -> None:
    told: list[tuple[int, date, list[str]]] = []

    def announce(version: int, day: date, what: list[str]) -> int:
        told.append((version, day, what))
        return 7

    billing = BillingService(store.uow, store.clock, PRAGUE, announce)
    store.clock._now = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    billing.tariffs()  # the default is in force
    with pytest.raises(RuleViolation, match=r"at least 31 days ahead \(R62\), so on 2027-04-01"):
        billing.load_tariff(default_text() + PRICE_CHANGE.format(day="2027-03-31"))
    with pytest.raises(RuleViolation, match="a correction must be loaded with fix"):
        billing.load_tariff(default_text().replace('"4.00"', '"3.90"'))
    assert told == []
    version = billing.load_tariff(default_text() + PRICE_CHANGE.format(day="2027-04-01"))
    assert told == [(version, date(2027, 4, 1), ["O2 mobile from 2027-04-01: 3.00 CZK/min excl. VAT"])]
    billing.load_tariff(default_text(), "the change withdrawn before it starts")
    assert billing.tariff_text()[0] == version + 1
