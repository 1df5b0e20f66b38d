"""How the suite talks to a running stack: commands as root or as the benchmark user inside
its namespaces, and this machine's pid of a process the stack's own tools name."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from .. import procs
from ..errors import MeasurementError
from ..lab.user import BenchUser

CALL_TIMEOUT = 60.0


@dataclass(frozen=True)
class StackShell:
    """How to run a command inside a running stack: as root, or as the benchmark user the
    way a login of that user would. Only the stack's PID 1 (by pid and start time), its
    cgroup and the user are needed, so a run state entry can rebuild it after a crash."""

    name: str
    pid1: procs.ProcRef
    cgroup: str
    user: BenchUser

    def _alive(self) -> None:
        if not self.pid1.alive():
            raise MeasurementError(f"stack {self.name} is no longer running (its systemd, pid {self.pid1.pid}, ended)")

    def root_argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` as root in the stack (its mounts, pids, network, cgroups), with a clean
        environment."""
        self._alive()
        return ["nsenter", f"--target={self.pid1.pid}", "--mount", "--pid", "--net", "--uts", "--ipc", "--cgroup",
                "--", "env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", *[str(a) for a in argv]]

    @property
    def runtime_dir(self) -> str:
        return f"/run/user/{self.user.uid}"

    @property
    def home(self) -> str:
        """The user's home in the stack, as prepare_user made it."""
        return f"/home/{self.user.name}"

    def user_env(self) -> list[str]:
        return [f"HOME={self.home}", f"USER={self.user.name}", f"LOGNAME={self.user.name}",
                f"XDG_RUNTIME_DIR={self.runtime_dir}", f"DBUS_SESSION_BUS_ADDRESS=unix:path={self.runtime_dir}/bus",
                "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"]

    def user_argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` as the benchmark user in the stack, as a login of that user would run it."""
        return self.root_argv(["setpriv", f"--reuid={self.user.uid}", f"--regid={self.user.gid}", "--init-groups",
                               "--", "env", "-i", *self.user_env(), *argv])

    def run(self, argv: Sequence[str], *, user: bool = True, timeout: float = CALL_TIMEOUT,
            check: bool = True, input_text: str | None = None) -> procs.ProcessResult:
        wrapped = self.user_argv(argv) if user else self.root_argv(argv)
        return procs.run(wrapped, timeout=timeout, check=check, input_text=input_text)

    def host_pid(self, stack_pid: int) -> procs.ProcRef | None:
        """This machine's pid of a process the stack's own tools name (``podman inspect``
        reports pids of the stack's pid namespace): only processes inside the stack's cgroup
        are considered, so another process with that number is never taken for it."""
        level = len(_nspids(self.pid1.pid) or [])
        if level < 2:
            return None
        prefix = "/" + Path(self.cgroup).name + "/"
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pids = _nspids(int(entry))
            if not pids or len(pids) < level or pids[level - 1] != stack_pid:
                continue
            if _unified_path(int(entry)).startswith(prefix):
                return procs.ProcRef.of(int(entry))
        return None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "pid1": self.pid1.to_json(), "cgroup": self.cgroup, "user": self.user.name}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StackShell":
        return cls(str(data["name"]), procs.ProcRef.from_json(data["pid1"]), str(data["cgroup"]),
                   BenchUser.lookup(str(data["user"])))


def _nspids(pid: int) -> list[int] | None:
    """A process's pid in each pid namespace it is in, outermost first (NSpid)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("NSpid:"):
                    return [int(p) for p in line.split()[1:]]
    except (OSError, ValueError):
        return None
    return None


def _unified_path(pid: int) -> str:
    """A process's cgroup in the unified hierarchy, as this machine sees it."""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("0::"):
                    return line[3:].strip() + "/"
    except OSError:
        pass
    return ""


