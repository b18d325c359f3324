"""SIPp as the far end of the dial-out trunk: a real SIP user agent on loopback that answers,
declines, is busy or never answers, by the hundreds digit of the number called (real Czech
mobile numbers, as the dial-out policy admits only those by default):

  +4206010002xx busy (486)   +4206010003xx rings until cancelled (no answer)
  +4206010004xx declines (603)
  anything else: answers, waits for the invitation to be said, keys 1 (RFC 2833), stays
  until Asterisk hangs up (removed or the conference ended), or ``hold_s`` passes.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from tests.support.dtmf_pcap import DtmfStream

ANSWERS, BUSY, NO_ANSWER, DECLINE = "+420601000100", "+420601000200", "+420601000300", "+420601000400"


def number(kind: str, n: int) -> str:
    """Another number that behaves like ``kind`` (one of the four above): ``n`` in 0..99."""
    return f"{kind[:-2]}{n:02d}"


_REPLY_HEADERS = """      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]"""


def _reply(status: str, extra: str = "", body: str = "") -> str:
    content = (
        f"Content-Type: application/sdp\n      Content-Length: [len]\n\n{body}"
        if body
        else "Content-Length: 0"
    )
    return f"""  <send>
    <![CDATA[
      SIP/2.0 {status}
{_REPLY_HEADERS}
      Contact: <sip:uas@[local_ip]:[local_port]>{extra}
      {content}
    ]]>
  </send>"""


_SDP = """      v=0
      o=uas 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv"""


def _branch(digit: str, label: str, var: str) -> str:
    return f"""  <nop>
    <action>
      <strcmp assign_to="{var}_cmp" variable="kind" value="{digit}"/>
      <test assign_to="{var}" variable="{var}_cmp" compare="equal" value="0"/>
    </action>
  </nop>
  <nop next="{label}" test="{var}"/>"""


def scenario(pcap: Path, invitation_s: float, hold_s: float) -> str:
    answer = f"""  <label id="answer"/>
{_reply("180 Ringing")}
{_reply("200 OK", body=_SDP)}
  <recv request="ACK"/>
  <pause milliseconds="{int(invitation_s * 1000)}"/>
  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>
  <recv request="BYE" timeout="{int(hold_s * 1000)}" ontimeout="end"/>
{_reply("200 OK")}
  <nop next="end"/>"""
    busy = f"""  <label id="busy"/>
{_reply("486 Busy Here")}
  <recv request="ACK"/>
  <nop next="end"/>"""
    decline = f"""  <label id="decline"/>
{_reply("603 Decline")}
  <recv request="ACK"/>
  <nop next="end"/>"""
    ring = f"""  <label id="ring"/>
{_reply("180 Ringing")}
  <recv request="CANCEL"/>
{_reply("200 OK")}
  <send>
    <![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      CSeq: [last_cseq_number] INVITE
      Content-Length: 0
    ]]>
  </send>
  <recv request="ACK"/>
  <nop next="end"/>"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="dialconf trunk far end">
  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="^INVITE sip:([^@;]+)@" search_in="msg" check_it="true" assign_to="uri,called"/>
      <ereg regexp="^INVITE sip:[^@;]*([0-9])[0-9][0-9]@" search_in="msg" check_it="true" assign_to="k,kind"/>
      <log message="INVITE for [$uri]: [$called], kind [$kind] of [$k]"/>
    </action>
  </recv>
  <send><![CDATA[
      SIP/2.0 100 Trying
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]></send>
{_branch(BUSY[-3], "busy", "is_busy")}
{_branch(NO_ANSWER[-3], "ring", "is_ring")}
{_branch(DECLINE[-3], "decline", "is_decline")}
  <nop next="answer"/>
{answer}
{busy}
{decline}
{ring}
  <label id="end"/>
</scenario>
"""


@asynccontextmanager
async def sipp_uas(
    workdir: Path,
    port: int,
    media_port: int,
    invitation_s: float = 9.0,
    hold_s: float = 60.0,
    calls: int = 50,
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A SIPp UAS on 127.0.0.1:``port`` for the duration of the block."""
    sipp = shutil.which("sipp")
    assert sipp, "sipp is missing: `make test` installs Debian's sip-tester"
    pcap = DtmfStream().pcap("1", workdir / "uas-key-1.pcap")
    path = workdir / "uas.xml"
    path.write_text(scenario(pcap, invitation_s, hold_s))
    proc = await asyncio.create_subprocess_exec(
        sipp,
        "-sf",
        str(path),
        "-i",
        "127.0.0.1",
        "-p",
        str(port),
        "-mi",
        "127.0.0.1",
        "-mp",
        str(media_port),
        "-m",
        str(calls),
        "-l",
        str(calls),
        "-nostdin",
        "-trace_err",
        "-trace_msg",
        "-message_file",
        str(workdir / "uas-messages.log"),
        "-error_file",
        str(workdir / "uas-errors.log"),
        cwd=workdir,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


_BLOCK = "-----------------------------------------------"


def ringing_at_the_far_end(message_log: Path, numbers: set[str]) -> list[tuple[float, float]]:
    """(from, to) of each call to one of ``numbers`` as the UAS saw it: from the INVITE it
    received to the final answer it sent (SIPp's -trace_msg log; each block starts with a
    dashed line ending in the local date and time)."""
    started: dict[str, float] = {}
    ended: dict[str, float] = {}
    for block in message_log.read_text(errors="replace").split(_BLOCK)[1:]:
        lines = block.strip("\n").splitlines()
        if len(lines) < 4:
            continue
        at = datetime.strptime(" ".join(lines[0].split()[-2:]), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        sip = [line.strip() for line in lines[1:] if line.strip()]
        direction, start = sip[0], sip[1]
        headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in sip[2:])}
        call = headers.get("call-id", headers.get("i", ""))
        called = start.split("sip:", 1)[1].split("@", 1)[0] if start.startswith("INVITE sip:") else ""
        if "received" in direction and called in numbers:
            started.setdefault(call, at)
        final = start.startswith("SIP/2.0 ") and int(start.split()[1]) >= 200
        if "sent" in direction and final and headers.get("cseq", "").endswith("INVITE") and call in started:
            ended.setdefault(call, at)
    return [(started[c], ended.get(c, float("inf"))) for c in started]


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The most calls ringing at one instant (one that ends as another starts is not both)."""
    edges = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most
