"""Workloads through the suite's echo service: round-trip latency (TCP and UDP),
connect-request-response-close, and a bulk stream into the service's sink.

The service is the same program under every method (it takes an inherited socket under
socket activation and binds its own port otherwise); the client is a fresh process per
trial, and ``--streams N`` makes the round trips N concurrent clients (processes, each with a
connection of its own). Each measurement is checked against what the server says it served,
so a figure only counts if the server that printed the summary is the one the client talked
to; and several clients count only if they measured at the same time (and, over TCP, the
server served them at once).
"""

from __future__ import annotations

from ..errors import MeasurementError
from ..results.metrics import HELPER_CPU, P50, P90, P99, THROUGHPUT, TRANSACTION, TRANSACTIONS
from .definition import ONE_ECHO_CONNECTION, Workload
from ..parsers import ParseError, echo
from .serverspec import ANY_ADDRESS, WORKERS, ServerExit, ServerSpec
from .base import ClientContext, InboundDriver, Measurement

#: The service runs with the distribution's interpreter (inside containers: the host's /usr).
SERVER_PYTHON = "/usr/bin/python3"
#: Message size of the round-trip workloads, bytes.
MESSAGE_SIZE = 64
#: Several clients count as concurrent only if all of them measured at once for at least
#: this share of the duration (their starts differ by a scheduling delay, not by seconds).
CONCURRENT_SHARE = 0.5


class EchoWorkload(InboundDriver):
    """Shared by every echo workload: the server command, the client run, the checks."""

    client_mode = ""
    protocols: tuple[str, ...] = ("tcp",)
    #: Does each client hold one connection for the whole run (so the server's most
    #: connections at once is the number of clients)?
    holds_connections = False

    def server(self, port: int) -> ServerSpec:
        argv = (SERVER_PYTHON, "-I", f"{WORKERS}/echo_server.py", "--address", ANY_ADDRESS, "--port", str(port),
                "--protocols", ",".join(self.protocols))
        return ServerSpec(argv, port, self.protocols)

    def client_args(self) -> tuple[str, ...]:
        return ("--size", str(MESSAGE_SIZE))

    def run_client(self, ctx: ClientContext) -> str:
        args = ["--mode", self.client_mode, "--host", ctx.target, "--port", str(ctx.host_port),
                "--duration", str(ctx.settings.duration_s), "--omit", str(ctx.settings.omit_s), *self.client_args()]
        size = ctx.settings.swept("size")
        if size is not None:
            args += ["--size", str(size)]  # the last --size counts
        clients = ctx.settings.swept("streams")
        if clients is not None:
            args += ["--clients", str(clients)]
        return ctx.run_worker("echo_client.py", args, echo.parse_client, "echo")

    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        client = echo.parse_client(client_output)
        summary = echo.parse_server(server.stdout)
        if server.returncode not in (0, None):
            raise MeasurementError(f"echo server exited with {server.returncode}: {server.stderr.strip()[-200:]}")
        if client.mode != self.client_mode:
            raise ParseError(f"echo client ran {client.mode}, expected {self.client_mode}")
        self.check(client, summary)
        protocol = "udp" if "udp" in self.client_mode else "tcp"
        observations: dict[str, object] = {
            "peer_address": summary.peer(protocol),
            "client_address": client.local_address,
            "server_listen": summary.listen_json(),
            "server_uid": summary.uid,
            "server_uid_map": summary.uid_map,
            "server_peers": summary.udp_peers if protocol == "udp" else summary.tcp_peers,
            "message_size": client.size,
        }
        if summary.errors:
            observations["server_errors"] = list(summary.errors)
        return self.samples(client, summary, observations)

    def check(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary) -> None:
        """The server's own count must match the client's."""

    def samples(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary,
                observations: dict[str, object]) -> Measurement:
        latency = client.latency
        assert latency is not None  # parse_client guarantees it for latency modes
        observations["measured_count"] = client.count
        samples = {"p50": latency.p50, "p90": latency.p90, "p99": latency.p99}
        if client.clients is not None:
            self.check_concurrent(client, summary)
            assert client.transactions_per_s is not None and client.cpu_s is not None
            samples["transactions_per_s"] = client.transactions_per_s
            observations.update({"clients": client.clients, "concurrent_s": client.concurrent_s,
                                 "client_cpu_s": round(client.cpu_s, 3)})
        if self.holds_connections and summary.concurrent_peak is not None:
            observations["server_concurrent_peak"] = summary.concurrent_peak
        if summary.cpu_s is not None:
            observations["server_cpu_s"] = summary.cpu_s
        return Measurement(samples, observations)

    def check_concurrent(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary) -> None:
        """The clients measured together: for most of the duration all of them at once; and
        where each holds a connection throughout, the server held them all at once."""
        assert client.clients is not None and client.concurrent_s is not None
        if client.duration_s is not None and client.concurrent_s < CONCURRENT_SHARE * client.duration_s:
            raise MeasurementError(f"the {client.clients} echo clients measured at the same time for only "
                                   f"{client.concurrent_s:.2f} s of {client.duration_s:g} s")
        if self.holds_connections and (summary.concurrent_peak is None or summary.concurrent_peak < client.clients):
            raise MeasurementError(f"{client.clients} echo clients measured, but the server served at most "
                                   f"{summary.concurrent_peak} connections at once")


class TcpRr(EchoWorkload):
    spec = Workload(
        "tcp-rr",
        "echo service, TCP: round trips of 64-byte messages on one connection (--streams N: N clients at once)",
        P50,
        (P90, P99, TRANSACTIONS),
        parallel_streams=True,
        sized=True,
    )
    client_mode = "tcp-rr"
    holds_connections = True

    def check(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary) -> None:
        if summary.echo_messages != client.transactions_total:
            raise MeasurementError(f"the echo server answered {summary.echo_messages} round trips, the client "
                                   f"made {client.transactions_total}: it talked to something else")


class UdpRr(EchoWorkload):
    spec = Workload(
        "udp-rr",
        "echo service, UDP: round trips of 64-byte datagrams (--streams N: N clients at once)",
        P50,
        (P90, P99, TRANSACTIONS),
        protocol="udp",
        parallel_streams=True,
        sized=True,
    )
    client_mode = "udp-rr"
    protocols = ("udp",)

    def check(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary) -> None:
        received, sent = client.udp["received"], client.udp["sent"]
        # Every echo the client received was sent by the server; lost datagrams fall between.
        if not received <= summary.udp_datagrams <= sent:
            raise MeasurementError(f"the echo server answered {summary.udp_datagrams} datagrams, but the client "
                                   f"sent {sent} and received {received}: it talked to something else")

    def samples(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary,
                observations: dict[str, object]) -> Measurement:
        observations["udp_lost"] = client.udp["lost"]
        observations["udp_stale"] = client.udp["stale"]
        return super().samples(client, summary, observations)


class TcpCrr(EchoWorkload):
    spec = Workload(
        "tcp-crr",
        "echo service, TCP: connect, one 64-byte request and response, close (--streams N: N clients at once)",
        TRANSACTION,
        (P50, P90, P99, TRANSACTIONS),
        parallel_streams=True,
        sized=True,
    )
    client_mode = "tcp-crr"

    def check(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary) -> None:
        if summary.crr_transactions != client.transactions_total:
            raise MeasurementError(f"the echo server served {summary.crr_transactions} transactions, the client "
                                   f"made {client.transactions_total}: it talked to something else")

    def samples(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary,
                observations: dict[str, object]) -> Measurement:
        measurement = super().samples(client, summary, observations)
        assert client.transaction_us is not None
        measurement.samples["transaction_us"] = client.transaction_us
        return measurement


class EchoStream(EchoWorkload):
    spec = Workload(
        "echo-stream",
        "echo service, TCP: bulk transfer into the service's sink (128 KiB sends)",
        THROUGHPUT,
        (HELPER_CPU,),
        no_parallel_streams=ONE_ECHO_CONNECTION,
    )
    client_mode = "stream"

    def client_args(self) -> tuple[str, ...]:
        return ()

    def check(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary) -> None:
        if summary.sink_bytes != client.bytes_total:
            raise MeasurementError(f"the echo server's sink received {summary.sink_bytes} bytes, the client "
                                   f"sent {client.bytes_total}: it talked to something else")

    def samples(self, client: echo.EchoClientResult, summary: echo.EchoServerSummary,
                observations: dict[str, object]) -> Measurement:
        assert client.gbits is not None
        observations["measured_s"] = client.seconds
        return Measurement({"throughput": client.gbits}, observations, bytes_moved=client.bytes_total)
