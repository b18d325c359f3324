"""SIPp as a real SIP caller: INVITE over UDP, RFC 2833 DTMF from Debian's pcaps, BYE.

A scenario is generated per call from the keys to press; pauses are generous because SIPp
cannot wait for prompts (digits sent during a prompt interrupt it, which is what we want).
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

PCAP_DIR = Path("/usr/share/sip-tester")

_INVITE = """
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
"""

_BYE = """
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "SIPp caller" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:{caller}@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
"""

# Asterisk may hang up first (e.g. after "goodbye"): answer its BYE.
_RECV_BYE = """
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
"""


def _through_proxy(xml: str) -> str:
    """In-dialog requests that follow the Record-Route of a proxy (Kamailio, issue 21): sent to
    the answering node's Contact, by way of the routes the 200 brought."""
    xml = xml.replace('<recv response="200" rtd="true"/>', '<recv response="200" rtd="true" rrs="true"/>')
    for method in ("ACK", "BYE"):
        xml = xml.replace(
            f"{method} sip:[service]@[remote_ip]:[remote_port] SIP/2.0",
            f"{method} [next_url] SIP/2.0\n      [routes]",
        )
    return xml


def scenario(
    steps: list[tuple[float, str]],
    workdir: Path,
    hold_s: float,
    caller: str = "sipp",
    remote_bye: bool = False,
    tone: tuple[float, float] | None = None,
    proxied: bool = False,
) -> str:
    """XML for one call: after answer, for each (pause seconds, keys) pause then key DTMF;
    then ``tone`` (hz, seconds), if given, is "said" (u-law RTP) while the call is held.
    ``proxied``: the call goes through a record-routing proxy."""
    from tests.support.dtmf_pcap import DtmfStream

    stream = DtmfStream()
    body = [_INVITE.format(caller=caller)]
    for i, (pause, keys) in enumerate(steps):
        body.append(f'  <pause milliseconds="{int(pause * 1000)}"/>')
        pcap = stream.pcap(keys, workdir / f"keys-{caller}-{i}.pcap")
        body.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
        # play_pcap_audio runs in the background: wait until the keys are out
        body.append(f'  <pause milliseconds="{int(len(keys) * 400)}"/>')
    if tone is not None:
        pcap = stream.tone_pcap(tone[0], tone[1], workdir / f"tone-{caller}.pcap")
        body.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>')
    if remote_bye:
        body.append(_RECV_BYE)
    else:
        body.append(f'  <pause milliseconds="{int(hold_s * 1000)}"/>')
        body.append(_BYE.format(caller=caller))
    xml = (
        '<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="dialconf">\n'
        + "\n".join(body)
        + "\n</scenario>\n"
    )
    return _through_proxy(xml) if proxied else xml


@dataclass
class SippResult:
    returncode: int
    output: str


async def run_sipp(
    xml: str,
    workdir: Path,
    service: str,
    target: str,
    local_port: int,
    media_port: int,
    timeout: float = 60,
    local_ip: str = "127.0.0.1",
) -> SippResult:
    """Run one SIPp call to ``target`` (host:port) from ``local_ip`` and wait for it to finish."""
    sipp = shutil.which("sipp")
    assert sipp, "sipp is missing: `make test` installs Debian's sip-tester"
    path = workdir / f"scenario-{local_port}.xml"
    path.write_text(xml)
    proc = await asyncio.create_subprocess_exec(
        sipp, "-sf", str(path), "-s", service, target,
        "-i", local_ip, "-p", str(local_port), "-mi", local_ip, "-mp", str(media_port),
        "-m", "1", "-l", "1", "-timeout", f"{int(timeout)}s", "-timeout_error", "-nostdin",
        "-trace_err", "-error_file", str(workdir / f"sipp-{local_port}-errors.log"),
        cwd=workdir, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout + 10)
    except BaseException:  # timed out, or the test gave up on the call (cancelled): no SIPp left
        if proc.returncode is None:
            proc.kill()
        await proc.wait()
        raise
    return SippResult(proc.returncode or 0, out.decode(errors="replace"))
