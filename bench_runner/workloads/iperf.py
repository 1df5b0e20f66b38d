"""iperf3 workloads: the server is the iperf3 binary (one-off, JSON), the client the iperf3
Python binding in a fresh process per test."""

from __future__ import annotations

from .. import procs
from ..errors import MeasurementError
from ..matrix import WORKLOADS
from ..parsers import ParseError, iperf3
from ..providers.base import ServerExit, ServerSpec
from .base import ClientContext, Measurement, WorkloadDriver


class TcpStream(WorkloadDriver):
    spec = WORKLOADS["tcp-stream"]
    client_flags: tuple[str, ...] = ()

    def server(self, port: int) -> ServerSpec:
        # -1: serve one test and exit, so every trial has a fresh server.
        return ServerSpec(("iperf3", "-s", "-1", "--json", "-p", str(port)), port, ("tcp",))

    def run_client(self, ctx: ClientContext) -> str:
        argv = ctx.worker_argv(
            "iperf_client.py", "--host", ctx.target, "--port", str(ctx.host_port),
            "--duration", str(ctx.settings.duration_s), "--omit", str(ctx.settings.omit_s), *self.client_flags)
        result = procs.run(argv, timeout=ctx.settings.client_timeout, check=False)
        if result.returncode != 0:
            try:
                iperf3.parse_client(result.stdout)
            except ParseError as exc:
                raise MeasurementError(f"iperf3 client failed: {exc}") from None
            raise MeasurementError(f"iperf3 client exited with {result.returncode}: {result.stderr.strip()[-200:]}")
        return result.stdout

    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        client = iperf3.parse_client(client_output)
        peer = iperf3.parse_server(server.stdout)
        samples = {"throughput": client.received_bps / 1e9}
        if client.retransmits is not None:
            samples["retransmits"] = float(client.retransmits)
        return Measurement(
            samples=samples,
            observations={"peer_address": peer.peer_address, "client_address": client.local_host},
            bytes_moved=client.interval_bytes,
        )
