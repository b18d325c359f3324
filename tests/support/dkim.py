"""Real DKIM signatures for the tests: an RSA key made with openssl, signing with dkimpy, and
the DNS lookup dkimpy verifies against answered from a table (no network)."""

from __future__ import annotations

import base64
import re
import subprocess
from dataclasses import dataclass, field

import dkim

from booking.adapters.dkim_check import TxtLookup


@dataclass(frozen=True)
class SigningKey:
    domain: str
    selector: str
    private_pem: bytes  # RFC 8017 RSAPrivateKey, as dkimpy reads it
    public_der: bytes

    @property
    def record_name(self) -> bytes:
        return f"{self.selector}._domainkey.{self.domain}.".encode()

    @property
    def txt(self) -> bytes:
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(self.public_der)


def new_key(domain: str, selector: str = "sel1", bits: int = 2048) -> SigningKey:
    private = subprocess.run(
        ["openssl", "genrsa", "-traditional", str(bits)], check=True, capture_output=True
    ).stdout
    public = subprocess.run(
        ["openssl", "rsa", "-pubout", "-outform", "DER"], input=private, check=True, capture_output=True
    ).stdout
    return SigningKey(domain, selector, private, public)


def sign(
    raw: bytes,
    key: SigningKey,
    headers: tuple[bytes, ...] = (b"from", b"to", b"subject"),
    length: bool = False,
) -> bytes:
    """``raw`` with a DKIM-Signature of ``key`` on top (CRLF line ends, as sent over SMTP).
    ``length``: sign with l= (the body's length), which lets anyone append to the body."""
    crlf = re.sub(rb"\r?\n", b"\r\n", raw)
    signature = dkim.sign(
        crlf,
        key.selector.encode(),
        key.domain.encode(),
        key.private_pem,
        include_headers=list(headers),
        length=length,
    )
    return bytes(signature) + crlf


@dataclass
class FakeDns:
    """dkimpy's dnsfunc over a table of TXT records; remembers what was asked."""

    records: dict[bytes, bytes] = field(default_factory=dict)
    asked: list[bytes] = field(default_factory=list)

    def publish(self, key: SigningKey) -> None:
        self.records[key.record_name] = key.txt

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        self.asked.append(name)
        return self.records.get(name)

    @property
    def lookup(self) -> TxtLookup:
        return self
