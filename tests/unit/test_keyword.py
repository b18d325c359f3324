"""The order keyword (R2): `conf|konf ddmm hhmm ddd nn`, its language, its calendar, its errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.domain.compose import Composer
from booking.domain.errors import KeywordError
from booking.domain.keyword import CancelOrder, ExtendOrder, Order, StatusQuery, parse
from booking.domain.texts import Texts
from booking.settings import BookingSettings

PRAGUE = ZoneInfo("Europe/Prague")
NOW = datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # 10:00 in Prague (summer time)


def order(text: str, now: datetime = NOW) -> Order:
    found = parse(text, now, PRAGUE)
    assert isinstance(found, Order)
    return found


def error(text: str, now: datetime = NOW) -> KeywordError:
    with pytest.raises(KeywordError) as caught:
        parse(text, now, PRAGUE)
    return caught.value


def test_the_sources_worked_example() -> None:
    o = order("konf 0907 1400 60 10")
    assert o == Order("cs", datetime(2027, 7, 9, 12, 0, tzinfo=UTC), 60, 10)  # 14:00 CEST


def test_keyword_is_case_insensitive_and_names_the_language() -> None:
    assert order("CONF 0907 1400 60 10").lang == "en"
    assert order("Konf 0907 1400 60 10").lang == "cs"


def test_extra_spaces_tabs_and_line_breaks_are_tolerated() -> None:
    assert order("  konf   0907\t1400 \n 60   10  ") == order("konf 0907 1400 60 10")
    assert order("konf\u00a00907\u00a01400 60 10").seats == 10  # a no-break space from a phone


def test_separators_people_type_are_read() -> None:
    assert order("konf 9.7. 14:00 60 10") == order("konf 0907 1400 60 10")
    assert order("konf 09/07 14.00 60min 10").minutes == 60


def test_the_date_means_its_next_occurrence() -> None:
    assert order("konf 0102 0900 60 5").starts_at.year == 2028  # 1 February has passed this year
    assert order("konf 0107 1200 60 5").starts_at == datetime(2027, 7, 1, 10, 0, tzinfo=UTC)  # today, later


def test_a_time_earlier_today_is_refused_not_moved_a_year() -> None:
    e = error("konf 0107 0900 60 5")  # 09:00 today; it is 10:00
    assert (e.code, e.lang, e.params["now"]) == ("time_passed", "cs", "10:00")


def test_a_start_just_now_is_today() -> None:
    assert order("conf 0107 0958 60 5").starts_at == datetime(2027, 7, 1, 7, 58, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("conf 3106 1400 60 10", "bad_day"),  # no 31 June
        ("conf 3002 1400 60 10", "bad_day"),
        ("conf 0913 1400 60 10", "bad_month"),
        ("conf 0007 1400 60 10", "bad_day"),
        ("conf 2400 1400 60 10", "bad_month"),
        ("conf 0907 2400 60 10", "bad_clock"),  # no 24:00
        ("conf 0907 1460 60 10", "bad_clock"),
        ("conf 0907 14h 60 10", "bad_time"),
        ("conf july 1400 60 10", "bad_date"),
        ("conf 0907 1400 an-hour 10", "bad_minutes"),
        ("conf 0907 1400 0 10", "zero_minutes"),
        ("conf 0907 1400 60 0", "zero_participants"),
        ("conf 0907 1400 60 ten", "bad_participants"),
        ("conf 0907 1400 60", "missing"),
        ("conf", "missing"),
        ("conf 0907 1400 60 10 please", "unexpected"),
        ("", "empty"),
        ("book 0907 1400 60 10", "unknown_keyword"),
    ],
)
def test_each_mistake_has_its_own_code(text: str, code: str) -> None:
    assert error(text).code == code


def test_missing_names_the_field() -> None:
    assert error("konf 0907 1400 60").params["field"] == "participants"
    assert error("konf 0907").params["field"] == "time"


def test_29_february_is_the_next_leap_year() -> None:
    assert order("conf 2902 1000 60 5").starts_at.year == 2028


def test_a_skipped_wall_time_is_refused() -> None:
    spring = datetime(2028, 3, 20, 8, 0, tzinfo=UTC)  # 26 March 2028: 02:00 -> 03:00 in Prague
    assert error("conf 2603 0230 60 5", spring).code == "time_skipped"


def test_invitees_follow_the_order() -> None:
    o = order("konf 0907 1400 60 10 jan@example.com +420601234567 jan@example.com")
    assert o.invitees == ("jan@example.com", "+420601234567")


def test_status_and_cancel() -> None:
    assert parse("STAV", NOW, PRAGUE) == StatusQuery("cs")
    assert parse("status", NOW, PRAGUE) == StatusQuery("en")
    assert parse("zrušit 123456", NOW, PRAGUE) == CancelOrder("cs", "123456")
    assert parse("cancel", NOW, PRAGUE) == CancelOrder("en", None)
    assert error("cancel abc").code == "bad_conference"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("extend", ExtendOrder("en", None, None)),
        ("EXTEND 30", ExtendOrder("en", None, 30)),  # a lone short number: minutes
        ("extend 30min", ExtendOrder("en", None, 30)),
        ("extend 120m", ExtendOrder("en", None, 120)),
        ("extend 123456", ExtendOrder("en", "123456", None)),  # a lone long one: the conference
        ("extend 1234", ExtendOrder("en", "1234", None)),
        ("extend 123456 45", ExtendOrder("en", "123456", 45)),
        ("prodluž", ExtendOrder("cs", None, None)),
        ("Prodloužit 123456 15", ExtendOrder("cs", "123456", 15)),
        ("przedłuż 20", ExtendOrder("pl", None, 20)),
        ("przedluz 20", ExtendOrder("pl", None, 20)),
        ("verlängern 123456", ExtendOrder("de", "123456", None)),
        ("prolonger 123456 10", ExtendOrder("fr", "123456", 10)),
    ],
)
def test_extend_takes_an_optional_number_and_optional_minutes(text: str, expected: ExtendOrder) -> None:
    assert parse(text, NOW, PRAGUE) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("extend abc", "bad_extend"),
        ("extend 12ab", "bad_extend"),
        ("extend 0", "zero_minutes"),
        ("extend 123456 0", "zero_minutes"),
        ("extend 123456 soon", "bad_minutes"),
        ("extend x1 30", "bad_extend"),
        ("extend 123456 30 now", "unexpected"),
    ],
)
def test_a_bad_extend_names_its_mistake(text: str, code: str) -> None:
    e = error(text)
    assert e.code == code and e.lang == "en"


def test_every_error_renders_in_both_languages() -> None:
    composer = Composer({"+420222111000": "cs"}, PRAGUE, "Dialconf", BookingSettings())
    for text in (
        "konf 3106 1400 60 10",
        "conf 0907 1400 60",
        "konf 0907 2400 60 10",
        "konf 0107 0900 60 5",
        "prodluz abc",
    ):
        e = error(text)
        for lang in ("cs", "en", "pl", "de", "fr"):
            rendered = composer.keyword_error(e, Texts(lang))
            assert rendered and "{" not in rendered
    cs = composer.keyword_error(error("konf 3106 1400 60 10"), Texts("cs"))
    assert "června" in cs and "30" in cs  # "June has only 30 days", in Czech


WORDS = st.sampled_from(
    [
        "conf",
        "konf",
        "CONF",
        "status",
        "stav",
        "zrus",
        "cancel",
        "extend",
        "prodluz",
        "123456",
        "0907",
        "3106",
        "2400",
        "1400",
        "60",
        "10",
        "0",
        "-1",
        "9.7.",
        "14:00",
        "a@b.cz",
        "+420601234567",
        "x",
    ]
)


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(st.text(max_size=600), st.lists(WORDS, max_size=8).map(" ".join)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)),
)
def test_no_input_crashes_the_parser(text: str, now: datetime) -> None:
    try:
        found = parse(text, now, PRAGUE)
    except KeywordError as e:
        assert e.code
        return
    if isinstance(found, Order):
        assert found.starts_at >= now - timedelta(minutes=5)
        assert found.starts_at.tzinfo is not None
        assert found.minutes >= 1 and found.seats >= 1
