"""What any input must fit before a rule or the store sees it: whole numbers the store's columns
hold, moments date arithmetic can shift, and text without control characters.

These are not booking policy (``BookingSettings`` is: seats, lengths, how far ahead); they are
what keeps a request from crashing the code below it. A number beyond ``STORE_INT_MAX`` does not
fit PostgreSQL's INTEGER columns (ids, seats); a moment near year 1 or 9999 overflows as soon as
a length, a notice lead or a time zone is applied to it; a NUL is refused by PostgreSQL and a
lone surrogate cannot be encoded as UTF-8 at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

# PostgreSQL's INTEGER (SQLite's 64-bit integers hold it too): every id and count column.
STORE_INT_MAX = 2**31 - 1
# Moments the service accepts; anything bookable lies well inside, and shifting these by any
# length the rules allow (or by STORE_INT_MAX minutes, about 4 085 years) stays representable.
FIRST_MOMENT = datetime(1970, 1, 1, tzinfo=UTC)
LAST_MOMENT = datetime(3000, 1, 1, tzinfo=UTC)  # exclusive
FIRST_YEAR, LAST_YEAR = FIRST_MOMENT.year, LAST_MOMENT.year - 1

# C0 and C1 controls, DEL, and UTF-16 surrogates (which only ever arrive alone in a str).
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, but a text of several lines keeps its tabs and line ends.
_NOT_IN_A_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def text_problem(text: str, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be taken (the first offending character), or None."""
    found = (_NOT_IN_A_TEXT if multiline else _NOT_IN_A_LINE).search(text)
    if found is None:
        return None
    code = ord(found.group())
    what = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"contains {what} (U+{code:04X}) at position {found.start()}"


def moment_problem(at: datetime) -> str | None:
    """Why an aware ``at`` is outside the moments the service accepts, or None."""
    try:
        utc = at.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is past datetime.max in UTC
        utc = None
    if utc is None or not FIRST_MOMENT <= utc < LAST_MOMENT:
        return f"must be between {FIRST_YEAR} and {LAST_YEAR} (UTC)"
    return None
