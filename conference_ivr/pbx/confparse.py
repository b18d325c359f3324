"""A reader for Asterisk's ``.conf`` format, enough to check our own files.

Handles ``[section]``, ``[section](template)``, ``key = value``, ``key => value``,
``same => ...`` continuation lines and ``;`` comments (``\\;`` is a literal semicolon).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\](?:\((?P<opts>[^)]*)\))?\s*$")
# A template line that is one placeholder renders whole lines or sections (logger.conf's trace
# log, pjsip.conf's wss transport): skipped here, checked in the rendered file.
_LINES_PLACEHOLDER = re.compile(r"^\{\{\w+\}\}$")


@dataclass
class ConfSection:
    name: str
    options: list[str] = field(default_factory=list)
    entries: list[tuple[str, str]] = field(default_factory=list)

    def get(self, key: str) -> str | None:
        for k, v in self.entries:
            if k == key:
                return v
        return None

    def values(self, key: str) -> list[str]:
        return [v for k, v in self.entries if k == key]


def _strip_comment(line: str) -> str:
    # Like Asterisk's loader: "\\;" is a literal semicolon (the backslash goes), ";" starts a comment.
    out: list[str] = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and line[i + 1 : i + 2] == ";":
            out.append(";")
            i += 2
            continue
        if ch == ";":
            break
        out.append(ch)
        i += 1
    return "".join(out).strip()


def parse_conf(text: str) -> list[ConfSection]:
    """Parse config text into sections in file order (a name may repeat)."""
    sections: list[ConfSection] = []
    current: ConfSection | None = None
    for raw in text.splitlines():
        line = _strip_comment(raw)
        if not line or _LINES_PLACEHOLDER.match(line):
            continue
        m = _SECTION.match(line)
        if m:
            opts = [o.strip() for o in (m.group("opts") or "").split(",") if o.strip()]
            current = ConfSection(m.group("name").strip(), opts)
            sections.append(current)
            continue
        if current is None:
            raise ValueError(f"entry outside a section: {raw!r}")
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"not a key/value line: {raw!r}")
        current.entries.append((key.strip(), value.lstrip(">").strip()))
    return sections


def parse_conf_file(path: Path) -> dict[str, ConfSection]:
    """Parse a file; sections are keyed by name (later duplicates win)."""
    return {s.name: s for s in parse_conf(path.read_text())}
