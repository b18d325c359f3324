"""Tariffs (R11, R51, R60, R61): the sources' worked examples and the rounding invariants."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.domain.errors import TariffError
from booking.domain.model import Role
from booking.domain.rating import rate_leg
from booking.domain.statement import statement
from booking.domain.tariff import Rate, match, plan_for
from booking.domain.tariff_file import default_text, load
from booking.domain.usage import EndReason, Leg

TARIFFS = load(default_text())
PRAGUE = ZoneInfo("Europe/Prague")
T0 = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
DAY = date(2027, 3, 10)


def leg(seconds: float, caller: str = "+420261000111", access: str = "8000", uid: str = "u1") -> Leg:
    return Leg(
        uid,
        "123456",
        1,
        caller,
        False,
        Role.PARTICIPANT,
        None,
        T0,
        T0 + timedelta(seconds=seconds),
        EndReason.LEFT,
        "s1",
        access,
    )


def caller_charge(seconds: float, caller: str, access: str = "8000") -> tuple[int, Decimal, Decimal, str]:
    r = rate_leg(leg(seconds, caller, access), TARIFFS.rules, None, None, PRAGUE)
    return r.caller_billed_s, r.caller_net, r.caller_gross, r.caller_rule


def test_a_61_second_o2_mobile_call_is_billed_61_seconds_at_4_czk_a_minute() -> None:
    billed, net, gross, rule = caller_charge(61, "+420601234567")
    assert (billed, net, gross) == (61, Decimal("4.07"), Decimal("4.92"))  # 4.0667 net, + 21 % VAT
    assert rule.startswith("O2 mobile")


def test_a_59_second_o2_mobile_call_is_billed_its_whole_first_minute() -> None:
    assert caller_charge(59, "+420720111222")[:3] == (60, Decimal("4.00"), Decimal("4.84"))
    assert caller_charge(1, "+420602000000")[0] == 60


def test_a_3_minute_141xx_call_is_billed_2_minutes_minimum_then_per_started_minute() -> None:
    assert caller_charge(180, "+420261000111", "14111")[:3] == (180, Decimal("8.68"), Decimal("10.50"))
    assert caller_charge(181, "+420261000111", "14111")[0] == 240
    assert caller_charge(30, "+420261000111", "14111")[0] == 120


def test_free_numbers_cost_nothing_whoever_calls() -> None:
    for access in ("800123456", "+420800123456", "112", "116123"):
        _, net, gross, rule = caller_charge(3600, "+420601234567", access)
        assert (net, gross) == (Decimal("0.00"), Decimal("0.00")) and rule.startswith("Free numbers")


def test_the_most_specific_rule_wins_and_validity_is_respected() -> None:
    text = (
        default_text()
        + """
[[caller]]
name = "O2 mobile price change"
calling_prefixes = ["+420601"]
price_per_minute = "3.00"
minimum_s = 60
increment_s = 1
valid_from = 2027-04-01
"""
    )
    rules = load(text).rules
    assert match(rules, "+420601000000", "8000", date(2027, 3, 31)).name.startswith("O2 mobile:")  # type: ignore[union-attr]
    assert match(rules, "+420601000000", "8000", date(2027, 4, 1)).name == "O2 mobile price change"  # type: ignore[union-attr]
    assert match(rules, "+420602000000", "8000", date(2027, 4, 1)).name.startswith("O2 mobile:")  # type: ignore[union-attr]


def test_the_organizer_pays_per_started_participant_minute_on_demand() -> None:
    plan = plan_for(TARIFFS.plans, "on_demand", DAY)
    r = rate_leg(leg(61), TARIFFS.rules, plan, 7, PRAGUE)
    assert (r.billed_s, r.net, r.plan) == (120, Decimal("6.00"), "on_demand")


def test_professional_has_a_lower_price_and_a_monthly_minimum() -> None:
    plan = plan_for(TARIFFS.plans, "professional", DAY)
    assert plan is not None
    rated = [rate_leg(leg(600, uid=f"u{n}"), TARIFFS.rules, plan, 7, PRAGUE) for n in range(3)]
    legs = {r.uniqueid: leg(600, uid=r.uniqueid) for r in rated}
    s = statement(7, "2027-03", plan, rated, legs)
    assert s.usage_net == Decimal("60.00")  # 3 x 10 minutes x 2.00
    assert s.minimum_top_up == Decimal("1440.00") and s.net == Decimal("1500.00")
    assert (s.vat, s.gross) == (Decimal("315.00"), Decimal("1815.00"))
    assert len(s.lines) == 1 and s.lines[0].participants == 3


def test_tariff_files_with_mistakes_are_refused_with_the_entry_named() -> None:
    with pytest.raises(TariffError, match=r"caller rule 1 .*write price_per_minute as a string"):
        load('[[caller]]\nname = "x"\nprice_per_minute = 4.0\nvalid_from = 2027-01-01\n')
    with pytest.raises(TariffError, match="increment 1 or more"):
        load('[[caller]]\nname = "x"\nprice_per_minute = "4"\nincrement_s = 0\nvalid_from = 2027-01-01\n')
    with pytest.raises(TariffError, match="no \\[\\[caller\\]\\] rules"):
        load("")


RATES = st.builds(
    Rate,
    price_per_minute=st.decimals("0", "100", places=2),
    minimum_s=st.integers(0, 300),
    increment_s=st.integers(1, 120),
    vat_included=st.booleans(),
)


@given(RATES, st.integers(0, 100_000), st.integers(0, 100_000))
def test_rounding_invariants(rate: Rate, a: int, b: int) -> None:
    billed = rate.billed_seconds(a)
    if a == 0:
        assert billed == 0
        return
    assert billed >= a and billed >= rate.minimum_s
    if a > rate.minimum_s:
        assert (billed - rate.minimum_s) % rate.increment_s == 0
        assert billed - a < rate.increment_s
    if a <= b:
        assert billed <= rate.billed_seconds(b)  # never cheaper to talk longer
    net, gross = rate.amounts(billed)
    assert net >= 0 and gross >= net
    assert net == net.quantize(Decimal("0.01")) and gross == gross.quantize(Decimal("0.01"))
