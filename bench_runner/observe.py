"""Observe, rather than trust: which process really owns a listening socket, what it is,
and how much CPU it spent. A published benchmark once labelled slirp4netns as pasta for
months; every trial here records the helper it saw in the process table."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

from . import procs
from .parsers import ss

SS_TIMEOUT = 10.0


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    comm: str
    exe: str
    argv: tuple[str, ...]
    uid: int
    kind: str  # "pasta", "slirp4netns", "rootlessport", "rootlesskit", or "server:<comm>"

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["argv"] = list(self.argv)
        return data


def listeners_in(netns_path: str) -> list[ss.Listener]:
    """Listening sockets of a network namespace, read as root with ``ss``."""
    result = procs.run(["nsenter", f"--net={netns_path}", "--", "ss", "-Htulnp"], timeout=SS_TIMEOUT)
    return ss.parse_listeners(result.stdout)


def is_listening(netns_path: str, protocol: str, port: int) -> bool:
    return bool(ss.find(listeners_in(netns_path), protocol, port))


def listener_owner(netns_path: str, protocol: str, port: int) -> ProcessInfo | None:
    """The process owning the socket bound to ``port`` in the namespace, if any."""
    for listener in ss.find(listeners_in(netns_path), protocol, port):
        for owner in listener.owners:
            info = process_info(owner.pid)
            if info is not None:
                return info
    return None


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
    return f"server:{comm}"


def process_info(pid: int) -> ProcessInfo | None:
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
        argv = tuple(a for a in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0") if a)
        exe = os.readlink(f"/proc/{pid}/exe")
        uid = os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None
    return ProcessInfo(pid, comm, exe, argv, uid, classify(comm, exe, argv))
