"""The order keyword of SMS and e-mail (R1, R2): ``conf|konf ddmm hhmm ddd nn``.

Also the self-service commands beyond the sources: ``status`` / ``stav``, ``cancel [number]`` /
``zrus [number]`` and ``extend [number] [minutes]`` / ``prodluz`` (R9 on request: the running
conference's booked end moved). The parser is pure: it takes the text, the current instant and
the service's time zone, and returns a typed command or raises ``KeywordError`` with a stable
code and the values a translated message needs. It never raises anything else.
"""

from __future__ import annotations

import calendar
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.domain.errors import KeywordError

# The keyword names the reply language (R2): konf is Czech, conf English.
ORDER_KEYWORDS = {"conf": "en", "konf": "cs"}
STATUS_KEYWORDS = {"status": "en", "stav": "cs"}
CANCEL_KEYWORDS = {"cancel": "en", "zrus": "cs", "zrusit": "cs"}
# Each text catalogue's own word ("przedłuż" keeps its ł: NFKD has no decomposition for it).
EXTEND_KEYWORDS = {
    "extend": "en",
    "prodluz": "cs",
    "prodlouzit": "cs",
    "przedluz": "pl",
    "przedłuz": "pl",
    "verlangern": "de",
    "prolonger": "fr",
}
# ``extend 30`` means minutes, ``extend 123456`` a conference: a lone number this long or
# longer is a conference number (they have 6 digits unless an operator set fewer, never < 4).
EXTEND_NUMBER_DIGITS = 4
# An e-mail confirms a waiting order with ``confirm <code>`` (in the subject or the first line).
CONFIRM_KEYWORDS = frozenset(("confirm", "potvrdit", "potvrzuji", "potwierdz", "bestatigen", "confirmer"))
FIELDS = ("date", "time", "minutes", "participants")
MAX_TEXT = 480  # three concatenated SMS; anything longer is not an order
MAX_INVITEES = 20

_DATE = re.compile(r"^(?:(\d{2})(\d{2})|(\d{1,2})[./-](\d{1,2})\.?)$")
_TIME = re.compile(r"^(?:(\d{1,2})(\d{2})|(\d{1,2})[:.](\d{2}))$")
_NUMBER = re.compile(r"^(\d{1,6})(?:min|m)?$")
_BARE_MINUTES = re.compile(rf"^\d{{1,{EXTEND_NUMBER_DIGITS - 1}}}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[a-z0-9-]+(\.[a-z0-9-]+)+$")
_PHONE = re.compile(r"^\+?\d{6,15}$")
_CONFERENCE = re.compile(r"^\d{3,12}$")
_CODE = re.compile(r"^\d{4,12}$")
_PUNCTUATION = ".,;:!?\"'()[]<>«»"


@dataclass(frozen=True)
class Order:
    lang: str
    starts_at: datetime  # aware, UTC
    minutes: int
    seats: int
    invitees: tuple[str, ...] = field(default=())  # e-mail addresses and phone numbers


@dataclass(frozen=True)
class StatusQuery:
    lang: str


@dataclass(frozen=True)
class CancelOrder:
    lang: str
    conference_number: str | None  # None: the sender's only booking


@dataclass(frozen=True)
class ExtendOrder:
    lang: str
    conference_number: str | None  # None: the sender's only running conference
    minutes: int | None  # None: the service's extension period


Command = Order | StatusQuery | CancelOrder | ExtendOrder


def normalise(text: str) -> list[str]:
    """Words of ``text``: NFKC, lower case, diacritics off, any run of white space one gap."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    return plain.split()


def confirmation_code(text: str) -> str | None:
    """The code of ``confirm 12345678`` anywhere in ``text``: a reply's subject keeps it
    ("Re: Please confirm: confirm 12345678"), or the customer writes it as the first line."""
    words = [w.strip(_PUNCTUATION) for w in normalise(text[:MAX_TEXT])]
    for word, following in itertools.pairwise(words):
        if word in CONFIRM_KEYWORDS and _CODE.match(following):
            return following
    return None


def parse(text: str, now: datetime, tz: ZoneInfo, grace: timedelta = timedelta(minutes=5)) -> Command:
    """The command in ``text``. ``grace``: how far in the past a start may be (a caller who
    books "now" a minute late still gets today)."""
    if len(text) > MAX_TEXT:
        raise KeywordError("too_long", None, limit=MAX_TEXT)
    words = normalise(text)
    if not words:
        raise KeywordError("empty", None)
    head, rest = words[0], words[1:]
    if head in STATUS_KEYWORDS:
        if rest:
            raise KeywordError("unexpected", STATUS_KEYWORDS[head], word=rest[0])
        return StatusQuery(STATUS_KEYWORDS[head])
    if head in CANCEL_KEYWORDS:
        lang = CANCEL_KEYWORDS[head]
        if len(rest) > 1:
            raise KeywordError("unexpected", lang, word=rest[1])
        if rest and not _CONFERENCE.match(rest[0]):
            raise KeywordError("bad_conference", lang, value=rest[0])
        return CancelOrder(lang, rest[0] if rest else None)
    if head in EXTEND_KEYWORDS:
        return _extend(EXTEND_KEYWORDS[head], rest)
    if head not in ORDER_KEYWORDS:
        raise KeywordError("unknown_keyword", None, word=head[:20])
    return _order(ORDER_KEYWORDS[head], rest, now, tz, grace)


def _order(lang: str, words: list[str], now: datetime, tz: ZoneInfo, grace: timedelta) -> Order:
    if len(words) < len(FIELDS):
        raise KeywordError("missing", lang, field=FIELDS[len(words)], given=len(words))
    day, month = _date(lang, words[0])
    hour, minute = _time(lang, words[1])
    minutes = _count(lang, "minutes", words[2])
    seats = _count(lang, "participants", words[3])
    invitees = _invitees(lang, words[4:])
    starts_at = next_occurrence(lang, day, month, hour, minute, now, tz, grace)
    return Order(lang, starts_at, minutes, seats, invitees)


def _extend(lang: str, words: list[str]) -> ExtendOrder:
    """``extend``, ``extend <minutes>``, ``extend <number>`` or ``extend <number> <minutes>``."""
    if len(words) > 2:
        raise KeywordError("unexpected", lang, word=words[2][:30])
    if len(words) == 2:
        if not _CONFERENCE.match(words[0]):
            raise KeywordError("bad_extend", lang, value=words[0][:12])
        return ExtendOrder(lang, words[0], _count(lang, "minutes", words[1]))
    if not words:
        return ExtendOrder(lang, None, None)
    word = words[0]
    if _BARE_MINUTES.match(word) or (_NUMBER.match(word) and not word.isdigit()):
        return ExtendOrder(lang, None, _count(lang, "minutes", word))
    if _CONFERENCE.match(word):
        return ExtendOrder(lang, word, None)
    raise KeywordError("bad_extend", lang, value=word[:12])


def _date(lang: str, word: str) -> tuple[int, int]:
    m = _DATE.match(word)
    if m is None:
        raise KeywordError("bad_date", lang, value=word[:12])
    d, mo = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    day, month = int(d), int(mo)
    if not 1 <= month <= 12:
        raise KeywordError("bad_month", lang, value=word, month=month)
    # February is checked against a leap year here: 29 February exists, in its year.
    last = calendar.monthrange(2024, month)[1]
    if not 1 <= day <= last:
        raise KeywordError("bad_day", lang, value=word, day=day, month=month, last=last)
    return day, month


def _time(lang: str, word: str) -> tuple[int, int]:
    m = _TIME.match(word)
    if m is None:
        raise KeywordError("bad_time", lang, value=word[:12])
    h, mi = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    hour, minute = int(h), int(mi)
    if hour > 23 or minute > 59:
        raise KeywordError("bad_clock", lang, value=word)
    return hour, minute


def _count(lang: str, name: str, word: str) -> int:
    m = _NUMBER.match(word)
    if m is None:
        raise KeywordError(f"bad_{name}", lang, value=word[:12])
    n = int(m.group(1))
    if n < 1:
        raise KeywordError(f"zero_{name}", lang, value=word)
    return n


def _invitees(lang: str, words: list[str]) -> tuple[str, ...]:
    if len(words) > MAX_INVITEES:
        raise KeywordError("too_many_invitees", lang, limit=MAX_INVITEES)
    found: list[str] = []
    for w in words:
        if _EMAIL.match(w) or _PHONE.match(w):
            if w not in found:
                found.append(w)
        else:
            raise KeywordError("unexpected", lang, word=w[:30])
    return tuple(found)


def next_occurrence(
    lang: str, day: int, month: int, hour: int, minute: int, now: datetime, tz: ZoneInfo, grace: timedelta
) -> datetime:
    """The next time this local date and time comes (never the past), in UTC.

    A time earlier today is an error rather than next year: nobody books a year ahead by
    sending this morning's time. An earlier date means its next year.
    """
    local_now = now.astimezone(tz)
    year = local_now.year
    for _ in range(9):  # 29 February comes at least once in 8 years
        if day <= calendar.monthrange(year, month)[1]:
            at = _local(lang, date(year, month, day), hour, minute, tz)
            if at >= now - grace:
                return at
            if at.astimezone(tz).date() == local_now.date():
                raise KeywordError("time_passed", lang, now=local_now.strftime("%H:%M"))
        year += 1
    raise KeywordError("bad_day", lang, value=f"{day:02}{month:02}", day=day, month=month, last=28)


def _local(lang: str, d: date, hour: int, minute: int, tz: ZoneInfo) -> datetime:
    naive = datetime(d.year, d.month, d.day, hour, minute)
    at = naive.replace(tzinfo=tz)
    # A wall time the clock skips (spring forward) does not survive the round trip.
    if at.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise KeywordError("time_skipped", lang, value=f"{hour:02}:{minute:02}")
    return at.astimezone(UTC)
