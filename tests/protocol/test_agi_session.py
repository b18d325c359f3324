"""AgiSession over a real socket pair, with the reply quirks seen on Asterisk 22 (notes §2)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import pytest

from conference_ivr.agi.protocol import parse_headers
from conference_ivr.agi.session import AgiSession, expected_wait
from conference_ivr.errors import AgiCommandError, AgiHangup, AgiReplyTimeout

HEADERS = parse_headers(b"agi_network_script: ivr\nagi_uniqueid: 1700000000.1\n\n")
USAGE = (
    "520-Invalid command syntax.  Proper usage follows:\n"
    "Usage: STREAM FILE <filename> <escape_digits> [<sample offset>]\n"
    "    Send the given file, allowing playback to be interrupted by the given digits, if any.\n"
    "520 End of proper usage.\n"
)


class FakeAsterisk:
    """Answers each command line with the next scripted text.

    ``None`` closes the socket instead; ``""`` answers nothing. After the last answer it closes.
    """

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answers: list[str | None]):
        self._reader = reader
        self._writer = writer
        self._answers = answers
        self.commands: list[str] = []

    async def run(self) -> None:
        try:
            for answer in self._answers:
                line = await self._reader.readline()
                if not line:
                    return
                self.commands.append(line.decode().rstrip("\n"))
                if answer is None:
                    break
                self._writer.write(answer.encode())
                await self._writer.drain()
        finally:  # also when the test is done first and cancels it waiting for a line
            self._writer.close()


@asynccontextmanager
async def talking_to(
    *answers: str | None, **session_kw: object
) -> AsyncIterator[tuple[AgiSession, FakeAsterisk]]:
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    peer = FakeAsterisk(*await asyncio.open_connection(sock=theirs), answers=list(answers))
    peer_task = asyncio.create_task(peer.run())
    try:
        yield AgiSession(HEADERS, reader, writer, **session_kw), peer  # type: ignore[arg-type]
    finally:
        writer.close()
        peer_task.cancel()
        with suppress(asyncio.CancelledError):
            await peer_task


async def test_unsolicited_hangup_line_is_skipped_and_remembered() -> None:
    async with talking_to("HANGUP\n200 result=1 (HANGUP)\n", "200 result=0\n") as (agi, peer):
        assert not agi.hung_up
        assert await agi.get_variable("CONFBRIDGE_RESULT") == "HANGUP"
        assert agi.hung_up
        noop = await agi.command("NOOP")  # replies stay aligned after the extra line
        assert noop.result == "0"
    assert peer.commands == ["GET VARIABLE CONFBRIDGE_RESULT", "NOOP"]


async def test_progress_lines_are_skipped() -> None:
    async with talking_to("100 result=0 Trying...\n200 result=1\n") as (agi, _):
        reply = await agi.exec("Playback", "beep")
    assert (reply.code, reply.result) == (200, "1")


async def test_multi_line_usage_raises_and_is_consumed_whole() -> None:
    async with talking_to(USAGE, "200 result=0\n") as (agi, peer):
        with pytest.raises(AgiCommandError, match="520") as err:
            await agi.command("STREAM FILE")
        assert "End of proper usage" in str(err.value)
        assert (await agi.command("NOOP")).result == "0"
    assert peer.commands == ["STREAM FILE", "NOOP"]


@pytest.mark.parametrize(
    "answer",
    [
        "510 Invalid or unknown command\n",
        "520 Invalid command syntax.  Proper usage not available.\n",
    ],
)
async def test_error_codes_raise_command_errors(answer: str) -> None:
    async with talking_to(answer) as (agi, _):
        with pytest.raises(AgiCommandError, match=answer[:3]):
            await agi.command("FROB")


async def test_a_command_on_a_dead_channel_is_a_hangup() -> None:
    async with talking_to("511 Command Not Permitted on a dead channel or intercept routine\n") as (agi, _):
        with pytest.raises(AgiHangup, match="dead channel"):
            await agi.command("STREAM FILE x")


async def test_eof_mid_command_is_a_hangup() -> None:
    async with talking_to(None) as (agi, peer):
        with pytest.raises(AgiHangup, match="EXEC"):
            await agi.exec("ConfBridge", "conf-123456")
    assert peer.commands == ['EXEC ConfBridge "conf-123456"']


async def test_eof_after_the_hangup_line_is_a_hangup() -> None:
    async with talking_to("HANGUP\n") as (agi, _):  # the peer closes after its last answer
        with pytest.raises(AgiHangup):
            await agi.command("NOOP")
        assert agi.hung_up


async def test_an_unparsable_reply_is_a_command_error() -> None:
    async with talking_to("garbage from a confused peer\n") as (agi, _):
        with pytest.raises(AgiCommandError):
            await agi.command("NOOP")


async def test_read_digits_reads_then_fetches_the_variable() -> None:
    async with talking_to("200 result=0\n", "200 result=1 (472915)\n") as (agi, peer):
        assert await agi.read_digits(["conf-getpin"], 12, 6.0) == ("472915", "OK")
    assert peer.commands == [
        'EXEC Read "DIALCONF_DIGITS,conf-getpin,12,,1,6"',
        "GET VARIABLE DIALCONF_DIGITS",
    ]


async def test_read_digits_asks_readstatus_only_when_empty() -> None:
    async with talking_to("200 result=0\n", "200 result=0\n", "200 result=1 (TIMEOUT)\n") as (agi, peer):
        assert await agi.read_digits(["vm-press", "digits/1"], 1, 2.5) == ("", "TIMEOUT")
    assert peer.commands == [
        'EXEC Read "DIALCONF_DIGITS,vm-press&digits/1,1,,1,2.5"',
        "GET VARIABLE DIALCONF_DIGITS",
        "GET VARIABLE READSTATUS",
    ]


async def test_read_digits_raises_hangup_on_readstatus_hangup() -> None:
    async with talking_to("200 result=0\n", "200 result=0\n", "200 result=1 (HANGUP)\n") as (agi, _):
        with pytest.raises(AgiHangup):
            await agi.read_digits(["conf-getconfno"], 12, 6)


async def test_stream_file_returns_the_interrupting_digit_and_skips_an_unplayable_sound() -> None:
    async with talking_to("200 result=0 endpos=8000\n", "200 result=49 endpos=960\n", "200 result=-1\n") as (
        agi,
        peer,
    ):
        assert await agi.stream_file("conf-getpin") == ""
        assert await agi.stream_file("conf-getpin", "1") == "1"
        assert await agi.stream_file("names/missing") == ""  # a missing recording never ends the call
    assert peer.commands[:2] == ['STREAM FILE conf-getpin ""', 'STREAM FILE conf-getpin "1"']


async def test_set_variable_quotes_and_observer_sees_each_exchange() -> None:
    seen: list[tuple[str, float]] = []
    async with talking_to("200 result=1\n", "200 result=1\n", observer=lambda c, s: seen.append((c, s))) as (
        agi,
        peer,
    ):
        await agi.set_variable("CONFBRIDGE(user,template)", "dialconf_participant")
        await agi.answer()
    assert peer.commands == ['SET VARIABLE CONFBRIDGE(user,template) "dialconf_participant"', "ANSWER"]
    assert [c for c, _ in seen] == ["SET VARIABLE", "ANSWER"]
    assert all(0 <= s < 2 for _, s in seen)


async def test_a_missing_reply_times_out_and_ends_the_session() -> None:
    async with talking_to("", "", reply_timeout=0.2) as (agi, peer):
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(AgiReplyTimeout):
            await agi.command("NOOP")
        assert loop.time() - started < 1.5 and agi.timed_out
        with pytest.raises(AgiHangup):  # a timed-out session sends nothing more
            await agi.command("ANSWER")
    assert peer.commands == ["NOOP"]


async def test_a_command_that_waits_by_itself_gets_its_own_time_on_top() -> None:
    """A Read waits for every digit, a Wait its seconds: a reply after the base timeout but
    within the command's own wait is not a stall."""
    ours, theirs = socket.socketpair()
    reader, writer = await asyncio.open_connection(sock=ours)
    peer_reader, peer_writer = await asyncio.open_connection(sock=theirs)
    agi = AgiSession(HEADERS, reader, writer, reply_timeout=0.2)

    async def slow_peer() -> None:
        await peer_reader.readline()
        await asyncio.sleep(0.5)  # the peer stalls on purpose: longer than 0.2, shorter than 0.2 + 0.6
        peer_writer.write(b"200 result=0\n")
        await peer_writer.drain()

    task = asyncio.create_task(slow_peer())
    try:
        reply = await agi.exec("Wait", "0.6")
        assert reply.result == "0" and not agi.timed_out
    finally:
        await task
        writer.close()
        peer_writer.close()


@pytest.mark.parametrize(
    ("command", "seconds"),
    [
        ('EXEC Read "DIALCONF_DIGITS,dialconf/pin&beep,12,,1,6"', 72),  # 6 s for each of 12 digits
        ('EXEC Read "DIALCONF_DIGITS,dialconf/dialout_number,16,,1,10"', 160),
        ('EXEC Wait "16"', 16),  # the growing PIN delay
        ('EXEC Wait "1.5"', 1.5),
        ('RECORD FILE /var/lib/dialconf/names/1 wav "#" 4000 0 BEEP s=2', 4),
        ("GET DATA beep 5000 4", 20),
        ("WAIT FOR DIGIT 3000", 3),
        ("WAIT FOR DIGIT -1", 0),  # forever: the base timeout still holds
        ('STREAM FILE dialconf/menu_moderator ""', 0),
        ('EXEC ConfBridge "conf-1"', 0),
        ('EXEC Read "unbalanced', 0),
    ],
)
def test_what_a_command_may_wait_by_its_own_arguments(command: str, seconds: float) -> None:
    assert expected_wait(command) == seconds
