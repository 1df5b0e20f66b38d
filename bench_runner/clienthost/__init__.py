"""Where a workload's client runs: a namespace on this machine (the lab's client host, or
the server host itself for the loopback placement), or another computer reached over SSH
(``run --client-host``). Workloads only ask the client host to run a worker; how it gets
there is this package's business.

May import: lab, parsers, workloads.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import procs
from ..paths import VENV_PYTHON
from ..lab.user import BenchUser


class ClientHost(abc.ABC):
    """Runs the suite's client workers somewhere, as someone, with some Python."""

    @abc.abstractmethod
    def worker_argv(self, worker: str, args: list[str], timeout: float) -> list[str]:
        """The command line that runs one worker there, bounded by ``timeout`` seconds."""

    @abc.abstractmethod
    def run_worker(self, worker: str, args: list[str], timeout: float) -> procs.ProcessResult:
        """Run one worker to the end (its exit code unchecked: a failing worker says why in
        its JSON); raise MeasurementError when the client host itself failed."""

    def record(self) -> dict[str, Any]:
        """What a results document says about it."""
        return {}


@dataclass(frozen=True)
class NamespaceClient(ClientHost):
    """A worker run as the benchmark user with the suite's interpreter, in a network
    namespace of this machine."""

    netns_path: str
    user: BenchUser
    worker_dir: Path

    def worker_argv(self, worker: str, args: list[str], timeout: float) -> list[str]:
        argv = [str(VENV_PYTHON), "-I", str(self.worker_dir / worker), *args]
        return self.user.argv(argv, netns_path=self.netns_path)

    def run_worker(self, worker: str, args: list[str], timeout: float) -> procs.ProcessResult:
        return procs.run(self.worker_argv(worker, args, timeout), timeout=timeout, check=False)
