"""Observe, rather than trust: which process really owns a listening socket, what it is,
and how much CPU it spent. A published benchmark once labelled slirp4netns as pasta for
months; every trial here records the helper it saw in the process table."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from .. import procs
from ..errors import MeasurementError
from ..parsers import ss

SS_TIMEOUT = 10.0


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    comm: str
    exe: str
    argv: tuple[str, ...]
    uid: int
    kind: str  # "pasta", "slirp4netns", "rootlessport", "rootlesskit", "socket-activate", or "server:<comm>"
    netns: int | None = None  # network namespace inode

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["argv"] = list(self.argv)
        return data

    @property
    def identity(self) -> tuple[int, str, str]:
        """What a process is at one moment: its pid, program and name (exec changes the last two)."""
        return self.pid, self.exe, self.comm


def listeners_in(netns_path: str) -> list[ss.Listener]:
    """Listening sockets of a network namespace, read as root with ``ss``."""
    result = procs.run(["nsenter", f"--net={netns_path}", "--", "ss", "-Htulnp"], timeout=SS_TIMEOUT)
    return ss.parse_listeners(result.stdout)


def require_free_port(netns_path: str, port: int) -> None:
    """Refuse a port something in the server host already listens on, naming the owner:
    a trial must never measure somebody else's server."""
    for listener in listeners_in(netns_path):
        if listener.port == port:
            owner = ", ".join(f"{o.comm} pid {o.pid}" for o in listener.owners) or "unknown process"
            raise MeasurementError(f"port {port} is already in use in the server host ({owner})")


def is_listening(netns_path: str, protocol: str, port: int, family: int | None = None) -> bool:
    return bool(ss.find(listeners_in(netns_path), protocol, port, family))


def listener_owners(netns_path: str, protocol: str, port: int, family: int | None = None) -> list[ProcessInfo]:
    """Every process holding the socket bound to ``port`` in the namespace (an inherited
    socket is held by each process it was passed to); with ``family``, only sockets that take
    clients of that IP family (a helper may listen for IPv4 and IPv6 on sockets of its own)."""
    found = []
    for listener in ss.find(listeners_in(netns_path), protocol, port, family):
        for owner in listener.owners:
            info = process_info(owner.pid)
            if info is not None and info.pid not in {f.pid for f in found}:
                found.append(info)
    return found


def connection_owners(netns_path: str, peer_address: str, peer_port: int) -> list[ProcessInfo]:
    """Processes with an established TCP connection to ``peer_address:peer_port``. The kernel
    filters the sockets (an ss expression): after a connect-request-response workload the
    namespace holds tens of thousands of TIME_WAIT sockets, and listing them all with their
    processes took longer than a 1 s outbound client lives, which went unseen."""
    result = procs.run(["nsenter", f"--net={netns_path}", "--", "ss", "-Htuanp", "dst",
                        ss.address_filter(peer_address), "and", "dport", "=", f":{peer_port}"], timeout=SS_TIMEOUT)
    found = []
    for sock in ss.connections_to(ss.parse_sockets(result.stdout), peer_address, peer_port):
        for owner in sock.owners:
            info = process_info(owner.pid)
            if info is not None and info.pid not in {f.pid for f in found}:
                found.append(info)
    return found


def netns_of(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino
    except OSError:
        return None


class Watcher(threading.Thread):
    """While a client runs, poll ``look()`` (an ss query returning processes) until ``enough``
    says what was seen suffices: who owns a socket can change during a trial (socket
    activation execs the server on the first connection; an outbound connection exists only
    while the client runs). Polls only as long as needed, to disturb the measurement little."""

    def __init__(self, look: Callable[[], list[ProcessInfo]], enough: Callable[[list[ProcessInfo]], bool],
                 interval: float = 0.05, deadline: float = 60.0) -> None:
        super().__init__(daemon=True)
        self.look = look
        self.enough = enough
        self.interval = interval
        self.deadline = deadline
        self.seen: list[ProcessInfo] = []
        self.error: str | None = None
        self._stop_event = threading.Event()

    def run(self) -> None:
        end = time.monotonic() + self.deadline
        while not self._stop_event.is_set() and time.monotonic() < end:
            try:
                for info in self.look():
                    # By pid, program and name: socket activation execs a new program in the same
                    # pid, and a container's init shows the server's exe while its name is still
                    # runc's ("runc:[2:INIT]"): the same pid and exe seen again as the server counts.
                    if info.identity not in {s.identity for s in self.seen}:
                        self.seen.append(info)
            except Exception as exc:  # noqa: BLE001 - reported, never kills the trial
                self.error = str(exc)
            if self.enough(self.seen):
                return
            self._stop_event.wait(self.interval)

    def finish(self) -> list[ProcessInfo]:
        self._stop_event.set()
        self.join(timeout=SS_TIMEOUT + 5)
        return self.seen


def classify(comm: str, exe: str, argv: tuple[str, ...]) -> str:
    """Name the helper by its executable and command line, never by comm alone: Debian's
    pasta runs as passt.avx2, Podman's rootlessport is a re-executed podman binary."""
    exe_name = os.path.basename(exe.removesuffix(" (deleted)"))
    arg0 = os.path.basename(argv[0]) if argv else ""
    if exe_name.startswith(("passt", "pasta")):
        return "pasta" if "pasta" in arg0 or exe_name.startswith("pasta") else "passt"
    if exe_name == "slirp4netns":
        return "slirp4netns"
    if "rootlessport" in (comm, arg0) or exe_name == "rootlessport":
        return "rootlessport"
    if exe_name == "rootlesskit":
        return "rootlesskit"
    if exe_name == "systemd-socket-activate":
        return "socket-activate"
    if comm.startswith("runc") or exe_name in ("runc", "conmon", "catatonit"):
        return exe_name if exe_name in ("conmon", "catatonit") else "runc"  # container plumbing, not the server
    return f"server:{comm}"


def process_info(pid: int) -> ProcessInfo | None:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        argv = tuple(a for a in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if a)
        exe = os.readlink(f"/proc/{pid}/exe")
        uid = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
    return ProcessInfo(pid, comm, exe, argv, uid, classify(comm, exe, argv), netns_of(pid))
