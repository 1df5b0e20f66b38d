"""The delay box: a real kernel's netem between the lab hosts where this kernel has none.

A User-Mode Linux guest (Debian's ``user-mode-linux`` package: a Linux kernel that runs as
an ordinary process) holds both ends of the lab's main link:

    server host: tap nbTAGs ──fd── vec0 ─[mirred]→ vec1 egress [netem] ──fd── tap nbTAGc: client host
                                   vec0 egress [netem] ←[mirred]─ vec1

Each lab host's interface *is* a tap whose other end the guest reads and writes; the guest
joins vec0 and vec1 with tc mirred (a wire: no learning, no TTL change) and adds netem on each
vec's egress. There is no bridge and no raw socket on the host, so nothing loops.

How it is built (``start``): the taps are made persistent, owned by the benchmark user, in a
helper namespace ``netbench-TAG-box``; the guest runs there as the benchmark user, without
capabilities, and opens them by name as it brings vec0 and vec1 up; then root moves each tap
into its lab host (the open descriptor survives the move). Two rules come from the prototype:
no IPv6 frame may be written to a tap while the other is down (the 6.1 vector driver's
transmit queue wedges for good on the error: lab/hosts.py brings IPv6 up only once both ends
are), and a lab tap is never set down while the box runs.

The guest's init (``boxinit.sh``, shipped with the package) waits on a blocking read of its
console, a pair of pipes held here, and runs one batch per command (a guest that starts
processes all the time stalls its network now and then). Closing our end powers the guest
off; ``remove_entry`` stops it by pid and removes its namespace, also for a run that was
killed (the run state records both).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import procs
from ..errors import MeasurementError, SetupError
from ..parsers import ParseError, iproute
from . import hosts

if TYPE_CHECKING:
    from .runstate import RunState
    from .user import BenchUser

UML_BINARY = Path("/usr/bin/linux.uml")
UML_MODULES = Path("/usr/lib/uml/modules")
INIT = Path(__file__).with_name("boxinit.sh")
#: The guest's memory (a file in TMPDIR, /dev/shm: on disk it is slower).
MEMORY = "256M"
#: Frames the vector driver queues per tap.
QUEUE_DEPTH = 128
NEEDED_MODULES = ("sch_netem", "sch_ingress", "cls_matchall", "act_mirred")
BOOT_TIMEOUT = 90.0
COMMAND_TIMEOUT = 30.0
POWER_OFF_WAIT = 5.0
IP_TIMEOUT = 15.0
#: The guest's console output kept for a failure's message, and written to its log.
LOG_LIMIT = 1_000_000
#: Direction -> the guest's device whose egress carries it (vec0 holds the server's tap).
DIRECTION_DEVICES = {"to_server": "vec0", "to_client": "vec1"}

_RUNNING: dict[str, "DelayBox"] = {}


def kernel_version(modules: Path = UML_MODULES) -> str | None:
    """The guest kernel's release whose modules have netem, or None."""
    try:
        releases = sorted(p.name for p in modules.iterdir() if p.is_dir())
    except OSError:
        return None
    for release in reversed(releases):
        sched = modules / release / "kernel" / "net" / "sched"
        if any(sched.glob("sch_netem.ko*")):
            return release
    return None


def why_unavailable() -> str | None:
    """Why this machine cannot run the delay box, in one line, or None."""
    if not os.access(UML_BINARY, os.X_OK):
        return f"{UML_BINARY} is missing (Debian's user-mode-linux package: scripts/setup.sh installs it)"
    if kernel_version() is None:
        return f"no User-Mode Linux modules with sch_netem under {UML_MODULES}"
    for tool, package in (("modprobe", "kmod"), ("ethtool", "ethtool"), ("tc", "iproute2")):
        if shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin") is None:
            return f"{tool} is missing (the {package} package), which the box runs inside"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun is missing: the box's taps need it"
    return None


@dataclass(frozen=True)
class BoxPlan:
    """Names, places and the guest's command line: everything ``start`` makes, decided first."""

    namespace: str
    server_tap: str
    client_tap: str
    mtu: int
    #: Root's: the init and the module tree, read by the guest (through the host's root).
    directory: Path
    #: The benchmark user's: the guest's pid file and management socket.
    uml_dir: Path
    kernel: str
    binary: Path = UML_BINARY
    memory: str = MEMORY

    @property
    def umid(self) -> str:
        return self.namespace

    def vector(self, index: int, tap: str) -> str:
        # gro=1: vnet headers, so 64 KB TSO frames cross the taps whole (the box's speed).
        return f"vec{index}:transport=tap,ifname={tap},depth={QUEUE_DEPTH},gro=1,mtu={self.mtu}"

    def argv(self) -> list[str]:
        """The guest's command line (run as the benchmark user in the helper namespace).
        Unknown ``NAME=value`` words are handed to init as its environment."""
        return ["env", "TMPDIR=/dev/shm", str(self.binary), f"mem={self.memory}", f"umid={self.umid}",
                f"uml_dir={self.uml_dir}", "rootfstype=hostfs", "rootflags=/", "rw", "quiet",
                "con=null", "ssl=null", "con0=fd:0,fd:1",
                self.vector(0, self.server_tap), self.vector(1, self.client_tap),
                f"BOX_MODDIR={self.directory / 'modules'}", f"BOX_MTU={self.mtu}",
                f"init={self.directory / INIT.name}"]

    def to_json(self) -> dict[str, Any]:
        return {"namespace": self.namespace, "taps": {"server": self.server_tap, "client": self.client_tap},
                "directory": str(self.directory), "uml_dir": str(self.uml_dir)}


def plan_for(lab: hosts.Lab, run_dir: Path, kernel: str) -> BoxPlan:
    return BoxPlan(hosts.box_namespace(lab.tag), lab.server_if, lab.client_if, lab.mtu, run_dir / f"box-{lab.tag}",
                   run_dir / f"box-{lab.tag}-uml", kernel)


_REPLY = re.compile(r"@@ (\d+) rc=(\d+)$")


class DelayBox:
    """A running guest and its console."""

    DIRECTION_DEVICES = DIRECTION_DEVICES

    def __init__(self, plan: BoxPlan, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self.plan = plan
        self.popen = popen
        self.ref = procs.ProcRef.of(popen.pid) or procs.ProcRef(popen.pid, -1)
        self.log_path = log_path
        self._lines: list[str] = []
        self._logged = 0
        self._changed = threading.Condition()
        self._ended = False
        self._sequence = 0
        self.booted_s: float | None = None
        self._reader = threading.Thread(target=self._read, name=f"delay box {plan.namespace}", daemon=True)
        self._reader.start()

    # ------------------------------------------------------------ the console
    def _read(self) -> None:
        assert self.popen.stdout is not None
        with open(self.log_path, "ab") as log:
            for raw in iter(self.popen.stdout.readline, b""):
                if self._logged < LOG_LIMIT:
                    log.write(raw)
                    log.flush()
                    self._logged += len(raw)
                with self._changed:
                    self._lines.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                    self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def _wait_for(self, start: int, match: re.Pattern[str] | str, timeout: float, what: str) -> tuple[int, re.Match[str]]:
        deadline = time.monotonic() + timeout
        seen = start
        with self._changed:
            while True:
                while seen < len(self._lines):
                    found = re.fullmatch(match, self._lines[seen])
                    if found:
                        return seen, found
                    if self._lines[seen].startswith("@@ failed"):
                        raise MeasurementError(f"delay box: {self._lines[seen][3:]}{self._tail()}")
                    seen += 1
                left = deadline - time.monotonic()
                if self._ended or left <= 0:
                    why = "the guest exited" if self._ended else f"no answer within {timeout:g} s"
                    raise MeasurementError(f"delay box: {why} waiting for {what}{self._tail()}")
                self._changed.wait(min(left, 1.0))

    def _tail(self) -> str:
        said = [line for line in self._lines[-5:] if line.strip()]
        if not said:
            try:
                said = [line for line in self.log_path.with_suffix(".err").read_text(errors="replace").splitlines()
                        if line.strip()][-3:]
            except OSError:
                said = []
        return f" (it said: {' | '.join(said)[-400:]})" if said else ""

    def wait_ready(self, timeout: float = BOOT_TIMEOUT) -> None:
        started = time.monotonic()
        self._wait_for(0, "@@ ready", timeout, "the guest to boot")
        self.booted_s = round(time.monotonic() - started, 2)

    def command(self, verb: str, words: list[str], lines: list[str] = (), *,  # type: ignore[assignment]
                timeout: float = COMMAND_TIMEOUT) -> str:
        """Run one command in the guest (``tc`` with batch lines, or ``ethtool``); its output.
        A command that fails there is a MeasurementError with what it said."""
        self._sequence += 1
        number = self._sequence
        with self._changed:
            start = len(self._lines)
        text = f"@@ {number} {verb} {' '.join(words)}\n" + "".join(f"{line}\n" for line in lines)
        try:
            assert self.popen.stdin is not None
            self.popen.stdin.write(text.encode())
            self.popen.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise MeasurementError(f"delay box: its console is closed ({exc}){self._tail()}") from None
        end, reply = self._wait_for(start, _REPLY.pattern.replace(r"(\d+)", str(number), 1), timeout,
                                    f"{verb} {' '.join(words)}".strip())
        with self._changed:
            output = [line for line in self._lines[start:end] if not line.startswith("@@")]
        if reply.group(1) != "0":
            said = next((line for line in reversed(output) if line.strip()), "no output")
            raise MeasurementError(f"delay box: {verb} {' '.join(words)} failed (exit {reply.group(1)}): {said}")
        return "\n".join(output)

    def tc(self, lines: list[str]) -> str:
        return self.command("tc", [str(len(lines))], lines)

    # ------------------------------------------------------------ shaping
    def set_netem(self, old: list[str], new: list[str]) -> None:
        """Replace the netem on both vecs' egress (``old``/``new``: linkpath.netem_words)."""
        lines = []
        for device in DIRECTION_DEVICES.values():
            if old:
                lines.append(f"qdisc del dev {device} root")
            if new:
                lines.append(f"qdisc add dev {device} root handle 1: {' '.join(new)}")
        if lines:
            self.tc(lines)

    def set_per_packet(self, on: bool) -> None:
        """GRO off in the guest, so netem is handed packets, not frames glued back together
        (the host side stops sending TSO frames: linkpath.BoxPath)."""
        for device in DIRECTION_DEVICES.values():
            self.command("ethtool", ["-K", device, "gro", "off" if on else "on"])

    def qdiscs(self) -> list[iproute.QdiscCounters]:
        try:
            return iproute.parse_qdisc_counters(self.tc(["qdisc show"]))
        except ParseError as exc:
            raise MeasurementError(f"delay box: its qdiscs: {exc}") from None

    def describe(self) -> dict[str, Any]:
        return {"kernel": f"User-Mode Linux {self.plan.kernel}", "memory": self.plan.memory,
                "vector_queue_depth": QUEUE_DEPTH, "link": "tc mirred between vec0 and vec1, TSO and GRO on "
                "(off while loss is asked)", "boot_s": self.booted_s, "pid": self.ref.pid, **self.plan.to_json()}

    # ------------------------------------------------------------ stopping
    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> list[str]:
        """Power the guest off (end of its console's input), by signal if it does not go;
        then anything left in its namespace, and the namespace. Returns what went wrong."""
        problems: list[str] = []
        _RUNNING.pop(self.plan.namespace, None)
        try:
            if self.popen.stdin is not None:
                self.popen.stdin.close()
        except OSError:
            pass
        try:
            self.popen.wait(timeout=POWER_OFF_WAIT)
        except subprocess.TimeoutExpired:
            if not procs.stop(self.ref, grace=2.0):
                problems.append(f"the delay box (pid {self.ref.pid}) did not stop")
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._reader.join(timeout=5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()
        problems += hosts.destroy_namespace(self.plan.namespace)
        return problems


def _ip(*args: str) -> None:
    procs.run(["ip", *args], timeout=IP_TIMEOUT)


def _prepare(plan: BoxPlan, user: "BenchUser") -> None:
    """The directories the guest reads (root's) and writes (the user's)."""
    plan.directory.mkdir(mode=0o755)
    shutil.copyfile(INIT, plan.directory / INIT.name)
    os.chmod(plan.directory / INIT.name, 0o755)
    releases = plan.directory / "modules" / "lib" / "modules"
    releases.mkdir(parents=True, mode=0o755)
    (releases / plan.kernel).symlink_to(UML_MODULES / plan.kernel)
    for path in (plan.directory / "modules", plan.directory / "modules" / "lib"):
        os.chmod(path, 0o755)
    plan.uml_dir.mkdir(mode=0o700)
    os.chown(plan.uml_dir, user.uid, user.gid)


def _helper_namespace(plan: BoxPlan, user: "BenchUser") -> None:
    """The helper namespace, IPv6 off, with the two taps (persistent, the user's, with vnet
    headers), up, for the guest to open."""
    _ip("netns", "add", plan.namespace)
    netns = f"{hosts.NETNS_DIR}/{plan.namespace}"
    procs.run(["nsenter", f"--net={netns}", "--", "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
               "net.ipv6.conf.default.disable_ipv6=1"], timeout=IP_TIMEOUT)
    _ip("-n", plan.namespace, "link", "set", "lo", "up")
    for tap in (plan.server_tap, plan.client_tap):
        _ip("-n", plan.namespace, "tuntap", "add", "mode", "tap", "dev", tap, "user", str(user.uid), "vnet_hdr")
        _ip("-n", plan.namespace, "link", "set", tap, "mtu", str(plan.mtu), "up")


def start(lab: hosts.Lab, user: "BenchUser", run_dir: Path, state: "RunState") -> DelayBox:
    """Build the box for a lab whose namespaces exist (hosts.create's ``main_link``): on
    return, ``lab.server_if`` is in the server host and ``lab.client_if`` in the client host,
    down, the guest forwarding between them. Recorded in ``state`` before anything is made;
    on failure, what was made is removed again."""
    kernel = kernel_version()
    reason = why_unavailable()
    if reason is not None or kernel is None:
        raise SetupError(f"the delay box cannot run here: {reason}")
    plan = plan_for(lab, run_dir, kernel)
    entry = state.add("delay-box", **plan.to_json())
    box: DelayBox | None = None
    try:
        _prepare(plan, user)
        _helper_namespace(plan, user)
        log_path = plan.directory / "console.log"
        with open(log_path.with_suffix(".err"), "wb") as errors:
            argv = user.argv(plan.argv(), netns_path=f"{hosts.NETNS_DIR}/{plan.namespace}")
            procs.LOG.debug("starting %s", " ".join(argv))
            popen = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors,
                                     cwd="/", start_new_session=True)
        box = DelayBox(plan, popen, log_path)
        _RUNNING[plan.namespace] = box
        entry.update(box.ref.to_json())
        state.save()
        box.wait_ready()
        for tap, ns in ((plan.server_tap, lab.server_ns), (plan.client_tap, lab.client_ns)):
            _ip("-n", plan.namespace, "link", "set", tap, "netns", ns)
    except BaseException:
        problems = box.stop() if box is not None else hosts.destroy_namespace(plan.namespace)
        if not problems:
            state.discard(entry)
        raise
    return box


def remove_entry(entry: dict[str, Any]) -> list[str]:
    """The run state's remover: the box of this process by its console, else (a killed run's)
    by its pid and start time; then its namespace."""
    namespace = str(entry.get("namespace", ""))
    if hosts.tag_of_namespace(namespace) is None:
        return [f"delay box: {namespace!r} is not a namespace of the suite's"]
    running = _RUNNING.get(namespace)
    if running is not None:
        return running.stop()
    problems: list[str] = []
    if entry.get("pid") and entry.get("start_ticks"):
        ref = procs.ProcRef.from_json(entry)
        if not procs.stop(ref, grace=2.0):
            problems.append(f"the delay box (pid {ref.pid}) did not stop")
    return problems + hosts.destroy_namespace(namespace)
