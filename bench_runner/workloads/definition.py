"""What a workload is, as data: its id, what it measures, where it runs and which sweeps it
takes. Each workload module declares its own (``spec`` on its driver class), beside the
driver that runs it; ``workloads.DRIVERS`` is the one registry, and ``workloads.WORKLOADS``
is read from it."""

from __future__ import annotations

from dataclasses import dataclass

from ..results.metrics import Metric


@dataclass(frozen=True)
class Workload:
    id: str
    summary: str
    metric: Metric
    extra_metrics: tuple[Metric, ...] = ()
    placements: tuple[str, ...] = ("remote", "loopback")
    #: "tcp" or "udp" (a method may not carry one protocol in one placement).
    protocol: str = "tcp"
    #: Can its server take a listening socket it inherits (socket activation)? If not, why.
    inherited_socket: bool = True
    no_inherited_socket: str = ""
    #: Does the container connect out (to a server on the client host)?
    outbound: bool = False
    #: Does --streams apply (iperf3's -P; concurrent clients of the echo round trips)? If not, why.
    parallel_streams: bool = False
    no_parallel_streams: str = ""
    #: Has it a message size --sizes sets (the echo round trips' message, a UDP datagram)?
    sized: bool = False
    #: Has it an offered rate --udp-rate sets (iperf3's UDP stream)?
    offered_rate: bool = False
    #: Which end sends the data, for a throughput workload that has a twin moving the data
    #: the other way ("client", "container", "remote"); "" where no twin exists.
    sends: str = ""
    #: That twin: the same ends, the data the other way ("" where none).
    reverse: str = ""

    def metrics(self) -> tuple[Metric, ...]:
        return (self.metric, *self.extra_metrics)


#: What each sending end is called, where a workload names the direction.
SENDER_WORDS = {"client": "client sends", "container": "container sends", "remote": "remote sends"}

#: Bits per second of the udp-stream workload, and its datagram payload (fits a 1500 MTU).
UDP_STREAM_RATE = 1_000_000_000
UDP_STREAM_BLKSIZE = 1400
NO_INHERITED_IPERF3 = ("iperf3 cannot take an inherited listening socket; "
                       "echo-stream measures throughput under socket activation")
ONE_ECHO_CONNECTION = ("echo-stream runs one connection; --streams sets iperf3's parallel streams and the echo "
                       "round trips' concurrent clients")
