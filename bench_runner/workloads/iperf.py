"""iperf3 workloads: the server is the iperf3 binary (one-off, JSON), the client the iperf3
Python binding in a fresh process per test."""

from __future__ import annotations

from ..errors import MeasurementError
from ..results.metrics import HELPER_CPU, RETRANSMITS, THROUGHPUT
from .definition import NO_INHERITED_IPERF3, Workload
from ..parsers import iperf3
from .serverspec import ServerExit, ServerSpec
from .sweeps import UDP_MAX
from .base import ClientContext, InboundDriver, Measurement, TrialSettings


def iperf3_server(port: int) -> tuple[str, ...]:
    """-1: serve one test and exit, so every trial has a fresh server; JSON for the peer."""
    return ("iperf3", "-s", "-1", "--json", "-p", str(port))


def streams_flags(settings: TrialSettings, flag: str = "--streams") -> list[str]:
    """iperf3 -P where --streams sweeps it (the worker's --streams, or iperf3's own -P)."""
    streams = settings.swept("streams")
    return [flag, str(streams)] if streams else []


def udp_flags(settings: TrialSettings) -> list[str]:
    """The datagram size and offered rate where --sizes and --udp-rate sweep them (after the
    workload's own: the last one counts)."""
    flags = []
    size, rate = settings.swept("size"), settings.swept("udp_rate")
    if size is not None:
        flags += ["--blksize", str(size)]
    if rate == UDP_MAX:
        # iperf3 -b 0 is unlimited: a search runs each probe at a rate of its own instead
        raise MeasurementError("--udp-rate max is searched for probe by probe; no client runs at 'max'")
    if rate is not None:
        flags += ["--bandwidth", str(rate * 1_000_000)]
    return flags


class TcpStream(InboundDriver):
    spec = Workload(
        "tcp-stream",
        "iperf3 TCP, client to server through the published port",
        THROUGHPUT,
        (RETRANSMITS, HELPER_CPU),
        inherited_socket=False,
        no_inherited_socket=NO_INHERITED_IPERF3,
        parallel_streams=True,
        sends="client",
        reverse="tcp-stream-reverse",
    )
    client_flags: tuple[str, ...] = ()

    def server(self, port: int) -> ServerSpec:
        return ServerSpec(iperf3_server(port), port, ("tcp",))

    def run_client(self, ctx: ClientContext) -> str:
        args = ["--host", ctx.target, "--port", str(ctx.host_port), "--duration", str(ctx.settings.duration_s),
                "--omit", str(ctx.settings.omit_s), *self.client_flags, *streams_flags(ctx.settings),
                *udp_flags(ctx.settings)]
        return ctx.run_worker("iperf_client.py", args, iperf3.parse_client, "iperf3")

    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        client = iperf3.parse_client(client_output)
        peer = iperf3.parse_server(server.stdout)
        samples = {"throughput": client.received_bps / 1e9}
        if client.retransmits is not None:
            samples["retransmits"] = float(client.retransmits)
        return Measurement(
            samples=samples,
            observations={"peer_address": peer.peer_address, "client_address": client.local_host,
                          "streams": client.num_streams, "message_size": client.blksize,
                          "offered_rate_mbps": None if client.target_bitrate is None else client.target_bitrate / 1e6},
            bytes_moved=client.interval_bytes,
        )
