"""AGI wire format, parsed once into typed values.

A reply line looks like ``200 result=1 (value) endpos=1234``; Asterisk may also send
``100 Trying...`` before the real reply, an unsolicited ``HANGUP`` line, and multi-line
``520-`` usage text ending with ``520 End of proper usage.``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_REPLY = re.compile(r"^(?P<code>\d{3})(?P<sep>[ -])(?P<rest>.*)$")
_RESULT = re.compile(r"^result=(?P<result>\S*)(?:\s+\((?P<data>.*?)\))?(?P<extra>(?:\s+\w+=\S*)*)\s*$")
_EXTRA = re.compile(r"(\w+)=(\S*)")

HANGUP_LINE = "HANGUP"


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str = ""
    data: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def ok(self) -> bool:
        return self.code == 200

    @property
    def result_int(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0


def parse_reply(line: str) -> AgiReply:
    """Parse one reply line (without the newline). Raises ValueError on a foreign line."""
    m = _REPLY.match(line.strip())
    if not m:
        raise ValueError(f"not an AGI reply: {line!r}")
    code, rest = int(m.group("code")), m.group("rest").strip()
    r = _RESULT.match(rest)
    if code != 200 or not r:
        return AgiReply(code=code, text=rest)
    extra = dict(_EXTRA.findall(r.group("extra") or ""))
    return AgiReply(code=code, result=r.group("result"), data=r.group("data"), extra=extra, text=rest)


@dataclass(frozen=True)
class AgiHeaders:
    """The ``agi_*`` variables Asterisk sends when a FastAGI session starts."""

    network_script: str
    channel: str
    uniqueid: str
    callerid: str
    calleridname: str
    extension: str
    context: str
    language: str
    args: tuple[str, ...]
    raw: dict[str, str]

    @property
    def route(self) -> str:
        """The script path without a query string or leading slash."""
        return self.network_script.split("?", 1)[0].strip("/")


def parse_headers(block: bytes, encoding: str = "utf-8") -> AgiHeaders:
    raw: dict[str, str] = {}
    for line in block.decode(encoding, "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.startswith("agi_"):
            raw[key.strip()] = value.strip()
    args: list[str] = []
    i = 1
    while f"agi_arg_{i}" in raw:
        args.append(raw[f"agi_arg_{i}"])
        i += 1
    callerid = raw.get("agi_callerid", "")
    return AgiHeaders(
        network_script=raw.get("agi_network_script", ""),
        channel=raw.get("agi_channel", ""),
        uniqueid=raw.get("agi_uniqueid", ""),
        callerid="" if callerid == "unknown" else callerid,
        calleridname=raw.get("agi_calleridname", ""),
        extension=raw.get("agi_extension", ""),
        context=raw.get("agi_context", ""),
        language=raw.get("agi_language", "en"),
        args=tuple(args),
        raw=raw,
    )


def quote(value: str) -> str:
    """Quote one AGI command argument (Asterisk splits on spaces, honours double quotes)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
