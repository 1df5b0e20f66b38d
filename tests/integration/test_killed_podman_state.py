"""A run killed together with every process of the benchmark user (the pause process, conmon,
the container), its runtime directory kept, as a restarted sandbox leaves it: Podman's state
still names those processes and refuses every call ("invalid internal status ... podman system
migrate"). CI met exactly this in the set-up's first Podman call. The set-up and
``doctor --cleanup`` reset it, as Podman advises, and go on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from typing import Iterator

import pytest

from bench_runner import procs
from bench_runner.lab import runstate
from bench_runner.lab.user import BenchUser
from bench_runner.paths import IMAGE
from tests.integration.conftest import REPO, cli, leftovers, user_processes
from tests.integration.test_interruptions import start

SETUP = REPO / "scripts" / "setup.sh"


def podman(user: BenchUser, *args: str, check: bool = True) -> procs.ProcessResult:
    return procs.run(user.argv(["podman", *args]), timeout=120, check=check)


def a_container_runs() -> bool:
    """A run state names a container whose processes (conmon, the server) were recorded."""
    for path in runstate.runs_dir().glob("*.json"):
        try:
            resources = json.loads(path.read_text())["resources"]
        except (OSError, ValueError, KeyError):
            continue
        if any(r.get("kind") == "container" and r.get("processes") for r in resources):
            return True
    return False


@pytest.fixture
def stale_state(tmp_path) -> Iterator[BenchUser]:  # type: ignore[no-untyped-def]
    """A real run SIGKILLed with every process of the user while one of its containers runs;
    checked to be the state Podman refuses, so that the tests reproduce what CI met rather than
    pass on a state nobody refuses."""
    user = BenchUser.lookup()
    run = start(tmp_path / "run.json")
    try:
        procs.wait_until(a_container_runs, timeout=120, what="a container of the run")
    finally:
        run.kill()
        for line in user_processes(user):  # the run's: the conftest saw none before the test
            try:
                os.kill(int(line.split()[0]), signal.SIGKILL)
            except ProcessLookupError:
                pass
        run.communicate(timeout=30)
    procs.wait_until(lambda: (procs.reap_orphans(), not user_processes(user))[1], timeout=10,
                     what="the user's processes to end")
    refused = podman(user, "ps", "-a", check=False)
    assert refused.returncode != 0 and "system migrate" in refused.stderr, refused.stderr
    yield user


def test_doctor_cleanup_resets_the_state_and_removes_everything(stale_state: BenchUser) -> None:
    result = cli("doctor", "--cleanup")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "podman system migrate" in result.stdout
    assert "removing what run" in result.stdout
    assert leftovers() == []
    with runstate.podman_runtime(stale_state):
        podman(stale_state, "ps", "-a")  # works again, without a reset


def test_setup_resets_the_state_and_finds_the_image(stale_state: BenchUser) -> None:
    result = subprocess.run([str(SETUP), "--quiet"], capture_output=True, text=True, timeout=900,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "podman system migrate" in result.stdout
    assert "built container image" not in result.stdout  # found, not imported over a broken state
    podman(stale_state, "image", "exists", IMAGE)
    # what the killed run left is the next cleanup's (as for any SIGKILL): it goes without a problem
    cleaned = cli("doctor", "--cleanup")
    assert cleaned.returncode == 0, cleaned.stdout + cleaned.stderr
