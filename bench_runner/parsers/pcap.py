"""Classic pcap files (what pasta ``--pcap`` and ``tcpdump -w`` write): check one, count its
packets, and cut it to a size at a record boundary, so a capped capture still opens in
Wireshark or ``tcpdump -r``. Pure: bytes in, bytes or a summary out."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from . import ParseError

GLOBAL_HEADER = 24
RECORD_HEADER = 16
#: Magic number (as read little-endian) -> (byte order, timestamps in nanoseconds?).
_MAGICS = {0xA1B2C3D4: ("<", False), 0xD4C3B2A1: (">", False),
           0xA1B23C4D: ("<", True), 0x4D3CB2A1: (">", True)}
#: Link types a reader of the report may meet, by number (www.tcpdump.org/linktypes.html).
LINK_TYPES = {1: "Ethernet", 101: "raw IP", 113: "Linux cooked (SLL)", 276: "Linux cooked v2 (SLL2)"}


@dataclass(frozen=True)
class PcapSummary:
    link_type: str
    snaplen: int
    packets: int
    #: Bytes of packet data the file holds (captured lengths), and on the wire (original lengths).
    captured_bytes: int
    wire_bytes: int
    first_s: float | None
    last_s: float | None
    #: Bytes at the end that are not a whole record (a file cut short by its writer).
    trailing_bytes: int

    @property
    def span_s(self) -> float:
        return 0.0 if self.first_s is None or self.last_s is None else self.last_s - self.first_s


def _header(data: bytes) -> tuple[str, bool, int, int]:
    if len(data) < GLOBAL_HEADER:
        raise ParseError(f"not a pcap file: {len(data)} bytes, shorter than its {GLOBAL_HEADER}-byte header")
    (magic,) = struct.unpack("<I", data[:4])
    if magic not in _MAGICS:
        raise ParseError(f"not a pcap file: magic number {magic:#010x}")
    order, nanos = _MAGICS[magic]
    _, _, _, _, snaplen, link = struct.unpack(order + "HHiIII", data[4:GLOBAL_HEADER])
    return order, nanos, snaplen, link


def _records(data: bytes, order: str):  # type: ignore[no-untyped-def]
    """(offset, end, seconds, fraction, captured, original) of each whole record."""
    offset = GLOBAL_HEADER
    while offset + RECORD_HEADER <= len(data):
        seconds, fraction, captured, original = struct.unpack(order + "IIII", data[offset:offset + RECORD_HEADER])
        end = offset + RECORD_HEADER + captured
        if end > len(data):
            return
        yield offset, end, seconds, fraction, captured, original
        offset = end


def summarize(data: bytes) -> PcapSummary:
    order, nanos, snaplen, link = _header(data)
    packets = captured_bytes = wire_bytes = 0
    first = last = None
    end = GLOBAL_HEADER
    scale = 1e-9 if nanos else 1e-6
    for _, end, seconds, fraction, captured, original in _records(data, order):
        packets += 1
        captured_bytes += captured
        wire_bytes += original
        stamp = seconds + fraction * scale
        first = stamp if first is None else first
        last = stamp
    return PcapSummary(LINK_TYPES.get(link, f"link type {link}"), snaplen, packets, captured_bytes, wire_bytes,
                       first, last, len(data) - end)


def snap(data: bytes, snaplen: int) -> bytes:
    """Every packet cut to its first ``snaplen`` bytes (the headers), as ``tcpdump -s`` would
    have kept it: the original length stays in each record, the header states the new
    snap length, and a trailing partial record is dropped."""
    order, _, old_snaplen, link = _header(data)
    parts = [data[:16], struct.pack(order + "II", min(snaplen, old_snaplen) if old_snaplen else snaplen, link)]
    for offset, end, seconds, fraction, captured, original in _records(data, order):
        kept = min(captured, snaplen)
        parts.append(struct.pack(order + "IIII", seconds, fraction, kept, original))
        parts.append(data[offset + RECORD_HEADER:offset + RECORD_HEADER + kept])
    return b"".join(parts)


def cut(data: bytes, limit: int) -> bytes:
    """The file's header and as many whole records as fit in ``limit`` bytes (a trailing
    partial record is dropped too), so the result is always a valid pcap file."""
    order, _, _, _ = _header(data)
    if limit < GLOBAL_HEADER:
        raise ValueError(f"a pcap file needs at least {GLOBAL_HEADER} bytes")
    end = GLOBAL_HEADER
    for _, record_end, *_ in _records(data[:limit], order):
        end = record_end
    return data[:end]
