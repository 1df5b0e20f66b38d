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
from typing import Any, Callable, Iterator

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


def _runs_dir() -> Path:
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
        self.path = _runs_dir() / f"{tag}.json"

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
    def teardown(self) -> list[str]:
        """Remove every resource, newest first. Never raises; returns the problems."""
        problems: list[str] = []
        for entry in reversed(list(self.resources)):
            try:
                problems.extend(_remove(entry))
            except Exception as exc:  # noqa: BLE001 - teardown must go on
                problems.append(f"{entry.get('kind')}: {exc}")
        self.resources.clear()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        return problems


def _remove(entry: dict[str, Any]) -> list[str]:
    kind = entry["kind"]
    if kind == "container":
        # Imported here, as for stacks and units: the providers use the run state, not the
        # other way round.
        from ..providers.podman import remove_container_entry

        return remove_container_entry(entry)
    if kind == "process":
        ref = procs.ProcRef.from_json(entry)
        if not procs.stop(ref, grace=2.0):
            return [f"process {ref.pid} ({entry.get('label')}) did not stop"]
        return []
    if kind == "stack":
        from ..stacks.boot import power_off

        return power_off(entry)
    if kind == "units":
        from ..providers.unitserver import remove_entry

        return remove_entry(entry)
    if kind == "lab":
        lab = lab_mod.Lab(**{k: entry[k] for k in (
            "tag", "server_ns", "client_ns", "server_if", "client_if", "mtu")})
        return lab_mod.destroy(lab)
    if kind == "ssh-dir":
        from ..clienthost.ssh import remove_entry

        return remove_entry(entry)
    if kind == "dir":
        shutil.rmtree(entry["path"], ignore_errors=True)
        return []
    if kind == "runtime-dir":
        problems = stop_pause_process(Path(entry["path"]))
        shutil.rmtree(entry["path"], ignore_errors=True)
        return problems
    if kind == "pause-process":
        return stop_pause_process(Path(entry["path"]))
    return [f"unknown resource kind {kind!r}"]


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


def cleanup_stale(*, log: Callable[[str], None] = lambda s: None) -> list[str]:
    """Tear down what runs that no longer live left behind (e.g. after SIGKILL), then any
    namespace with the suite's prefix that no live run claims. Call with the lock held."""
    from ..providers import podman  # imported here: the providers use the run state, not the other way round

    problems: list[str] = []
    live_tags: set[str] = set()
    runs = _runs_dir()
    if os.geteuid() != 0:
        raise SetupError("cleaning up needs root (the lab's namespaces belong to root)")
    for path in sorted(runs.glob("*.json")) if runs.is_dir() else []:
        try:
            state = RunState.load(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"unreadable run state {path}: {exc}")
            path.unlink(missing_ok=True)
            continue
        if state.owner is not None and state.owner.alive() and state.owner.pid != os.getpid():
            # A run's stacks each have a lab of their own, with tags of their own.
            live_tags.add(state.tag)
            live_tags.update(str(r["tag"]) for r in state.resources if r.get("kind") == "lab" and r.get("tag"))
            continue
        log(f"removing what run {state.tag} left behind ({len(state.resources)} resources)")
        problems.extend(state.teardown())
    for tmp in sorted(runs.glob(".*.tmp")) if runs.is_dir() else []:
        if tmp.name.split(".")[1] not in live_tags:  # a state write a crash cut short (.TAG.json.XXXX.tmp)
            tmp.unlink(missing_ok=True)
    for ns in lab_mod.existing_lab_namespaces():
        tag = lab_mod.tag_of_namespace(ns)
        if tag is not None and tag not in live_tags:
            log(f"removing orphaned namespace {ns}")
            server_ns, client_ns, server_if, client_if = lab_mod.names_for(tag)
            problems.extend(lab_mod.destroy(lab_mod.Lab(tag, server_ns, client_ns, server_if, client_if, 0)))
    problems.extend(podman.remove_orphaned_containers(live_tags, log=log))
    return problems
