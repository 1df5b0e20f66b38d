"""Boot a built stack with systemd as PID 1 inside a lab's server host, talk to it, and
power it off again.

systemd runs in new mount, pid, cgroup, UTS and IPC namespaces, entered into the server
host's network namespace, with a cgroup of its own in the unified (cgroup2) hierarchy. The
stack gets its own /dev (only the device nodes it needs) and a fresh read-only sysfs; the
units that would change this machine's kernel settings, clock or modules are masked at build
time (``build.MASKED_UNITS``). /proc stays a plain proc mount: rootless Podman inside must be
able to mount its own, which the kernel refuses where parts of /proc are covered. Root only
builds this and talks to the stack through nsenter; Podman, the helpers and the servers run
as the benchmark user inside.
"""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from .. import procs
from ..errors import MeasurementError, SetupError, last_line
from ..lab.hosts import Lab
from ..parsers import podman_info
from ..lab.user import BenchUser, subordinate_range
from . import store
from .shell import CALL_TIMEOUT, StackShell

BOOT_TIMEOUT = 90.0
POWEROFF_TIMEOUT = 30.0
#: What systemd is told it runs in (systemd's container interface).
CONTAINER_NAME = "podman-netbench"
#: Drop-in that the stack's Podman reads; written at every boot from what the cgroup offers.
CONTAINERS_CONF = Path("etc/containers/containers.conf.d/50-podman-netbench.conf")
#: Device nodes a stack gets from this machine; everything else of /dev is its own.
DEVICES = ("null", "zero", "full", "random", "urandom", "tty", "net/tun")
CGROUP_PREFIX = "netbench-"


def cgroup2_root(mountinfo: str | None = None) -> Path:
    """Where the unified hierarchy is mounted: /sys/fs/cgroup on a pure cgroup2 machine,
    /sys/fs/cgroup/unified on a hybrid one (Debian 12 here)."""
    text = mountinfo if mountinfo is not None else Path("/proc/self/mountinfo").read_text()
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if sep and right.split()[:1] == ["cgroup2"]:
            return Path(left.split()[4])
    raise SetupError("no cgroup2 (unified) hierarchy is mounted: a stack's systemd needs one")


def boot_script(root: Path, shared_dir: Path) -> str:
    """The shell that builds the stack's view of the world inside the new namespaces and
    then becomes systemd (exec: systemd is PID 1 of the new pid namespace)."""
    r = shlex.quote(str(root))
    shared = shlex.quote(str(shared_dir))
    devices = " ".join(shlex.quote(d) for d in DEVICES)
    return f"""set -eu
R={r}
mount --bind "$R" "$R"
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$R/sys/fs/cgroup"
mount -t tmpfs -o mode=755,nosuid tmpfs "$R/dev"
for d in {devices}; do
  [ -e "/dev/$d" ] || continue
  mkdir -p "$(dirname "$R/dev/$d")"
  touch "$R/dev/$d"
  mount --bind "/dev/$d" "$R/dev/$d"
done
mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/mqueue"
mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/dev/shm"
mount -t mqueue -o nosuid,nodev,noexec mqueue "$R/dev/mqueue"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$R/run"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$R/tmp"
S={shared}
mkdir -p "$R$S"
mount --bind "$S" "$R$S"
mount -o remount,bind,ro "$R$S"
cd "$R"
mkdir -p .netbench-oldroot
pivot_root . .netbench-oldroot
umount -l /.netbench-oldroot
rmdir /.netbench-oldroot
mount --make-rshared /
exec env -i container={CONTAINER_NAME} /lib/systemd/systemd
"""


def prepare_user(root: Path, user: BenchUser) -> None:
    """The benchmark user inside the stack: the same name, uid, gid and subordinate ranges
    as on this machine (the stack shares its kernel and its user namespace), a shadow entry
    (the user manager's PAM stack needs one) and lingering, so systemd starts its manager."""
    def chroot(*argv: str, check: bool = True) -> procs.ProcessResult:
        return procs.run(["chroot", str(root), *argv], timeout=60, check=check)

    group = chroot("getent", "group", user.name, check=False).stdout.split(":")
    if len(group) < 3:
        chroot("groupadd", "--gid", str(user.gid), user.name)
    elif group[2] != str(user.gid):
        chroot("groupmod", "--gid", str(user.gid), user.name)
    entry = chroot("getent", "passwd", user.name, check=False).stdout.split(":")
    if len(entry) < 3:
        chroot("useradd", "--uid", str(user.uid), "--gid", str(user.gid), "--create-home", "--shell", "/bin/sh",
               "--comment", "podman-netbench benchmark user", user.name)
    elif entry[2] != str(user.uid):
        chroot("usermod", "--uid", str(user.uid), "--gid", str(user.gid), user.name)
    for name in ("subuid", "subgid"):
        found = subordinate_range(user.name, f"/etc/{name}")
        if found is None:
            raise SetupError(f"/etc/{name} has no range for {user.name}: run scripts/setup.sh as root")
        (root / "etc" / name).write_text(f"{user.name}:{found[0]}:{found[1]}\n")
    linger = root / "var" / "lib" / "systemd" / "linger"
    linger.mkdir(parents=True, exist_ok=True)
    (linger / user.name).touch()


def containers_conf(controllers: str) -> str | None:
    """Podman's defaults set a pids limit; without the pids controller in the stack's
    cgroup (a hybrid machine binds it to cgroup v1) runc then fails, so turn it off and
    say why. None when nothing needs changing."""
    if "pids" in controllers.split():
        return None
    return ("# Written by podman-netbench at boot: this machine's cgroup2 hierarchy offers no pids\n"
            "# controller (it is bound to cgroup v1 here), so Podman's default pids limit cannot be set.\n"
            "[containers]\npids_limit = 0\n")


@dataclass
class BootedStack:
    """A running stack: what it was built from, how to talk to it, and how its boot went."""

    built: store.BuiltStack
    shell: StackShell
    state: str = ""
    failed_units: list[str] = field(default_factory=list)
    boot_seconds: float = 0.0
    adjustments: list[str] = field(default_factory=list)
    podman_info: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.built.name

    @property
    def pid1(self) -> procs.ProcRef:
        return self.shell.pid1

    def run(self, argv: Sequence[str], **kwargs: Any) -> procs.ProcessResult:
        return self.shell.run(argv, **kwargs)

    def record(self) -> dict[str, Any]:
        """What a results document records about the booted stack."""
        return {**self.built.describe(), "boot": {"state": self.state, "failed_units": self.failed_units,
                                                  "seconds": round(self.boot_seconds, 2),
                                                  "adjustments": self.adjustments},
                "podman_info": self.podman_info}


def boot(built: store.BuiltStack, lab: Lab, user: BenchUser, shared_dir: Path, state: Any, *,
         log: Callable[[str], None] = lambda s: None) -> BootedStack:
    """Boot ``built`` in ``lab``'s server host. The run state records the stack before it
    starts, so a run killed at any point leaves nothing the next run cannot remove."""
    began = time.monotonic()
    prepare_user(built.root, user)
    cgroup = cgroup2_root() / f"{CGROUP_PREFIX}{lab.tag}-{built.name}"
    entry = state.add("stack", name=built.name, cgroup=str(cgroup), pid1=None, starter=None)
    cgroup.mkdir()
    adjustments = []
    conf = containers_conf((cgroup / "cgroup.controllers").read_text())
    conf_path = built.root / CONTAINERS_CONF
    if conf is None:
        conf_path.unlink(missing_ok=True)
    else:
        conf_path.parent.mkdir(parents=True, exist_ok=True)
        conf_path.write_text(conf)
        adjustments.append(f"/{CONTAINERS_CONF}: pids_limit = 0 (no pids controller in this machine's cgroup2)")
    starter = procs.Spawned([
        "sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec nsenter --net="$2" -- '
                    'unshare --mount --pid --fork --cgroup --uts --ipc --propagation private -- /bin/sh -c "$3"',
        "sh", str(cgroup), lab.server_ns_path, boot_script(built.root, shared_dir)])
    entry["starter"] = starter.ref.to_json()
    state.save()
    pid1 = _find_child(starter)
    entry["pid1"] = pid1.to_json()
    state.save()
    booted = BootedStack(built, StackShell(built.name, pid1, str(cgroup), user), adjustments=adjustments)
    # On any failure from here the caller's teardown powers it off through the run state entry.
    _wait_running(booted, starter)
    booted.run(["systemctl", "start", "network-online.target"], user=False, timeout=30)
    _wait_user_manager(booted)
    booted.podman_info = _podman_info(booted)
    _remove_stale_containers(booted, log)
    _ensure_image(booted, shared_dir, log)
    booted.boot_seconds = time.monotonic() - began
    log(f"stack {built.name}: booted in {booted.boot_seconds:.1f} s ({booted.state}); "
        + ", ".join(f"{k} {v}" for k, v in built.key_versions().items()))
    return booted


def _find_child(starter: procs.Spawned) -> procs.ProcRef:
    """unshare --fork's child becomes systemd: the stack's PID 1, seen here by its host pid."""
    found: list[procs.ProcRef] = []

    def child() -> bool:
        if starter.poll() is not None:
            raise SetupError(f"the stack did not start: {starter.last_words() or f'exit {starter.poll()}'}")
        try:
            pids = Path(f"/proc/{starter.pid}/task/{starter.pid}/children").read_text().split()
        except OSError:
            return False
        ref = procs.ProcRef.of(int(pids[0])) if pids else None
        if ref is not None:
            found.append(ref)
        return ref is not None

    procs.wait_until(child, timeout=20, what="the stack's first process")
    return found[0]


def _wait_running(booted: BootedStack, starter: procs.Spawned) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT

    def settled() -> bool:
        if not booted.pid1.alive():
            raise SetupError(f"stack {booted.name}: systemd ended during boot: {starter.last_words() or 'no output'}")
        result = booted.run(["systemctl", "is-system-running"], user=False, timeout=15, check=False)
        booted.state = result.stdout.strip()
        return booted.state in ("running", "degraded")

    while not settled():
        if time.monotonic() > deadline:
            raise SetupError(f"stack {booted.name} did not finish booting within {BOOT_TIMEOUT:g} s "
                             f"(state {booted.state or 'unknown'})")
        time.sleep(0.25)
    if booted.state == "degraded":
        failed = booted.run(["systemctl", "list-units", "--failed", "--plain", "--no-legend"], user=False,
                            timeout=15, check=False)
        booted.failed_units = [line.split()[0] for line in failed.stdout.splitlines() if line.strip()]


def _wait_user_manager(booted: BootedStack) -> None:
    """systemd starts the lingering user's manager; Quadlet and socket units need it."""
    unit = f"user@{booted.shell.user.uid}.service"
    bus = f"{booted.shell.runtime_dir}/bus"

    def ready() -> bool:
        active = booted.run(["systemctl", "is-active", unit], user=False, timeout=15, check=False)
        if active.stdout.strip() == "failed":
            status = booted.run(["systemctl", "status", "--no-pager", "--lines=5", unit], user=False, timeout=15,
                                check=False)
            raise SetupError(f"stack {booted.name}: the user manager {unit} failed: {last_line(status.stdout)}")
        return active.stdout.strip() == "active" and booted.run(["test", "-S", bus], user=False, timeout=15,
                                                                check=False).returncode == 0

    procs.wait_until(ready, timeout=30, interval=0.2, what=f"the user manager {unit} in stack {booted.name}")


def _podman_info(booted: BootedStack) -> dict[str, Any]:
    """The stack's own account of how rootless Podman is set up (network command, backend,
    runtime, cgroups): what a Podman maintainer asks for first."""
    import json

    result = booted.run(["podman", "info", "--format", "json"], timeout=CALL_TIMEOUT)
    try:
        return podman_info.summary(json.loads(result.stdout))
    except (ValueError, AttributeError):
        raise SetupError(f"stack {booted.name}: podman info gave no JSON object") from None


def _ensure_image(booted: BootedStack, shared_dir: Path, log: Callable[[str], None]) -> None:
    """The suite's image in the stack user's storage; made once, kept in the stack."""
    from ..lab import image

    if booted.run(["podman", "image", "exists", image.IMAGE], timeout=CALL_TIMEOUT, check=False).returncode == 0:
        return
    archive = shared_dir / "image-skeleton.tar"
    archive.write_bytes(image.skeleton_tar())
    os.chmod(archive, 0o644)
    try:
        booted.run(image.import_argv(str(archive)), timeout=CALL_TIMEOUT)
    finally:
        archive.unlink(missing_ok=True)
    log(f"stack {booted.name}: made the container image {image.IMAGE} in the stack")


def _remove_stale_containers(booted: BootedStack, log: Callable[[str], None]) -> None:
    """Containers of an earlier run that was killed before it powered the stack off."""
    from ..lab.hosts import NAME_PREFIX

    listed = booted.run(["podman", "ps", "-a", "--format", "{{.Names}}"], timeout=CALL_TIMEOUT)
    stale = [n for n in listed.stdout.split() if n.startswith(NAME_PREFIX)]
    if stale:
        log(f"stack {booted.name}: removing {len(stale)} container(s) a killed run left in it")
        booted.run(["podman", "rm", "-f", "-t", "0", *stale], timeout=CALL_TIMEOUT)
    # Networks made for a container (the bridge method), once their containers are gone.
    listed = booted.run(["podman", "network", "ls", "--format", "{{.Name}}"], timeout=CALL_TIMEOUT)
    networks = [n for n in listed.stdout.split() if n.startswith(NAME_PREFIX)]
    if networks:
        log(f"stack {booted.name}: removing {len(networks)} network(s) a killed run left in it")
        booted.run(["podman", "network", "rm", "-f", *networks], timeout=CALL_TIMEOUT)


def power_off(entry: dict[str, Any]) -> list[str]:
    """Stop a stack recorded in a run state (the running one, or one a killed run left):
    ``systemctl poweroff``, SIGKILL to its PID 1 (which ends its whole pid namespace) when
    that does not finish in time, then remove its cgroup. Returns the problems."""
    problems: list[str] = []
    pid1 = procs.ProcRef.from_json(entry["pid1"]) if entry.get("pid1") else None
    starter = procs.ProcRef.from_json(entry["starter"]) if entry.get("starter") else None
    if pid1 is not None and pid1.alive():
        try:
            procs.run(["nsenter", f"--target={pid1.pid}", "--mount", "--pid", "--", "systemctl", "poweroff"],
                      timeout=15, check=False)
        except MeasurementError as exc:
            problems.append(f"stack {entry.get('name')}: poweroff: {exc}")
        deadline = time.monotonic() + POWEROFF_TIMEOUT
        while pid1.alive() and time.monotonic() < deadline:
            procs.reap_orphans()
            time.sleep(0.1)
        if pid1.alive():
            problems.append(f"stack {entry.get('name')} did not power off within {POWEROFF_TIMEOUT:g} s; killed")
            pid1.signal(9)
            procs.wait_until(lambda: not pid1.alive(), timeout=10, what=f"stack {entry.get('name')} to end")
    if starter is not None and not procs.stop(starter, grace=2.0):
        problems.append(f"the starter of stack {entry.get('name')} (pid {starter.pid}) did not stop")
    procs.reap_orphans()
    problems += remove_cgroup(Path(entry["cgroup"])) if entry.get("cgroup") else []
    return problems


def remove_cgroup(path: Path) -> list[str]:
    """Remove a stack's cgroup, deepest directories first, once no process is left in it.
    Only a directory named by the suite directly under the cgroup2 root is touched."""
    try:
        root = cgroup2_root()
    except SetupError as exc:
        return [str(exc)]
    if path.parent != root or not path.name.startswith(CGROUP_PREFIX):
        return [f"not a stack cgroup of the suite: {path}"]
    if not path.is_dir():
        return []
    deadline = time.monotonic() + 10
    while True:
        left = []
        for directory, _subdirs, _files in sorted(os.walk(path), key=lambda w: -w[0].count("/")):
            try:
                os.rmdir(directory)
            except FileNotFoundError:
                pass
            except OSError as exc:
                left.append(f"{directory}: {exc.strerror}")
        if not left:
            return []
        if time.monotonic() > deadline:
            return [f"cgroup {path} could not be removed: {left[0]}"]
        procs.reap_orphans()
        time.sleep(0.1)
