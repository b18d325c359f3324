"""Dial-out rules (R40, R50): what may be dialled, how attempts are retried, what Asterisk said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from booking.domain.dialout import CallState, DialCall, Outcome, outcome_of, outcome_of_cause
from booking.domain.dialout_policy import NumberKind, NumberPolicy
from booking.domain.errors import RuleViolation
from conference_ivr.pbx.names import dial_string

NOW = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
ANYTHING = NumberPolicy(
    allowed_regions=frozenset({"001", "GB", "US", "SK", "DE"}),
    allowed_kinds=frozenset(NumberKind),
    pattern=".*",
)


def test_only_digits_with_an_optional_plus_reach_the_classification() -> None:
    policy = NumberPolicy()
    assert policy.check("+420 601 234 567") == "+420601234567"
    assert policy.check("601-234-567") == "+420601234567"
    for bad in ("601234567&Local/x@y", "123/456x", "sip:600@host", "*99#", "+", ""):
        with pytest.raises(RuleViolation) as e:
            policy.check(bad)
        assert (e.value.field, e.value.code) == ("number", "not_dialable")


@given(st.text(max_size=40))
def test_nothing_but_a_plain_number_reaches_a_dial_string(text: str) -> None:
    try:
        number = ANYTHING.check(text)
    except RuleViolation:
        return
    channel = dial_string("PJSIP/{number}@{trunk}", ANYTHING.trunk_form(number))
    assert channel == f"PJSIP/{number}@dialconf-trunk" and number.startswith("+")
    assert number.lstrip("+").isdigit()


def test_no_answer_and_busy_are_retried_a_refusal_is_final() -> None:
    call = DialCall(1, "601234567", "en", NOW, id=7, state=CallState.CALLING)
    again = call.after_attempt(Outcome.NO_ANSWER, NOW, 3, timedelta(minutes=1))
    assert (again.state, again.attempts, again.next_at) == (CallState.PENDING, 1, NOW + timedelta(minutes=1))
    last = again.after_attempt(Outcome.BUSY, NOW, 2, timedelta(minutes=1))
    assert (last.state, last.attempts, last.last_outcome) == (CallState.FAILED, 2, "busy")
    refused = call.after_attempt(Outcome.REJECTED, NOW, 3, timedelta(minutes=1))
    assert (refused.state, refused.attempts) == (CallState.FAILED, 1)


def test_what_asterisk_reports_becomes_an_outcome() -> None:
    assert outcome_of("3") is Outcome.NO_ANSWER and outcome_of("5") is Outcome.BUSY
    assert outcome_of("0") is Outcome.FAILED  # then the hangup cause decides
    assert outcome_of_cause(17) is Outcome.BUSY and outcome_of_cause(21) is Outcome.REJECTED
    assert outcome_of_cause(19) is Outcome.NO_ANSWER and outcome_of_cause(38) is Outcome.FAILED
