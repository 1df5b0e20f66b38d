"""pcap files as pasta --pcap and tcpdump wrote them in a capture trial (recorded, first
packets only): counted, and cut only at record boundaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench_runner.parsers import ParseError, pcap

DATA = Path(__file__).resolve().parents[1] / "data"
PASTA = (DATA / "pasta-pcap-tcp-stream.pcap").read_bytes()
TCPDUMP = (DATA / "tcpdump-any-tcp-stream.pcap").read_bytes()


def test_pasta_capture_is_ethernet_and_counted() -> None:
    summary = pcap.summarize(PASTA)
    assert (summary.link_type, summary.snaplen, summary.packets, summary.trailing_bytes) == ("Ethernet", 65535, 8, 0)
    assert summary.captured_bytes == summary.wire_bytes == len(PASTA) - 24 - 8 * 16
    assert 0 < summary.span_s < 1


def test_tcpdump_any_capture_is_linux_cooked_with_headers_only() -> None:
    summary = pcap.summarize(TCPDUMP)
    assert (summary.link_type, summary.snaplen, summary.packets) == ("Linux cooked v2 (SLL2)", 192, 12)
    assert summary.wire_bytes > summary.captured_bytes  # a data segment longer than the snap length


@pytest.mark.parametrize("limit", [24, 25, 100, 400, len(PASTA) - 1])
def test_cut_keeps_whole_records_only(limit: int) -> None:
    kept = pcap.cut(PASTA, limit)
    assert len(kept) <= limit
    summary = pcap.summarize(kept)
    assert summary.trailing_bytes == 0 and summary.packets < 8
    assert PASTA.startswith(kept)


def test_cut_of_a_file_cut_short_by_its_writer_drops_the_partial_record() -> None:
    broken = PASTA[:-5]
    assert pcap.summarize(broken).trailing_bytes > 0
    assert pcap.summarize(pcap.cut(broken, len(broken))) == pcap.summarize(PASTA[:len(pcap.cut(broken, len(broken)))])
    assert pcap.summarize(pcap.cut(broken, len(broken))).packets == 7


def test_big_endian_and_nanosecond_files_are_read() -> None:
    import struct

    header = struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)
    record = struct.pack(">IIII", 10, 500_000_000, 4, 60) + b"abcd"
    summary = pcap.summarize(header + record + struct.pack(">IIII", 11, 0, 0, 0))
    assert (summary.packets, summary.first_s, summary.last_s, summary.wire_bytes) == (2, 10.5, 11.0, 60)


@pytest.mark.parametrize("data, message", [(b"", "shorter than"), (b"x" * 40, "magic number")])
def test_not_a_pcap_file(data: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        pcap.summarize(data)


def test_snap_keeps_headers_and_original_lengths() -> None:
    snapped = pcap.snap(PASTA, 54)
    before, after = pcap.summarize(PASTA), pcap.summarize(snapped)
    assert (after.packets, after.snaplen, after.wire_bytes) == (before.packets, 54, before.wire_bytes)
    assert after.captured_bytes == sum(min(n, 54) for n in _lengths(PASTA))
    assert pcap.snap(snapped, 54) == snapped  # already short enough: unchanged
    assert pcap.summarize(pcap.snap(PASTA[:-3], 54)).packets == 7


def _lengths(data: bytes) -> list[int]:
    import struct

    lengths, offset = [], 24
    while offset + 16 <= len(data):
        captured = struct.unpack("<IIII", data[offset:offset + 16])[2]
        lengths.append(captured)
        offset += 16 + captured
    return lengths
