"""A run killed together with every process of the benchmark user (the pause process, conmon,
the container), its runtime directory kept, as a restarted sandbox leaves it: Podman's state
still names those processes and refuses every call ("invalid internal status ... podman system
migrate"). CI met exactly this in the set-up's first Podman call. The set-up and
``doctor --cleanup`` reset it, as Podman advises, and go on."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from bench_runner import procs
from bench_runner.lab import runstate, untrusted
from bench_runner.lab.user import BenchUser
from bench_runner.paths import IMAGE
from bench_runner.providers.podman import HOST_MOUNTS
from tests.integration.conftest import REPO, cli

NAME = "netbench-0dead0ff-c1"
SETUP = REPO / "scripts" / "setup.sh"


def podman(user: BenchUser, *args: str, check: bool = True) -> procs.ProcessResult:
    return procs.run(user.argv(["podman", *args]), timeout=120, check=check)


def gone(pid: int) -> bool:
    procs.reap_orphans()  # the killed may have been re-parented to this process
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return True


def kill_everything_of(user: BenchUser, name: str) -> None:
    """SIGKILL the container's process, its conmon and the pause process, all started here."""
    found = podman(user, "inspect", "--format", "{{.State.ConmonPid}} {{.State.Pid}}", name).stdout.split()
    pids = [int(p) for p in found] + [untrusted.read_pid(user.runtime_dir / "libpod" / "tmp" / "pause.pid")]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    for pid in pids:
        procs.wait_until(lambda: gone(pid), timeout=10, what=f"process {pid} to end")


@pytest.fixture
def stale_state() -> Iterator[BenchUser]:
    """The state a killed machine leaves; checked to be the one Podman refuses, so that the
    tests below reproduce what CI met rather than pass on a state nobody refuses."""
    user = BenchUser.lookup()
    made = user.ensure_runtime_dir()
    try:
        podman(user, "run", "-d", "--pull=never", "--name", NAME, "--network=none", *HOST_MOUNTS, IMAGE,
               "/usr/bin/sleep", "600")
        kill_everything_of(user, NAME)
        refused = podman(user, "ps", "-a", check=False)
        assert refused.returncode != 0 and "system migrate" in refused.stderr, refused.stderr
        yield user
    finally:
        podman(user, "system", "migrate", check=False)  # where the code under test did not
        podman(user, "rm", "-f", "-t", "0", "--ignore", NAME, check=False)
        runstate.stop_pause_process(user.runtime_dir)
        if made:
            user.remove_runtime_dir()


def test_doctor_cleanup_resets_the_state_and_removes_the_container(stale_state: BenchUser) -> None:
    result = cli("doctor", "--cleanup")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "podman system migrate" in result.stdout
    assert f"removing orphaned container {NAME}" in result.stdout
    listed = podman(stale_state, "ps", "-a", "--format", "{{.Names}}")  # works again, without a reset
    assert NAME not in listed.stdout.split()


def test_setup_resets_the_state_and_finds_the_image(stale_state: BenchUser) -> None:
    result = subprocess.run([str(SETUP), "--quiet"], capture_output=True, text=True, timeout=900,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "podman system migrate" in result.stdout
    assert "built container image" not in result.stdout  # found, not imported over a broken state
    podman(stale_state, "image", "exists", IMAGE)
