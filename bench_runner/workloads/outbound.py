"""The outbound workloads: the container connects out to an iperf3 server on the client host,
the lab's stand-in for "the internet", through the method's outbound path.
``tcp-stream-outbound`` uploads (the container sends); ``tcp-stream-outbound-reverse``
downloads (iperf3 -R: the remote server sends, the container receives), the direction most
complaints about rootless networking are about."""

from __future__ import annotations

from ..results.metrics import HELPER_CPU, RETRANSMITS, THROUGHPUT
from .definition import Workload
from ..parsers import ParseError, iperf3
from .serverspec import ServerExit, ServerSpec
from .base import Measurement, OutboundDriver, TrialSettings
from .iperf import iperf3_server, streams_flags


class TcpStreamOutbound(OutboundDriver):
    spec = Workload(
        "tcp-stream-outbound",
        "iperf3 TCP from the container out to a server on the client host (the lab's internet): an upload",
        THROUGHPUT,
        (RETRANSMITS, HELPER_CPU),
        placements=("remote",),
        outbound=True,
        parallel_streams=True,
        sends="container",
        reverse="tcp-stream-outbound-reverse",
    )
    client_flags: tuple[str, ...] = ()

    def remote_server(self, port: int) -> list[str]:
        return list(iperf3_server(port))

    def container_client(self, target: str, port: int, settings: TrialSettings) -> ServerSpec:
        # The server host's own iperf3 client (the container sees its /usr: this machine's, or a
        # booted stack's), with the JSON the binding's inbound clients give.
        argv = ("iperf3", "--client", target, "--port", str(port), "--time", str(settings.duration_s),
                "--omit", str(settings.omit_s), *self.client_flags, "--json", *streams_flags(settings, "-P"))
        return ServerSpec(argv, 0, (), publish=False, wait_listening=False)

    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        # The client's summary has the receiver's rate either way, and the sender's retransmits
        # (with -R the remote server's, which iperf3 hands the client at the end).
        client = iperf3.parse_client(client_output)
        remote = iperf3.parse_server(server.stdout)
        return Measurement(
            samples={"throughput": client.received_bps / 1e9, **(
                {"retransmits": float(client.retransmits)} if client.retransmits is not None else {})},
            observations={"remote_saw": remote.peer_address, "container_address": client.local_host,
                          "streams": client.num_streams},
            bytes_moved=client.interval_bytes,
        )


class TcpStreamOutboundReverse(TcpStreamOutbound):
    """A download into the container: the helper carries the data in, the acknowledgements out."""

    spec = Workload(
        "tcp-stream-outbound-reverse",
        "iperf3 TCP -R: the container connects out to the client host's server and downloads from it",
        THROUGHPUT,
        (RETRANSMITS, HELPER_CPU),
        placements=("remote",),
        outbound=True,
        parallel_streams=True,
        sends="remote",
        reverse="tcp-stream-outbound",
    )
    client_flags = ("--reverse",)

    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        if not iperf3.parse_client(client_output).reverse:
            raise ParseError(f"iperf3 ran forward, but {self.spec.id} asked for -R")
        return super().measure(client_output, server)
