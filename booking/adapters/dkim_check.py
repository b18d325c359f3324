"""Does a valid DKIM signature of the From address's domain cover this message?

Why DKIM checked here with dkimpy, and not SPF or an Authentication-Results header: the intake
listens on loopback behind the operator's mail server, so the SMTP peer is always that server
and SPF (which judges the connecting IP) has nothing to judge. A DKIM signature survives the
relaying and is checked end to end against the key the domain publishes in DNS; trusting an
Authentication-Results header would instead trust every hop to strip forged ones.

A signature counts only when it verifies, it signs the From header, its domain (d=) is the
From domain (or, relaxed, a parent of it), its key is long enough, and it covers the whole
body (a signature with l= lets anyone append text after the signed part).
The DNS lookup blocks: the intake calls this in a worker thread.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from email.message import EmailMessage

import dkim
import structlog

from booking.settings import DkimSettings

log = structlog.get_logger(__name__)
# dkimpy's lookup: the TXT record of a name (bytes, with the final dot), or None.
TxtLookup = Callable[..., bytes | None]
_TAG = re.compile(rb"^\s*([a-zA-Z]+)\s*=\s*(.*?)\s*$", re.S)


def _tags(header_value: bytes) -> dict[bytes, bytes]:
    tags: dict[bytes, bytes] = {}
    for part in header_value.split(b";"):
        m = _TAG.match(part)
        if m is not None:
            tags[m.group(1).lower()] = m.group(2)
    return tags


def aligned(signing_domain: str, from_domain: str, relaxed: bool) -> bool:
    d, f = signing_domain.lower().rstrip("."), from_domain.lower().rstrip(".")
    return f == d or (relaxed and "." in d and f.endswith("." + d))


class DkimVerifier:
    def __init__(self, settings: DkimSettings, dns: TxtLookup | None = None) -> None:
        self._s = settings
        self._dns = dns

    def signature_id(self, raw: bytes, msg: EmailMessage, from_domain: str) -> str | None:
        """An id of the first valid signature aligned with ``from_domain`` (a digest of its b=,
        so a replayed copy is the same message whatever else it changes); None if none."""
        signatures = [
            (i, _tags(value.encode("utf-8", "surrogateescape")))
            for i, value in enumerate(str(v) for k, v in msg.raw_items() if k.lower() == "dkim-signature")
        ]
        relaxed = self._s.alignment == "relaxed"
        tried = 0
        for index, tags in signatures:
            domain = tags.get(b"d", b"").decode("ascii", "replace")
            signed = [h.strip().lower() for h in tags.get(b"h", b"").split(b":")]
            if not aligned(domain, from_domain, relaxed) or b"from" not in signed or b"l" in tags:
                continue
            if tried >= self._s.max_signatures:
                break
            tried += 1
            if self._verify(raw, index):
                return "dkim:" + hashlib.sha256(re.sub(rb"\s+", b"", tags.get(b"b", b""))).hexdigest()
        return None

    def _verify(self, raw: bytes, index: int) -> bool:
        checker = dkim.DKIM(raw, minkey=self._s.min_key_bits, timeout=self._s.dns_timeout_s)
        try:
            if self._dns is None:
                return bool(checker.verify(idx=index))
            return bool(checker.verify(idx=index, dnsfunc=self._dns))
        except dkim.DKIMException as e:
            log.info("mail.dkim_invalid", reason=str(e)[:120])
            return False
        except Exception as e:  # a DNS failure or a malformed key: no proof, not a crash
            log.warning("mail.dkim_unverifiable", error=type(e).__name__)
            return False
