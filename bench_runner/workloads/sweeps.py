"""Sweeps: conditions real bugs depend on (the container's MTU, parallel streams, the path's
round trip, loss and rate, the IP family), each a list of values that becomes part of the
workload's id, so every other part of the suite (interleaving, ranking, verdicts, compare,
history) treats each value as a workload of its own: ``tcp-stream+mtu1500+rtt20ms``. Methods
are ranked against each other at the same values; the report plots a metric against a swept
value.

Values are whole numbers in the sweep's own step (``scale`` steps to its unit: the delay is
kept in microseconds, the loss in thousandths of a percent), so ``--delay 0.1`` is 100 and
an id never depends on how a decimal was written. The delay's suffix names the round trip it
adds (``--delay 10``, added in each direction, is ``+rtt20ms``).

A sweep applies to some workloads, placements and methods only (``why_not``,
``method_why_not``); where it does not, the cell is not applicable with the reason, like any
other. A sweep's ``neutral`` value is what the suite measures without it (IPv4): it adds no
suffix, so ``--family 4,6`` gives ``tcp-stream`` and ``tcp-stream+ipv6``, and the IPv4 cells
keep the ids (and history) of runs without the sweep.

A sweep may also take a word for a value that is not a number on its axis: ``--udp-rate
max`` is the highest rate with at most 1% loss, searched for in every trial (udpmax.py). A
word is encoded as a value outside the sweep's bounds (UDP_MAX, 0), so it travels like any
value (the results document's options record 0), and has a suffix of its own (``ratemax``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Callable, Iterable, Mapping, Protocol

from ..errors import UsageError
from ..results.metrics import UDP_MAX_OFFERED, Metric
from .definition import Workload


class CarriesFamilies(Protocol):
    """What a sweep asks of a method (methods.base.NetworkMethod): whether it carries an IP
    family, inbound or outbound."""

    def why_not_family(self, family: int, *, outbound: bool) -> str | None: ...

#: ``--udp-rate max``: no rate is 0 Mbit/s (iperf3 -b 0 would be unlimited), so 0 stands for it.
UDP_MAX = 0
#: The sweeps that are conditions of the path between the lab hosts (lab/linkpath.py).
PATH_SWEEPS = ("delay", "loss", "rate")


def decimal_text(value: int, scale: int) -> str:
    """A count of 1/``scale`` steps as the shortest decimal: 100 at scale 1000 is "0.1"."""
    if scale == 1:
        return str(value)
    text = format(Decimal(value) / Decimal(scale), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def decimal_steps(text: str, scale: int) -> int | None:
    """"0.1" at scale 1000 is 100 steps; None for what is not a number or not a whole count of steps."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    steps = number * scale
    return int(steps) if steps == steps.to_integral_value() else None


@dataclass(frozen=True)
class Sweep:
    name: str  # key in a variant's parameters
    flag: str  # the run option
    unit: str
    label: str  # axis label of a plot
    low: int
    high: int
    bounds_why: str
    #: ``+SUFFIX`` in a workload id, from the value; and back.
    suffix: Callable[[int], str]
    pattern: str
    #: Why a (base) workload in a placement cannot take the sweep, or None.
    why_not: Callable[[Workload, str], str | None]
    #: A value that means "as without the sweep" (no suffix), if any.
    neutral: int | None = None
    #: The only values it takes, where the bounds are not enough (IP versions).
    allowed: tuple[int, ...] = ()
    #: Why a method cannot take a value for a workload, or None (a method property says).
    method_why_not: Callable[[CarriesFamilies, Workload, int], str | None] | None = None
    #: What the values mean, for ``run --help``.
    help: str = ""
    #: Words it takes besides numbers, each with the value (out of the bounds) it stands for.
    words: tuple[tuple[str, int], ...] = ()
    #: Metrics a variant at a value records besides its workload's (the rate ``max`` found).
    metrics_at: Callable[[int], tuple[Metric, ...]] = lambda value: ()
    #: Steps of a value per unit: 1000 keeps a delay in microseconds while it is written in ms.
    scale: int = 1
    #: What the number in the suffix and on a plot's axis is, in value steps: the delay's
    #: suffix names the round trip, twice the delay added in each direction.
    axis_factor: int = 1

    def text(self, value: int) -> str:
        """How a value is written on the command line and shown: its word, or its number in
        the sweep's unit (``--delay`` 100 is "0.1")."""
        return next((word for word, v in self.words if v == value), decimal_text(value, self.scale))

    def axis(self, value: int) -> float:
        """The value on a plot's axis, in the unit its label names (the round trip, for the delay)."""
        return value * self.axis_factor / self.scale

    def axis_text(self, value: int) -> str:
        """The number a suffix and an axis tick show for a value (``rtt20ms``'s 20)."""
        return decimal_text(value * self.axis_factor, self.scale)

    def value_of_axis(self, text: str) -> int | None:
        """The value whose ``axis_text`` is ``text``, or None."""
        steps = decimal_steps(text, self.scale)
        if steps is None or steps % self.axis_factor:
            return None
        return steps // self.axis_factor

    def is_word(self, value: int) -> bool:
        """A value that is not a point on the sweep's axis (not to be plotted against the others)."""
        return any(v == value for _, v in self.words)

    def value_of_suffix(self, suffix: str) -> int | None:
        """The value a ``+SUFFIX`` of a workload id stands for, or None if it is not this sweep's."""
        for _, value in self.words:
            if suffix == self.suffix(value):
                return value
        found = re.fullmatch(self.pattern, suffix)
        if not found:
            return None
        value = self.value_of_axis(found.group(1))
        # Only the suffix this value writes stands for it ("rtt020ms" is no one's).
        return value if value is not None and self.suffix(value) == suffix else None

    def parse(self, text: str | None) -> tuple[int, ...]:
        """``--flag 1500,65520`` -> (1500, 65520); a bad value is one line and exit 2."""
        if text is None:
            return ()
        values: list[int] = []
        # Empty items are skipped, as in --methods ("1500," is 1500), so only a list with no
        # value at all is refused as such.
        words = dict(self.words)
        alternatives = "".join(f" or {word}" for word in words)
        for item in (part.strip() for part in text.split(",") if part.strip()):
            if item.lower() in words:
                value = words[item.lower()]
            else:
                steps = decimal_steps(item, self.scale)
                if steps is None:
                    if self.scale == 1:
                        raise UsageError(f"{self.flag} {item!r}: not a whole number{alternatives}")
                    finest = decimal_text(1, self.scale)
                    raise UsageError(f"{self.flag} {item!r}: not a number in steps of {finest} {self.unit}"
                                     f"{alternatives}")
                value = steps
                number = decimal_text(value, self.scale)
                if self.allowed and value not in self.allowed:
                    raise UsageError(f"{self.flag} {number}: must be "
                                     f"{' or '.join(map(str, self.allowed))} ({self.bounds_why})")
                if not self.low <= value <= self.high:
                    raise UsageError(f"{self.flag} {number}: must be between {decimal_text(self.low, self.scale)} "
                                     f"and {decimal_text(self.high, self.scale)} {self.unit}{alternatives} "
                                     f"({self.bounds_why})")
            if value not in values:
                values.append(value)
        if not values:
            raise UsageError(f"{self.flag}: no value given")
        return tuple(values)


def _mtu_why_not(workload: Workload, placement: str) -> str | None:
    return None


def _streams_why_not(workload: Workload, placement: str) -> str | None:
    if not workload.parallel_streams:
        return workload.no_parallel_streams or f"{workload.id} has no parallel streams to set"
    return None


def _size_why_not(workload: Workload, placement: str) -> str | None:
    if not workload.sized:
        return f"{workload.id} has no message size to set (the echo round trips' message, udp-stream's datagram)"
    return None


def _rate_why_not(workload: Workload, placement: str) -> str | None:
    if not workload.offered_rate:
        return f"{workload.id} has no offered rate (iperf3's UDP stream has)"
    return None


def _rate_suffix(value: int) -> str:
    return "ratemax" if value == UDP_MAX else f"rate{value}M"


def _path_why_not(workload: Workload, placement: str) -> str | None:
    if placement != "remote":
        return "it is a condition of the path between the lab hosts; a loopback client does not cross it"
    return None


def _link_mtu_why_not(workload: Workload, placement: str) -> str | None:
    if placement != "remote" and not workload.outbound:
        return "the MTU is the lab link's; a loopback client does not cross it"
    return None


def _txqueuelen_why_not(workload: Workload, placement: str) -> str | None:
    if workload.outbound:
        return "the container's client sends as soon as it starts, before its queue could be set"
    return None


def _pattern(prefix: str, unit: str) -> str:
    return rf"{prefix}(\d+(?:\.\d+)?){unit}"


def _family_why_not(workload: Workload, placement: str) -> str | None:
    return None  # every workload and placement; whether a method carries IPv6 is the method's


def _family_method_why_not(method: CarriesFamilies, workload: Workload, family: int) -> str | None:
    return method.why_not_family(family, outbound=workload.outbound)


SWEEPS: dict[str, Sweep] = {s.name: s for s in (
    Sweep("mtu", "--container-mtu", "bytes", "MTU inside the container (bytes)", 1280, 65520,
          "1280 is IPv6's minimum, which pasta and Podman keep; 65520 is pasta's and slirp4netns's largest",
          lambda v: f"mtu{v}", r"mtu(\d+)", _mtu_why_not),
    Sweep("link_mtu", "--link-mtu", "bytes", "MTU of the lab link (bytes)", 1280, 65520,
          "1280 is IPv6's minimum; 65520 is the largest a container's interface takes",
          lambda v: f"linkmtu{v}", r"linkmtu(\d+)", _link_mtu_why_not),
    Sweep("txqueuelen", "--container-txqueuelen", "packets", "transmit queue of the container's tap (packets)",
          1, 1000000, "a queue of at least one packet; a million is far past any window",
          lambda v: f"txq{v}", r"txq(\d+)", _txqueuelen_why_not),
    Sweep("streams", "--streams", "streams", "parallel streams (iperf3 -P) or concurrent echo clients", 1, 128,
          "iperf3 takes at most 128", lambda v: f"P{v}", r"P(\d+)", _streams_why_not),
    Sweep("size", "--sizes", "bytes", "message size (bytes)", 16, 65507,
          "iperf3's smallest UDP datagram; the largest UDP payload", lambda v: f"size{v}", r"size(\d+)", _size_why_not),
    Sweep("udp_rate", "--udp-rate", "Mbit/s", "offered UDP rate (Mbit/s)", 1, 100000,
          "iperf3 -b, in Mbit/s", _rate_suffix, r"rate(\d+)M", _rate_why_not,
          words=(("max", UDP_MAX),), metrics_at=lambda v: (UDP_MAX_OFFERED,) if v == UDP_MAX else ()),
    Sweep("delay", "--delay", "ms", "round trip added on the lab path (ms)", 0, 10_000_000,
          "netem's delay, added in each direction, in steps of 1 us",
          lambda v: f"rtt{decimal_text(2 * v, 1000)}ms", _pattern("rtt", "ms"), _path_why_not,
          scale=1000, axis_factor=2),
    Sweep("loss", "--loss", "%", "packets lost in each direction (%)", 0, 99_999,
          "netem's loss in each direction, in steps of 0.001%; a loss of 100% carries nothing",
          lambda v: f"loss{decimal_text(v, 1000)}pct", _pattern("loss", "pct"), _path_why_not, neutral=0,
          scale=1000),
    Sweep("rate", "--rate", "Mbit/s", "rate limit of the lab path (Mbit/s)", 0, 100_000,
          "a tbf rate in Mbit/s; 0 is no limit", lambda v: f"bw{v}M", _pattern("bw", "M"), _path_why_not,
          neutral=0),
    Sweep("family", "--family", "", "IP version", 4, 6, "the IP version: IPv4 or IPv6",
          lambda v: f"ipv{v}", r"ipv(6)", _family_why_not, neutral=4, allowed=(4, 6),
          method_why_not=_family_method_why_not),
)}


_HELP = {
    "mtu": "the MTU inside the container, set the way each method sets it (pasta --mtu, slirp4netns mtu=, "
           "rootlesskit --mtu, a bridge network's mtu option) and checked inside the container; host and "
           "socket activation keep the lab link's (--mtu)",
    "link_mtu": "the MTU of the lab link, set at both ends (the server host's and the client host's) for the "
                "trial and read back from both before it counts, instead of the run's --mtu; remote placement "
                "and the outbound workloads (a loopback client does not cross the link)",
    "txqueuelen": "the transmit queue length (packets) of the container's tap device (pasta, slirp4netns), set "
                  "from outside the container before the client starts and read back; host, socket activation and "
                  "bridge have no tap and are measured unchanged beside them, as the reference; inbound workloads",
    "streams": "for the iperf3 workloads, parallel streams (iperf3 -P), their throughput added up; for tcp-rr, "
               "udp-rr and tcp-crr, that many concurrent clients (each a process and a connection or UDP "
               "socket of its own, measuring at the same time), with percentiles over every transaction of "
               "every client and transactions_per_s of all together (echo-stream keeps one connection)",
    "size": "the message size of the echo round trips (tcp-rr, udp-rr, tcp-crr) and udp-stream's datagram",
    "udp_rate": "udp-stream's offered rate (iperf3 -b) in Mbit/s, instead of its 1 Gbit/s; max: in each trial, "
                "the highest rate that loses at most 1%%, searched with probes of a third of --duration (at "
                "least 1 s): from 1000 Mbit/s, doubling (halving) to the first that loses more (less), then 4 "
                "bisections, 12 probes at most, every probe recorded (README, Sweeps)",
    "delay": "milliseconds of delay added in EACH direction of the path between the lab hosts, so the round "
             "trip grows by twice the value (--delay 10 is the variant +rtt20ms), decimals allowed (0.1); netem "
             "on the lab link where the kernel has sch_netem, else on a delay box (a User-Mode Linux guest between "
             "the lab hosts, used for the whole run: doctor says which); remote placement only; every trial "
             "first measures the round trip it got (README, Real paths)",
    "loss": "percent of packets netem drops in each direction, 0 <= loss < 100, decimals allowed (0.1 is the "
            "variant +loss0.1pct; 0 adds no suffix); packets are dropped one by one (no segmentation offload on "
            "the path while loss is set); with no --delay, --delay 0 is implied",
    "rate": "a rate limit in Mbit/s on both directions of the lab link (tbf at each host's end, its queue that "
            "of a small switch port: README, Real paths), 0 for none (no suffix); 1000 is the variant +bw1000M; "
            "with no --delay, --delay 0 is implied",
    "family": "the IP version the client connects with (remote: the server host's 2001:db8:5100::1, "
              "loopback: ::1; outbound: the client host's 2001:db8:5100::2); 4 keeps the workload's id "
              "(tcp-stream), 6 adds +ipv6; a method that cannot carry IPv6 is not applicable, with why; "
              "with 6 the claims probes run over IPv4 and IPv6",
}
SWEEPS = {name: replace(sweep, help=_HELP[name]) for name, sweep in SWEEPS.items()}


def variant_id(base: str, values: Mapping[str, int]) -> str:
    """The workload id of ``base`` at ``values`` (in SWEEPS order); a neutral value adds nothing."""
    return base + "".join(f"+{sweep.suffix(values[name])}" for name, sweep in SWEEPS.items()
                          if name in values and values[name] != sweep.neutral)


def split(workload_id: str) -> tuple[str, dict[str, int]]:
    """``tcp-stream+mtu1500+P8`` -> ("tcp-stream", {"mtu": 1500, "streams": 8})."""
    base, *suffixes = workload_id.split("+")
    values: dict[str, int] = {}
    for suffix in suffixes:
        for name, sweep in SWEEPS.items():
            value = sweep.value_of_suffix(suffix)
            if value is not None:
                values[name] = value
                break
        else:
            raise KeyError(workload_id)
    return base, values


def family_of(workload_id: str) -> int:
    """The IP family a workload id measures: 4 unless it is an IPv6 variant (``+ipv6``)."""
    return split(workload_id)[1].get("family", 4)


def probe_families(workload_ids: Iterable[str]) -> tuple[int, ...]:
    """The IP families the claims probes run over: IPv4 always, and IPv6 too where the run
    measures any workload over it."""
    return (4, 6) if any(family_of(w) == 6 for w in workload_ids) else (4,)


def base_of(workload_id: str) -> str:
    return workload_id.split("+", 1)[0]


def combinations(chosen: Mapping[str, tuple[int, ...]]) -> list[dict[str, int]]:
    """Every combination of the swept values ([{}] when nothing is swept)."""
    found: list[dict[str, int]] = [{}]
    for name, values in chosen.items():
        found = [{**combo, name: value} for combo in found for value in values]
    return found


def applicable(chosen: Mapping[str, tuple[int, ...]], workload: Workload) -> dict[str, tuple[int, ...]]:
    """The sweeps that apply to a workload in at least one of its placements: the others do
    not multiply it (a placement a sweep cannot take is a not-applicable cell, with why)."""
    return {name: values for name, values in chosen.items()
            if any(SWEEPS[name].why_not(workload, placement) is None for placement in workload.placements)}


def why_not(values: Mapping[str, int], workload: Workload, placement: str,
            method: "CarriesFamilies | None" = None) -> str | None:
    for name, value in values.items():
        sweep = SWEEPS[name]
        reason = sweep.why_not(workload, placement)
        if reason is None and method is not None and sweep.method_why_not is not None:
            reason = sweep.method_why_not(method, workload, value)
        if reason is not None:
            return f"{sweep.flag} {sweep.text(value)}: {reason}"
    return None
