"""What a server (or a container's client) is asked to be, identically under every method
and provider: its command, ports, protocols and network options; and what it left when it
exited. Workloads write it, methods and providers read it, so it sits below them."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MeasurementError

READY_TIMEOUT = 30.0


#: Placeholder in a server command for the directory holding the worker programs; each
#: provider puts in where it made them visible (a bind mount inside a container).
WORKERS = "{workers}"


#: Network options a spec may ask for; each provider maps them to its helper's flags or
#: refuses them (UnsupportedOption) where the method has no such thing.
HOST_LOOPBACK = "host-loopback"  # the container may reach the host's 127.0.0.1
TCP_NS = "tcp-ns"  # "tcp-ns:PORT": the container's 127.0.0.1:PORT goes to the host's (pasta -T)
BIND_DEVICE = "bind-device"  # "bind-device:DEV": the published port listens on DEV only
CONTAINER_MTU = "container-mtu"  # "container-mtu:N": the MTU of the container's interface (a sweep)
PCAP = "pcap"  # "pcap:PATH": the helper writes every frame it passes to PATH (pasta --pcap)
IP_FAMILY = "ip-family"  # "ip-family:6": clients come (or the container connects out) over IPv6 (a sweep)

#: Placeholder in a server command for the address that means "every address" in the
#: spec's IP family (0.0.0.0, or :: for IPv6).
ANY_ADDRESS = "{any}"


class UnsupportedOption(MeasurementError):
    """The method offers no way to do what the spec asks (an observation, not a bug)."""


@dataclass(frozen=True)
class ServerSpec:
    """A command run in the container identically under every method: a server with a
    published port (inbound), or a client that connects out and exits (``publish=False``)."""

    argv: tuple[str, ...]
    port: int  # where it listens inside its network namespace
    protocols: tuple[str, ...] = ("tcp",)
    #: The host port published in the server host (same as ``port`` unless stated).
    host_port: int | None = None
    #: Must the server be listening before clients come? (False for clients and socket activation.)
    wait_listening: bool = True
    #: Publish ``port`` on the server host? (False for outbound clients.)
    publish: bool = True
    options: tuple[str, ...] = ()
    #: How long to wait for the server and the published port (probes expecting refusal wait less).
    ready_timeout: float = READY_TIMEOUT
    #: What the server itself listens on before any client comes, if not all of ``protocols``
    #: (iperf3 binds its UDP socket only once a UDP test starts).
    listen_protocols: tuple[str, ...] | None = None

    @property
    def published_port(self) -> int:
        return self.host_port if self.host_port is not None else self.port

    def option(self, name: str) -> str | None:
        """The value of ``name:VALUE`` (or "" for a bare ``name``), None if absent."""
        for option in self.options:
            key, _, value = option.partition(":")
            if key == name:
                return value
        return None

    @property
    def family(self) -> int:
        """The IP family clients use (4 unless the spec asks for IPv6)."""
        return 6 if self.option(IP_FAMILY) == "6" else 4

    @property
    def any_address(self) -> str:
        """Every address of the spec's family, as a socket binds it."""
        return "::" if self.family == 6 else "0.0.0.0"

    def any_host(self, port: int) -> str:
        """``ADDRESS:PORT`` for every address of the family, as systemd and rootlessctl write it
        (``[::]:PORT`` for IPv6)."""
        return f"[::]:{port}" if self.family == 6 else f"0.0.0.0:{port}"

    def command(self, workers: str) -> list[str]:
        """The server command with the worker directory and the family's any-address filled in."""
        return [arg.replace(WORKERS, workers).replace(ANY_ADDRESS, self.any_address) for arg in self.argv]


@dataclass
class ServerExit:
    """What a server (or a container's client) printed, and how it ended."""

    returncode: int | None
    stdout: str
    stderr: str

    @classmethod
    def of(cls, process: procs.Spawned, timeout: float) -> "ServerExit":
        """Wait for a server process a provider spawned, and take its output."""
        code = process.wait(timeout)
        out, err = process.output()
        return cls(code, out, err)
