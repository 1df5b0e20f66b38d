"""The path between the lab hosts, shaped as each trial asks: delay and loss added in each
direction (netem) and a rate limit on both (tbf). Two ways to get it:

- ``VethPath``: qdiscs on the two ends of the veth link, where the kernel has ``sch_netem``
  (or where only a rate is asked: tbf is in every kernel the suite runs on);
- ``BoxPath``: netem inside a delay box (lab/delaybox.py, a User-Mode Linux guest that holds
  both ends of the link), the rate still tbf on this kernel, at the hosts' tap ends.

Either applies ``Conditions`` only when they change, and reads the counters of its qdiscs
(what netem dropped, what tbf passed) for the trial's record. The tc words and the rule for
the rate limit's queue are pure functions (tests/unit/test_linkpath.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Protocol

from .. import procs
from ..errors import MeasurementError
from ..parsers import ParseError, iproute
from .hosts import Lab

if TYPE_CHECKING:
    from .delaybox import DelayBox

TIMEOUT = 15.0
#: Packets netem may hold: its delay line, never a bottleneck's queue (at 80 ms and a few
#: Gbit/s, tens of thousands of segments are in flight; netem's own default is 1000).
NETEM_LIMIT = 100_000
#: What tbf does not count of an Ethernet frame on the wire: preamble and start delimiter
#: (8 bytes), FCS (4), inter-frame gap (12). The rate is scaled by frame / (frame + these),
#: so ``--rate 1000`` carries what gigabit Ethernet does (941 Mbit/s of TCP at MTU 1500).
WIRE_OVERHEAD = 24
ETHERNET_HEADER = 14
#: The queue of the rate limit: 192 KB at 1 Gbit/s, a small 8-port gigabit switch's whole
#: packet buffer (1.5 Mbit, e.g. TP-Link's TL-SG108), which one busy port can fill; that is
#: 1.5 ms of the rate, kept in time for other rates.
PORT_BUFFER_S = 0.0015
#: The bucket: one GSO frame of 64 KiB with its segments' headers fits whole (a frame larger
#: than the bucket is cut into packets, and the delay box then forwards packet by packet, at
#: a fraction of its speed). Also the queue's floor.
BURST_BYTES = 96 * 1024

#: The directions of the path: what the client host sends, and what it receives.
DIRECTIONS = ("to_server", "to_client")
#: How a path is made: qdiscs on the veth link's ends (netem where asked), or the delay box.
KERNEL = "kernel netem"
BOX = "delay box"


@dataclass(frozen=True)
class Conditions:
    """What a trial asks of the path: microseconds of delay and thousandths of a percent of
    loss, each added in each direction, and a rate limit in Mbit/s (0: none)."""

    delay_us: int = 0
    loss_mpct: int = 0
    rate_mbit: int = 0
    #: Packet by packet even without loss (the ceiling a lossy trial's path has).
    segmented: bool = False

    @classmethod
    def of(cls, swept: Mapping[str, int]) -> "Conditions":
        """From a workload variant's swept values (sweeps.PATH_SWEEPS)."""
        return cls(int(swept.get("delay", 0)), int(swept.get("loss", 0)), int(swept.get("rate", 0)))

    @property
    def needs_netem(self) -> bool:
        return self.delay_us > 0 or self.loss_mpct > 0

    @property
    def per_packet(self) -> bool:
        """Loss must hit packets one by one: netem drops whatever unit it is handed, and a
        64 KB GSO frame dropped whole is a burst of 44 losses."""
        return self.loss_mpct > 0 or self.segmented

    @property
    def rtt_us(self) -> int:
        """The round trip the delay adds."""
        return 2 * self.delay_us

    def to_json(self) -> dict[str, Any]:
        return {"delay_ms_each_way": self.delay_us / 1000, "rtt_added_ms": self.rtt_us / 1000,
                "loss_percent_each_way": self.loss_mpct / 1000, "rate_mbit": self.rate_mbit or None}


def netem_words(conditions: Conditions) -> list[str]:
    """``tc qdisc add ... netem ...``'s words, or [] where nothing is added."""
    if not conditions.needs_netem:
        return []
    words = ["netem"]
    if conditions.delay_us:
        words += ["delay", f"{conditions.delay_us}us"]
    if conditions.loss_mpct:
        words += ["loss", f"{conditions.loss_mpct / 1000:g}%"]
    return [*words, "limit", str(NETEM_LIMIT)]


@dataclass(frozen=True)
class TokenBucket:
    """A rate limit as tbf takes it: bits per second of Ethernet frames (header included, the
    wire's overhead not), the bucket and the queue in bytes."""

    rate_bps: int
    burst: int
    limit: int

    def words(self) -> list[str]:
        return ["tbf", "rate", f"{self.rate_bps}bit", "burst", str(self.burst), "limit", str(self.limit)]

    def to_json(self) -> dict[str, Any]:
        return {"tbf_rate_bps": self.rate_bps, "burst_bytes": self.burst, "queue_bytes": self.limit}


def token_bucket(rate_mbit: int, mtu: int) -> TokenBucket:
    """A switch port of ``rate_mbit`` on a link of ``mtu``: the rate scaled to frames (see
    WIRE_OVERHEAD), the queue PORT_BUFFER_S of it, never below the bucket."""
    frame = mtu + ETHERNET_HEADER
    rate_bps = rate_mbit * 1_000_000 * frame // (frame + WIRE_OVERHEAD)
    queue = int(rate_mbit * 1_000_000 / 8 * PORT_BUFFER_S)
    return TokenBucket(rate_bps, BURST_BYTES, max(queue, BURST_BYTES))


def end_commands(device: str, conditions: Conditions, mtu: int, *, with_netem: bool) -> list[list[str]]:
    """tc's arguments that give one end of the link its qdiscs (after the old root is gone):
    netem at the root with tbf under it, or tbf alone, or nothing."""
    netem = netem_words(conditions) if with_netem else []
    tbf = token_bucket(conditions.rate_mbit, mtu).words() if conditions.rate_mbit else []
    if netem:
        commands = [["qdisc", "add", "dev", device, "root", "handle", "1:", *netem]]
        if tbf:
            commands.append(["qdisc", "add", "dev", device, "parent", "1:1", "handle", "2:", *tbf])
        return commands
    return [["qdisc", "add", "dev", device, "root", "handle", "2:", *tbf]] if tbf else []


@dataclass(frozen=True)
class Reading:
    """The path's qdiscs at one moment, by direction: netem's and tbf's counters."""

    netem: dict[str, iproute.QdiscCounters] = field(default_factory=dict)
    tbf: dict[str, iproute.QdiscCounters] = field(default_factory=dict)


def by_direction(counters: list[iproute.QdiscCounters], devices: Mapping[str, str],
                 kind: str) -> dict[str, iproute.QdiscCounters]:
    """The qdisc of a kind on each direction's device (DIRECTIONS -> device)."""
    found = {}
    for direction, device in devices.items():
        match = next((c for c in counters if c.dev == device and c.kind == kind), None)
        if match is not None:
            found[direction] = match
    return found


def loss_seen(before: Reading, after: Reading) -> dict[str, dict[str, Any]]:
    """What netem passed and dropped in each direction between two readings."""
    seen = {}
    for direction in DIRECTIONS:
        first, last = before.netem.get(direction), after.netem.get(direction)
        if first is None or last is None:
            continue
        passed, dropped = last.packets - first.packets, last.drops - first.drops
        total = passed + dropped
        seen[direction] = {"packets": passed, "dropped": dropped,
                           "percent": round(100 * dropped / total, 4) if total else None}
    return seen


def rate_seen(before: Reading, after: Reading, seconds: float) -> dict[str, dict[str, Any]]:
    """What tbf passed in each direction between two readings, and its mean rate."""
    seen = {}
    for direction in DIRECTIONS:
        first, last = before.tbf.get(direction), after.tbf.get(direction)
        if first is None or last is None:
            continue
        sent = last.bytes - first.bytes
        seen[direction] = {"bytes": sent, "dropped": last.drops - first.drops,
                           "mbit_per_s": round(sent * 8 / seconds / 1e6, 1) if seconds > 0 else None}
    return seen


#: Loss is checked against what was asked only where this many drops are expected: fewer
#: (a short round-trip trial at 0.1%) say nothing either way.
LOSS_CHECK_MIN_EXPECTED = 50
#: ... and then the drops must be within this factor of the expectation (a Poisson count of
#: 50 falls outside [17, 150] with a probability below 1e-8).
LOSS_CHECK_FACTOR = 3.0


def loss_problem(asked_mpct: int, seen: Mapping[str, Mapping[str, Any]]) -> str | None:
    """Why the loss seen cannot be the loss asked, or None."""
    for direction, counts in seen.items():
        total = counts["packets"] + counts["dropped"]
        expected = total * asked_mpct / 100_000
        dropped = counts["dropped"]
        if asked_mpct == 0 and dropped:
            return f"no loss asked, but netem dropped {dropped} of {total} packets {direction.replace('_', ' ')}"
        if expected >= LOSS_CHECK_MIN_EXPECTED and not (
                expected / LOSS_CHECK_FACTOR <= dropped <= expected * LOSS_CHECK_FACTOR):
            return (f"--loss {asked_mpct / 1000:g} asked, but netem dropped {dropped} of {total} packets "
                    f"{direction.replace('_', ' ')} ({expected:.0f} expected)")
    return None


class LabPath(Protocol):
    """The path a run's trials cross, shaped per trial."""

    #: How the path is made: KERNEL or BOX.
    via: str

    def apply(self, conditions: Conditions) -> None: ...

    def read(self) -> Reading: ...

    def describe(self) -> dict[str, Any]: ...


def _tc(netns_path: str, args: list[str], *, check: bool = True) -> procs.ProcessResult:
    return procs.run(["nsenter", f"--net={netns_path}", "--", "tc", *args], timeout=TIMEOUT, check=check)


def _ethtool(netns_path: str, args: list[str]) -> None:
    procs.run(["nsenter", f"--net={netns_path}", "--", "ethtool", *args], timeout=TIMEOUT)


def _ends(lab: Lab) -> dict[str, tuple[str, str]]:
    """Direction -> (namespace, device) whose egress shapes it."""
    return {"to_server": (lab.client_ns_path, lab.client_if), "to_client": (lab.server_ns_path, lab.server_if)}


def read_host_ends(lab: Lab) -> list[iproute.QdiscCounters]:
    """The qdiscs at both host ends of the link, with their counters."""
    found: list[iproute.QdiscCounters] = []
    for netns, device in _ends(lab).values():
        result = _tc(netns, ["-s", "-j", "qdisc", "show", "dev", device])
        try:
            found += iproute.parse_qdisc_counters(result.stdout, device)
        except ParseError as exc:
            raise MeasurementError(f"the qdiscs of {device}: {exc}") from None
    return found


class HostEnds:
    """The two host ends of the link, each given its root qdisc anew when the conditions
    change (with_netem: netem there too), and its offloads turned off while loss is asked."""

    def __init__(self, lab: Lab, *, with_netem: bool, offloads: tuple[str, ...]) -> None:
        self.lab = lab
        self.with_netem = with_netem
        self.offloads = offloads
        self.current = Conditions()
        self.installed = False

    def apply(self, conditions: Conditions) -> None:
        wanted = end_commands("DEV", conditions, self.lab.mtu, with_netem=self.with_netem)
        had = end_commands("DEV", self.current, self.lab.mtu, with_netem=self.with_netem)
        for netns, device in _ends(self.lab).values():
            if conditions.per_packet != self.current.per_packet:
                state = "off" if conditions.per_packet else "on"
                _ethtool(netns, ["-K", device, *[w for name in self.offloads for w in (name, state)]])
            if wanted != had:
                if self.installed:
                    _tc(netns, ["qdisc", "del", "dev", device, "root"])
                for command in end_commands(device, conditions, self.lab.mtu, with_netem=self.with_netem):
                    _tc(netns, command)
        self.installed = bool(wanted)
        self.current = conditions


class VethPath:
    """Kernel netem (and tbf) on the two ends of the veth link."""

    via = KERNEL

    def __init__(self, lab: Lab) -> None:
        self.lab = lab
        # Loss: no GSO frames at all (the socket builds none without gso and tso).
        self.ends = HostEnds(lab, with_netem=True, offloads=("tso", "gso"))

    def apply(self, conditions: Conditions) -> None:
        self.ends.apply(conditions)

    def read(self) -> Reading:
        counters = read_host_ends(self.lab)
        devices = {d: device for d, (_, device) in _ends(self.lab).items()}
        return Reading(by_direction(counters, devices, "netem"), by_direction(counters, devices, "tbf"))

    def describe(self) -> dict[str, Any]:
        return {"via": self.via, "where": "netem and tbf on the egress of each veth end, the server host's for "
                "what goes to the client and the client host's for what goes to the server"}


class BoxPath:
    """netem inside the delay box, tbf at the taps' host ends."""

    via = BOX

    def __init__(self, lab: Lab, box: "DelayBox") -> None:
        self.lab = lab
        self.box = box
        # Loss: the host hands the box packets, not TSO frames (the box turns its GRO off).
        self.ends = HostEnds(lab, with_netem=False, offloads=("tso",))
        self.current = Conditions()

    def apply(self, conditions: Conditions) -> None:
        # TSO frames must never reach a box whose GRO is off (it would cut them short): the
        # host stops sending them first, and starts again last.
        switching = conditions.per_packet != self.current.per_packet
        if switching and not conditions.per_packet:
            self.box.set_per_packet(False)
        self.ends.apply(conditions)
        if switching and conditions.per_packet:
            self.box.set_per_packet(True)
        if netem_words(conditions) != netem_words(self.current):
            self.box.set_netem(netem_words(self.current), netem_words(conditions))
        self.current = conditions

    def read(self) -> Reading:
        host = read_host_ends(self.lab)
        devices = {d: device for d, (_, device) in _ends(self.lab).items()}
        return Reading(by_direction(self.box.qdiscs(), self.box.DIRECTION_DEVICES, "netem"),
                       by_direction(host, devices, "tbf"))

    def describe(self) -> dict[str, Any]:
        return {"via": self.via, **self.box.describe()}
