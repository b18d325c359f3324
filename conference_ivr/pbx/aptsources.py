"""Read the machine's own apt configuration: which mirror and distribution it uses.

The Asterisk root is built from the same mirror the host already trusts, so no registry
host name is ever written into this repository.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AptSource:
    uri: str
    suite: str
    components: tuple[str, ...]


def _deb822_blocks(text: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            if current:
                blocks.append(current)
            current, key = {}, ""
            continue
        if line.startswith("#"):
            continue
        if line[0] in " \t" and key:
            current[key] += " " + line.strip()
            continue
        k, _, v = line.partition(":")
        key = k.strip().lower()
        current[key] = v.strip()
    if current:
        blocks.append(current)
    return blocks


def parse_sources(files: dict[str, str]) -> list[AptSource]:
    """Sources from ``*.sources`` (deb822) and ``*.list`` (one-line) file contents, in order."""
    found: list[AptSource] = []
    for name, text in files.items():
        if name.endswith(".sources"):
            for block in _deb822_blocks(text):
                if "deb" not in block.get("types", "").split():
                    continue
                if block.get("enabled", "yes").lower() == "no":
                    continue
                comps = tuple(block.get("components", "").split())
                for uri in block.get("uris", "").split():
                    for suite in block.get("suites", "").split():
                        found.append(AptSource(uri.rstrip("/"), suite, comps))
        elif name.endswith(".list"):
            for line in text.splitlines():
                words = line.split("#", 1)[0].split()
                if len(words) < 3 or words[0] != "deb":
                    continue
                rest = words[1:]
                if rest[0].startswith("["):
                    while rest and not rest[0].endswith("]"):
                        rest = rest[1:]
                    rest = rest[1:]
                if len(rest) >= 2:
                    found.append(AptSource(rest[0].rstrip("/"), rest[1], tuple(rest[2:])))
    return found


def primary_mirror(sources: list[AptSource]) -> AptSource | None:
    """The main archive: not security, not updates/backports, and a Debian or Ubuntu tree."""
    for src in sources:
        if "-" in src.suite or "security" in src.uri:
            continue
        return src
    return None


def read_host_sources(etc: Path = Path("/etc/apt")) -> list[AptSource]:
    files: dict[str, str] = {}
    main = etc / "sources.list"
    if main.is_file():
        files[str(main)] = main.read_text()
    d = etc / "sources.list.d"
    if d.is_dir():
        for p in sorted(d.iterdir()):
            if p.suffix in {".list", ".sources"} and p.is_file():
                files[str(p)] = p.read_text()
    return parse_sources(files)


def host_distribution(os_release: Path = Path("/etc/os-release")) -> tuple[str, str]:
    """(ID, VERSION_CODENAME) of the host, e.g. ("debian", "bookworm")."""
    values: dict[str, str] = {}
    if os_release.is_file():
        for line in os_release.read_text().splitlines():
            k, _, v = line.partition("=")
            values[k.strip()] = v.strip().strip('"')
    return values.get("ID", ""), values.get("VERSION_CODENAME", "")
