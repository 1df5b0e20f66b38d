"""The iperf3 variants of the stream workload: reverse (-R), four parallel streams (-P 4),
and UDP at a set rate. Same server, same client worker, same parser as ``tcp-stream``."""

from __future__ import annotations

from ..results.metrics import HELPER_CPU, JITTER, LOST, RETRANSMITS, THROUGHPUT
from .definition import NO_INHERITED_IPERF3, UDP_STREAM_BLKSIZE, UDP_STREAM_RATE, Workload
from ..parsers import ParseError, iperf3
from .serverspec import ServerExit, ServerSpec
from .base import Measurement
from .iperf import TcpStream, iperf3_server


class TcpStreamReverse(TcpStream):
    """The server sends, the client receives: the forwarder carries the other direction."""

    spec = Workload(
        "tcp-stream-reverse",
        "iperf3 TCP -R: the server sends to the client through the published port",
        THROUGHPUT,
        (RETRANSMITS, HELPER_CPU),
        inherited_socket=False,
        no_inherited_socket=NO_INHERITED_IPERF3,
        parallel_streams=True,
        sends="container",
        reverse="tcp-stream",
    )
    client_flags = ("--reverse",)

    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        if not iperf3.parse_client(client_output).reverse:
            raise ParseError("iperf3 ran forward, but tcp-stream-reverse asked for -R")
        return super().measure(client_output, server)


class TcpStreamParallel(TcpStream):
    spec = Workload(
        "tcp-stream-parallel",
        "iperf3 TCP -P 4: four streams, client to server through the published port",
        THROUGHPUT,
        (RETRANSMITS, HELPER_CPU),
        inherited_socket=False,
        no_inherited_socket=NO_INHERITED_IPERF3,
        no_parallel_streams="tcp-stream-parallel runs its own 4 streams: sweep tcp-stream with --streams instead",
    )
    streams = 4
    client_flags = ("--streams", str(streams))

    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        found = iperf3.parse_client(client_output).num_streams
        if found != self.streams:
            raise ParseError(f"iperf3 ran {found} stream(s), tcp-stream-parallel asked for {self.streams}")
        return super().measure(client_output, server)


class UdpStream(TcpStream):
    """UDP at UDP_STREAM_RATE: what arrives, what is lost, and the jitter."""

    spec = Workload(
        "udp-stream",
        f"iperf3 UDP at {UDP_STREAM_RATE / 1e9:g} Gbit/s ({UDP_STREAM_BLKSIZE}-byte datagrams), client to server",
        THROUGHPUT,
        (LOST, JITTER, HELPER_CPU),
        protocol="udp",
        inherited_socket=False,
        no_inherited_socket=NO_INHERITED_IPERF3,
        parallel_streams=True,
        sized=True,
        offered_rate=True,
    )
    client_flags = ("--udp", "--bandwidth", str(UDP_STREAM_RATE), "--blksize", str(UDP_STREAM_BLKSIZE))

    def server(self, port: int) -> ServerSpec:
        # The control connection is TCP; the data, UDP on the same port: publish both.
        # iperf3 binds its UDP socket only when the test starts, so readiness is TCP's.
        return ServerSpec(iperf3_server(port), port, ("tcp", "udp"),
                          listen_protocols=("tcp",))

    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        client = iperf3.parse_client(client_output)
        if client.protocol != "UDP" or client.lost_percent is None or client.jitter_ms is None:
            raise ParseError("iperf3 did not run a UDP test with loss and jitter")
        peer = iperf3.parse_server(server.stdout)
        return Measurement(
            samples={"throughput": client.received_bps / 1e9, "lost_percent": client.lost_percent,
                     "jitter_ms": client.jitter_ms},
            observations={"peer_address": peer.peer_address, "client_address": client.local_host,
                          "sent_gbits": client.sent_bps / 1e9, "streams": client.num_streams,
                          "message_size": client.blksize,
                          "offered_rate_mbps": None if client.target_bitrate is None else client.target_bitrate / 1e6},
            bytes_moved=client.interval_bytes,
        )
