"""What root may take from the benchmark user's side, and how: files in directories the user
owns are read without following links, without blocking on a FIFO, only if regular and only
so much; process ids the user's side reports are accepted only for processes of the user or
its subordinate ids. Code running as the benchmark user (a compromised helper, container or
image) must not be able to steer root through either.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .. import procs
from ..errors import MeasurementError
from .user import BenchUser, subordinate_range

#: More than this in a pid file or a short state file is not one of ours.
SMALL_FILE_LIMIT = 4096


def read_small(path: Path | str, limit: int = SMALL_FILE_LIMIT) -> str:
    """The text of a small regular file the benchmark user could have replaced: a symlink, a
    FIFO, a device or a directory is refused (MeasurementError), and no more than ``limit``
    bytes are read, so neither /dev/zero nor a FIFO can hang or flood root."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise MeasurementError(f"{path}: cannot be read safely ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise MeasurementError(f"{path}: not a regular file; not read")
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise MeasurementError(f"{path}: larger than {limit} bytes; not read")
    return data.decode(errors="replace")


def read_pid(path: Path | str) -> int:
    """A pid from a pid file the user's side wrote (see read_small)."""
    text = read_small(path).strip()
    if not text.isdigit() or int(text) <= 1:
        raise MeasurementError(f"{path}: no pid in it")
    return int(text)


def process_uids(pid: int) -> tuple[int, ...] | None:
    """Real, effective, saved and filesystem uid of a process, as this machine sees them."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Uid:"):
                    return tuple(int(v) for v in line.split()[1:5])
    except (OSError, ValueError):
        return None
    return None


def owned_by(pid: int, user: BenchUser) -> bool:
    """Every uid of the process is the benchmark user's or one of its subordinate ids (a
    container's processes run as those): then it is the user's to have started, and root
    may stop it. A root process, or another user's, never is."""
    uids = process_uids(pid)
    if not uids:
        return False
    sub = subordinate_range(user.name, "/etc/subuid")
    allowed = {user.uid}

    def ok(uid: int) -> bool:
        return uid in allowed or (sub is not None and sub[0] <= uid < sub[0] + sub[1])

    return all(ok(uid) for uid in uids)


def processes_started_since(user: BenchUser, start_ticks: int) -> list[procs.ProcRef]:
    """The live processes of the benchmark user (or its subordinate ids) that started at or
    after ``start_ticks``: what a run killed at that moment may have left running (a Podman
    call in flight outlives its parent, and may start a pause process after the next run
    cleaned up). Each is checked as ``owned_by``; root's and other users' are never listed."""
    found: list[procs.ProcRef] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        ref = procs.ProcRef.of(int(entry))
        if ref is None or ref.start_ticks < start_ticks or procs.is_zombie(ref.pid):
            continue
        if owned_by(ref.pid, user):
            found.append(ref)
    return found


def check_owned(pid: int, user: BenchUser, what: str) -> None:
    if not owned_by(pid, user):
        raise MeasurementError(f"{what} names pid {pid}, which is not a process of {user.name}: not touched")
