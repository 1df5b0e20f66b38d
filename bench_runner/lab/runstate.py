"""What a run created, recorded on disk as it is created, so that it is always removed:
at the end of the run, on Ctrl-C or SIGTERM, and, after a SIGKILL, by the next run or by
``doctor --cleanup``.

Only resources recorded here (or namespaces carrying the suite's unique name prefix) are
ever touched; processes are identified by pid and start time.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from . import hosts as lab_mod
from ..results import atomic
from .. import procs
from ..errors import BenchError, SetupError
from .locks import FileLock
from ..paths import RUN_DIR
from .user import BenchUser


class RunBusy(BenchError):
    """Another run holds the lab lock."""

    exit_code = 2


def runs_dir() -> Path:
    """Where each live run's state file is."""
    return RUN_DIR / "runs"


@dataclass
class RunLock:
    """One run at a time per host: the lab, the benchmark user's Podman state and its
    pause process are shared, so a second run refuses instead of mixing results."""

    path: Path = field(default_factory=lambda: RUN_DIR / "lock")
    _lock: FileLock | None = None

    def acquire(self, *, wait: float = 0.0) -> None:
        lock = FileLock(self.path)
        if not lock.acquire(exclusive=True, wait=wait):
            holder = lock.holder() or "unknown"
            raise RunBusy(f"another benchmark run is in progress ({holder}); wait for it to finish")
        lock.mark()
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "RunLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class RunState:
    """The resources of one run, persisted after every change (atomic replace)."""

    def __init__(self, tag: str, *, owner: procs.ProcRef | None = None) -> None:
        self.tag = tag
        self.owner = owner or procs.ProcRef.of(os.getpid())
        self.resources: list[dict[str, Any]] = []
        self.path = runs_dir() / f"{tag}.json"

    # ------------------------------------------------------------ recording
    def add(self, kind: str, **data: Any) -> dict[str, Any]:
        entry = {"kind": kind, **data}
        self.resources.append(entry)
        self.save()
        return entry

    def add_process(self, ref: procs.ProcRef, label: str) -> dict[str, Any]:
        """Record a process by pid and start time, so only that process is ever stopped."""
        return self.add("process", label=label, **ref.to_json())

    def discard(self, *entries: dict[str, Any]) -> None:
        """Forget resources that were removed; the state file is written once. Keep what
        did not go away (see forget_if_gone), so teardown and the next run try again."""
        kept = [r for r in self.resources if not any(r is e for e in entries)]
        if len(kept) != len(self.resources):
            self.resources = kept
            self.save()

    def forget_if_gone(self, entries: list[dict[str, Any]], problems: list[str]) -> list[str]:
        """Discard the entries of something just stopped, unless stopping it reported a
        problem; returns the problems."""
        if not problems:
            self.discard(*entries)
        return problems

    def save(self) -> None:
        """Persist after an entry was changed in place."""
        atomic.write_text(self.path, json.dumps({
            "tag": self.tag,
            "owner": self.owner.to_json() if self.owner else None,
            "resources": self.resources,
        }, indent=1))

    @classmethod
    def load(cls, path: Path) -> "RunState":
        data = json.loads(path.read_text())
        owner = procs.ProcRef.from_json(data["owner"]) if data.get("owner") else None
        state = cls(str(data["tag"]), owner=owner)
        state.resources = list(data.get("resources", []))
        state.path = path
        return state

    # ------------------------------------------------------------ teardown
    def teardown(self, removers: Mapping[str, Remover]) -> list[str]:
        """Remove every resource, newest first, each by the remover of its kind (the run's
        layer knows them all: run.cleanup.REMOVERS). Never raises; returns the problems."""
        problems: list[str] = []
        for entry in reversed(list(self.resources)):
            remove = removers.get(entry.get("kind", ""))
            if remove is None:
                problems.append(f"unknown resource kind {entry.get('kind')!r}")
                continue
            try:
                problems.extend(remove(entry))
            except Exception as exc:  # noqa: BLE001 - teardown must go on
                problems.append(f"{entry.get('kind')}: {exc}")
        self.resources.clear()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        return problems


#: Removes one recorded resource; returns the problems.
Remover = Callable[[dict[str, Any]], list[str]]


def _remove_process(entry: dict[str, Any]) -> list[str]:
    ref = procs.ProcRef.from_json(entry)
    if not procs.stop(ref, grace=2.0):
        return [f"process {ref.pid} ({entry.get('label')}) did not stop"]
    return []


def _remove_lab(entry: dict[str, Any]) -> list[str]:
    lab = lab_mod.Lab(**{k: entry[k] for k in ("tag", "server_ns", "client_ns", "server_if", "client_if", "mtu")})
    return lab_mod.destroy(lab)


def _remove_dir(entry: dict[str, Any]) -> list[str]:
    shutil.rmtree(entry["path"], ignore_errors=True)
    return []


def _remove_runtime_dir(entry: dict[str, Any]) -> list[str]:
    problems = stop_pause_process(Path(entry["path"]))
    shutil.rmtree(entry["path"], ignore_errors=True)
    return problems


#: The kinds of resource this layer makes, and how each is removed; containers, booted
#: stacks, units and a client host's directory are removed by the layers that make them.
LAB_REMOVERS: dict[str, Remover] = {
    "process": _remove_process,
    "lab": _remove_lab,
    "dir": _remove_dir,
    "runtime-dir": _remove_runtime_dir,
    "pause-process": lambda entry: stop_pause_process(Path(entry["path"])),
}


@contextmanager
def podman_runtime(user: BenchUser) -> Iterator[list[str]]:
    """The benchmark user's runtime directory for Podman calls outside a run: made when
    missing, and then removed again with the pause process those calls started. Yields a
    list that receives the problems of that removal."""
    made = user.ensure_runtime_dir()
    problems: list[str] = []
    try:
        yield problems
    finally:
        if made:
            problems += stop_pause_process(user.runtime_dir)
            user.remove_runtime_dir()


def stop_pause_process(path: Path) -> list[str]:
    """Rootless Podman leaves a pause process (catatonit -P) per user, started here by our
    Podman calls; end it by the pid Podman recorded in the runtime directory. That file is the
    user's: it is read without trusting it, and only a catatonit of the benchmark user is
    stopped."""
    from . import untrusted

    problems: list[str] = []
    pid_file = path / "libpod" / "tmp" / "pause.pid"
    if not os.path.lexists(pid_file):
        return problems
    try:
        pid = untrusted.read_pid(pid_file)
        if not os.path.exists(f"/proc/{pid}"):
            return problems  # it ended already
        untrusted.check_owned(pid, BenchUser.lookup(), f"Podman's pause file {pid_file}")
    except (BenchError, OSError) as exc:
        return [str(exc)]
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        comm = ""
    ref = procs.ProcRef.of(pid)
    if comm == "catatonit" and ref is not None and not procs.stop(ref, grace=1.0):
        problems.append(f"Podman pause process {pid} did not stop")
    return problems
