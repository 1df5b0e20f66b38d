"""Subprocess handling: timeouts kill the whole tree, failures carry stderr, pids are safe."""

from __future__ import annotations

import os
import signal
import time

import pytest

from bench_runner import procs
from bench_runner.errors import CommandFailed, CommandTimeout, SetupError


SLEEPER = "import sys, time; time.sleep(float(sys.argv[1]))"


def _marker() -> str:
    return f"netbench-test-{os.getpid()}-{time.monotonic_ns()}"


def test_timeout_kills_the_process_group() -> None:
    marker = _marker()  # the grandchild carries it in its command line, so it can be found
    with pytest.raises(CommandTimeout, match="did not finish within 0.5 s"):
        procs.run(["sh", "-c", f"python3 -c '{SLEEPER}' 30 {marker} & exec sleep 31"], timeout=0.5)
    procs.wait_until(lambda: not _with_marker(marker), timeout=5, what="the killed grandchild to be gone")


@pytest.mark.timeout(60)
def test_timeout_does_not_wait_for_a_grandchild_that_left_the_group_holding_the_output() -> None:
    marker = _marker()
    try:
        with pytest.raises(CommandTimeout):
            procs.run(["sh", "-c", f"setsid python3 -c '{SLEEPER}' 300 {marker} & exec sleep 31"], timeout=0.5)
    finally:
        for pid in _with_marker(marker):  # ours by its unique marker
            os.kill(pid, signal.SIGKILL)


def _with_marker(marker: str) -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and marker in _cmdline(p)]


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_failure_carries_the_last_stderr_line() -> None:
    with pytest.raises(CommandFailed) as info:
        procs.run(["sh", "-c", "echo first >&2; echo 'the real reason' >&2; exit 3"], timeout=5)
    assert info.value.returncode == 3
    assert "the real reason" in str(info.value)


def test_missing_binary_is_a_setup_error() -> None:
    with pytest.raises(SetupError, match="no-such-binary-xyz: command not found"):
        procs.run(["no-such-binary-xyz"], timeout=5)


def test_unchecked_run_returns_the_code() -> None:
    assert procs.run(["sh", "-c", "exit 4"], timeout=5, check=False).returncode == 4


def test_spawned_stop_takes_children_too() -> None:
    spawned = procs.Spawned(["sh", "-c", "sleep 60 & sleep 61; wait"])
    time.sleep(0.2)
    children = open(f"/proc/{spawned.pid}/task/{spawned.pid}/children").read().split()
    assert children
    refs = [procs.ProcRef.of(int(c)) for c in children]
    spawned.stop(grace=0.5)
    spawned.close()
    time.sleep(0.1)
    assert not spawned.ref.alive()
    assert not any(ref is not None and ref.alive() for ref in refs)


def test_procref_does_not_signal_a_recycled_pid() -> None:
    spawned = procs.Spawned(["sleep", "30"])
    stale = procs.ProcRef(spawned.pid, spawned.ref.start_ticks + 1)
    assert not stale.alive()
    assert not stale.signal(15)
    assert spawned.ref.alive()
    spawned.stop()
    spawned.close()


def test_cpu_seconds_grow_with_work() -> None:
    spawned = procs.Spawned(["sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"])
    spawned.wait(30)
    spawned.close()
    assert procs.cpu_seconds(os.getpid()) is not None and procs.cpu_seconds(os.getpid()) > 0


def test_wait_until_times_out_with_what_it_waited_for() -> None:
    from bench_runner.errors import MeasurementError

    with pytest.raises(MeasurementError, match="waiting for the moon"):
        procs.wait_until(lambda: False, timeout=0.1, what="the moon")
