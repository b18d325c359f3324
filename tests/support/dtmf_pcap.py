"""RFC 2833 DTMF pcaps for SIPp, built from Debian's sip-tester pcaps.

Debian ships one pcap per key, each with fixed RTP sequence numbers and timestamps (key 1
always has timestamp 13280, # has 92640, ...). Played one after another they look like
late or repeated packets to Asterisk, which then drops keys (seen: "562#" arrived as
"56#"). So we take each key's packets as a template and renumber sequence numbers and
timestamps so they only ever grow across the whole call.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.sipp import PCAP_DIR

_KEY_FILE = {
    **{str(d): f"dtmf_2833_{d}.pcap" for d in range(10)},
    "#": "dtmf_2833_pound.pcap",
    "*": "dtmf_2833_star.pcap",
}
_RTP_OFFSET = 14 + 20 + 8  # Ethernet + IPv4 + UDP headers in these captures
_GAP_S = 0.25  # between the end of one key and the start of the next
_TS_PER_S = 8000


def _records(path: Path) -> tuple[bytes, list[tuple[float, bytes]]]:
    data = path.read_bytes()
    header, off, out = data[:24], 24, []
    while off < len(data):
        sec, usec, incl, _orig = struct.unpack("<IIII", data[off : off + 16])
        out.append((sec + usec / 1e6, data[off + 16 : off + 16 + incl]))
        off += 16 + incl
    return header, out


@dataclass
class DtmfStream:
    """One caller's RTP event stream: keeps sequence numbers and timestamps growing."""

    seq: int = 1000
    timestamp: int = 160000
    _cache: dict[str, tuple[bytes, list[tuple[float, bytes]]]] = field(default_factory=dict)

    def pcap(self, keys: str, target: Path) -> Path:
        """Write a pcap that keys ``keys`` in order; returns its path."""
        header = b""
        out: list[bytes] = []
        clock = 0.0
        for key in keys:
            header, packets = self._cache.setdefault(key, _records(PCAP_DIR / _KEY_FILE[key]))
            first = packets[0][0]
            for t, pkt in packets:
                rtp = bytearray(pkt)
                struct.pack_into(">H", rtp, _RTP_OFFSET + 2, self.seq & 0xFFFF)
                struct.pack_into(">I", rtp, _RTP_OFFSET + 4, self.timestamp & 0xFFFFFFFF)
                struct.pack_into(">H", rtp, 14 + 20 + 6, 0)  # UDP checksum: none (valid for IPv4)
                self.seq += 1
                at = clock + (t - first)
                sec = int(at)
                out.append(struct.pack("<IIII", sec, int((at - sec) * 1e6), len(rtp), len(rtp)) + bytes(rtp))
            duration = packets[-1][0] - first
            clock += duration + _GAP_S
            self.timestamp += int((duration + _GAP_S) * _TS_PER_S)
        target.write_bytes(header + b"".join(out))
        return target

    def tone_pcap(self, hz: float, seconds: float, target: Path, level: float = 0.3) -> Path:
        """Write a pcap of ``seconds`` of one steady tone as G.711 u-law RTP (payload type 0,
        20 ms a packet) in this stream's numbering: what a SIPp caller "says"."""
        header, packets = self._cache.setdefault("1", _records(PCAP_DIR / _KEY_FILE["1"]))
        template = packets[0][1]
        frames, out, n = 160, [], 0
        for i in range(int(seconds * 50)):
            samples = (
                int(level * 32767 * math.sin(2 * math.pi * hz * (n + k) / _TS_PER_S)) for k in range(frames)
            )
            n += frames
            payload = bytes(_ulaw(x) for x in samples)
            rtp = bytearray(template[: _RTP_OFFSET + 12]) + payload
            rtp[_RTP_OFFSET + 1] = 0  # marker off, payload type 0 (PCMU)
            struct.pack_into(">H", rtp, _RTP_OFFSET + 2, self.seq & 0xFFFF)
            struct.pack_into(">I", rtp, _RTP_OFFSET + 4, self.timestamp & 0xFFFFFFFF)
            struct.pack_into(">H", rtp, 14 + 2, len(rtp) - 14)  # IPv4 total length
            struct.pack_into(">H", rtp, 14 + 20 + 4, len(rtp) - 14 - 20)  # UDP length
            struct.pack_into(">H", rtp, 14 + 20 + 6, 0)
            struct.pack_into(">H", rtp, 14 + 10, 0)
            struct.pack_into(">H", rtp, 14 + 10, _ip_checksum(bytes(rtp[14:34])))
            self.seq += 1
            self.timestamp += frames
            at = i * 0.02
            sec = int(at)
            out.append(struct.pack("<IIII", sec, int((at - sec) * 1e6), len(rtp), len(rtp)) + bytes(rtp))
        target.write_bytes(header + b"".join(out))
        return target


def _ulaw(sample: int) -> int:
    """G.711 u-law of one 16-bit sample (audioop is gone from the standard library)."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _ip_checksum(header: bytes) -> int:
    total: int = sum(struct.unpack(">10H", header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF
