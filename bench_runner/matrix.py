"""The declarative matrix: methods x workloads x placements, with their ids validated up front.

This module holds only data. How a method is provided lives in ``providers``, how a
workload is driven in ``workloads``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, TypeVar

from .errors import UsageError


@dataclass(frozen=True)
class Method:
    id: str
    summary: str
    #: Podman's ``--network`` value; None where the method is not a Podman network mode.
    podman_network: str | None
    #: Whether clients reach the server through a published port (a forwarding helper).
    publishes_port: bool
    #: The helper kind expected to own the listening socket in the server host, per provider
    #: ("server" = the workload's own server process, i.e. no helper in the data path;
    #: "inherited" = the server, in a network namespace of its own, holding a socket of the
    #: server host that it inherited).
    expected_listener: Mapping[str, str]
    #: Who owns the server host's end of a connection the container makes (outbound).
    expected_outbound: str | None = None


@dataclass(frozen=True)
class Metric:
    id: str
    unit: str
    higher_is_better: bool
    summary: str


@dataclass(frozen=True)
class Placement:
    id: str
    summary: str


@dataclass(frozen=True)
class Workload:
    id: str
    summary: str
    metric: Metric
    extra_metrics: tuple[Metric, ...] = ()
    #: Methods it runs under; any other method shows as "not applicable" with the reason.
    methods: tuple[str, ...] = ()
    not_applicable: Mapping[str, str] = field(default_factory=dict)
    placements: tuple[str, ...] = ("remote", "loopback")
    #: (method, placement) pairs that do not apply although the method and the placement
    #: each do, with the reason.
    not_applicable_cells: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def metrics(self) -> tuple[Metric, ...]:
        return (self.metric, *self.extra_metrics)


T = TypeVar("T")


def _registry(items: Iterable[T]) -> dict[str, T]:
    return {item.id: item for item in items}  # type: ignore[attr-defined]

METHODS: dict[str, Method] = _registry([
    Method("host", "--network=host: the server shares the server host's network; the baseline",
           "host", False, {"podman": "server", "bare": "server"}, "server"),
    Method("pasta", "--network=pasta: pasta forwards the published port into the container",
           "pasta", True, {"podman": "pasta", "bare": "pasta"}, "pasta"),
    Method("slirp4netns-rootlesskit",
           "--network=slirp4netns:port_handler=rootlesskit: rootlessport forwards the published port",
           "slirp4netns:port_handler=rootlesskit", True, {"podman": "rootlessport", "bare": "rootlesskit"},
           "slirp4netns"),
    Method("slirp4netns-slirp4netns",
           "--network=slirp4netns:port_handler=slirp4netns: slirp4netns forwards the published port",
           "slirp4netns:port_handler=slirp4netns", True, {"podman": "slirp4netns", "bare": "slirp4netns"},
           "slirp4netns"),
    Method("socket-activation-user",
           "a listening socket made by the unprivileged user (a systemd user socket unit), handed to a "
           "container with --network=none",
           None, True, {"podman": "inherited", "bare": "inherited"}),
    Method("socket-activation-system",
           "the socket made by root below ip_unprivileged_port_start (a system socket unit), the container run "
           "as the unprivileged user (User=)",
           None, True, {"podman": "inherited", "bare": "inherited"}),
])

PLACEMENTS: dict[str, Placement] = _registry([
    Placement("remote", "client on the client host, across the veth link (198.51.100.2 -> 198.51.100.1)"),
    Placement("loopback", "client on the server host itself, to 127.0.0.1"),
])

GBITS = Metric("throughput", "Gbit/s", True, "goodput at the receiver")
RETRANSMITS = Metric("retransmits", "count", False, "TCP retransmissions during the test")
HELPER_CPU = Metric("helper_cpu_s_per_gb", "CPU s/GB", False,
                    "CPU seconds the forwarding helper spent per GB moved")
RTT_P50 = Metric("p50", "us", False, "median round-trip time of the trial's round trips")
RTT_P90 = Metric("p90", "us", False, "90th percentile of the trial's round-trip times")
RTT_P99 = Metric("p99", "us", False, "99th percentile of the trial's round-trip times")
CRR_MEAN = Metric("transaction_us", "us", False,
                  "time per connect-request-response-close transaction (measured time / transactions)")
CRR_P50 = Metric("p50", "us", False, "median time of the trial's transactions")
CRR_P90 = Metric("p90", "us", False, "90th percentile of the trial's transaction times")
CRR_P99 = Metric("p99", "us", False, "99th percentile of the trial's transaction times")
UDP_LOSS = Metric("lost_percent", "%", False, "datagrams lost, as iperf3's receiver counts them")
UDP_JITTER = Metric("jitter_ms", "ms", False, "iperf3's jitter (RFC 1889 interarrival jitter)")

#: What the published-port methods share.
PORT_METHODS = ("host", "pasta", "slirp4netns-rootlesskit", "slirp4netns-slirp4netns")
#: The echo service takes inherited sockets, so its workloads run under socket activation too.
ECHO_METHODS = (*PORT_METHODS, "socket-activation-user", "socket-activation-system")
#: Bits per second of the udp-stream workload, and its datagram payload (fits a 1500 MTU).
UDP_STREAM_RATE = 1_000_000_000
UDP_STREAM_BLKSIZE = 1400
_NO_INHERITED_IPERF3 = ("iperf3 cannot take an inherited listening socket; "
                        "echo-stream measures throughput under socket activation")
IPERF3_NOT_APPLICABLE = {"socket-activation-user": _NO_INHERITED_IPERF3,
                         "socket-activation-system": _NO_INHERITED_IPERF3}
#: Observed (and re-checked by tests/integration/test_echo_workloads.py): with Podman's
#: default --disable-host-loopback, UDP sent from the server host's own 127.0.0.1 to a port
#: published by slirp4netns gets no reply back; with allow_host_loopback=true it does.
UDP_LOOPBACK_NOT_APPLICABLE = {
    ("slirp4netns-slirp4netns", "loopback"):
        "slirp4netns's port handler returns no UDP reply to the server host's own 127.0.0.1 with Podman's "
        "default --disable-host-loopback (allow_host_loopback=true changes that)",
}

WORKLOADS: dict[str, Workload] = _registry([
    Workload(
        "tcp-stream",
        "iperf3 TCP, client to server through the published port",
        GBITS,
        (RETRANSMITS, HELPER_CPU),
        methods=PORT_METHODS,
        not_applicable=IPERF3_NOT_APPLICABLE,
    ),
    Workload(
        "tcp-stream-reverse",
        "iperf3 TCP -R: the server sends to the client through the published port",
        GBITS,
        (RETRANSMITS, HELPER_CPU),
        methods=PORT_METHODS,
        not_applicable=IPERF3_NOT_APPLICABLE,
    ),
    Workload(
        "tcp-stream-parallel",
        "iperf3 TCP -P 4: four streams, client to server through the published port",
        GBITS,
        (RETRANSMITS, HELPER_CPU),
        methods=PORT_METHODS,
        not_applicable=IPERF3_NOT_APPLICABLE,
    ),
    Workload(
        "udp-stream",
        f"iperf3 UDP at {UDP_STREAM_RATE / 1e9:g} Gbit/s ({UDP_STREAM_BLKSIZE}-byte datagrams), client to server",
        GBITS,
        (UDP_LOSS, UDP_JITTER, HELPER_CPU),
        methods=PORT_METHODS,
        not_applicable=IPERF3_NOT_APPLICABLE,
        not_applicable_cells=UDP_LOOPBACK_NOT_APPLICABLE,
    ),
    Workload(
        "tcp-rr",
        "echo service, TCP: round trips of 64-byte messages on one connection",
        RTT_P50,
        (RTT_P90, RTT_P99),
        methods=ECHO_METHODS,
    ),
    Workload(
        "udp-rr",
        "echo service, UDP: round trips of 64-byte datagrams",
        RTT_P50,
        (RTT_P90, RTT_P99),
        methods=ECHO_METHODS,
        not_applicable_cells=UDP_LOOPBACK_NOT_APPLICABLE,
    ),
    Workload(
        "tcp-crr",
        "echo service, TCP: connect, one 64-byte request and response, close",
        CRR_MEAN,
        (CRR_P50, CRR_P90, CRR_P99),
        methods=ECHO_METHODS,
    ),
    Workload(
        "echo-stream",
        "echo service, TCP: bulk transfer into the service's sink (128 KiB sends)",
        GBITS,
        (HELPER_CPU,),
        methods=ECHO_METHODS,
    ),
    Workload(
        "tcp-stream-outbound",
        "iperf3 TCP from the container out to a server on the client host (the lab's internet)",
        GBITS,
        (RETRANSMITS,),
        methods=PORT_METHODS,
        not_applicable={m: "the container has no network of its own (--network=none): it cannot connect out"
                        for m in ("socket-activation-user", "socket-activation-system")},
        placements=("remote",),
    ),
])


#: The stack every run has without booting one: this machine's own installed software.
HOST_STACK = "host"


@dataclass(frozen=True, order=True)
class Cell:
    workload: str
    placement: str
    method: str
    #: Whose software runs the server side: this machine's ("host") or a booted stack's.
    stack: str = HOST_STACK

    @property
    def label(self) -> str:
        return f"{self.workload}/{self.placement}/{stack_label(self.method, self.stack)}"


def stack_label(method: str, stack: str) -> str:
    """A method as measured under a stack: "pasta" on this machine, "pasta@trixie" in a stack."""
    return method if stack == HOST_STACK else f"{method}@{stack}"


@dataclass(frozen=True)
class Matrix:
    cells: tuple[Cell, ...]
    not_applicable: tuple[tuple[Cell, str], ...]

    def methods(self) -> list[str]:
        return sorted({c.method for c in self.cells}, key=list(METHODS).index)

    def stacks(self) -> list[str]:
        """In the order they were asked for."""
        return list(dict.fromkeys(c.stack for c in (*self.cells, *(c for c, _ in self.not_applicable))))

    def methods_in(self, stack: str) -> list[str]:
        """The methods measured under one stack."""
        return sorted({c.method for c in self.cells if c.stack == stack}, key=list(METHODS).index)

    def without(self, stack: str, reasons: Mapping[str, str]) -> "Matrix":
        """The same matrix with a stack's cells of ``reasons``' methods not applicable, with
        why (a release whose Podman cannot run a method: pasta before 4.4)."""
        moved = tuple((c, reasons[c.method]) for c in self.cells if c.stack == stack and c.method in reasons)
        kept = tuple(c for c in self.cells if not (c.stack == stack and c.method in reasons))
        return Matrix(kept, self.not_applicable + moved)


def parse_ids(values: Iterable[str] | str | None, registry: Mapping[str, object], kind: str) -> tuple[str, ...]:
    """Comma-separated or repeated ids, in registry order; "all" means every id.
    An unknown id is a UsageError that names the valid choices."""
    if values is None:
        return tuple(registry)
    if isinstance(values, str):
        values = [values]
    chosen: list[str] = []
    for value in values:
        for item in value.split(","):
            item = item.strip()
            if not item:
                continue
            if item == "all":
                chosen.extend(registry)
            elif item not in registry:
                raise UsageError(f"unknown {kind} '{item}'; valid: {', '.join(registry)}")
            else:
                chosen.append(item)
    if not chosen:
        raise UsageError(f"no {kind} given; valid: {', '.join(registry)}")
    order = list(registry)
    return tuple(sorted(set(chosen), key=order.index))


def build(methods: Iterable[str], workloads: Iterable[str], placements: Iterable[str],
          stacks: Iterable[str] = (HOST_STACK,)) -> Matrix:
    """Every cell to measure, and every requested cell that does not apply (with why)."""
    cells: list[Cell] = []
    skipped: list[tuple[Cell, str]] = []
    methods, placements = tuple(methods), tuple(placements)
    for stack in stacks:
        for workload_id in workloads:
            workload = WORKLOADS[workload_id]
            for placement in placements:
                for method in methods:
                    cell = Cell(workload_id, placement, method, stack)
                    if method not in workload.methods:
                        reason = workload.not_applicable.get(method, f"{workload_id} does not run under {method}")
                        skipped.append((cell, reason))
                    elif placement not in workload.placements:
                        skipped.append((cell, f"{workload_id} has no {placement} placement"))
                    elif (method, placement) in workload.not_applicable_cells:
                        skipped.append((cell, workload.not_applicable_cells[(method, placement)]))
                    else:
                        cells.append(cell)
    return Matrix(tuple(cells), tuple(skipped))
