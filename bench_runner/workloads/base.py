"""What every workload driver offers: the server to start, the client to run, and a pure
step from their output to samples."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field, replace

from typing import Callable, Iterable, Protocol

from .. import procs
from ..errors import MeasurementError
from ..parsers import ParseError
from .definition import Workload
from .serverspec import ServerExit, ServerSpec


@dataclass(frozen=True)
class TrialSettings:
    duration_s: int = 3
    omit_s: int = 1
    #: The swept values of the trial's workload variant (sweeps.SWEEPS), by name.
    sweep: tuple[tuple[str, int], ...] = ()
    #: Trial lengths of their own, (workload id, duration, omit), for the workloads a run
    #: measures with shorter trials than ``duration_s`` + ``omit_s`` (defaults.TRIAL_BY_WORKLOAD).
    by_workload: tuple[tuple[str, int, int], ...] = ()

    def for_workload(self, workload_id: str) -> "TrialSettings":
        """The settings a trial of this workload runs with. A swept variant (``tcp-rr+s1024``)
        keeps ``duration_s`` + ``omit_s``: the shorter length was checked on the plain workload."""
        for name, duration, omit in self.by_workload:
            if name == workload_id:
                return replace(self, duration_s=duration, omit_s=omit, by_workload=())
        return replace(self, by_workload=())

    def lengths(self, workload_ids: "Iterable[str]") -> dict[str, tuple[int, int]]:
        """Each workload's (duration, omit)."""
        return {w: (s.duration_s, s.omit_s) for w in sorted(set(workload_ids)) for s in [self.for_workload(w)]}

    def swept(self, name: str) -> int | None:
        return dict(self.sweep).get(name)

    @property
    def family(self) -> int:
        """The IP version clients use: 6 where ``--family`` sweeps it to 6, else 4."""
        return self.swept("family") or 4

    @property
    def client_timeout(self) -> float:
        return self.duration_s + self.omit_s + 30.0


class WorkerHost(Protocol):
    """Where a client worker runs (clienthost.ClientHost: a lab namespace, or another computer
    over SSH); a workload asks nothing else of it."""

    def worker_argv(self, worker: str, args: list[str], timeout: float) -> list[str]: ...

    def run_worker(self, worker: str, args: list[str], timeout: float) -> procs.ProcessResult: ...


@dataclass(frozen=True)
class ClientContext:
    """What one client run needs: where it runs, the published port, the trial's settings,
    and the address it connects to (the provider's session fills it in)."""

    client: WorkerHost
    placement: str
    host_port: int
    settings: TrialSettings
    target: str

    def worker_argv(self, worker: str, *args: str) -> list[str]:
        """A worker run where the placement's client runs: as the benchmark user in a
        namespace here, or over SSH on another computer."""
        return self.client.worker_argv(worker, list(args), self.settings.client_timeout)

    def run_worker(self, worker: str, args: list[str], parse: Callable[[str], object], what: str) -> str:
        """Run a client worker once, bounded by the trial's timeout. A failing worker reports
        its reason in its JSON (its exit code only says that it failed): raise with that."""
        result = self.client.run_worker(worker, list(args), self.settings.client_timeout)
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
