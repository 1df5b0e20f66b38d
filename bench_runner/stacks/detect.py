"""Detect the exact stack a run measures: kernel, Podman, passt, slirp4netns, rootlesskit,
iperf3 and the rest, plus the host (distribution, CPU, virtualisation, sysctls).

Every result document carries this, so a number is never separated from what made it.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..lab import hostinfo
from .. import procs
from ..errors import BenchError, SetupError
from ..parsers import versions

#: Tools whose version banners we read: (tool, argv).
_TOOLS: tuple[tuple[str, list[str]], ...] = (
    ("podman", ["podman", "--version"]),
    ("pasta", ["pasta", "--version"]),
    ("slirp4netns", ["slirp4netns", "--version"]),
    ("rootlesskit", ["rootlesskit", "--version"]),
    ("iperf3", ["iperf3", "--version"]),
    ("sockperf", ["sockperf", "--version"]),
    ("runc", ["runc", "--version"]),
    ("conmon", ["conmon", "--version"]),
    ("systemd", ["systemctl", "--version"]),
)
#: Distribution packages whose exact versions we record.
PACKAGES = ("podman", "passt", "slirp4netns", "rootlesskit", "iperf3", "libiperf0", "sockperf",
            "runc", "conmon", "systemd")
#: Host sysctls that shape network throughput and the port floor.
SYSCTLS = (
    "net/core/rmem_max", "net/core/wmem_max", "net/ipv4/tcp_rmem", "net/ipv4/tcp_wmem",
    "net/ipv4/tcp_congestion_control", "net/ipv4/ip_unprivileged_port_start",
    "net/core/default_qdisc", "user/max_user_namespaces",
)


@dataclass
class Stack:
    kernel: str
    kernel_build: str
    podman: str | None
    passt: str | None
    slirp4netns: str | None
    libslirp: str | None
    rootlesskit: str | None
    iperf3: str | None
    sockperf: str | None
    runc: str | None
    conmon: str | None
    systemd: str | None
    distribution: str
    cpu_model: str | None
    cpu_count: int
    virtualization: str
    python: str
    packages: dict[str, str] = field(default_factory=dict)
    sysctls: dict[str, str] = field(default_factory=dict)
    #: What the user states about the stack (``--stack KEY=VALUE``), e.g. a local pasta build;
    #: also ``pasta_binary`` (version and hash) when ``run --pasta`` names a binary of its own.
    stated: dict[str, str] = field(default_factory=dict)
    #: This machine, as a hash of /etc/machine-id (or of the host name): a resumed run must
    #: continue on the machine it started on.
    machine: str = ""
    #: Per CPU its frequency governor, and the SMT state (hostinfo.cpu_state).
    cpu_state: dict[str, Any] = field(default_factory=dict)
    #: The network keys of the containers.conf files the benchmark user's Podman merges, each
    #: with its file (hostinfo.containers_conf).
    containers_conf: dict[str, Any] = field(default_factory=dict)
    #: ``podman info``, summarised; filled in by the run once it holds the run lock (it needs
    #: the benchmark user's runtime directory), so empty from detect().
    podman_info: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    def key_versions(self) -> dict[str, str | None]:
        """The components whose change makes a new point in history."""
        keys = ("kernel", "podman", "passt", "slirp4netns", "rootlesskit", "iperf3")
        base: dict[str, str | None] = {k: getattr(self, k) for k in keys}
        base.update(self.stated)
        return base


def _as_unprivileged(argv: list[str]) -> list[str]:
    """Even asking for a version, the stack's programs run as the benchmark user, not root."""
    if os.geteuid() != 0:
        return argv
    from ..lab.user import BenchUser

    try:
        return BenchUser.lookup().argv(argv)
    except BenchError:
        return argv  # not set up yet (doctor says so): ask as root


def _banner(argv: list[str]) -> str | None:
    if shutil.which(argv[0]) is None:
        return None
    try:
        result = procs.run(_as_unprivileged(argv), timeout=10, check=False)
    except BenchError:
        return None
    # Debian 12's pasta also prints "Failed to send ... to syslog" lines: keep the rest.
    text = result.stdout + "\n" + result.stderr
    return "\n".join(line for line in text.splitlines() if "to syslog" not in line)


def _package_versions() -> dict[str, str]:
    if shutil.which("dpkg-query"):
        result = procs.run(["dpkg-query", "-W", "-f", "${Package}\t${Version}\n", *PACKAGES], timeout=20, check=False)
        return versions.parse_dpkg_versions(result.stdout)
    if shutil.which("rpm"):
        result = procs.run(["rpm", "-q", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n", *PACKAGES], timeout=20, check=False)
        return versions.parse_rpm_versions(result.stdout)
    return {}


def _virtualization(hypervisor_flag: bool) -> str:
    found = []
    if shutil.which("systemd-detect-virt"):
        result = procs.run(["systemd-detect-virt"], timeout=10, check=False)
        kind = result.stdout.strip()
        if kind and kind != "none":
            found.append(kind)
    if hypervisor_flag:
        found.append("hypervisor (cpu flag)")
    return ", ".join(found) or "none"


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def read_sysctls(root: str = "/proc/sys") -> dict[str, str]:
    values = {}
    for name in SYSCTLS:
        text = _read(f"{root}/{name}").strip()
        if text:
            values[name.replace("/", ".")] = " ".join(text.split())
    return values


def suite_commit() -> str | None:
    """The suite's own git commit (a document records which suite measured it)."""
    top = Path(__file__).resolve().parents[2]
    if not (top / ".git").exists() or shutil.which("git") is None:
        return None
    try:
        result = procs.run(["git", "-C", str(top), "rev-parse", "HEAD"], timeout=10, check=False)
    except BenchError:
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) == 40 else None


def machine_identity() -> str:
    """A stable, non-revealing name for this machine."""
    import hashlib

    source = _read("/etc/machine-id").strip() or platform.node()
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def binary_identity(program: str) -> str:
    """A helper binary as the record states it: its version banner and the start of its
    sha256 ("2025_05_03.587980c sha256:1f2e3d4c5b6a"), so a rebuilt binary is a new stack."""
    import hashlib

    path = shutil.which(program)
    if path is None:
        raise SetupError(f"--pasta {program}: no such program")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]
    banner = _banner([path, "--version"]) or ""
    version = versions.tool_version("pasta", banner) or "unknown"
    return f"{version} sha256:{digest}"


def detect(stated: dict[str, str] | None = None, *, pasta_binary: str | None = None) -> Stack:
    banners = {tool: _banner(argv) for tool, argv in _TOOLS}
    found = {tool: (versions.tool_version(tool, text) if text else None) for tool, text in banners.items()}
    libslirp = versions.tool_version("libslirp", banners["slirp4netns"] or "") if banners["slirp4netns"] else None
    packages = _package_versions()
    passt = found["pasta"]
    if passt is None and "passt" in packages:
        passt = versions.passt_version_from_package(packages["passt"]) or packages["passt"]
    os_release = versions.parse_os_release(_read("/etc/os-release"))
    cpu_model, hypervisor = versions.parse_cpuinfo(_read("/proc/cpuinfo"))
    uname = platform.uname()
    return Stack(
        kernel=uname.release,
        kernel_build=uname.version,
        podman=found["podman"],
        passt=passt,
        slirp4netns=found["slirp4netns"],
        libslirp=libslirp,
        rootlesskit=found["rootlesskit"],
        iperf3=found["iperf3"],
        sockperf=found["sockperf"],
        runc=found["runc"],
        conmon=found["conmon"],
        systemd=found["systemd"],
        distribution=os_release.get("PRETTY_NAME", "unknown"),
        cpu_model=cpu_model,
        cpu_count=os.cpu_count() or 0,
        virtualization=_virtualization(hypervisor),
        python=platform.python_version(),
        packages=packages,
        sysctls=read_sysctls(),
        stated={**dict(stated or {}), **({"pasta_binary": binary_identity(pasta_binary)}
                                          if pasta_binary and pasta_binary != "pasta" else {})},
        machine=machine_identity(),
        cpu_state=hostinfo.cpu_state(),
        containers_conf=hostinfo.containers_conf(),
    )


def version_tuple(text: str | None) -> tuple[int, ...]:
    """"4.3.1" -> (4, 3, 1); "1.1.5+ds1" -> (1, 1, 5); a part without leading digits ends it."""
    parts: list[int] = []
    for piece in (text or "").split("."):
        match = re.match(r"\d+", piece)
        if match is None:
            break
        parts.append(int(match.group()))
        if match.end() != len(piece):
            break
    return tuple(parts)
