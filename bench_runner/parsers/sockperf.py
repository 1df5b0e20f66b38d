"""Parse ``sockperf ping-pong`` output (sockperf 3.7; later versions print the same lines).

sockperf reports one-way latency (half the round trip) unless run with ``--full-rtt``; the
parser reads which it was from the output itself ("avg-latency"/"Latency is" against
"avg-rtt"/"Round trip is") and always returns round-trip times, so they compare directly
with the suite's own round trips. Its terminal colours are stripped first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import ParseError

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_VERSION = re.compile(r"== version #(?P<version>\S+) ==")
_AVERAGE = re.compile(r"avg-(?P<kind>rtt|latency)=(?P<value>[0-9.]+)")
_VALID = re.compile(r"\[Valid Duration\] RunTime=(?P<runtime>[0-9.]+) sec; SentMessages=(?P<sent>\d+); "
                    r"ReceivedMessages=(?P<received>\d+)")
_PERCENTILE = re.compile(r"---> percentile (?P<point>[0-9.]+) =\s*(?P<value>[0-9.]+)")
_EXTREME = re.compile(r"---> <(?P<which>MAX|MIN)> observation =\s*(?P<value>[0-9.]+)")
_ERROR = re.compile(r"ERROR: (?P<message>.*)")
_DROPPED = re.compile(r"# dropped messages = (?P<dropped>\d+)")


@dataclass(frozen=True)
class PingPong:
    version: str | None
    #: Whether sockperf itself printed round trips (``--full-rtt``) or one-way latency.
    printed_rtt: bool
    runtime_s: float
    sent: int
    received: int
    dropped: int
    #: Round-trip times in microseconds, by percentile (50, 90, 99, ...), plus extremes.
    rtt_us: dict[float, float]
    rtt_avg_us: float
    rtt_min_us: float
    rtt_max_us: float

    def percentile(self, point: float) -> float:
        if point not in self.rtt_us:
            raise KeyError(f"sockperf printed no {point:g}th percentile")
        return self.rtt_us[point]


def parse_ping_pong(text: str) -> PingPong:
    clean = _ANSI.sub("", text)
    # sockperf exits 0 even when it could not connect: its ERROR line is the only sign.
    error = _ERROR.search(clean)
    if error:
        raise ParseError(f"sockperf reported an error: {error.group('message').strip()}")
    average = _AVERAGE.search(clean)
    valid = _VALID.search(clean)
    if average is None or valid is None:
        shown = clean.strip()[-200:]
        raise ParseError("no ping-pong statistics in sockperf output" + (f": {shown!r}" if shown else " (empty)"))
    rtt = average.group("kind") == "rtt"
    factor = 1.0 if rtt else 2.0
    points = {float(m.group("point")): float(m.group("value")) * factor for m in _PERCENTILE.finditer(clean)}
    extremes = {m.group("which"): float(m.group("value")) * factor for m in _EXTREME.finditer(clean)}
    if 50.0 not in points or set(extremes) != {"MAX", "MIN"}:
        raise ParseError("sockperf output lacks its percentile ladder (truncated?)")
    received = int(valid.group("received"))
    if received == 0:
        raise ParseError("sockperf received no replies")
    dropped = _DROPPED.search(clean)
    version = _VERSION.search(clean)
    return PingPong(
        version=version.group("version") if version else None,
        printed_rtt=rtt,
        runtime_s=float(valid.group("runtime")),
        sent=int(valid.group("sent")),
        received=received,
        dropped=int(dropped.group("dropped")) if dropped else 0,
        rtt_us=points,
        rtt_avg_us=float(average.group("value")) * factor,
        rtt_min_us=extremes["MIN"],
        rtt_max_us=extremes["MAX"],
    )
