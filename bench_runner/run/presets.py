"""Named presets (``run --preset NAME``): the sweeps users actually need, so nobody has to
remember the flags. A preset only fills in options the command line left out; anything given
explicitly wins. ``list --presets`` shows each with what it runs and how long it takes here.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ..errors import UsageError


@dataclass(frozen=True)
class Preset:
    name: str
    summary: str
    #: run options (argparse destinations) -> value as the command line takes it.
    options: tuple[tuple[str, str], ...]

    def flags(self) -> str:
        return " ".join(f"--{dest.replace('_', '-')} {value}" for dest, value in self.options)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("mtu", "throughput against the container's MTU, both ways (podman#20465, #17703; rootlesskit#615)",
           (("workloads", "tcp-stream,tcp-stream-outbound-reverse"), ("container_mtu", "1500,4000,16384,65520"),
            ("placements", "remote"))),
    Preset("concurrency", "throughput against parallel connections (iperf3 -P) and latency against concurrent "
                          "clients, where methods may swap places",
           (("workloads", "tcp-stream,tcp-stream-outbound-reverse,tcp-rr"), ("streams", "1,2,4,8,16,32"),
            ("placements", "remote"))),
    Preset("rtt", "throughput and latency with 0, 10 and 50 ms added to the round trip (slirp4netns without "
                  "window scaling, podman#18237)",
           (("workloads", "tcp-stream,tcp-rr"), ("delay", "0,5,25"), ("placements", "remote"))),
    Preset("lan", "a LAN: 0.2 ms round trip and a 1 Gbit/s link, both directions and outbound (passt's 2025-12 "
                  "to 2026-01 upload regression on a 1 Gbit/s LAN, podman#28219)",
           (("workloads", "tcp-stream,tcp-stream-reverse,tcp-stream-outbound-reverse,tcp-rr"), ("delay", "0.1"),
            ("rate", "1000"), ("placements", "remote"))),
    Preset("wan", "the internet: 20 ms and 80 ms round trips with 0.1% loss each way, both directions and "
                  "outbound (slirp4netns without window scaling, podman#18237)",
           (("workloads", "tcp-stream,tcp-stream-reverse,tcp-stream-outbound-reverse,tcp-rr"), ("delay", "10,40"),
            ("loss", "0.1"), ("placements", "remote"))),
    Preset("passt-perf", "the grid of passt's own performance tests: UDP throughput for each container MTU and "
                         "datagram size, offered at 10 Gbit/s",
           (("workloads", "udp-stream"), ("container_mtu", "1500,4000,16384,65520"),
            ("sizes", "1472,3972,16356,65492"), ("udp_rate", "10000"), ("placements", "remote"))),
)}


def apply(args: argparse.Namespace) -> None:
    """Fill in the preset's options that the command line left at their defaults (None)."""
    name = getattr(args, "preset", None)
    if name is None:
        return
    if name not in PRESETS:
        raise UsageError(f"unknown preset '{name}'; valid: {', '.join(PRESETS)}")
    for dest, value in PRESETS[name].options:
        current = getattr(args, dest, None)
        if current is None:
            setattr(args, dest, [value] if dest in ("workloads", "placements") else value)
