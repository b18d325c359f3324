"""What a bench member sends: its keys (RFC 2833) and then its voice (PCMU), as pcaps for SIPp.

SIPp's ``play_pcap_audio`` sends every capture of a call from the same local port (-mp), so
keys and voice share one RTP source, as a phone's do; Asterisk's strict RTP would drop a
second source. The voice capture carries on the key stream's SSRC and sequence numbers.

Two voices, each a short generated loop repeated for the length of the capture:
- ``quiet``: a line with nobody speaking (low noise, about -60 dBFS): below ConfBridge's
  talking threshold, so dsp_drop_silence keeps it out of the mix;
- ``speech``: talk spurts (a voiced sound with harmonics, syllable-like loudness at about
  4 Hz, about -20 dBFS) of 1-3 s between pauses of 0.3-1 s, so a talker starts and stops.
"""

from __future__ import annotations

import math
import random
import struct
from pathlib import Path

from tests.support.dtmf_pcap import DtmfStream
from tests.support.sipp import PCAP_DIR

RATE = 8000
PACKET_MS = 20
SAMPLES = RATE * PACKET_MS // 1000
LOOP_S = 24  # the generated voice repeats after this; long enough not to sound periodic to a DSP
_TEMPLATE = PCAP_DIR / "dtmf_2833_1.pcap"
_HEADERS = 14 + 20 + 8  # Ethernet + IPv4 + UDP in Debian's captures
_MU_BIAS, _MU_CLIP = 0x84, 32635


def mu_law(sample: int) -> int:
    """G.711 mu-law of one 16-bit linear sample."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), _MU_CLIP) + _MU_BIAS
    exponent = max(0, magnitude.bit_length() - 8)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _quiet(rng: random.Random) -> list[int]:
    return [round(rng.gauss(0, 30)) for _ in range(LOOP_S * RATE)]


def _speech(rng: random.Random) -> list[int]:
    out: list[int] = []
    while len(out) < LOOP_S * RATE:
        pause = int(rng.uniform(0.3, 1.0) * RATE)
        out.extend(round(rng.gauss(0, 30)) for _ in range(pause))
        spurt = int(rng.uniform(1.0, 3.0) * RATE)
        f0 = rng.uniform(100, 190)
        phase = 0.0
        for n in range(spurt):
            t = n / RATE
            f = f0 * (1 + 0.05 * math.sin(2 * math.pi * 3 * t))  # a little intonation
            phase += 2 * math.pi * f / RATE
            syllables = 0.55 + 0.45 * math.sin(2 * math.pi * 4 * t) ** 2
            edge = min(1.0, n / 400, (spurt - n) / 400)
            voiced = sum(math.sin(k * phase) / k for k in (1, 2, 3, 4, 5))
            out.append(round(4200 * syllables * edge * voiced + rng.gauss(0, 60)))
    return out[: LOOP_S * RATE]


def voice_payloads(kind: str, seed: int = 10) -> list[bytes]:
    """The loop of 20 ms mu-law payloads for ``kind`` (quiet or speech)."""
    rng = random.Random(seed)
    samples = _quiet(rng) if kind == "quiet" else _speech(rng)
    table = bytes(mu_law(s) for s in range(-32768, 32768))
    coded = bytes(table[max(-32768, min(32767, s)) + 32768] for s in samples)
    return [coded[i : i + SAMPLES] for i in range(0, len(coded), SAMPLES)]


def _template() -> tuple[bytes, bytes, bytes]:
    """The capture's file header, a frame's Ethernet+IP+UDP headers and the RTP SSRC."""
    data = _TEMPLATE.read_bytes()
    incl = struct.unpack("<I", data[24 + 8 : 24 + 12])[0]
    frame = data[24 + 16 : 24 + 16 + incl]
    return data[:24], frame[:_HEADERS], frame[_HEADERS + 8 : _HEADERS + 12]


def voice_pcap(kind: str, seconds: float, keys: DtmfStream, target: Path) -> Path:
    """A capture of ``seconds`` of ``kind`` voice that goes on from ``keys``' RTP stream."""
    file_header, headers, ssrc = _template()
    ip = bytearray(headers)
    rtp_len = 12 + SAMPLES
    struct.pack_into(">H", ip, 14 + 2, 20 + 8 + rtp_len)  # IPv4 total length
    struct.pack_into(">H", ip, 14 + 20 + 4, 8 + rtp_len)  # UDP length
    struct.pack_into(">H", ip, 14 + 20 + 6, 0)  # no UDP checksum (SIPp computes its own)
    payloads = voice_payloads(kind)
    out = [file_header]
    seq, timestamp = keys.seq, keys.timestamp
    for i in range(int(seconds * 1000 / PACKET_MS)):
        marker = 0x80 if i == 0 else 0
        rtp = struct.pack(">BBHI", 0x80, marker, seq & 0xFFFF, timestamp & 0xFFFFFFFF) + ssrc
        frame = bytes(ip) + rtp + payloads[i % len(payloads)]
        at_us = i * PACKET_MS * 1000
        out.append(
            struct.pack("<IIII", at_us // 1_000_000, at_us % 1_000_000, len(frame), len(frame)) + frame
        )
        seq += 1
        timestamp += SAMPLES
    target.write_bytes(b"".join(out))
    return target
