"""The dial-in journey as a real FastAGI route, driven by a fake Asterisk that keys scripted digits."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

import pytest
import structlog
from structlog.testing import capture_logs

from booking.domain.model import Reservation, ReservationKind, Room, Verdict, admit
from booking.services.dialin import DialInOutcome, DialInStatus
from conference_ivr.agi.server import FastAgiServer
from conference_ivr.ivr.journey import DialInJourney
from conference_ivr.metrics import Metrics
from conference_ivr.settings import ControllerSettings

LEAD = timedelta(minutes=5)
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ROOM = Room(conference_number="583920", pin="472915", admin_pin="860374", profile_id=1, id=1)
ANYTIME = Reservation(ROOM, ReservationKind.ANYTIME, None, None, seats=7, id=1)
UNIQUEID = "1700000000.42"
PIN = "pin_pause+pin"  # the PIN's prompt: a second's pause first (keyed in one go, it is never heard)
AGAIN = "try_again+conference_number"
_SET = re.compile(r'^SET VARIABLE (\S+) "(.*)"$')
_READ = re.compile(r'^EXEC Read "DIALCONF_DIGITS,(?P<prompt>[^,]*),')


class FakeDirectory:
    """Decides like DialInService: nothing before the PIN, one answer for a wrong number or PIN."""

    def __init__(
        self,
        reservation: Reservation = ANYTIME,
        fail: bool = False,
        refusal: DialInStatus | None = None,
        delay: float = 0,
        alert_on: int = 0,
    ) -> None:
        self._reservation = reservation
        self._fail = fail
        self._refusal = refusal  # CALLER_LOCKED or THROTTLED: the code is not compared
        self._delay = delay
        self._alert_on = alert_on  # the wrong guess (1, 2...) that uses up the budget
        self.dial_ins: list[tuple[str, str, str]] = []

    async def dial_in(self, conference_number: str, pin: str, caller: str = "") -> DialInOutcome:
        if self._fail:
            raise RuntimeError("booking store unreachable")
        self.dial_ins.append((conference_number, pin, caller))
        if self._refusal is not None:
            return DialInOutcome(self._refusal)
        admission = admit(self._reservation, pin, NOW, LEAD)
        if (
            conference_number != self._reservation.room.conference_number
            or admission.verdict is Verdict.WRONG_PIN
        ):
            alert = len(self.dial_ins) == self._alert_on
            return DialInOutcome(DialInStatus.BAD_CREDENTIALS, delay_s=self._delay, throttle_started=alert)
        return DialInOutcome(DialInStatus.DECIDED, self._reservation, admission)


@dataclass
class Call:
    commands: list[str]
    metrics: Metrics
    joined: list[str] = field(default_factory=list)

    @property
    def played(self) -> list[str]:
        """Catalogue phrases played outside digit reads."""
        return [c.split()[2].removeprefix("dialconf/") for c in self.commands if c.startswith("STREAM FILE ")]

    @property
    def prompts(self) -> list[str]:
        """The phrases (in the caller's language) of every digit read: ``a+b`` for two."""
        return [
            "+".join(p.removeprefix("dialconf/") for p in m["prompt"].split("&") if p.startswith("dialconf/"))
            for c in self.commands
            if (m := _READ.match(c))
        ]

    @property
    def variables(self) -> list[tuple[str, str]]:
        return [(m[1], m[2]) for c in self.commands if (m := _SET.match(c))]

    def failures(self, reason: str) -> float | None:
        return self.metrics.registry.get_sample_value("dialconf_join_failures_total", {"reason": reason})


async def _answer(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, keyed: list[str], room_info: str
) -> list[str]:
    """Be Asterisk: answer every command until the route closes the socket.

    Each Read() gets the next of ``keyed``: "" (or none left) times out, "HANGUP" hangs up.
    """
    commands: list[str] = []
    digits = iter(keyed)
    status = "TIMEOUT"
    while line := (await reader.readline()).decode().rstrip("\n"):
        commands.append(line)
        if line == "GET VARIABLE DIALCONF_DIGITS":
            value = next(digits, "")
            status = "HANGUP" if value == "HANGUP" else "TIMEOUT"
            reply = f"200 result=1 ({value})" if value and status != "HANGUP" else "200 result=0"
        elif line == "GET VARIABLE READSTATUS":
            reply = f"200 result=1 ({status})"
        elif line.startswith("GET FULL VARIABLE"):
            reply = f"200 result=1 ({room_info})"
        elif line.startswith(("EXEC Read ", "EXEC Wait ")):
            reply = "200 result=0"
        elif line.startswith(("STREAM FILE ", "RECORD FILE ")):
            reply = "200 result=0 endpos=8000"  # the caller said something
        else:
            reply = "200 result=1"
        writer.write(reply.encode() + b"\n")
        await writer.drain()
    writer.close()
    return commands


async def dial(
    directory: FakeDirectory, *keyed: str, access: str = "8000", room_info: str = "0,0", names: bool = False
) -> Call:
    metrics = Metrics()
    joined: list[str] = []
    journey = DialInJourney(
        directory,
        ControllerSettings(),
        metrics,
        {"8000": "en", "8420": "cs"},
        names_dir=PurePosixPath("/var/lib/dialconf/t/names") if names else None,
        on_join=lambda arrival, _answered: joined.append(arrival.uniqueid),
    )
    server = FastAgiServer()
    server.add_route("ivr", journey)
    port = await server.start("127.0.0.1", 0)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"agi_network_script: ivr\nagi_channel: Local/s@dialconf-ivr-00000001;2\n"
            f"agi_uniqueid: {UNIQUEID}\nagi_callerid: +420601000001\nagi_arg_1: {access}\n\n".encode()
        )
        commands = await asyncio.wait_for(_answer(reader, writer, list(keyed), room_info), 5)
    finally:
        await server.close()
    return Call(commands, metrics, joined)


@pytest.fixture
def info_logs() -> Iterator[list[structlog.typing.EventDict]]:
    """Capture every log line at info and above (the suite is configured for warnings only)."""
    wrapper = structlog.get_config()["wrapper_class"]
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
            yield logs
    finally:
        structlog.configure(wrapper_class=wrapper)


async def test_participant_joins() -> None:
    call = await dial(FakeDirectory(), "1", ROOM.conference_number, ROOM.pin)
    assert call.commands[:3] == ["ANSWER", 'SET VARIABLE CHANNEL(language) "en"', call.commands[2]]
    assert call.prompts == ["press_one", "conference_number", PIN]
    # the greeting offers the other four languages, each in its own words
    greeting = call.commands[2]
    for lang in ("cs", "de", "fr", "pl"):
        assert f"/usr/share/asterisk/sounds/{lang}/dialconf/language_choice" in greeting
    assert "/en/dialconf/language_choice" not in greeting
    assert call.played == []  # ConfBridge's join tone says it: no "you will now be placed..."
    assert call.variables[1:] == [
        ("CONFBRIDGE(bridge,template)", "dialconf_bridge"),
        ("CONFBRIDGE(bridge,max_members)", "10"),  # 7 seats + headroom for announcers
        ("CONFBRIDGE(user,template)", "dialconf_participant"),
        ("DIALCONF_BRIDGE", "conf-583920"),
        ("DIALCONF_CONFERENCE", "583920"),
        ("DIALCONF_ROLE", "participant"),
        ("DIALCONF_MENU", "dialconf_menu_participant"),
        ("DIALCONF_ACTION", "join"),
    ]
    assert call.commands[-1] == 'SET VARIABLE DIALCONF_ACTION "join"'  # the dialplan runs ConfBridge
    assert "HANGUP" not in call.commands
    assert call.joined == [UNIQUEID]
    assert call.metrics.registry.get_sample_value("dialconf_joins_total", {"role": "participant"}) == 1
    assert call.metrics.registry.get_sample_value("dialconf_calls_total") == 1


async def test_moderator_joins_with_the_moderator_profile_and_menu() -> None:
    call = await dial(FakeDirectory(), "1", ROOM.conference_number, ROOM.admin_pin, room_info="7,1")
    variables = dict(call.variables)
    assert variables["CONFBRIDGE(user,template)"] == "dialconf_moderator"
    assert variables["DIALCONF_MENU"] == "dialconf_menu_moderator"
    assert variables["DIALCONF_ACTION"] == "join"  # a moderator passes a full or locked room
    assert not any(c.startswith("GET FULL VARIABLE") for c in call.commands)
    assert call.metrics.registry.get_sample_value("dialconf_joins_total", {"role": "moderator"}) == 1


async def test_access_number_sets_the_language_and_a_key_switches_it() -> None:
    czech = await dial(FakeDirectory(), "1", ROOM.conference_number, ROOM.pin, access="8420")
    assert czech.commands[1] == 'SET VARIABLE CHANNEL(language) "cs"'
    switched = await dial(FakeDirectory(), "4", "1", ROOM.conference_number, ROOM.pin)
    assert 'SET VARIABLE CHANNEL(language) "de"' in switched.commands
    assert switched.prompts == ["press_one", "press_one", "conference_number", PIN]
    assert "/de/dialconf/language_choice" not in switched.commands[5]  # German no longer offered
    assert dict(switched.variables)["DIALCONF_ACTION"] == "join"


async def test_three_wrong_pins_say_goodbye_and_hang_up() -> None:
    directory = FakeDirectory()
    number = ROOM.conference_number
    call = await dial(directory, "1", number, "111222", number, "333444", number, "555666")
    # both, every time; "try again" is the next read's prompt (the caller may key over it)
    assert call.prompts == ["press_one", "conference_number", PIN, *[AGAIN, PIN] * 2]
    assert call.played == ["bad_credentials"] * 3 + ["goodbye"]
    assert call.commands[-1] == "HANGUP"
    assert "DIALCONF_ACTION" not in dict(call.variables)
    assert [pin for _, pin, _ in directory.dial_ins] == ["111222", "333444", "555666"]
    assert {caller for _, _, caller in directory.dial_ins} == {"+420601000001"}
    assert call.failures("bad_credentials") == 1
    assert call.metrics.registry.get_sample_value("dialconf_pin_wrong_guesses_total") == 3
    assert call.joined == []


async def test_an_unknown_number_sounds_exactly_like_a_wrong_pin() -> None:
    """Nothing is said between the conference number and the PIN: numbers cannot be enumerated."""
    unknown = FakeDirectory()
    wrong = FakeDirectory()
    a = await dial(unknown, "1", "999999", ROOM.pin, "999999", ROOM.pin, "999999", ROOM.pin)
    number = ROOM.conference_number
    b = await dial(wrong, "1", number, "111222", number, "111222", number, "111222")
    assert a.commands == b.commands  # every prompt, every wait, the goodbye: the same
    assert a.played == ["bad_credentials"] * 3 + ["goodbye"]
    assert [n for n, _, _ in unknown.dial_ins] == ["999999"] * 3  # asked only with both keyed
    assert a.failures("bad_credentials") == 1 and a.failures("unknown_conference") is None


async def test_a_wrong_pin_waits_the_growing_delay_then_the_right_one_joins() -> None:
    number = ROOM.conference_number
    call = await dial(FakeDirectory(delay=2), "1", number, "111222", number, ROOM.pin)
    assert call.played == ["bad_credentials"]
    assert call.prompts[3] == AGAIN
    assert 'EXEC Wait "2"' in call.commands
    assert dict(call.variables)["DIALCONF_ACTION"] == "join"
    assert call.failures("bad_credentials") is None


async def test_a_locked_out_caller_number_is_refused_and_counted() -> None:
    call = await dial(
        FakeDirectory(refusal=DialInStatus.CALLER_LOCKED), "1", ROOM.conference_number, ROOM.pin
    )
    assert call.played == ["pin_locked", "goodbye"]
    assert call.failures("pin_locked") == 1
    assert call.metrics.registry.get_sample_value("dialconf_pin_lockouts_total") == 1


async def test_a_throttled_conference_refuses_an_unknown_caller_and_counts_it() -> None:
    call = await dial(FakeDirectory(refusal=DialInStatus.THROTTLED), "1", ROOM.conference_number, ROOM.pin)
    assert call.played == ["pin_locked", "goodbye"]
    assert call.failures("pin_throttled") == 1
    assert call.metrics.registry.get_sample_value("dialconf_pin_throttled_total") == 1
    assert call.metrics.registry.get_sample_value("dialconf_pin_lockouts_total") == 0


async def test_the_guess_that_uses_up_the_budget_alerts(info_logs: list[structlog.typing.EventDict]) -> None:
    number = ROOM.conference_number
    call = await dial(FakeDirectory(alert_on=2), "1", number, "111222", number, "333444", number, ROOM.pin)
    assert call.metrics.registry.get_sample_value("dialconf_pin_attacks_total") == 1
    (attack,) = [e for e in info_logs if e["event"] == "security.pin_attack"]
    assert attack["log_level"] == "warning" and attack["conference"] == number
    assert dict(call.variables)["DIALCONF_ACTION"] == "join"


async def test_locked_and_full_conferences_turn_participants_away() -> None:
    locked = await dial(FakeDirectory(), "1", ROOM.conference_number, ROOM.pin, room_info="2,1")
    assert locked.played == ["locked", "goodbye"]
    assert locked.failures("locked") == 1
    full = await dial(FakeDirectory(), "1", ROOM.conference_number, ROOM.pin, room_info="7,0")
    assert full.played == ["full", "goodbye"]
    assert full.failures("full") == 1


async def test_the_name_is_recorded_under_the_reservation_and_the_channel_id() -> None:
    call = await dial(FakeDirectory(), "1", ROOM.conference_number, ROOM.pin, names=True)
    assert call.played == ["say_name"]
    assert (  # a second of silence after the name ends the recording
        f'RECORD FILE /var/lib/dialconf/t/names/{ANYTIME.id}-{UNIQUEID} wav "#" 4000 0 BEEP s=1'
        in call.commands
    )


async def test_no_number_or_no_pin_keyed_asks_again() -> None:
    directory = FakeDirectory()
    call = await dial(directory, "1", "", ROOM.conference_number, "", ROOM.conference_number, ROOM.pin)
    missed = "no_input+try_again+conference_number"
    assert call.prompts == ["press_one", "conference_number", missed, PIN, missed, PIN]
    assert call.played == []
    assert len(directory.dial_ins) == 1


async def test_no_key_pressed_at_all() -> None:
    call = await dial(FakeDirectory())
    assert call.commands.count("GET VARIABLE READSTATUS") == 3
    assert call.played == ["no_input"] * 3 + ["goodbye"]
    assert call.failures("no_input") == 1


async def test_too_early_is_told_the_start_time() -> None:
    start = NOW + timedelta(hours=1)
    later = Reservation(ROOM, ReservationKind.PANEL, start, start + timedelta(hours=1), 5, id=2)
    call = await dial(FakeDirectory(later), "1", ROOM.conference_number, ROOM.pin)
    assert call.played == ["too_early_a", "oclock", "too_early_b", "goodbye"]
    # 11:00 UTC is 12:00 in Prague (the default time zone), said by Asterisk in English
    assert 'SAY NUMBER 12 ""' in call.commands
    assert call.failures("too_early") == 1


async def test_directory_failure_apologises_and_hangs_up(info_logs: list[structlog.typing.EventDict]) -> None:
    call = await dial(FakeDirectory(fail=True), "1", ROOM.conference_number, ROOM.pin)
    assert call.played == ["unavailable", "goodbye"]
    assert call.commands[-1] == "HANGUP"
    assert call.failures("unavailable") == 1
    (failed,) = [e for e in info_logs if e["event"] == "ivr.unavailable"]
    assert failed["log_level"] == "error" and failed["call_id"] == UNIQUEID


async def test_caller_hanging_up_is_not_an_outage() -> None:
    call = await dial(FakeDirectory(), "1", ROOM.conference_number, "HANGUP")
    assert call.commands[-1] == "GET VARIABLE READSTATUS"  # nothing more is sent to a gone caller
    assert call.played == []
    assert call.failures("hangup") == 1
    assert call.failures("unavailable") is None


async def test_pins_never_reach_the_logs(info_logs: list[structlog.typing.EventDict]) -> None:
    await dial(FakeDirectory(), "1", ROOM.conference_number, "111222", ROOM.conference_number, ROOM.pin)
    await dial(FakeDirectory(), "1", ROOM.conference_number, ROOM.admin_pin)
    events = {e["event"] for e in info_logs}
    assert {"ivr.conference_number", "security.bad_credentials", "ivr.join"} <= events  # logging did happen
    text = repr(info_logs)
    for pin in ("111222", ROOM.pin, ROOM.admin_pin):
        assert pin not in text
