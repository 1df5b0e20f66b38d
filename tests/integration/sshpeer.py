"""A second computer for the tests, without one: the distribution's OpenSSH server in the
client host of a lab of the test's own, with throwaway host and user keys, so that a run
started in that lab's server host (``run --client-host``) reaches it over the lab link.

The lab is recorded in a run state whose owner is the test process, so the run's own
stale-state clean-up leaves it alone; everything is removed when the context ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

from bench_runner.lab import hosts as lab_mod
from bench_runner.lab import observe
from bench_runner import procs
from bench_runner.paths import VENV_PYTHON
from bench_runner.lab.runstate import RunState
from bench_runner.run.cleanup import teardown
from tests.integration.conftest import REPO

SSHD = "/usr/sbin/sshd"
PORT = 2222
PRIVSEP_DIR = Path("/run/sshd")
USER = "root"


@dataclass(frozen=True)
class Peer:
    lab: lab_mod.Lab
    key: Path  # the user key the peer accepts
    known_hosts: Path
    tmpdir: Path  # TMPDIR of every session there: what a run makes there lands here
    log: Path
    sshd_pid: int

    @property
    def url(self) -> str:
        return f"ssh://{USER}@{self.lab.client_addr}:{PORT}"

    def run_args(self, *extra: str, key: Path | None = None) -> list[str]:
        return ["--client-host", self.url, "--server-address", self.lab.server_addr,
                "--client-key", str(key or self.key), "--client-known-hosts", str(self.known_hosts), *extra]

    def cli(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """``python -m bench_runner ARGS`` started in the lab's server host: for the run, this
        machine is that namespace, as a real server's is its own."""
        argv = self.lab.in_server([str(VENV_PYTHON), "-m", "bench_runner", *args])
        return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)

    def processes(self) -> list[str]:
        """What runs in the peer's namespace besides its sshd listener."""
        found = []
        for pid in lab_mod.pids_in_netns(self.lab.client_ns):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            if pid != self.sshd_pid:
                found.append(f"{pid} {argv}")
        return found


def keygen(path: Path) -> None:
    procs.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "podman-netbench test", "-f", str(path)],
              timeout=30)


@contextlib.contextmanager
def ssh_peer(workdir: Path, *, path: str | None = None) -> Iterator[Peer]:
    """sshd on 198.51.100.2:2222 in a fresh lab's client host; ``path`` is the PATH of its
    sessions (to take a tool away from it)."""
    workdir.mkdir(parents=True, exist_ok=True)
    os.chmod(workdir, 0o700)
    for name in ("host", "user", "other"):
        keygen(workdir / name)
    (workdir / "authorized_keys").write_text((workdir / "user.pub").read_text())
    tmpdir = workdir / "peer-tmp"
    tmpdir.mkdir()
    settings = [f"Port {PORT}", "ListenAddress 198.51.100.2", f"HostKey {workdir / 'host'}", "PidFile none",
                f"AuthorizedKeysFile {workdir / 'authorized_keys'}", "StrictModes no", "UsePAM no",
                "PermitRootLogin prohibit-password", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                f"AllowUsers {USER}", "X11Forwarding no", "AllowTcpForwarding no", "AllowAgentForwarding no",
                "PermitTunnel no", "PrintMotd no", "PermitUserEnvironment no",
                f"SetEnv TMPDIR={tmpdir}" + (f" PATH={path}" if path else "")]
    (workdir / "sshd_config").write_text("\n".join(settings) + "\n")
    host_key = (workdir / "host.pub").read_text().split()
    known_hosts = workdir / "known_hosts"
    known_hosts.write_text(f"[198.51.100.2]:{PORT} {host_key[0]} {host_key[1]}\n")
    made_privsep = not PRIVSEP_DIR.exists()
    if made_privsep:
        PRIVSEP_DIR.mkdir(mode=0o755)
    state = RunState(lab_mod.new_tag())
    lab = lab_mod.create(state.tag)
    state.add("lab", **{k: v for k, v in lab.to_json().items()
                        if k in ("tag", "server_ns", "client_ns", "server_if", "client_if", "mtu")})
    log = workdir / "sshd.log"
    sshd: procs.Spawned | None = None
    try:
        sshd = procs.Spawned(lab.in_client([SSHD, "-D", "-e", "-f", str(workdir / "sshd_config"),
                                            "-E", str(log)]))
        procs.wait_until(lambda: observe.is_listening(lab.client_ns_path, "tcp", PORT) or sshd.poll() is not None,
                         timeout=15, what="sshd to listen")
        if sshd.poll() is not None:
            raise RuntimeError(f"sshd exited: {sshd.output()} {log.read_text() if log.exists() else ''}")
        yield Peer(lab, workdir / "user", known_hosts, tmpdir, log, sshd.pid)
    finally:
        if sshd is not None:
            sshd.stop(grace=2.0)
            sshd.close()
        problems = teardown(state)
        if made_privsep:
            shutil.rmtree(PRIVSEP_DIR, ignore_errors=True)
        assert not problems, problems


def path_without(workdir: Path, tools: Sequence[str]) -> str:
    """A directory with every program of the usual PATH but these, for a peer's sessions' PATH
    (the login shell's start-up files may still put more in front, as root's pyenv does)."""
    bin_dir = workdir / f"bin-without-{'-'.join(tools)}"
    bin_dir.mkdir(parents=True)
    for directory in ("/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"):
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            link = bin_dir / name
            if name in tools or os.path.lexists(link):
                continue
            link.symlink_to(os.path.join(directory, name))
    return str(bin_dir)
