"""Toll fraud: which numbers a conference may call (phonenumbers) and how many calls it may place."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from booking.domain.dialout_policy import (
    CallCaps,
    DialFormat,
    NumberKind,
    NumberPolicy,
    largest_that_fits,
    seconds_until_room,
)
from booking.domain.errors import RuleViolation, TooMany
from conference_ivr.dialconf.services import dialout_rules
from conference_ivr.settings import Settings

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
CZ = NumberPolicy()


def code(policy: NumberPolicy, number: str) -> str:
    try:
        policy.check(number)
    except RuleViolation as e:
        return e.code
    return "ok"


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("601234567", "+420601234567"),  # mobile, read in the home region
        ("+420 601 234 567", "+420601234567"),
        ("00420601234567", "+420601234567"),  # 00: the home region's international prefix
        ("221000111", "+420221000111"),  # Prague, fixed line
        ("+420221000111", "+420221000111"),
    ],
)
def test_home_fixed_lines_and_mobiles_are_called_in_e164(number: str, expected: str) -> None:
    assert CZ.check(number) == expected


@pytest.mark.parametrize(
    ("number", "why"),
    [
        ("+88213000000", "premium"),  # the satellite range (Thuraya / +882 network)
        ("+881612345678", "premium"),  # Iridium, satellite
        ("+883510012345", "premium"),  # international network
        ("0088213000000", "premium"),  # the same keyed with 00
        ("900123456", "premium"),  # premium rate
        ("906123456", "premium"),
        ("810123456", "premium"),  # shared cost
        ("840123456", "premium"),
        ("+447911123456", "abroad"),  # a UK mobile
        ("00441632960000", "abroad"),
        ("+12025550123", "abroad"),
        ("+421905123456", "abroad"),  # Slovakia, next door
        ("800123456", "not_allowed"),  # toll-free: a service line, not a participant
        ("700123456", "not_allowed"),  # personal number (forwards anywhere)
        ("972123456", "not_allowed"),  # UAN
        ("910123456", "not_allowed"),  # VoIP
        ("112", "not_allowed"),  # emergency: never from a bridge
        ("100", "not_allowed"),  # short codes, unknown
        ("+4206010001", "not_allowed"),  # too short to be a number
        ("601234567&Local/x", "not_dialable"),
    ],
)
def test_everything_else_is_refused_with_its_reason(number: str, why: str) -> None:
    assert code(CZ, number) == why


def test_the_operator_opens_regions_and_types() -> None:
    wider = NumberPolicy(
        allowed_regions=frozenset({"SK"}),
        allowed_kinds=frozenset({NumberKind.MOBILE, NumberKind.FIXED_LINE, NumberKind.TOLL_FREE}),
    )
    assert wider.check("+421905123456") == "+421905123456"
    assert wider.check("800123456") == "+420800123456"
    assert code(wider, "+447911123456") == "abroad"
    assert code(wider, "+88213000000") == "premium"  # satellite stays out unless "001" is listed
    satellite = NumberPolicy(allowed_regions=frozenset({"001"}), allowed_kinds=frozenset(NumberKind))
    assert satellite.check("+88213000000") == "+88213000000"


def test_the_regex_is_an_extra_filter_on_the_e164_form() -> None:
    prague_only = NumberPolicy(pattern=r"\+4202[0-9]{8}")
    assert prague_only.check("221000111") == "+420221000111"
    assert code(prague_only, "601234567") == "not_allowed"


def test_another_home_region_reads_local_numbers_its_way() -> None:
    uk = NumberPolicy(home_region="GB")
    assert uk.check("07911 123456") == "+447911123456"
    assert code(uk, "601234567") == "not_allowed"  # not a UK number
    assert code(uk, "+420601234567") == "abroad"


def test_the_trunk_gets_the_form_it_needs() -> None:
    assert CZ.trunk_form("+420601234567") == "+420601234567"
    assert NumberPolicy(dial_format=DialFormat.DIGITS).trunk_form("+420601234567") == "420601234567"
    national = NumberPolicy(dial_format=DialFormat.NATIONAL, allowed_regions=frozenset({"SK"}))
    assert national.trunk_form("+420601234567") == "601234567"
    assert national.trunk_form("+421905123456") == "00421905123456"


def test_caller_ids_compare_with_called_numbers() -> None:
    assert CZ.same_number("601 234 567") == CZ.same_number("+420601234567") == "+420601234567"
    assert CZ.same_number("anonymous") == "anonymous"


@given(st.from_regex(r"\+?[0-9]{2,16}", fullmatch=True))
def test_whatever_is_admitted_is_a_home_fixed_line_or_mobile(number: str) -> None:
    try:
        e164 = CZ.check(number)
    except RuleViolation as e:
        assert e.code in {"not_dialable", "premium", "abroad", "not_allowed"}
        return
    assert e164.startswith("+420") and e164[4] in "2345676"  # geographic 2xx-5xx, mobile 6xx/7xx


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_room_under_a_cap_and_when_it_frees() -> None:
    window = timedelta(minutes=1)
    assert seconds_until_room(minutes_ago(0.5, 0.2), 1, 3, window, NOW) is None
    assert seconds_until_room(minutes_ago(0.5, 0.2, 0.1), 1, 3, window, NOW) == 30  # the oldest ages out
    assert seconds_until_room(minutes_ago(0.5, 0.2, 0.1), 2, 3, window, NOW) == 48
    assert seconds_until_room(minutes_ago(5, 0.2), 2, 3, window, NOW) is None  # 5 min ago: outside
    assert seconds_until_room([], 4, 3, window, NOW) == 60  # more than the cap never fits


def test_caps_per_reservation_and_per_profile() -> None:
    caps = CallCaps(reservation_per_day=5, reservation_per_minute=2, profile_per_hour=4, profile_per_day=6)
    asked = [(t, True) for t in minutes_ago(0.5, 0.4)]
    refused = caps.refusal(asked, minutes_ago(0.5, 0.4), 1, NOW)
    assert isinstance(refused, TooMany) and (refused.code, refused.retry_after_s) == ("rate", 30)
    # the start's calls do not count against the per-minute rate of requests
    started = [(t, False) for t in minutes_ago(0.5, 0.4, 0.3, 0.2)]
    refused = caps.refusal(started, minutes_ago(0.5, 0.4, 0.3, 0.2), 1, NOW)
    assert refused is not None and refused.code == "rate" and "hour" in refused.reason  # 4 per hour
    day = [(t, False) for t in minutes_ago(600, 500, 400, 300, 200)]
    refused = caps.refusal(day, [], 1, NOW)
    assert refused is not None and refused.code == "limit" and "conference" in refused.reason
    assert refused.retry_after_s == 24 * 3600 - 600 * 60
    refused = caps.refusal([], minutes_ago(900, 800, 700, 600, 500, 400), 1, NOW)
    assert refused is not None and refused.code == "limit" and "account" in refused.reason
    assert caps.refusal([], [], 2, NOW) is None
    assert (
        largest_that_fits(caps, [(t, False) for t in minutes_ago(30, 20)], minutes_ago(30, 20, 90), NOW) == 2
    )


def test_the_operator_sets_the_policy_and_the_caps_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [n for n in os.environ if n.upper().startswith("DIALCONF_")]:
        monkeypatch.delenv(name)
    defaults = dialout_rules(Settings())
    assert defaults.policy == NumberPolicy() and defaults.caps == CallCaps()
    assert Settings().dialout.max_ringing == 5
    monkeypatch.setenv("DIALCONF_BOOKING__PHONE_REGION", "SK")
    monkeypatch.setenv("DIALCONF_DIALOUT__ALLOWED_TYPES", '["mobile", "toll_free"]')
    monkeypatch.setenv("DIALCONF_DIALOUT__ALLOWED_REGIONS", '["cz"]')
    monkeypatch.setenv("DIALCONF_DIALOUT__DIAL_FORMAT", "national")
    monkeypatch.setenv("DIALCONF_DIALOUT__PROFILE_CALLS_PER_HOUR", "7")
    rules = dialout_rules(Settings())
    assert rules.policy.check("0905 123 456") == "+421905123456"  # a Slovak mobile, read at home
    assert rules.policy.check("+420601234567") == "+420601234567"  # CZ allowed too
    assert code(rules.policy, "+421221234567") == "not_allowed"  # a Bratislava fixed line: not listed
    assert rules.policy.trunk_form("+420601234567") == "00420601234567"
    assert rules.caps.profile_per_hour == 7
    monkeypatch.setenv("DIALCONF_DIALOUT__ALLOWED_TYPES", '["premium"]')
    with pytest.raises(ValidationError):
        Settings()
