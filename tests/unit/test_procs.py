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


BUSY_THEN_IDLE = ("import sys, time\n"
                  "while time.process_time() < float(sys.argv[1]): pass\n"
                  "print(time.process_time(), flush=True)\n"
                  "time.sleep(30)\n")


def _cpu_of_a_process_that_worked(seconds: float) -> tuple[float | None, float]:
    """(what the CPU clock reads, what the process measured of itself) once it idles."""
    spawned = procs.Spawned(["python3", "-c", BUSY_THEN_IDLE, str(seconds)])
    try:
        procs.wait_until(lambda: spawned.output()[0].strip() != "", timeout=30, what="the busy loop")
        return procs.CpuClock.of(spawned.pid).seconds(), float(spawned.output()[0].split()[0])
    finally:
        spawned.stop(grace=1.0)
        spawned.close()


def test_cpu_seconds_is_what_the_process_spent() -> None:
    read, spent = _cpu_of_a_process_that_worked(0.3)
    assert read is not None and spent <= read < spent + 0.2  # plus start-up, never less


SHORT_WORK = ("import time\n"
              "print('ready', flush=True)\n"
              "time.sleep(0.5)\n"
              "start = time.process_time()\n"
              "while time.process_time() < start + 0.004: pass\n"
              "print('done', flush=True)\n"
              "time.sleep(30)\n")


def test_cpu_seconds_sees_work_below_a_clock_tick() -> None:
    """4 ms of work: with 10 ms ticks the difference would read 0 or 10 ms."""
    spawned = procs.Spawned(["python3", "-c", SHORT_WORK])
    try:
        procs.wait_until(lambda: "ready" in spawned.output()[0], timeout=30, what="start-up")
        before = procs.CpuClock.of(spawned.pid).seconds()
        procs.wait_until(lambda: "done" in spawned.output()[0], timeout=30, what="the work")
        after = procs.CpuClock.of(spawned.pid).seconds()
    finally:
        spawned.stop(grace=1.0)
        spawned.close()
    assert before is not None and after is not None
    assert 0.004 <= after - before < 0.01  # ticks would read 0 or 0.01


def test_wait_until_times_out_with_what_it_waited_for() -> None:
    from bench_runner.errors import MeasurementError

    with pytest.raises(MeasurementError, match="waiting for the moon"):
        procs.wait_until(lambda: False, timeout=0.1, what="the moon")


THREAD_WORKS_THEN_ENDS = ("import threading, time\n"
                          "def work():\n"
                          "    start = time.thread_time()\n"
                          "    while time.thread_time() < start + 0.3: pass\n"
                          "t = threading.Thread(target=work); t.start(); t.join()\n"
                          "keep = threading.Thread(target=time.sleep, args=(30,)); keep.start()\n"
                          "print('done', flush=True)\n"
                          "time.sleep(30)\n")


def test_cpu_seconds_keep_the_time_of_threads_that_ended() -> None:
    """A Go helper's threads come and go: their time must not vanish from the total."""
    spawned = procs.Spawned(["python3", "-c", THREAD_WORKS_THEN_ENDS])
    try:
        procs.wait_until(lambda: "done" in spawned.output()[0], timeout=30, what="the thread's work")
        read = procs.CpuClock.of(spawned.pid).seconds()
    finally:
        spawned.stop(grace=1.0)
        spawned.close()
    # The thread spent 0.3 s and the interpreter's start-up about 0.1 s more, so a total below
    # 0.29 means time was lost. It failed once in a full unit run here, cause not yet known:
    # the message now keeps the reading.
    assert read is not None and read >= 0.29, read


def test_a_failed_command_is_named_by_its_program_not_its_wrappers() -> None:
    from bench_runner.errors import CommandFailed, program_of

    stacked = ["nsenter", "--target=5", "--mount", "--", "env", "-i", "PATH=/x", "setpriv", "--reuid=1001",
               "--init-groups", "--", "env", "-i", "HOME=/h", "podman", "run", "--rm"]
    assert program_of(stacked) == "podman"
    assert program_of(["nsenter", "--net=/run/netns/x", "--", "iperf3", "-s"]) == "iperf3"
    assert program_of(["iperf3", "--", "x"]) == "iperf3" and program_of([]) == "?"
    assert str(CommandFailed(stacked, 125, "Error: no such image\n")) == "podman exited with 125: Error: no such image"


def test_cpu_of_a_helper_that_exits_with_its_server_is_its_last_sample() -> None:
    """Podman 5's rootlessport exits as soon as the one-off server does, before the trial can
    read it: the sampled reading counts, and says so."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 0.4\n"
                              "while time.process_time() < end: pass"])
    watch = procs.CpuWatch(child.pid, interval=0.02)
    child.wait(timeout=30)
    time.sleep(0.1)
    used, at_end = watch.finish()
    assert not at_end and used is not None and 0.2 < used < 1.0
    living = procs.CpuWatch(os.getpid(), interval=0.02)
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    used, at_end = living.finish()
    assert at_end and used >= 0.15


def test_a_timed_out_command_can_be_asked_to_clean_up_first(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The asv wrapper's run used to be SIGKILLed on timeout, so it never tore its lab down;
    with term_grace it gets SIGTERM first, and its handler runs."""
    from bench_runner.errors import CommandTimeout

    marker = tmp_path / "cleaned"
    script = f"trap 'touch {marker}; exit 0' TERM; while true; do sleep 0.05; done"
    with pytest.raises(CommandTimeout):
        procs.run(["sh", "-c", script], timeout=0.5, term_grace=5)
    assert marker.exists()
    marker_killed = tmp_path / "never"
    with pytest.raises(CommandTimeout):
        procs.run(["sh", "-c", f"trap 'touch {marker_killed}' TERM; sleep 30"], timeout=0.5)
    assert not marker_killed.exists()  # without it: SIGKILL straight away, as before


def test_a_process_is_not_taken_as_unshared_while_it_is_still_in_the_initial_user_namespace() -> None:
    """The bare provider's wait before a helper joins a container's namespaces: a process on
    its way to unshare (nsenter, setpriv, env) is in the initial user namespace, whose uid_map
    is not empty; taking that for the container's namespace made nsenter fail with EINVAL."""
    from bench_runner.providers.bare import user_namespace_ready

    assert not user_namespace_ready(os.getpid())  # the initial namespace, with a full uid map
    unshared = procs.Spawned(["unshare", "--user", "--map-root-user", "--", "sleep", "30"])
    try:
        procs.wait_until(lambda: user_namespace_ready(unshared.pid), timeout=10, what="unshare")
        with open(f"/proc/{unshared.pid}/uid_map") as fh:
            assert fh.read().split()[:2] == ["0", "0"]  # root inside maps to root outside (we are root)
    finally:
        unshared.stop(grace=1.0)
        unshared.close()
