"""Open and close everything a measurement needs, in one place: the lock, stale-state
clean-up, the lab, the benchmark user's runtime directory, and the directories the
benchmark user reads workers from and keeps sockets in. Closing removes all of it, also
on Ctrl-C and SIGTERM (the CLI turns SIGTERM into an exception)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

from ..lab import delaybox, linkinfo, linkpath, netem
from ..lab import hosts as lab_mod
from ..lab.linkpath import LabPath
from ..lab.netem import PathChoice
from .. import procs
from ..errors import SetupError
from ..paths import RUN_DIR, VENV_PYTHON
from ..clienthost.two import TwoComputers
from ..providers import Session
from ..lab.runstate import RunLock, RunState
from .cleanup import cleanup_stale, teardown
from ..stacks.spec import HOST
from ..lab.user import BenchUser
from ..workers import WORKER_DIR, WORKER_FILES


def _copy_workers(target: Path) -> None:
    target.mkdir(parents=True, mode=0o755)
    for name in WORKER_FILES:
        shutil.copy2(WORKER_DIR / name, target / name)
        os.chmod(target / name, 0o644)


def preflight() -> BenchUser:
    """What every measurement needs before anything is built; clear errors, no traceback."""
    if os.geteuid() != 0:
        raise SetupError("measuring needs root to build the lab (the servers still run unprivileged): run as root")
    if not VENV_PYTHON.exists():
        raise SetupError(f"{VENV_PYTHON} is missing: run scripts/setup.sh as root")
    user = BenchUser.lookup()
    for path in ("/etc/subuid", "/etc/subgid"):
        from ..lab.user import subordinate_range

        if subordinate_range(user.name, path) is None:
            raise SetupError(f"{path} has no range for {user.name}: run scripts/setup.sh as root")
    return user


@contextlib.contextmanager
def open_session(*, mtu: int = 1500, log: Callable[[str], None] = lambda s: None,
                 lock_wait: float = 0.0) -> Iterator[Session]:
    """One lab whose server host runs this machine's own software."""
    with open_sessions((HOST,), mtu=mtu, log=log, lock_wait=lock_wait) as sessions:
        yield sessions[HOST]


@dataclass
class _Base:
    """What every measuring session shares: the user, the run's state and directories, and
    what to release once everything is torn down."""

    user: BenchUser
    state: RunState
    run_dir: Path
    user_dir: Path
    released_after: list[Callable[[], None]] = field(default_factory=list)

    @property
    def tag(self) -> str:
        return self.state.tag

    @property
    def worker_dir(self) -> Path:
        return self.run_dir / "workers"


@contextlib.contextmanager
def _measuring(user: BenchUser, log: Callable[[str], None], lock_wait: float) -> Iterator[_Base]:
    """The lock, stale-state clean-up, the run's state and directories, the user's runtime
    directory; all removed again at the end, also on Ctrl-C and SIGTERM."""
    procs.become_subreaper()
    lock = RunLock()
    lock.acquire(wait=lock_wait)
    state: RunState | None = None
    released: list[Callable[[], None]] = []
    try:
        for problem in cleanup_stale(log=log):
            log(f"warning: {problem}")
        state = RunState(lab_mod.new_tag())
        run_dir = RUN_DIR / state.tag
        run_dir.mkdir(parents=True, mode=0o755)
        os.chmod(run_dir, 0o755)
        state.add("dir", path=str(run_dir))
        if user.ensure_runtime_dir():
            state.add("runtime-dir", path=str(user.runtime_dir))
        else:
            # Pre-existing (a real login session): leave it, but still end our pause process.
            state.add("pause-process", path=str(user.runtime_dir))
        user_dir = run_dir / "user"
        user_dir.mkdir(mode=0o700)
        os.chown(user_dir, user.uid, user.gid)
        _copy_workers(run_dir / "workers")
        yield _Base(user, state, run_dir, user_dir, released)
    finally:
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            if state is not None:
                for problem in teardown(state):
                    log(f"warning: clean-up: {problem}")
            procs.reap_for(2.0)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for release in released:
                release()
            lock.release()


def _lab_entry(tag: str, mtu: int) -> dict[str, object]:
    server_ns, client_ns, server_if, client_if = lab_mod.names_for(tag)
    return {"tag": tag, "server_ns": server_ns, "client_ns": client_ns, "server_if": server_if,
            "client_if": client_if, "mtu": mtu}


def _shaped_lab(base: _Base, tag: str, mtu: int, path: PathChoice | None) -> tuple[lab_mod.Lab, LabPath | None]:
    """The lab, recorded before it is built (so a delay box, recorded after it, is removed
    first); with the path the run shapes, if any: a delay box as its main link, or the
    veth link's own qdiscs."""
    base.state.add("lab", **_lab_entry(tag, mtu))
    if path is None:
        return lab_mod.create(tag, mtu=mtu), None
    if path.kind != netem.BOX:
        lab = lab_mod.create(tag, mtu=mtu)
        return lab, linkpath.VethPath(lab)
    boxes: list[delaybox.DelayBox] = []
    lab = lab_mod.create(tag, mtu=mtu,
                         main_link=lambda lab: boxes.append(delaybox.start(lab, base.user, base.run_dir, base.state)))
    return lab, linkpath.BoxPath(lab, boxes[0])


@contextlib.contextmanager
def open_sessions(stacks: Sequence[str], *, mtu: int = 1500, log: Callable[[str], None] = lambda s: None,
                  lock_wait: float = 0.0, path: PathChoice | None = None) -> Iterator[dict[str, Session]]:
    """A lab per stack, each the same two hosts on the same addresses: ``host``'s server host
    runs this machine's software, every other stack's is that stack, booted into it. With
    ``path`` (the run shapes the path: --delay, --loss, --rate) each lab's path is built as
    it says and measured (run/pathcheck.py) before anything else."""
    from ..providers import unitserver
    from ..stacks import store
    from ..stacks.boot import boot
    from . import pathcheck

    user = preflight()
    built = {name: store.find(name) for name in stacks if name != HOST}
    with _measuring(user, log, lock_wait) as base:
        sessions: dict[str, Session] = {}
        for name in stacks:
            lab, shaped = _shaped_lab(base, base.tag if name == HOST else lab_mod.new_tag(), mtu, path)
            link = linkinfo.lab_link(lab)
            booted = None
            if name != HOST:
                stack_lock = store.StackLock(name)
                stack_lock.acquire(exclusive=False)
                base.released_after.append(stack_lock.release)
                log(f"stack {name}: booting in its own server host ({lab.server_ns})")
                booted = boot(built[name], lab, base.user, base.run_dir, base.state, log=log)
                stale = unitserver.stale_user_units(booted.shell)
                if stale:
                    log(f"stack {name}: removed {len(stale)} unit file(s) a killed run left in it")
            sessions[name] = Session(lab=lab, user=base.user, state=base.state, user_dir=base.user_dir,
                                     worker_dir=base.worker_dir, port_floor=_port_floor(lab), stack=booted,
                                     link=link, path=shaped)
            if shaped is not None and path is not None:
                log(f"{'' if name == HOST else f'stack {name}: '}path: {shaped.via}; measuring its round trip "
                    "and its ceiling")
                pathcheck.prepare(sessions[name], per_packet=path.per_packet, log=log)
        yield sessions


@contextlib.contextmanager
def open_two_computers(client: TwoComputers, *, log: Callable[[str], None] = lambda s: None,
                       lock_wait: float = 0.0) -> Iterator[dict[str, Session]]:
    """This machine as the server host, in the network namespace the run was started in, and
    another computer as the client host, over SSH (``run --client-host``): no lab is built.
    The client host is checked and its workers copied before anything is measured."""
    from ..clienthost import machine, ssh
    from . import basertt

    user = preflight()
    local = client.local_facts()
    with _measuring(user, log, lock_wait) as base:
        options = client.options
        lab = lab_mod.two_computers(base.tag, client.server_address, options.target.host, options.target.url)
        log(f"client host {options.target.url}: checking {', '.join(sorted(client.needed)) or 'python3'} "
            "and copying the workers")
        files = {name: (WORKER_DIR / name).read_text() for name in WORKER_FILES}
        expected = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in files.items()}
        prepared = ssh.prepare(options, client.server_address, client.needed, files, expected)
        base.state.add("ssh-dir", **ssh.state_entry(options, prepared.directory))
        session = Session(lab=lab, user=base.user, state=base.state, user_dir=base.user_dir,
                          worker_dir=base.worker_dir, port_floor=_port_floor(lab),
                          client_host=ssh.SshClient(options, prepared))
        ends = {"server": (local, machine.interface_record(local)),
                "client": (prepared.facts, machine.interface_record(prepared.facts))}
        session.link = {end: machine.link_evidence(interface) for end, (_, interface) in ends.items()}
        server, remote = (machine.machine_record(facts, interface) for facts, interface in ends.values())
        log(f"client host {options.target.url}: measuring the base round-trip time")
        session.machines = {"machines": {"server": server, "client": remote},
                            "path_mtu": machine.path_mtu(server, remote),
                            "base_rtt": basertt.measure(session, client.server_address)}
        yield {HOST: session}


def _port_floor(lab: lab_mod.Lab) -> int | None:
    """The server host's own value (a per-namespace sysctl): never assumed to be 1024."""
    result = procs.run(lab.in_server(["cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"]), timeout=10)
    text = result.stdout.strip()
    return int(text) if text.isdigit() else None
