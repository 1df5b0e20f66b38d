"""What every workload driver offers: the server to start, the client to run, and a pure
step from their output to samples."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from typing import Callable

from ..errors import MeasurementError
from .definition import Workload
from ..parsers import ParseError
from ..providers.base import ServerExit, ServerSpec, Session


@dataclass(frozen=True)
class TrialSettings:
    duration_s: int = 3
    omit_s: int = 1
    #: The swept values of the trial's workload variant (sweeps.SWEEPS), by name.
    sweep: tuple[tuple[str, int], ...] = ()

    def swept(self, name: str) -> int | None:
        return dict(self.sweep).get(name)

    @property
    def family(self) -> int:
        """The IP version clients use: 6 where ``--family`` sweeps it to 6, else 4."""
        return self.swept("family") or 4

    @property
    def client_timeout(self) -> float:
        return self.duration_s + self.omit_s + 30.0


@dataclass(frozen=True)
class ClientContext:
    session: Session
    placement: str
    host_port: int
    settings: TrialSettings

    @property
    def netns_path(self) -> str:
        """The namespace of a client on this machine (not for another computer's)."""
        lab = self.session.lab
        return lab.client_ns_path if self.placement == "remote" else lab.server_ns_path

    @property
    def target(self) -> str:
        """Where the client connects: the server host's lab address (remote), or its loopback
        (loopback), in the trial's IP family."""
        family = self.settings.family
        if self.placement == "remote":
            return self.session.lab.server_address(family)
        return "::1" if family == 6 else "127.0.0.1"

    def worker_argv(self, worker: str, *args: str) -> list[str]:
        """A worker run where the placement's client runs (session.client_for): as the
        benchmark user in a namespace here, or over SSH on another computer."""
        return self.session.client_for(self.placement).worker_argv(worker, list(args), self.settings.client_timeout)

    def run_worker(self, worker: str, args: list[str], parse: Callable[[str], object], what: str) -> str:
        """Run a client worker once, bounded by the trial's timeout. A failing worker reports
        its reason in its JSON (its exit code only says that it failed): raise with that."""
        host = self.session.client_for(self.placement)
        result = host.run_worker(worker, list(args), self.settings.client_timeout)
        if result.returncode != 0:
            try:
                parse(result.stdout)
            except ParseError as exc:
                raise MeasurementError(f"{what} client failed: {exc}") from None
            raise MeasurementError(f"{what} client exited with {result.returncode}: {result.stderr.strip()[-200:]}")
        return result.stdout


@dataclass
class Measurement:
    samples: dict[str, float]
    observations: dict[str, object] = field(default_factory=dict)
    #: Bytes moved through the forwarder during the client run (for CPU per GB), if known.
    bytes_moved: int | None = None


class WorkloadDriver(abc.ABC):
    """What every workload has: its definition and the pure step from raw output to samples.
    How its server and client run depends on the direction: ``InboundDriver`` or
    ``OutboundDriver``."""

    spec: Workload
    direction: str

    @abc.abstractmethod
    def measure(self, client_output: str, server: ServerExit) -> Measurement:
        """Pure: raw outputs to samples and observations (raises ParseError)."""


class InboundDriver(WorkloadDriver):
    """A server in the container, clients through the published port."""

    direction = "inbound"

    @abc.abstractmethod
    def server(self, port: int) -> ServerSpec:
        """The server command, identical under every method."""

    @abc.abstractmethod
    def run_client(self, ctx: ClientContext) -> str:
        """Run one client against the published port; return its raw output."""


class OutboundDriver(WorkloadDriver):
    """The container is the client: it connects out to a server on the client host."""

    direction = "outbound"

    @abc.abstractmethod
    def remote_server(self, port: int) -> list[str]:
        """The server command, run as the benchmark user on the client host."""

    @abc.abstractmethod
    def container_client(self, target: str, port: int, settings: TrialSettings) -> ServerSpec:
        """The client, run in the container under the method (``publish=False``)."""
