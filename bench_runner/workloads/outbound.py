"""``tcp-stream-outbound``: the container connects out to an iperf3 server on the client host,
the lab's stand-in for "the internet", through the method's outbound path."""

from __future__ import annotations

from ..matrix import WORKLOADS
from ..parsers import iperf3
from ..providers.base import ServerExit, ServerSpec
from .base import Measurement, OutboundDriver, TrialSettings
from .iperf import iperf3_server, streams_flags


class TcpStreamOutbound(OutboundDriver):
    spec = WORKLOADS["tcp-stream-outbound"]

    def remote_server(self, port: int) -> list[str]:
        return list(iperf3_server(port))

    def container_client(self, target: str, port: int, settings: TrialSettings) -> ServerSpec:
        # The server host's own iperf3 client (the container sees its /usr: this machine's, or a
        # booted stack's), with the JSON the binding's inbound clients give.
        argv = ("iperf3", "--client", target, "--port", str(port), "--time", str(settings.duration_s),
                "--omit", str(settings.omit_s), "--json", *streams_flags(settings, "-P"))
        return ServerSpec(argv, 0, (), publish=False, wait_listening=False)

    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        client = iperf3.parse_client(client_output)
        remote = iperf3.parse_server(server.stdout)
        return Measurement(
            samples={"throughput": client.received_bps / 1e9, **(
                {"retransmits": float(client.retransmits)} if client.retransmits is not None else {})},
            observations={"remote_saw": remote.peer_address, "container_address": client.local_host,
                          "streams": client.num_streams},
        )
