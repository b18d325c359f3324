"""The AGI wire format: reply lines, the agi_* header block, argument quoting."""

from __future__ import annotations

import pytest

from conference_ivr.agi.protocol import AgiReply, parse_headers, parse_reply, quote


@pytest.mark.parametrize(
    ("line", "result", "data", "extra"),
    [
        ("200 result=1", "1", None, {}),
        ("200 result=0 endpos=1234", "0", None, {"endpos": "1234"}),
        ("200 result=1 (some value)", "1", "some value", {}),
        ("200 result= (timeout)", "", "timeout", {}),
        ("200 result=-1", "-1", None, {}),
        ("200 result=49 endpos=8000", "49", None, {"endpos": "8000"}),
        ("200 result=1 (HANGUP)\n", "1", "HANGUP", {}),
        ("200 result=0 (timeout) endpos=16000", "0", "timeout", {"endpos": "16000"}),
    ],
)
def test_parse_success_replies(line: str, result: str, data: str | None, extra: dict[str, str]) -> None:
    reply = parse_reply(line)
    assert reply.code == 200
    assert reply.ok
    assert (reply.result, reply.data, reply.extra) == (result, data, extra)


@pytest.mark.parametrize(
    ("line", "value"), [("200 result=1", 1), ("200 result=-1", -1), ("200 result= (timeout)", 0)]
)
def test_result_int(line: str, value: int) -> None:
    assert parse_reply(line).result_int == value


@pytest.mark.parametrize(
    ("line", "code", "text"),
    [
        ("510 Invalid or unknown command", 510, "Invalid or unknown command"),
        ("520 Invalid command syntax.", 520, "Invalid command syntax."),
        ("511 Command Not Permitted on a dead channel", 511, "Command Not Permitted on a dead channel"),
        ("100 result=0 Trying...", 100, "result=0 Trying..."),
    ],
)
def test_parse_error_and_progress_replies(line: str, code: int, text: str) -> None:
    reply = parse_reply(line)
    assert (reply.code, reply.text) == (code, text)
    assert not reply.ok
    assert reply.result == "" and reply.data is None


def test_multi_line_usage_start_is_a_520() -> None:
    reply = parse_reply("520-Invalid command syntax.  Proper usage follows:")
    assert reply.code == 520
    assert reply.text.startswith("Invalid command syntax.")


@pytest.mark.parametrize("line", ["HANGUP", "", "hello", "agi_channel: x", "20 result=1", "2000 result=1"])
def test_foreign_line_raises(line: str) -> None:
    with pytest.raises(ValueError, match="not an AGI reply"):
        parse_reply(line)


def test_reply_is_frozen() -> None:
    reply = AgiReply(code=200, result="1")
    with pytest.raises(AttributeError):
        reply.code = 510  # type: ignore[misc]


HEADER_BLOCK = (
    b"agi_network: yes\n"
    b"agi_network_script: /ivr/?lang=en\n"
    b"agi_request: agi://127.0.0.1:4573/ivr/?lang=en\n"
    b"agi_channel: Local/s@dialconf-ivr-00000001;2\n"
    b"agi_language: de\n"
    b"agi_type: Local\n"
    b"agi_uniqueid: 1700000000.17\n"
    b"agi_version: 22.10.1\n"
    b"agi_callerid: unknown\n"
    b"agi_calleridname: unknown\n"
    b"agi_context: dialconf-ivr\n"
    b"agi_extension: s\n"
    b"agi_priority: 3\n"
    b"agi_arg_1: 8000\n"
    b"agi_arg_2: \n"
    b"agi_arg_3: a,b:c\n"
    b"agi_arg_5: skipped\n"
    b"\n"
)


def test_parse_headers_typed_fields() -> None:
    h = parse_headers(HEADER_BLOCK)
    assert h.channel == "Local/s@dialconf-ivr-00000001;2"
    assert h.uniqueid == "1700000000.17"
    assert h.language == "de"
    assert (h.context, h.extension) == ("dialconf-ivr", "s")
    assert h.raw["agi_request"] == "agi://127.0.0.1:4573/ivr/?lang=en"
    assert h.raw["agi_priority"] == "3"


def test_parse_headers_args_stop_at_the_first_gap() -> None:
    assert parse_headers(HEADER_BLOCK).args == ("8000", "", "a,b:c")


def test_parse_headers_unknown_callerid_is_empty() -> None:
    h = parse_headers(HEADER_BLOCK)
    assert h.callerid == ""
    assert h.calleridname == "unknown"
    known = parse_headers(b"agi_callerid: +420221000111\n\n")
    assert known.callerid == "+420221000111"


@pytest.mark.parametrize(
    ("script", "route"),
    [("/ivr/?lang=en", "ivr"), ("ivr", "ivr"), ("//ivr", "ivr"), ("", ""), ("a/b?x", "a/b")],
)
def test_route_strips_query_and_slashes(script: str, route: str) -> None:
    assert parse_headers(f"agi_network_script: {script}\n\n".encode()).route == route


def test_parse_headers_defaults_and_crlf() -> None:
    h = parse_headers(b"agi_channel: PJSIP/anonymous-00000001\r\nnot_agi: x\r\nno colon\r\n\r\n")
    assert h.channel == "PJSIP/anonymous-00000001"
    assert h.language == "en"
    assert h.args == ()
    assert h.network_script == "" and h.route == ""
    assert set(h.raw) == {"agi_channel"}


def test_parse_headers_survives_bad_utf8() -> None:
    h = parse_headers(b"agi_calleridname: Ren\xe9\n\n")
    assert h.calleridname.startswith("Ren")


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("", '""'),
        ("beep", '"beep"'),
        ("a b", '"a b"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("c:\\x", '"c:\\\\x"'),
        ("DIALCONF_DIGITS,conf-getpin,12,,1,6", '"DIALCONF_DIGITS,conf-getpin,12,,1,6"'),
    ],
)
def test_quote(value: str, quoted: str) -> None:
    assert quote(value) == quoted
