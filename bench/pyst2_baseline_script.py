#!/usr/bin/env python3
"""The dial-in journey as a classic AGI script: Asterisk starts one process per call and
talks AGI over its stdin/stdout (pyst2's ``asterisk.agi.AGI``). The baseline of the AGI
benchmark (bench/agi_bench.py); not used by dialconf itself.

It sends what the controller's journey sends for an English caller (the greeting with the
other languages offered, Read() for 1, the conference number and the PIN then one verdict,
the room check, the ConfBridge variables), with three tries at each step. It does not switch
languages (keys 2-6) nor record names: the benchmark's callers do neither.

``argv[1]`` is how the booking is looked up, in the SQLite store at ``$DIALCONF_DATABASE_URL``:

- ``service``: the booking service's own code, ``booking.services.dialin.DialInService`` over
  ``UnitOfWork`` (the same rules and PIN guard as the controller; SQLAlchemy and pydantic imported
  per call);
- ``sqlite3``: the standard library's sqlite3 with the same two reads (the room's active
  reservations, the PIN-guard keys of the conference and the caller) and the happy-path rules
  inline: the leanest a per-call script can be (it counts no wrong guesses, and reads no caller
  history: a throttled conference refuses every caller; the benchmark's callers guess nothing).

Per call there is no shared memory: the seat check can only use ConfBridge's own party count
(CONFBRIDGE_INFO), not the controller's held seats.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from asterisk.agi import AGI, AGIHangup

TRIES = 3
DIGIT_TIMEOUT_S = 6  # ControllerSettings.digit_timeout_ms / 1000
MAX_DIGITS = 12
ANNOUNCER_HEADROOM = 3
JOIN_LEAD = timedelta(minutes=5)
OTHER_LANGUAGES = ("cs", "de", "fr", "pl")
SOUNDS = "/usr/share/asterisk/sounds"
GREETING = ["dialconf/press_one", *(f"{SOUNDS}/{lang}/dialconf/language_choice" for lang in OTHER_LANGUAGES)]
PROFILES = {"participant": "dialconf_participant", "moderator": "dialconf_moderator"}
MENUS = {"participant": "dialconf_menu_participant", "moderator": "dialconf_menu_moderator"}
BRIDGE_PROFILE = "dialconf_bridge"


class GaveUp(Exception):
    pass


class Lookup(Protocol):
    def dial_in(self, number: str, pin: str, caller: str) -> tuple[str, str, int]: ...


class ServiceLookup:
    """The booking service's DialInService, as the controller's ThreadedDirectory calls it."""

    def __init__(self, url: str) -> None:
        from booking.domain.clock import SystemClock
        from booking.services.dialin import DialInService
        from booking.settings import BookingSettings
        from booking.store.engine import make_engine
        from booking.store.unit_of_work import SqlUnitOfWork

        self._service = DialInService(SqlUnitOfWork(make_engine(url)), SystemClock(), BookingSettings())

    def dial_in(self, number: str, pin: str, caller: str) -> tuple[str, str, int]:
        """(verdict, role, participant limit): admitted, too_early, over, bad_credentials or
        locked_out (a caller locked out or a conference throttled: the code is not compared)."""
        from booking.services.dialin import DialInStatus

        outcome = self._service.dial_in(number, pin, caller)
        if outcome.status is DialInStatus.BAD_CREDENTIALS:
            return "bad_credentials", "", 0
        if outcome.admission is None or outcome.reservation is None:
            return "locked_out", "", 0
        a = outcome.admission
        return a.verdict.value, a.role.value if a.role else "", outcome.reservation.participant_limit


class Sqlite3Lookup:
    """The same reads with the standard library: the room's active reservations and the
    PIN-guard keys (wrong PINs are refused but not counted: the benchmark keys none)."""

    _RESERVATIONS = (
        "SELECT r.starts_at, r.ends_at, r.seats, r.max_participants, m.pin, m.admin_pin "
        "FROM reservations r JOIN rooms m ON m.id = r.room_id "
        "WHERE m.conference_number = ? AND m.deleted_at IS NULL AND r.status = 'active' "
        "ORDER BY r.starts_at"
    )

    def __init__(self, url: str) -> None:
        import sqlite3

        self._db = sqlite3.connect(url.split("///", 1)[1], timeout=30, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=30000")

    def dial_in(self, number: str, pin: str, caller: str) -> tuple[str, str, int]:
        now = datetime.now(UTC).replace(tzinfo=None)
        keys = [f"conference:{number}"] + ([f"caller:{caller}"] if caller else [])
        marks = ",".join("?" * len(keys))
        locks = self._db.execute(f"SELECT locked_until FROM pin_attempts WHERE key IN ({marks})", keys)
        for (value,) in locks:
            until = _naive(value)
            if until is not None and now < until:
                return "locked_out", "", 0
        found = self._db.execute(self._RESERVATIONS, (number,)).fetchall()
        chosen: Any = None
        for row in found:  # the open one, else the next one, else the last (pick_reservation)
            starts = _naive(row[0])
            ends = _naive(row[1])
            opens = starts - JOIN_LEAD if starts else None
            if (opens is None or opens <= now) and (ends is None or now < ends):
                chosen = row
                break
            if opens is not None and opens > now and chosen is None:
                chosen = row
        chosen = chosen or (found[-1] if found else None)
        role = (
            ""
            if chosen is None
            else "moderator"
            if pin == chosen[5]
            else "participant"
            if pin == chosen[4]
            else ""
        )
        if chosen is None or not role:
            return "bad_credentials", "", 0
        limit = min(chosen[2], chosen[3] or chosen[2])
        starts, ends = _naive(chosen[0]), _naive(chosen[1])
        if starts is not None and now < starts - JOIN_LEAD:
            return "too_early", role, limit
        if ends is not None and now >= ends:
            return "over", role, limit
        return "admitted", role, limit


def _naive(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def read(agi: AGI, prompts: list[str], max_digits: int) -> str:
    agi.appexec("Read", f"DIALCONF_DIGITS,{'&'.join(prompts)},{max_digits},,1,{DIGIT_TIMEOUT_S}")
    digits: str = agi.get_variable("DIALCONF_DIGITS")
    if digits:
        return digits
    if agi.get_variable("READSTATUS") == "HANGUP":
        raise AGIHangup("caller hung up while keying digits")
    return ""


def say(agi: AGI, *phrases: str) -> None:
    for phrase in phrases:
        agi.stream_file(f"dialconf/{phrase}")


def journey(agi: AGI, lookup: Lookup) -> None:
    caller = agi.env.get("agi_callerid", "")
    caller = "" if caller == "unknown" else caller
    agi.answer()
    agi.set_variable("CHANNEL(language)", "en")
    for _ in range(TRIES):
        if read(agi, GREETING, 1) == "1":
            break
        say(agi, "no_input")
    else:
        raise GaveUp
    before: list[str] = []
    for round_ in range(1, TRIES + 1):
        number = read(agi, [f"dialconf/{p}" for p in (*before, "conference_number")], MAX_DIGITS)
        pin = read(agi, ["dialconf/pin_pause", "dialconf/pin"], MAX_DIGITS) if number else ""
        if not pin:
            if round_ == TRIES:
                say(agi, "no_input")
            before = ["no_input", "try_again"]
            continue
        verdict, role, limit = lookup.dial_in(number, pin, caller)
        if verdict == "bad_credentials":
            say(agi, "bad_credentials")
            before = ["try_again"]
            continue
        if verdict != "admitted":
            say(agi, {"locked_out": "pin_locked"}.get(verdict, "unavailable"))
            raise GaveUp
        break
    else:
        raise GaveUp
    bridge = f"conf-{number}"
    if role != "moderator":
        info = agi.get_full_variable(
            f"${{CONFBRIDGE_INFO(parties,{bridge})}},${{CONFBRIDGE_INFO(locked,{bridge})}}"
        )
        parties, _, locked = (info or "0,0").partition(",")
        if locked.strip() == "1" or int(parties or 0) >= limit:
            say(agi, "locked" if locked.strip() == "1" else "full")
            raise GaveUp
    agi.set_variable("CONFBRIDGE(bridge,template)", BRIDGE_PROFILE)
    agi.set_variable("CONFBRIDGE(bridge,max_members)", str(limit + ANNOUNCER_HEADROOM))
    agi.set_variable("CONFBRIDGE(user,template)", PROFILES[role])
    agi.set_variable("DIALCONF_BRIDGE", bridge)
    agi.set_variable("DIALCONF_CONFERENCE", number)
    agi.set_variable("DIALCONF_ROLE", role)
    agi.set_variable("DIALCONF_MENU", MENUS[role])
    agi.set_variable("DIALCONF_ACTION", "join")


def main() -> int:
    variant = sys.argv[1] if len(sys.argv) > 1 else "service"
    url = os.environ["DIALCONF_DATABASE_URL"]
    lookup: Lookup = ServiceLookup(url) if variant == "service" else Sqlite3Lookup(url)
    agi = AGI()
    try:
        journey(agi, lookup)
    except GaveUp:
        say(agi, "goodbye")
        agi.hangup()
    except AGIHangup:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
