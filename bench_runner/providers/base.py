"""What every provider offers: start one server under one method, with a published port,
as the unprivileged user in the server host; stop it and hand back what it printed."""

from __future__ import annotations

import abc
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..lab import observe
from .. import procs
from ..errors import MeasurementError
from ..lab.hosts import Lab, resource_name
from ..stacks.spec import HOST as HOST_STACK
from ..parsers import ss
from ..lab.runstate import RunState
from ..workloads.base import ClientContext, TrialSettings
from ..workloads.serverspec import (BIND_DEVICE, HOST_LOOPBACK, READY_TIMEOUT, TCP_NS, WORKERS,  # noqa: F401 (re-exported)
                                    ServerExit, ServerSpec, UnsupportedOption)
from ..lab.user import BenchUser

if TYPE_CHECKING:
    from ..clienthost import ClientHost
    from ..lab.linkpath import LabPath
    from ..stacks.boot import BootedStack



@dataclass
class Availability:
    available: bool
    reason: str = ""

    def to_json(self) -> dict[str, object]:
        return {"available": self.available, "reason": self.reason}


@dataclass
class Session:
    """Everything a provider needs from the run: the lab, the user, where to record
    resources, and a directory the benchmark user owns for sockets and pid files."""

    lab: Lab
    user: BenchUser
    state: RunState
    user_dir: Path
    #: Read-only copies of bench_runner/workers, readable by the benchmark user.
    worker_dir: Path
    #: The server host's net.ipv4.ip_unprivileged_port_start, read from the lab.
    port_floor: int | None = None
    #: The booted stack that is the server host's software, or None for this machine's own.
    stack: BootedStack | None = None
    counter: int = 0
    #: The lab link's offloads and qdiscs at both ends, observed when the lab was built.
    link: dict[str, Any] = field(default_factory=dict)
    #: Where the remote placement's clients run: the lab's client host (None), or another
    #: computer (``run --client-host``).
    client_host: ClientHost | None = None
    #: Two computers: both machines as observed, the path between them and its base RTT.
    machines: dict[str, Any] = field(default_factory=dict)
    #: The path between the lab hosts where the run shapes it (--delay, --loss, --rate):
    #: kernel netem on the veth link or a delay box (lab/linkpath.py); and what was measured
    #: of it before the trials (its own round trip, its ceiling: run/pathcheck.py).
    path: "LabPath | None" = None
    path_record: dict[str, Any] = field(default_factory=dict)

    @property
    def stack_name(self) -> str:
        return self.stack.name if self.stack is not None else HOST_STACK

    def as_user(self, argv: Sequence[str]) -> list[str]:
        """``argv`` as the benchmark user in the server host: this machine's programs in the
        lab's namespace, or the booted stack's own."""
        if self.stack is not None:
            return self.stack.shell.user_argv(argv)
        return self.user.argv(argv, netns_path=self.lab.server_ns_path)

    def client_for(self, placement: str) -> ClientHost:
        """Where a placement's client runs: the client host (``remote``) or the server host
        itself (``loopback``), each as the benchmark user unless it is another computer."""
        from ..clienthost import NamespaceClient

        if placement == "remote" and self.client_host is not None:
            return self.client_host
        netns = self.lab.client_ns_path if placement == "remote" else self.lab.server_ns_path
        return NamespaceClient(netns, self.user, self.worker_dir)

    def client_context(self, placement: str, host_port: int, settings: TrialSettings) -> ClientContext:
        """What a workload's client needs of this session: where it runs and where it connects
        (the server host's lab address, or its loopback, in the trial's IP family)."""
        family = settings.family
        target = self.lab.server_address(family) if placement == "remote" else ("::1" if family == 6 else "127.0.0.1")
        return ClientContext(self.client_for(placement), placement, host_port, settings, target)

    def lab_record(self) -> dict[str, object]:
        """What a results document records about the lab its trials ran in (or the two
        computers)."""
        return {**self.lab.to_json(), "server_ip_unprivileged_port_start": self.port_floor,
                **({"link": self.link} if self.link else {}), **self.machines,
                **({"path": self.path_record} if self.path_record else {}),
                **({"client_host_record": self.client_host.record()} if self.client_host is not None else {})}

    def next_name(self, what: str) -> str:
        self.counter += 1
        return resource_name(self.lab.tag, what, self.counter)

    def private_dir(self, name: str) -> Path:
        """A fresh directory owned by the benchmark user (sockets, pid files, state). The
        parent is the user's, so the user could swap the new entry for a symlink before root
        hands it over: it is made and handed over through file descriptors, never by path."""
        path = self.user_dir / name
        if os.path.lexists(path):
            shutil.rmtree(path)  # refuses a symlink; never follows one
        parent = os.open(self.user_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.mkdir(name, 0o700, dir_fd=parent)
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
            try:
                os.fchown(fd, self.user.uid, self.user.gid)
            finally:
                os.close(fd)
        except OSError as exc:
            raise MeasurementError(f"{path}: could not make the benchmark user's directory ({exc.strerror})") from None
        finally:
            os.close(parent)
        return path


class RunningServer(abc.ABC):
    """A server that is up and listening, with what a trial records about it."""

    def __init__(self, method: str, provider: str, host_port: int, netns_pid: int,
                 helper_argv: list[list[str]]) -> None:
        self.method = method
        self.provider = provider
        self.host_port = host_port
        #: A process inside the server's own network namespace (for readiness checks).
        self.netns_pid = netns_pid
        #: The command lines the provider started, for the record.
        self.helper_argv = helper_argv
        #: Further things the trial records about how the server was set up (unit files).
        self.evidence: dict[str, Any] = {}

    @abc.abstractmethod
    def collect(self, timeout: float) -> ServerExit:
        """Wait for the server to exit on its own (one-off servers); return its output."""

    @abc.abstractmethod
    def stop(self) -> list[str]:
        """Stop the server and its helpers; verify they are gone. Returns problems."""

    def diagnose(self) -> str:
        """Why the server may not have served, where its manager knows better than the
        client (a systemd unit's result); "" when there is nothing to add."""
        return ""


class Provider(abc.ABC):
    id: str = ""

    @abc.abstractmethod
    def check(self, method: str) -> Availability:
        """Can this provider run the method here? Fast, without starting anything."""

    @abc.abstractmethod
    def start(self, session: Session, method: str, spec: ServerSpec) -> RunningServer:
        """Start the server under the method; return once it and its forwarder listen."""

    def for_method(self, method: str) -> "Provider":
        """The provider that runs ``method``: itself, unless it hands methods to others
        (``ByMethod``)."""
        return self


def wait_server_listening(netns_pid: int, spec: ServerSpec, what: str, alive=None, explain=None) -> None:  # type: ignore[no-untyped-def]
    """Wait until the server listens inside its own namespace: connecting to find out would
    use up a one-off server, so look at the socket table instead. ``explain`` gives the
    server's last words when it exits first."""
    path = f"/proc/{netns_pid}/ns/net"

    def ready() -> bool:
        if alive is not None and not alive():
            said = explain() if explain is not None else ""
            raise MeasurementError(f"{what} exited before it was listening" + (f": {said}" if said else ""))
        try:
            found = observe.listeners_in(path)
        except MeasurementError:
            return False
        wanted = spec.protocols if spec.listen_protocols is None else spec.listen_protocols
        return all(any(l.protocol == p and l.port == spec.port for l in found) for p in wanted)

    procs.wait_until(ready, timeout=spec.ready_timeout, what=f"{what} to listen on port {spec.port}")


def wait_host_port(lab: Lab, spec: ServerSpec, what: str, alive=None, explain=None) -> None:  # type: ignore[no-untyped-def]
    """Wait until the published port is bound in the server host, for clients of the spec's
    IP family."""

    def ready() -> bool:
        if alive is not None and not alive():
            said = explain() if explain is not None else ""
            raise MeasurementError(f"{what} exited before the published port was bound" + (f": {said}" if said else ""))
        found = observe.listeners_in(lab.server_ns_path)
        return all(ss.find(found, p, spec.published_port, spec.family) for p in spec.protocols)

    family = " for IPv6" if spec.family == 6 else ""
    procs.wait_until(ready, timeout=spec.ready_timeout, what=f"{what} to bind port {spec.published_port}{family}")
