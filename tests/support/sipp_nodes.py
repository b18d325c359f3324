"""SIPp on both sides of the SIP front (tests/cluster): UAS processes standing in for media
nodes, and a caller whose ACK and BYE follow the proxy's Record-Route.

A node answers every OPTIONS probe with 200 and each INVITE with 200 (then waits for the
caller's BYE) or with a fixed refusal (``answer=503``). Each node logs the messages it saw
(``-trace_msg``, a file per start); ``received`` counts the requests of a method in them.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.poll import until
from tests.support.sipp import SippResult, run_sipp

_REPLY = """  <send>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:]{to_tag}
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>"""

# A reply to a request outside any dialog gets our tag; one inside a dialog has it already.
_NEW_TAG = ";tag=[pid]SIPpTag01[call_number]"

_ANSWER = """  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_Record-Route:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:node@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=node 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
""" + _REPLY.format(status="200 OK", to_tag="")


def node_scenario(answer: int = 200) -> str:
    """One SIPp "call" per Call-ID: an OPTIONS probe gets 200; an INVITE gets ``answer``."""
    if answer == 200:
        invite = _ANSWER
    else:
        invite = _REPLY.format(status=f"{answer} Refused", to_tag=_NEW_TAG) + '\n  <recv request="ACK"/>'
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="media node answering {answer}">
  <recv request="OPTIONS" optional="true" next="probe"/>
  <recv request="INVITE"/>
{invite}
  <nop next="end"/>
  <label id="probe"/>
{_REPLY.format(status="200 OK", to_tag=_NEW_TAG)}
  <label id="end"/>
</scenario>
"""


# The caller: the Contact of the 200 is the next target; Record-Route becomes the Route set.
_CALL = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="caller through the front">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
{final}
</scenario>
"""

_ANSWERED = """  <recv response="200" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <pause milliseconds="200"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>"""

# The call stays up until the front ends it: its in-dialog OPTIONS keepalives get 200, its BYE
# (the dialog module's, once the node stopped answering them) gets 200 and ends the call.
_HELD = (
    """  <label id="held"/>
  <recv request="OPTIONS" optional="true" next="keepalive"/>
  <recv request="BYE"/>
"""
    + _REPLY.format(status="200 OK", to_tag="")
    + """
  <nop next="ended"/>
  <label id="keepalive"/>
"""
    + _REPLY.format(status="200 OK", to_tag="")
    + """
  <nop next="held"/>
  <label id="ended"/>"""
)

_REFUSED = """  <recv response="{code}"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: <sip:caller@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>"""


def call_scenario(expect: int = 200, held: bool = False) -> str:
    """One call: answered (ACK and BYE along the Route set) or refused with ``expect``;
    ``held``: answered and kept until the front sends a BYE."""
    if held:
        final = _ANSWERED.split("  <pause", 1)[0] + _HELD
    else:
        final = _ANSWERED if expect == 200 else _REFUSED.format(code=expect)
    return _CALL.format(final=final)


_LOG_BLOCK = "-----------------------------------------------"  # then the date, then the message


@dataclass
class Node:
    """One SIPp UAS standing in for a media node on 127.0.0.1:``port``."""

    workdir: Path
    port: int
    media_port: int
    answer: int = 200
    proc: asyncio.subprocess.Process | None = None
    starts: int = 0

    @property
    def uri(self) -> str:
        return f"sip:127.0.0.1:{self.port}"

    async def start(self) -> None:
        sipp = shutil.which("sipp")
        assert sipp, "sipp is missing: `make test` installs Debian's sip-tester"
        path = self.workdir / f"node-{self.port}.xml"
        path.write_text(node_scenario(self.answer))
        self.starts += 1
        log = self.workdir / f"node-{self.port}-{self.starts}-messages.log"
        self.proc = await asyncio.create_subprocess_exec(
            sipp, "-sf", str(path), "-i", "127.0.0.1", "-p", str(self.port),
            "-mi", "127.0.0.1", "-mp", str(self.media_port), "-nostdin",
            "-trace_msg", "-message_file", str(log),
            "-trace_err", "-error_file", str(self.workdir / f"node-{self.port}-errors.log"),
            cwd=self.workdir, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

    async def stop(self) -> None:
        """Killed, as a node that dies: it answers nothing from now on."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.returncode is None:
            proc.kill()
        if proc is not None:
            await proc.wait()

    def received(self, method: str = "INVITE") -> int:
        """Calls (distinct Call-IDs: a retransmission is not another one) in which this node
        received a ``method`` request, over all its starts (SIPp writes its log as it goes)."""
        calls: set[str] = set()
        for log in self.workdir.glob(f"node-{self.port}-*-messages.log"):
            for block in log.read_text(errors="replace").split(_LOG_BLOCK)[1:]:
                lines = [line.strip() for line in block.splitlines() if line.strip()]
                if len(lines) > 2 and "received" in lines[1] and lines[2].startswith(f"{method} sip:"):
                    calls.update(
                        line.split(":", 1)[1].strip() for line in lines if line.startswith("Call-ID:")
                    )
        return len(calls)


@asynccontextmanager
async def running_nodes(nodes: list[Node]) -> AsyncIterator[list[Node]]:
    """Every node started for the block and stopped after it, whatever happens."""
    try:
        for node in nodes:
            await node.start()
        yield nodes
    finally:
        for node in nodes:
            await node.stop()


async def call(
    workdir: Path,
    front: str,
    local_port: int,
    media_port: int,
    expect: int = 200,
    held: bool = False,
    timeout: float = 15,
) -> SippResult:
    """One call into the front (host:port), answered (``expect`` 200) or refused; ``held``:
    answered and ended by the front."""
    xml = call_scenario(expect, held)
    return await run_sipp(xml, workdir, "1000", front, local_port, media_port, timeout)


async def received_settled(nodes: list[Node], total: int, method: str = "INVITE") -> list[int]:
    """Each node's count of ``method`` once they add up to ``total`` (its log may lag a little)."""

    def counts() -> list[int] | None:
        each = [n.received(method) for n in nodes]
        return each if sum(each) >= total else None

    return await until(counts, timeout=5, what=f"{total} {method}s logged by the nodes")
